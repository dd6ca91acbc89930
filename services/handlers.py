"""Rebuilding a gRPC method handler around wrapped behaviors, for server interceptors.

Owns the one table of handler kinds, the one way to drain a streaming behavior's
result (a coroutine that writes with context.write(), an async iterator or a plain
iterator) and the one reading of the status a finished call ended with. Rule: wrappers must be real coroutine / async-generator functions, because
grpc.aio tells sync from async handlers by inspection.
"""

from __future__ import annotations

import inspect
from asyncio import CancelledError
from typing import Any, AsyncIterator, Callable

import grpc

KINDS = {
    "unary_unary": (False, grpc.unary_unary_rpc_method_handler),
    "stream_unary": (False, grpc.stream_unary_rpc_method_handler),
    "unary_stream": (True, grpc.unary_stream_rpc_method_handler),
    "stream_stream": (True, grpc.stream_stream_rpc_method_handler),
}
_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


def rewrap(handler: grpc.RpcMethodHandler, unary: Callable, streaming: Callable,
           codec: Callable | None = None):
    """`handler` with its behavior passed through `unary` or `streaming` by its kind;
    `codec(deserializer, serializer)`, if given, returns the pair to use instead."""
    for attr, (is_streaming, make) in KINDS.items():
        behavior = getattr(handler, attr)
        if behavior is not None:
            wrapped = (streaming if is_streaming else unary)(behavior)
            pair = (handler.request_deserializer, handler.response_serializer)
            deserializer, serializer = codec(*pair) if codec else pair
            return make(wrapped, request_deserializer=deserializer,
                        response_serializer=serializer)
    return handler


def final_code(context: Any, error: BaseException | None) -> grpc.StatusCode:
    """The status a finished call ends with: the one it set or aborted with, else OK if
    its behavior returned, CANCELLED if it was cancelled, UNKNOWN if it raised."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):       # a raw status number
        return _BY_NUMBER.get(code, grpc.StatusCode.UNKNOWN)
    if error is None:
        return grpc.StatusCode.OK
    if isinstance(error, (CancelledError, GeneratorExit)):
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


async def result_of(behavior: Callable, request: Any, context: Any) -> Any:
    """A unary behavior's reply, whether the behavior is sync or async."""
    result = behavior(request, context)
    return await result if inspect.isawaitable(result) else result


async def items_of(behavior: Callable, request: Any, context: Any) -> AsyncIterator[Any]:
    """A streaming behavior's items, whatever shape the behavior has."""
    items = behavior(request, context)
    if inspect.isawaitable(items):
        await items           # a handler that streams with context.write()
    elif hasattr(items, "__aiter__"):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
