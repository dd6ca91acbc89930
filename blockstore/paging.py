"""Opaque page tokens shared by every List RPC.

A token is base64url(JSON) naming where the next page starts and a digest of the
request's filter, so a token cannot be replayed against a different listing. A
token the server did not make is INVALID_ARGUMENT, never INTERNAL.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from blockstore.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_CURSOR = (1 << 63) - 1     # cursors end up as SQL parameters (64-bit signed integers)


@dataclass(frozen=True)
class Page:
    after: object      # cursor: last key of the previous page ("" / -1 for the start)
    size: int


def _scope(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]


def encode_token(after: object, scope: str) -> str:
    raw = json.dumps({"a": after, "s": _scope(scope)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_page(token: str, size: int, scope: str, start: object,
               default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> Page:
    """Validate page_size and decode page_token; `start` is the cursor of page one."""
    if size < 0:
        raise InvalidArgument(f"page_size {size} is negative")
    size = min(size or default, maximum)
    if not token:
        return Page(start, size)
    try:
        padded = token + "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = body["a"]
        if body["s"] != _scope(scope) or type(after) is not type(start):
            raise ValueError("scope")
        _check_cursor(after)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument(f"page_token {token[:40]!r} is not valid for this listing") from exc
    return Page(after, size)


def _check_cursor(after: object) -> None:
    """A cursor must fit its SQL parameter: the scope digest is no secret, so a client can
    forge a well-scoped token, and that must stay INVALID_ARGUMENT rather than crash."""
    if isinstance(after, int) and not 0 <= after <= MAX_CURSOR:
        raise ValueError(f"cursor {after} out of range")
    if isinstance(after, str):
        after.encode()    # lone surrogates from JSON escapes: UnicodeEncodeError
