"""JSON output keeps int64 numeric, enums by name and bytes as hex, with every key present."""

from google.protobuf import timestamp_pb2

from blockstore.v1 import common_pb2, data_plane_pb2
from clients import render


def test_volume_dict_has_numbers_labels_and_rfc3339_time():
    vol = common_pb2.Volume(volume_id="vol-1", size_bytes=1 << 40, chunk_size=1 << 20,
                            labels={"env": "prod"},
                            created_at=timestamp_pb2.Timestamp(seconds=1700000000))
    d = render.to_dict(vol)
    assert d["size_bytes"] == 1 << 40 and isinstance(d["size_bytes"], int)
    assert d["labels"] == {"env": "prod"}
    assert d["created_at"] == "2023-11-14T22:13:20Z"
    assert d["source_snapshot_id"] == "" and d["open_version"] == 0  # defaults present


def test_snapshot_enums_are_names_and_unset_time_is_empty():
    snap = common_pb2.Snapshot(mode=common_pb2.SNAPSHOT_MODE_UPLOAD,
                               state=common_pb2.SNAPSHOT_STATE_PENDING, progress=0.5)
    d = render.to_dict(snap)
    assert d["mode"] == "SNAPSHOT_MODE_UPLOAD" and d["state"] == "SNAPSHOT_STATE_PENDING"
    assert d["completed_at"] == "" and d["progress"] == 0.5


def test_tokens_are_hex_and_repeated_fields_are_lists():
    resp = data_plane_pb2.UploadBlocksResponse(tokens=[b"\x01\x02", b"\xff"])
    assert render.to_dict(resp)["tokens"] == ["0102", "ff"]


def test_table_aligns_columns_and_right_aligns_numbers():
    text = render.table(["ID", "VERSION"], [("vol-1", 1), ("vol-22", 10)])
    assert text.splitlines() == ["ID      VERSION", "vol-1         1", "vol-22       10"]


def test_table_on_a_terminal_is_drawn_by_rich_with_the_same_cells():
    rows = [("vol-1", 1), ("vol-22", 10)]
    drawn = render.table(["ID", "VERSION"], rows, terminal=True)
    assert "\x1b[1m" in drawn and "─" in drawn, "bold header and a rule under it"
    lines = drawn.splitlines()
    assert lines[2].split() == ["vol-1", "1"] and lines[3].split() == ["vol-22", "10"]
    assert lines[2].rstrip().endswith(" 1") and len(lines[2].rstrip()) == \
        len(lines[3].rstrip()), "numbers stay right-aligned"


def test_table_is_plain_text_when_stdout_is_not_a_terminal(capsys):
    rows = [("vol-1", 1)]
    print(render.table(["ID", "VERSION"], rows))          # stdout captured: not a TTY
    out = capsys.readouterr().out
    assert "\x1b" not in out and out == render.table(["ID", "VERSION"], rows,
                                                     terminal=False) + "\n"
