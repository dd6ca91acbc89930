"""Human sizes: parse `1G`, `512M`, `64K`, `4MiB`, `1048576`; format bytes for tables.

Units are binary (K = 1024), because volume and chunk sizes must be multiples of 512 and
powers of two: `1G` must mean 2**30 or a 1 GB volume would be rejected as unaligned.
"""

from __future__ import annotations

import re

_UNITS = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40, "P": 50}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes in `text`; a fraction is allowed only if it lands on a whole byte (1.5K)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"invalid size {text!r}: use a number with an optional "
                         "K, M, G, T or P suffix (powers of 1024), e.g. 1G or 512M")
    number, unit = match.group(1), match.group(2).upper()
    value = float(number) * (1 << _UNITS[unit]) if "." in number else int(number) << _UNITS[unit]
    if value != int(value):
        raise ValueError(f"invalid size {text!r}: not a whole number of bytes")
    return int(value)


def format_size(n: int) -> str:
    """`1073741824` -> `1 GiB`, `1536` -> `1.5 KiB`: exact values stay exact."""
    for unit in ("PiB", "TiB", "GiB", "MiB", "KiB"):
        scale = 1 << _UNITS[unit[0]]
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} B"
