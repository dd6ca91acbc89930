"""A small real filesystem for tests that fill it: tmpfs, else a loop-mounted ext4 image.

Both need root (CI runs the suite as root in a container); without it, or where the
kernel refuses both mounts, the test is skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _run(*cmd: str) -> str:
    """'' on success, else the command's error output."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    return "" if done.returncode == 0 else f"{' '.join(cmd)}: {done.stderr.strip()}"


def _mount(where: Path, size_mib: int) -> str:
    """Mounts a filesystem of `size_mib` at `where`; '' or why it could not."""
    if os.geteuid() != 0:
        return "mounting a small filesystem (tmpfs or loop ext4) needs root"
    tmpfs = _run("mount", "-t", "tmpfs", "-o", f"size={size_mib}m", "tmpfs", str(where))
    if not tmpfs:
        return ""
    image = where.parent / f"{where.name}.ext4"
    loop = (_run("truncate", "-s", f"{size_mib}M", str(image))
            or _run("mkfs.ext4", "-q", "-F", str(image))
            or _run("mount", "-o", "loop", str(image), str(where)))
    return f"{tmpfs}; {loop}" if loop else ""


@contextmanager
def small_filesystem(where: Path, size_mib: int) -> Iterator[Path | str]:
    """Yields the mounted directory, or a string saying why none could be mounted."""
    where.mkdir(parents=True, exist_ok=True)
    why = _mount(where, size_mib)
    if why:
        yield why
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
