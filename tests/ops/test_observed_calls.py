"""`ObservedCalls`, the one interceptor every RPC passes through
(services/observed_calls.py), on a real grpc.aio server on loopback: each observer hears
each call exactly once, with the same figures as every other observer; a watch with
`enter`/`leave` is current while the behavior runs; an observer may leave a call alone;
observers see the trace headers and no other metadata."""

from __future__ import annotations

import asyncio
import contextvars

import grpc
import pytest
from google.protobuf.wrappers_pb2 import StringValue

from services.observed_calls import ObservedCalls
from tests.observe import until_async

SCOPE = contextvars.ContextVar("scope", default="outside")
CODEC = {"request_deserializer": StringValue.FromString,
         "response_serializer": StringValue.SerializeToString}


async def say(request: StringValue, context) -> StringValue:
    if request.value == "fail":
        await context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
    return StringValue(value=SCOPE.get())


async def count(request: StringValue, context):
    if request.value == "forever":        # one item, then waits until cancelled
        yield StringValue(value=SCOPE.get())
        await asyncio.Event().wait()
    for _ in range(int(request.value)):
        yield StringValue(value=SCOPE.get())


class _Watch:
    """What one call told one observer."""

    def __init__(self, calls: list[tuple]) -> None:
        self.calls, self.replies = calls, 0

    def sent(self, message) -> None:
        self.replies += 1

    def ended(self, call) -> None:
        self.calls.append((call.method, call.code.name, call.bytes_in, call.bytes_out,
                           call.seconds, self.replies))
        self.headers = call.trace_headers()


class _ScopedWatch(_Watch):
    """A watch that must be current while the behavior runs, as a span is."""

    def enter(self) -> object:
        return SCOPE.set("inside")

    def leave(self, token) -> None:
        SCOPE.reset(token)


class Heard:
    """An observer that writes down what each of its watches heard."""

    def __init__(self, kind: type[_Watch] = _Watch, skip: frozenset[str] = frozenset()):
        self.calls: list[tuple] = []
        self.kind, self.skip = kind, skip

    def watch(self, call) -> _Watch | None:
        if call.name in self.skip:
            return None
        self.last = self.kind(self.calls)
        return self.last


@pytest.fixture
async def probe():
    heard, skipping = Heard(), Heard(skip=frozenset({"Count"}))
    scoped = Heard(kind=_ScopedWatch)
    server = grpc.aio.server(interceptors=[ObservedCalls([scoped, heard, skipping])])
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Probe", {
        "Say": grpc.unary_unary_rpc_method_handler(say, **CODEC),
        "Count": grpc.unary_stream_rpc_method_handler(count, **CODEC)})])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    stubs = [channel.unary_unary("/test.Probe/Say", StringValue.SerializeToString,
                                 StringValue.FromString),
             channel.unary_stream("/test.Probe/Count", StringValue.SerializeToString,
                                  StringValue.FromString)]
    try:
        yield stubs, (heard, skipping, scoped)
    finally:
        await channel.close()
        await server.stop(None)


def size(value: str) -> int:
    return StringValue(value=value).ByteSize()


async def test_every_observer_hears_every_call_once_with_the_same_figures(probe):
    (say_rpc, count_rpc), (heard, skipping, scoped) = probe
    reply = await say_rpc(StringValue(value="hi"))
    assert reply.value == "inside", "a scoped watch is current while a unary behavior runs"
    items = [item.value async for item in count_rpc(StringValue(value="3"))]
    assert items == ["inside"] * 3, "and around each step of a streaming one"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await say_rpc(StringValue(value="fail"))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND

    # A call's watches end before its status leaves the server, so all three are in.
    figures = [(m, code, i, o, r) for m, code, i, o, _, r in heard.calls]
    assert figures == [
        ("test.Probe/Say", "OK", size("hi"), size("inside"), 1),
        ("test.Probe/Count", "OK", size("3"), 3 * size("inside"), 3),
        ("test.Probe/Say", "NOT_FOUND", size("fail"), 0, 0)], \
        "wire bytes, the final status and each reply, once per call"
    assert all(seconds > 0 for *_, seconds, _ in heard.calls)
    assert scoped.calls == heard.calls, "one measuring: every observer gets the same figures"
    assert skipping.calls == [heard.calls[0], heard.calls[2]], \
        "an observer that left a call alone hears nothing of it"


async def test_observers_see_the_trace_headers_and_no_other_metadata(probe):
    (say_rpc, _), (heard, _, _) = probe
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    await say_rpc(StringValue(value="hi"), metadata=(
        ("authorization", "Bearer bst_secret"), ("traceparent", parent),
        ("x-other", "value")))
    assert heard.last.headers == {"traceparent": parent}, \
        "the bearer token (and any other metadata) never reaches an observer"


async def test_a_stream_the_client_cancels_ends_once_as_cancelled(probe):
    (_, count_rpc), (heard, _, scoped) = probe
    call = count_rpc(StringValue(value="forever"))
    assert (await call.read()).value == "inside"
    call.cancel()
    await until_async(lambda: heard.calls, "the cancelled stream's watch ended")
    assert [c[:2] for c in heard.calls] == [("test.Probe/Count", "CANCELLED")]
    assert scoped.calls == heard.calls
