"""`bench/compare.py --plot FILE.svg`: the same-run comparison against restic and borg as
one picture (matplotlib, the `bench` extra).

Draws from a plain result dict (what compare.py also writes next to the SVG as JSON), so
the figure can be redrawn without re-running the tools:
    {"size_bytes": N, "title": "...", "tools": [{"name": "blockstore", "stored_bytes": N,
      "phases": {"full": {"wall": s, "cpu": s, "rss_mib": m}, "incremental": ..., "restore": ...}}]}
Left: MB/s of logical image bytes per phase (higher is better); right: bytes stored
(lower is better). The SVG is deterministic for the same dict (no date, fixed ids), so
re-drawing does not churn the committed file.
"""

from __future__ import annotations

from pathlib import Path

PHASES = ("full", "incremental", "restore")
MIB = 1 << 20


def plot_comparison(result: dict, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")                       # no display on servers and in CI
    from matplotlib import pyplot as plt

    tools, size = result["tools"], result["size_bytes"]
    with matplotlib.rc_context({"svg.hashsalt": "blockstore", "svg.fonttype": "none",
                                "font.size": 9}):
        fig, (speed, stored) = plt.subplots(1, 2, figsize=(10, 3.8),
                                            gridspec_kw={"width_ratios": [3, 1.3]})
        _speed_bars(speed, tools, size)
        names = [t["name"] for t in tools]
        stored.barh(names, [t["stored_bytes"] / MIB for t in tools], color=_colors(len(tools)))
        stored.invert_yaxis()
        stored.set_xlabel("stored MiB (lower is better)")
        stored.tick_params(axis="y", labelsize=8)
        fig.suptitle(result.get("title", ""), fontsize=9)
        fig.tight_layout()
        fig.savefig(path, format="svg", metadata={"Date": None})
        plt.close(fig)
    return Path(path)


def _speed_bars(ax, tools: list[dict], size: int) -> None:
    width = 0.8 / max(len(tools), 1)
    for i, (tool, color) in enumerate(zip(tools, _colors(len(tools)))):
        rates = [size / tool["phases"][p]["wall"] / 1e6 for p in PHASES]
        xs = [j + (i - (len(tools) - 1) / 2) * width for j in range(len(PHASES))]
        bars = ax.bar(xs, rates, width, label=tool["name"], color=color)
        ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    ax.set_xticks(range(len(PHASES)), PHASES)
    ax.set_ylabel("MB/s of image bytes (higher is better)")
    ax.legend(fontsize=8, frameon=False)


def _colors(n: int) -> list[str]:
    palette = ["#1f6fb4", "#e3892b", "#3a9a4a", "#b13b3b", "#7a5aa8"]
    return [palette[i % len(palette)] for i in range(n)]
