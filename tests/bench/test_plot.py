"""bench/plot.py draws compare.py's figures as a valid, deterministic SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bench.plot import PHASES, plot_comparison

SVG = "{http://www.w3.org/2000/svg}"


def tool(name: str, wall: float, stored_mib: int) -> dict:
    return {"name": name, "stored_bytes": stored_mib << 20,
            "phases": {p: {"wall": wall, "cpu": 1.0, "rss_mib": 80.0} for p in PHASES}}


RESULT = {"size_bytes": 256 << 20, "title": "256 MiB image, test figures",
          "tools": [tool("blockstore", 1.0, 120), tool("restic", 2.0, 140),
                    tool("borg default", 4.0, 150)]}


def test_plot_writes_a_deterministic_svg_naming_every_tool_and_phase(tmp_path):
    path = plot_comparison(RESULT, tmp_path / "compare.svg")
    root = ET.parse(path).getroot()                    # well-formed XML or this raises
    assert root.tag == f"{SVG}svg"
    texts = {"".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")}
    assert {"blockstore", "restic", "borg default", *PHASES} <= texts
    assert "268" in texts, "bar labels show MB/s: 256 MiB in 1 s is 268 MB/s"
    assert "67" in texts, "and the slowest tool's 4 s is 67 MB/s"
    again = plot_comparison(RESULT, tmp_path / "again.svg")
    assert again.read_bytes() == path.read_bytes(), \
        "no date or random ids: re-drawing does not churn the committed SVG"
