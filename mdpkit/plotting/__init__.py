"""One figure style and the figure protocol behind ``mdpkit figures``.

* :mod:`mdpkit.plotting.style`: :data:`PALETTE` (Okabe-Ito), :data:`STYLE` (rc parameters), :func:`style`
  (context manager), :func:`figsize` (column / page widths), :func:`band` and :func:`seed_band` (mean curve
  with its confidence band over seeds).
* :mod:`mdpkit.plotting.figure`: :class:`FigureSpec` (compute rows, plot them), :func:`run_figure`
  (CSV + PNG + PDF, atomically), :func:`figure_main` (a script's command line), :func:`discover` (the
  scripts of ``paper_figures/``).
* :mod:`mdpkit.plotting.cli`: ``mdpkit figures``.
"""

from mdpkit.plotting.figure import (
    Discovery,
    FigureDataError,
    FigureError,
    FigureLoadError,
    FigureResult,
    FigureSpec,
    default_figures_dir,
    default_out_dir,
    discover,
    figure_main,
    read_rows,
    run_figure,
    scan,
    write_rows,
)
from mdpkit.plotting.style import (
    COLUMN_WIDTH,
    PAGE_WIDTH,
    PALETTE,
    STYLE,
    band,
    figsize,
    seed_band,
    style,
)

__all__ = [
    "COLUMN_WIDTH",
    "PAGE_WIDTH",
    "PALETTE",
    "STYLE",
    "band",
    "figsize",
    "seed_band",
    "style",
    "Discovery",
    "FigureDataError",
    "FigureError",
    "FigureLoadError",
    "FigureResult",
    "FigureSpec",
    "default_figures_dir",
    "default_out_dir",
    "discover",
    "figure_main",
    "read_rows",
    "run_figure",
    "scan",
    "write_rows",
]
