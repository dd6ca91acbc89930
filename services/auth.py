"""Bearer-token authentication and the domain-error edge, as one server interceptor.

Every RPC but health and reflection needs `authorization: Bearer <token>`. The token is
hashed (SHA-256; tokens are 256 random bits, so no slow hash is needed) and looked up
in the manifest; the account id is put in `CURRENT_ACCOUNT` for the servicer. Domain
errors raised by a handler are turned into status + ErrorInfo here, in one place, and
so is anything else a handler raises (services/faults.py names it, without paths).
Tokens never reach a log line.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any, Callable

import grpc

from blockstore import errors as e
from blockstore.caller import CURRENT_ACCOUNT
from manifest import Account, ManifestStore
from services.errors import abort_with
from services.faults import domain_error
from services.handlers import items_of, result_of, rewrap

log = logging.getLogger("blockstore.auth")
UNAUTHENTICATED_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
TOKEN_PREFIX = "bst_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class AccountResolver:
    """Token -> account id, caching positive answers (accounts are never deleted).
    `observe(hit)` hears each lookup of a well-formed token (services/metering.py)."""

    def __init__(self, store: ManifestStore,
                 observe: Callable[[bool], None] = lambda hit: None) -> None:
        self.store, self.observe = store, observe
        self._cache: dict[bytes, str] = {}

    async def resolve(self, metadata: Any) -> str:
        header = next((v for k, v in (metadata or ()) if k == "authorization"), "")
        scheme, _, token = str(header).partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise e.AuthenticationFailed("missing or malformed bearer token "
                                         "(want metadata authorization: Bearer <token>)")
        digest = token_hash(token.strip())
        self.observe(digest in self._cache)
        if digest not in self._cache:
            async with self.store.read() as tx:
                account: Account | None = await tx.account_by_token_hash(digest)
            if account is None:
                raise e.AuthenticationFailed("unknown bearer token")
            self._cache[digest] = account.account_id
        return self._cache[digest]


class EdgeInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates each call and maps domain errors to statuses."""

    def __init__(self, resolver: AccountResolver) -> None:
        self.resolver = resolver

    async def intercept_service(self, continuation: Callable, details: Any) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        open_call = details.method.startswith(UNAUTHENTICATED_PREFIXES)
        return _wrap(handler, None if open_call else self.resolver,
                     details.method.rpartition("/")[2])


async def _fail(context: grpc.aio.ServicerContext, err: Exception, what: str) -> None:
    """Abort with the status and ErrorInfo of `err`, made a domain error if it is not."""
    await abort_with(context, domain_error(err, what))


def _wrap(handler: grpc.RpcMethodHandler, resolver: AccountResolver | None, what: str):
    # grpc.aio decides sync vs async by inspecting the function, so the wrappers
    # must be real coroutine / async-generator functions, not lambdas.
    async def enter(context: grpc.aio.ServicerContext) -> None:
        if resolver is not None:
            CURRENT_ACCOUNT.set(await resolver.resolve(context.invocation_metadata()))

    def unary(behavior):
        async def call(request, context):
            try:
                await enter(context)
                return await result_of(behavior, request, context)
            except grpc.aio.AbortError:
                raise
            except Exception as err:
                await _fail(context, err, what)
        return call

    def streaming(behavior):
        async def call(request, context):
            try:
                await enter(context)
                async for item in items_of(behavior, request, context):
                    yield item
            except grpc.aio.AbortError:
                raise
            except Exception as err:
                await _fail(context, err, what)
        return call

    # Plain (sync) behaviors are wrapped too, so authentication fails closed: the
    # generated base servicer's UNIMPLEMENTED methods are sync, and an unauthenticated
    # caller must get UNAUTHENTICATED from them like from every other RPC.
    return rewrap(handler, unary, streaming)
