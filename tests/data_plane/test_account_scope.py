"""Account scope holds in every observable of an upload: a chunk that another account
already stores is, for the caller, a new chunk (counted as stored, never as a dedup
hit), and nothing else (FindMissingChunks, references, errors) tells them apart."""

from __future__ import annotations

import grpc

from tests.data_plane.helpers import (CHUNK, MIB, Ref, b3, missing, new_volume, pattern,
                                      rand, stream, upload)
from tests.rpcerrors import expect_error


def counters(reply) -> tuple[int, int, int, int]:
    return reply.blocks_written, reply.bytes_received, reply.bytes_stored, reply.dedup_hits


async def test_upload_reply_reveals_nothing_about_another_accounts_chunks(cp, dp, other_cp,
                                                                          other_dp):
    owner_vol = await new_volume(cp, size=MIB)
    secret, fresh = rand(CHUNK), rand(CHUNK)
    squeezable, fresh_squeezable = pattern("secret", CHUNK), pattern("fresh!", CHUNK)
    await upload(dp, owner_vol, [(0, secret), (CHUNK, squeezable)])

    prober = await new_volume(other_cp, size=MIB)
    assert sorted(await missing(other_dp, [b3(secret), b3(fresh)])) == \
        sorted([b3(secret), b3(fresh)]), "FindMissingChunks answers from the caller's account"
    guess = await upload(other_dp, prober, [(0, secret)])
    control = await upload(other_dp, prober, [(CHUNK, fresh)])
    assert guess.dedup_hits == 0, \
        "a chunk only another account holds is no dedup hit for the caller"
    assert counters(guess) == counters(control), \
        "uploading another account's chunk replies exactly like uploading a new one"
    assert guess.bytes_stored == CHUNK, "the caller is charged for the chunk it now holds"

    guess = await upload(other_dp, prober, [(2 * CHUNK, squeezable)], zstd=True)
    control = await upload(other_dp, prober, [(3 * CHUNK, fresh_squeezable)], zstd=True)
    assert counters(guess) == counters(control), "the same for compressed data"

    again = await upload(other_dp, prober, [(4 * CHUNK, secret)])
    assert again.dedup_hits == 1 and again.bytes_stored == 0, \
        "once the caller holds the chunk, re-sending it is the caller's own dedup hit"
    assert await missing(other_dp, [b3(secret)]) == []


async def test_references_to_another_accounts_chunk_fail_like_unknown_ones(cp, dp, other_cp,
                                                                            other_dp):
    owner_vol = await new_volume(cp, size=MIB)
    secret = rand(CHUNK)
    await upload(dp, owner_vol, [(0, secret)])
    prober = await new_volume(other_cp, size=MIB)
    infos = []
    for token in (b3(secret), b3(rand(CHUNK))):
        msgs = stream(prober, [(0, Ref(token))])
        infos.append(await expect_error(other_dp.UploadBlocks(iter(msgs)),
                                        grpc.StatusCode.FAILED_PRECONDITION,
                                        "UNKNOWN_CHUNK_TOKEN"))
    held, unknown = infos
    assert dict(held.metadata) == dict(unknown.metadata), \
        "the error for another account's token is the error for a token nobody holds"
