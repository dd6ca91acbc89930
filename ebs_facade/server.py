"""The EBS direct HTTP endpoint: aiohttp app, SigV4 middleware, error edge, start/stop.

Every request is authenticated before its handler runs (ebs_facade/sigv4.py) and the
account id of the access key is the scope of every query, as the bearer token is for
gRPC. Whatever a handler raises becomes an EBS error shape through the one table in
ebs_facade/errors.py. At most `max_requests` requests are read and served at once, so
memory stays bounded (each carries at most one 512 KiB block) whatever clients send, and
a body must arrive within BODY_TIMEOUT_S so that slow senders cannot hold those slots.
Puts also take the data plane's per-account upload slots (ebs_facade/blocks.py). The
listener speaks HTTPS when the wiring hands it a TLS context (services/https.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
from typing import Callable

from aiohttp import web

from blockstore.clock import Clock, SystemClock
from ebs_facade import sigv4
from ebs_facade.errors import BodyTimeout, Faults, ebs_error
from ebs_facade.model import BLOCK_SIZE
from ebs_facade.routes import ACCOUNT, BODY_SHA256, FACADE, Facade, routes
from ebs_facade.routes_blocks import block_routes
from manifest import ManifestStore

log = logging.getLogger("blockstore.ebs")
MAX_BODY = BLOCK_SIZE + 64 * 1024
Observe = Callable[[str, str], None]
BODY_TIMEOUT_S = 30.0


class KeyResolver:
    """access key id -> (account id, secret); positive answers cached (keys are never
    deleted)."""

    def __init__(self, store: ManifestStore) -> None:
        self.store = store
        self._cache: dict[str, tuple[str, str]] = {}

    async def lookup(self, key_id: str) -> tuple[str, str] | None:
        if key_id not in self._cache:
            async with self.store.read() as tx:
                found = await tx.access_key(key_id)
            if found is None:
                return None
            self._cache[key_id] = found
        return self._cache[key_id]


async def _body(request: web.Request) -> bytes:
    """The whole body, within BODY_TIMEOUT_S: a client trickling its body would otherwise
    hold one of the request slots for as long as it likes."""
    try:
        return await asyncio.wait_for(request.read(), BODY_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise BodyTimeout(f"the body of {request.method} {request.rel_url.path} did not "
                          f"arrive within {BODY_TIMEOUT_S:.0f} s") from None


def _error_response(exc: Exception, what: str, faults: Faults) -> web.Response:
    err = ebs_error(exc, what, faults)
    return web.Response(status=err.status, body=err.body(), content_type="application/json",
                        headers={"x-amzn-ErrorType": err.type})


def build_app(facade: Facade, clock: Clock, faults: Faults,
              observe: Observe = lambda operation, outcome: None,
              max_requests: int = 64) -> web.Application:
    """`observe(operation, outcome)` is told each finished request (outcome: "OK" or
    the EBS error type), for metrics."""
    keys = KeyResolver(facade.store)
    slots = asyncio.Semaphore(max_requests)

    async def secret_of(key_id: str) -> str | None:
        found = await keys.lookup(key_id)
        return found[1] if found else None

    @web.middleware
    async def edge(request: web.Request, handler) -> web.StreamResponse:
        # The operation's name comes from our route table, never from request data.
        operation = request.match_info.route.name or "unknown"
        async with slots:
            try:
                response = await _serve(request, handler, operation)
            except web.HTTPException as exc:    # 404 for an unknown path, 413 a large body
                observe(operation, f"HTTP{exc.status}")
                raise
        observe(operation, response.headers.get("x-amzn-ErrorType", "OK"))
        return response

    async def _serve(request: web.Request, handler, operation: str) -> web.StreamResponse:
        try:
            body = await _body(request)
            # Once, off the event loop: the signature and a block's checksum both use it.
            digest = hashlib.sha256(body) if len(body) < 65536 else \
                await asyncio.get_running_loop().run_in_executor(facade.blocks.executor,
                                                                 hashlib.sha256, body)
            request[BODY_SHA256] = digest.digest()
            signed = sigv4.SignedRequest(request.method, request.rel_url.raw_path,
                                         request.rel_url.raw_query_string,
                                         request.headers, body, digest.hexdigest())
            key_id = await sigv4.verify(signed, secret_of, clock.now_us() / 1e6)
            request[ACCOUNT] = (await keys.lookup(key_id))[0]
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            if isinstance(exc, sigv4.SignatureRejected):
                log.info("%s refused: %s", operation, exc)
            return _error_response(exc, operation, faults)

    async def sweeping(app: web.Application):
        task = asyncio.create_task(facade.timeouts.run())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    app = web.Application(middlewares=[edge], client_max_size=MAX_BODY)
    app.cleanup_ctx.append(sweeping)      # StartSnapshot's Timeout (ebs_facade/timeouts.py)
    app[FACADE] = facade
    app.add_routes(routes)
    app.add_routes(block_routes)
    return app


async def start_ebs_server(facade: Facade, listen: str, faults: Faults,
                           observe: Observe = lambda operation, outcome: None,
                           clock: Clock | None = None,
                           tls: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    """Listen on HOST:PORT (port 0 picks one), over HTTPS with `tls` (the wiring builds
    it, services/https.py); returns the runner (cleanup()) and port.
    `faults(exc, what)` makes a domain error of anything else a handler raises."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"--ebs-listen {listen!r}: expected HOST:PORT")
    runner = web.AppRunner(build_app(facade, clock or SystemClock(), faults, observe),
                           access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host.strip("[]"), int(port), ssl_context=tls)
    await site.start()
    return runner, runner.addresses[0][1]


