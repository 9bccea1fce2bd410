"""Helpers of the plotting tests: tiny figure scripts written into a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

GOOD = """
import matplotlib.pyplot as plt
from mdpkit.plotting import FigureSpec, figure_main, figsize, style, band

CALLS = []


def compute(quick):
    CALLS.append(quick)
    n = 3 if quick else 6
    return [{"x": i, "y": i * 0.5, "label": "{name}", "ok": i % 2 == 0} for i in range(n)]


def plot(rows):
    with style():
        fig, ax = plt.subplots(figsize=figsize(1))
        band(ax, [r["x"] for r in rows], [r["y"] for r in rows], label="y")
        ax.set_xlabel("x [units]")
    return fig


FIGURE = FigureSpec(name="{name}", compute=compute, plot=plot, summary=lambda rows: f"{len(rows)} rows",
                    description="a tiny test figure")

if __name__ == "__main__":
    raise SystemExit(figure_main(FIGURE))
"""

FAILING = """
from mdpkit.plotting import FigureSpec


def compute(quick):
    raise RuntimeError("compute exploded on purpose")


FIGURE = FigureSpec(name="{name}", compute=compute, plot=lambda rows: None)
"""


def write_script(folder: Path, name: str, kind: str = "good") -> Path:
    """Write ``<folder>/<name>.py``: a good figure, one whose compute raises, or arbitrary source."""
    src = {"good": GOOD, "failing": FAILING}.get(kind, kind)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(src).replace("{name}", name))
    return path


@pytest.fixture
def figures_dir(tmp_path: Path) -> Path:
    """A folder with two good figure scripts."""
    d = tmp_path / "figs"
    d.mkdir()
    write_script(d, "alpha")
    write_script(d, "beta")
    return d
