"""Hostile and broken input against a real server (issue 5, item 4).

Property-based (hypothesis) tests throw negative, zero and huge numbers, garbage and
foreign ids, unknown enum values, wrong-length tokens, NaN/inf progress, bad page tokens
and malformed upload streams at every RPC. Each call must end in success or in its
documented status and ErrorInfo reason (never INTERNAL or UNKNOWN), the server must stay
SERVING, and a canary volume with known content must read back identical afterwards.
"""
