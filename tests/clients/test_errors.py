"""Errors are typed by gRPC code and carry the server's ErrorInfo reason and RetryInfo."""

import grpc
import pytest

from clients import errors
from clients.errors import (BlockstoreError, FailedPrecondition, NotFound, ResourceExhausted,
                            Unavailable, from_status)
from tests.clients.fakeserver import rich_trailers


def test_reason_metadata_and_message_come_from_the_rich_status():
    trailers = rich_trailers(grpc.StatusCode.NOT_FOUND, "INVALID_VOLUME_ID",
                             "volume vol-123 not found")
    err = from_status(grpc.StatusCode.NOT_FOUND, "plain details", trailers)
    assert isinstance(err, NotFound) and isinstance(err, BlockstoreError)
    assert err.code is grpc.StatusCode.NOT_FOUND
    assert err.reason == "INVALID_VOLUME_ID"
    assert err.message == "volume vol-123 not found"
    assert err.metadata == {"k": "v"}
    assert err.retry_delay is None
    assert str(err) == "NOT_FOUND INVALID_VOLUME_ID: volume vol-123 not found"


def test_retry_info_is_parsed_into_seconds():
    trailers = rich_trailers(grpc.StatusCode.RESOURCE_EXHAUSTED, "OVERLOADED", "busy", 1.25)
    err = from_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "busy", trailers)
    assert isinstance(err, ResourceExhausted)
    assert err.retry_delay == pytest.approx(1.25)


def test_plain_status_without_details_still_types_the_error():
    err = from_status(grpc.StatusCode.UNAVAILABLE, "connection refused", ())
    assert isinstance(err, Unavailable)
    assert err.reason == "" and str(err) == "UNAVAILABLE: connection refused"


def test_corrupt_details_do_not_hide_the_real_error():
    trailers = (("grpc-status-details-bin", b"\xff\x00garbage"),)
    err = from_status(grpc.StatusCode.FAILED_PRECONDITION, "snapshot busy", trailers)
    assert isinstance(err, FailedPrecondition) and err.message == "snapshot busy"


def test_attempt_count_is_reported_when_retries_ran_out():
    err = errors.Unavailable(grpc.StatusCode.UNAVAILABLE, "", "down", attempts=5)
    assert str(err) == "UNAVAILABLE: down (after 5 attempts)"


@pytest.mark.parametrize("code", list(grpc.StatusCode))
def test_every_non_ok_code_has_its_own_class(code):
    if code is grpc.StatusCode.OK:
        return
    cls = errors.error_class(code)
    assert cls is not BlockstoreError and issubclass(cls, BlockstoreError)


def _aio_error(code, details, trailers=()):
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailers),
                                details=details)


def test_grpcs_own_send_failure_is_unavailable_but_a_servers_internal_stays_internal():
    """grpc.aio reports a send that failed on a dead connection as INTERNAL 'Internal
    error from Core' with no trailers (seen when a data plane was killed mid-backup): a
    transport failure, so UNAVAILABLE (retried, plane marked failed). An INTERNAL a server
    sent keeps its code."""
    local = errors.from_rpc_error(_aio_error(grpc.StatusCode.INTERNAL,
                                             "Internal error from Core"))
    assert isinstance(local, Unavailable) and local.code is grpc.StatusCode.UNAVAILABLE
    assert "connection broke" in local.message

    served = errors.from_rpc_error(_aio_error(
        grpc.StatusCode.INTERNAL, "Internal error from Core",
        rich_trailers(grpc.StatusCode.INTERNAL, "STORAGE_IO_ERROR", "chunk store failed")))
    assert served.code is grpc.StatusCode.INTERNAL and served.reason == "STORAGE_IO_ERROR"

    other = errors.from_rpc_error(_aio_error(grpc.StatusCode.INTERNAL, "something else"))
    assert other.code is grpc.StatusCode.INTERNAL
