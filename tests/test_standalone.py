"""The repository stands alone: its comments and docs cite only files it contains.

Design notes once pointed at a contract and a style guide kept outside the repository;
a reader of the code could not follow them. docs/design.md is the project's own.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUTSIDE = ("DESIGN" + ".md", "STYLE" + ".md", "../" + "shared")   # split: not a hit here
TEXT = (".py", ".md", ".proto", ".sh", ".toml", ".sql", ".js", ".txt", ".yaml")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    return [REPO / n for n in names if n.endswith(TEXT) and (REPO / n).is_file()]


def test_nothing_cites_files_outside_the_repository():
    hits = [f"{p.relative_to(REPO)}:{i}: {line.strip()}"
            for p in tracked_text_files()
            for i, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
            if any(name in line for name in OUTSIDE)]
    assert not hits, "cite docs/design.md instead:\n" + "\n".join(hits)


def test_relative_links_in_the_docs_resolve():
    broken = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for target in LINK.findall(doc.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(REPO)} -> {target}")
    assert not broken, "links to nothing:\n" + "\n".join(broken)
