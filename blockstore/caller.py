"""The authenticated caller of the current RPC, set by the auth interceptor."""

from __future__ import annotations

import contextvars

CURRENT_ACCOUNT: contextvars.ContextVar[str] = contextvars.ContextVar("account_id")


def current_account() -> str:
    """The account id of the call being served (raises LookupError outside a call)."""
    return CURRENT_ACCOUNT.get()
