"""The authenticated caller of the current RPC, set by the auth interceptor.

Owns `CURRENT_ACCOUNT`, the context variable services/auth.py sets once a bearer token
resolves. Rules: only the authentication edge sets it; domain code reads it through
`current_account()`, and it holds an account id, never the token.
"""

from __future__ import annotations

import contextvars

CURRENT_ACCOUNT: contextvars.ContextVar[str] = contextvars.ContextVar("account_id")


def current_account() -> str:
    """The account id of the call being served (raises LookupError outside a call)."""
    return CURRENT_ACCOUNT.get()
