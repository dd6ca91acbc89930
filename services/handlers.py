"""Rebuilding a gRPC method handler around wrapped behaviors, for server interceptors.

Owns the one table of handler kinds and the one way to drain a streaming behavior's
result (a coroutine that writes with context.write(), an async iterator or a plain
iterator). Rule: wrappers must be real coroutine / async-generator functions, because
grpc.aio tells sync from async handlers by inspection.
"""

from __future__ import annotations

import inspect
from typing import Any, AsyncIterator, Callable

import grpc

KINDS = {
    "unary_unary": (False, grpc.unary_unary_rpc_method_handler),
    "stream_unary": (False, grpc.stream_unary_rpc_method_handler),
    "unary_stream": (True, grpc.unary_stream_rpc_method_handler),
    "stream_stream": (True, grpc.stream_stream_rpc_method_handler),
}


def rewrap(handler: grpc.RpcMethodHandler, unary: Callable, streaming: Callable):
    """`handler` with its behavior passed through `unary` or `streaming` by its kind."""
    for attr, (is_streaming, make) in KINDS.items():
        behavior = getattr(handler, attr)
        if behavior is not None:
            wrapped = (streaming if is_streaming else unary)(behavior)
            return make(wrapped, request_deserializer=handler.request_deserializer,
                        response_serializer=handler.response_serializer)
    return handler


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
