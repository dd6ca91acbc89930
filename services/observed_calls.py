"""`ObservedCalls`: the one interceptor that watches every RPC, for a list of observers.

Owns the measuring of a call (wire bytes in and out, duration, final status), done once
per call however many observers there are, for the observers of services/rpc_observer.py:
services/metrics.py (metric families), services/rpclog.py (the log line) and
services/traced_calls.py (the SERVER span). services/server.py stacks it outside the
authentication edge, so observers see the status the client sees, UNAUTHENTICATED
included, and it is the only place that says which observers a process has.

Rules: an observer's watch starts when the call's behavior starts and is finished
exactly once, with the same figures every other observer gets. Bytes are wire bytes,
counted where gRPC hands each message to the (de)serializer, so no message is encoded
twice; a unary reply is serialized after the call returns, so its size is its
`ByteSize()` (unary replies are small: block data only travels in streams). A watch
that must be current while the behavior runs (a span) has `enter`/`leave`, called
around each step, so the context stays right whoever drives or closes a stream; one
that wants the replies has `sent`. Watches without them cost nothing per message.
"""

from __future__ import annotations

import contextlib
from time import perf_counter
from typing import Any, AsyncIterator, Callable

import grpc

from services.handlers import final_code, items_of, result_of, rewrap
from services.rpc_observer import CallWatch, RpcCall, RpcObserver


class ObservedCalls(grpc.aio.ServerInterceptor):
    """Wraps each handler once and tells every observer what the call did."""

    def __init__(self, observers: list[RpcObserver]) -> None:
        self.observers = observers

    async def intercept_service(self, continuation: Callable, details: Any) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        return _Observed(self.observers, RpcCall(details)).around(handler)


class _Observed:
    """One call's handler, wrapped: starts the watches, measures, ends them once."""

    def __init__(self, observers: list[RpcObserver], call: RpcCall) -> None:
        self.observers, self.call = observers, call
        self.watches: list[CallWatch] = []
        self.senders: list[Callable[[Any], None]] = []
        self.scope: Any = None      # the watches to enter around each step, as one

    def around(self, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        return rewrap(handler, self._unary, self._streaming, self._codec)

    def _codec(self, deserializer: Callable | None, serializer: Callable | None):
        call = self.call

        def deserialize(raw: bytes) -> Any:
            call.bytes_in += len(raw)
            return deserializer(raw) if deserializer else raw

        def serialize(message: Any) -> bytes:
            raw = serializer(message) if serializer else message
            call.bytes_out += len(raw)
            return raw
        return deserialize, serialize

    def _begin(self) -> None:
        scoped = []
        for observer in self.observers:          # one pass: this runs for every call
            watch = observer.watch(self.call)
            if watch is None:
                continue
            self.watches.append(watch)
            if hasattr(watch, "sent"):
                self.senders.append(watch.sent)
            if hasattr(watch, "enter"):
                scoped.append(watch)
        self.scope = scoped[0] if len(scoped) == 1 else _Scopes(scoped) if scoped else None

    def _end(self, context: Any, error: BaseException | None) -> None:
        call = self.call
        call.seconds = perf_counter() - call.started
        call.code = final_code(context, error)
        for watch in self.watches:
            watch.ended(call)

    def _unary(self, behavior: Callable) -> Callable:
        async def run(request, context):
            self._begin()
            scope, error = self.scope, None
            token = scope.enter() if scope is not None else None
            try:
                reply = await result_of(behavior, request, context)
                self.call.bytes_out += reply.ByteSize() if hasattr(reply, "ByteSize") else 0
                for send in self.senders:
                    send(reply)
                return reply
            except BaseException as err:
                error = err
                raise
            finally:
                if scope is not None:
                    scope.leave(token)
                self._end(context, error)
        return run

    def _streaming(self, behavior: Callable) -> Callable:
        async def run(request, context):
            self._begin()
            error = None
            items = items_of(behavior, request, context)
            if self.scope is not None:
                items = self._stepwise(items)
            try:
                async for item in items:
                    for send in self.senders:
                        send(item)
                    yield item
            except BaseException as err:
                error = err
                raise
            finally:
                self._end(context, error)
        return run

    async def _stepwise(self, items: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """`items`, each step run with the scope entered. Entered and left within one
        step, so the context stays right whoever drives or closes the generator."""
        scope = self.scope
        async with contextlib.aclosing(items):
            while True:
                token = scope.enter()
                try:
                    item = await anext(items)
                except StopAsyncIteration:
                    return
                finally:
                    scope.leave(token)
                yield item


class _Scopes:
    """Several scoped watches entered as one, left in the reverse order."""

    def __init__(self, watches: list[Any]) -> None:
        self.watches = watches

    def enter(self) -> list[object]:
        return [watch.enter() for watch in self.watches]

    def leave(self, tokens: list[object]) -> None:
        for watch, token in zip(reversed(self.watches), reversed(tokens)):
            watch.leave(token)
