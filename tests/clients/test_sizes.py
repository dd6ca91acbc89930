"""Sizes on the command line are binary and exact: a volume size must stay 512-aligned."""

import pytest

from clients.sizes import format_size, parse_size


@pytest.mark.parametrize("text,expected", [
    ("0", 0), ("512", 512), ("64K", 64 << 10), ("64k", 64 << 10), ("512M", 512 << 20),
    ("1G", 1 << 30), ("1GiB", 1 << 30), ("4MB", 4 << 20), ("2T", 2 << 40), ("1P", 1 << 50),
    ("1.5K", 1536), (" 3 G ", 3 << 30), ("100B", 100),
])
def test_parse_size_uses_powers_of_1024(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "G", "-1G", "1X", "1.1", "0.3K", "1 G B", "ten"])
def test_parse_size_rejects_nonsense_and_partial_bytes(text):
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(text)


@pytest.mark.parametrize("n,text", [
    (0, "0 B"), (512, "512 B"), (1536, "1.5 KiB"), (1 << 20, "1 MiB"), (1 << 30, "1 GiB"),
    (64 << 40, "64 TiB"),
])
def test_format_size(n, text):
    assert format_size(n) == text


def test_format_then_parse_round_trips_whole_units():
    for n in (64 << 10, 1 << 20, 4 << 20, 10 << 30):
        assert parse_size(format_size(n).replace(" ", "")) == n
