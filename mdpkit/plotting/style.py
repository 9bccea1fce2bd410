r"""The project's one figure style: sizes for a two-column paper, a colour-blind-safe palette, light grids.

Figures are drawn at their printed size so that text is printed at its nominal size: one column is
:data:`COLUMN_WIDTH` = 3.4 in wide, a full page :data:`PAGE_WIDTH` = 7.0 in (the usual two-column
conference layouts). Text is 8 pt (7 pt for legends and ticks), lines 1.4 pt, the palette is Okabe & Ito's
eight colours (Okabe & Ito 2008, "Color Universal Design"), distinguishable under the common colour-vision
deficiencies. Layout is matplotlib's constrained layout, so labels and legends do not overlap.

Use::

    from mdpkit.plotting import style, band, figsize, PALETTE

    with style():
        fig, ax = plt.subplots(figsize=figsize(1))
        band(ax, t, mean, lo, hi, label="UCRL2")
        ax.set_xlabel("steps $t$")
        ax.set_ylabel("cumulative regret")
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from mdpkit.errors import InvalidArgumentError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.lines import Line2D

__all__ = [
    "PALETTE",
    "STYLE",
    "COLUMN_WIDTH",
    "PAGE_WIDTH",
    "figsize",
    "style",
    "band",
    "seed_band",
    "use_agg_if_headless",
]

#: Okabe-Ito colour-blind-safe palette, in the order curves take it (blue, vermillion, green, reddish
#: purple, orange, sky blue, yellow, black). Yellow is kept late: it is weak on white.
PALETTE: list[str] = [
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
]

#: width of one column of a two-column paper, inches
COLUMN_WIDTH: float = 3.4
#: width of a full page (both columns), inches
PAGE_WIDTH: float = 7.0

#: matplotlib rc parameters of every mdpkit figure (use through :func:`style`)
STYLE: dict[str, Any] = {
    "figure.dpi": 110,
    "figure.figsize": (COLUMN_WIDTH, 0.75 * COLUMN_WIDTH),
    "figure.constrained_layout.use": True,
    "figure.constrained_layout.h_pad": 0.03,
    "figure.constrained_layout.w_pad": 0.03,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.titleweight": "normal",
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "legend.frameon": False,
    "legend.handlelength": 1.6,
    "legend.borderaxespad": 0.3,
    "figure.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "lines.linewidth": 1.4,
    "lines.markersize": 3.5,
    "patch.linewidth": 0.5,
    "pdf.fonttype": 42,  # embed TrueType: editable text in PDFs, accepted by paper sites
    "ps.fonttype": 42,
    "axes.prop_cycle": None,  # filled below (cycler is imported lazily with matplotlib)
}


def _cycler() -> Any:
    from cycler import cycler

    return cycler(color=PALETTE)


STYLE["axes.prop_cycle"] = _cycler()


def use_agg_if_headless() -> None:
    """Select matplotlib's non-interactive Agg backend unless a backend was already chosen.

    It does nothing when :mod:`matplotlib.pyplot` is already imported (a notebook or an interactive session
    picked its backend) or when ``MPLBACKEND`` is set; otherwise figures are rendered off-screen, which
    works without a display (CI, servers).
    """
    if "matplotlib.pyplot" in sys.modules or os.environ.get("MPLBACKEND"):
        return
    import matplotlib

    matplotlib.use("Agg")


def figsize(columns: float = 1, aspect: float = 0.75, *, rows: int = 1) -> tuple[float, float]:
    """The size of a figure that spans ``columns`` columns of a two-column paper.

    Parameters
    ----------
    columns : {1, 2} or float
        1: :data:`COLUMN_WIDTH` (3.4 in); 2: :data:`PAGE_WIDTH` (7.0 in); any other positive number is
        a multiple of the column width (e.g. 1.5).
    aspect : float
        Height of one row of panels divided by the figure width, e.g. 0.75 for one panel per row at one
        column, 0.3 for a row of three panels across the page.
    rows : int
        Number of rows of panels; the height is ``rows * aspect * width``.

    Returns
    -------
    (width, height) : tuple of float
        Inches, for ``plt.subplots(figsize=...)``.

    Raises
    ------
    InvalidArgumentError
        If ``columns``, ``aspect`` or ``rows`` is not positive.
    """
    if not columns > 0 or not aspect > 0 or int(rows) < 1:
        raise InvalidArgumentError(
            f"figsize(columns={columns!r}, aspect={aspect!r}, rows={rows!r}): all must be positive"
        )
    if columns == 1:
        width = COLUMN_WIDTH
    elif columns == 2:
        width = PAGE_WIDTH
    else:
        width = float(columns) * COLUMN_WIDTH
    return (width, width * float(aspect) * int(rows))


@contextlib.contextmanager
def style(overrides: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Context manager applying :data:`STYLE` (plus ``overrides``) to the figures created inside it.

    Selects the Agg backend first when no backend was chosen yet (see :func:`use_agg_if_headless`), so it
    is safe on machines without a display; the previous rc parameters are restored on exit.

    Parameters
    ----------
    overrides : mapping, optional
        rc parameters that replace those of :data:`STYLE` for this block.

    Yields
    ------
    None
    """
    use_agg_if_headless()
    import matplotlib.pyplot as plt

    params = dict(STYLE)
    if overrides:
        params.update(overrides)
    with plt.rc_context(params):
        yield


def band(
    ax: Axes,
    x: Any,
    mean: Any,
    lo: Any = None,
    hi: Any = None,
    *,
    label: str | None,
    color: str | None = None,
    alpha: float = 0.2,
    **line_kw: Any,
) -> Line2D:
    r"""Plot a mean curve and its shaded confidence band :math:`[\mathrm{lo}, \mathrm{hi}]` in one colour.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x, mean : array_like, shape (n,)
        The curve.
    lo, hi : array_like, shape (n,), optional
        Lower and upper edges of the band (e.g. a t-interval over seeds, :func:`seed_band`). Points where
        either is NaN are not shaded; no band is drawn when both are None (e.g. a single seed).
    label : str or None
        Legend entry of the line (None: no entry).
    color : str, optional
        Default: the next colour of the axes' cycle (:data:`PALETTE`).
    alpha : float
        Opacity of the band.
    **line_kw
        Passed to :meth:`~matplotlib.axes.Axes.plot` (``linestyle``, ``marker``, ``zorder`` ...).

    Returns
    -------
    matplotlib.lines.Line2D
        The mean line.

    Raises
    ------
    InvalidArgumentError
        If the arrays' lengths differ.
    """
    x = np.asarray(x, dtype=float)
    mean = np.asarray(mean, dtype=float)
    if x.shape != mean.shape or x.ndim != 1:
        raise InvalidArgumentError(
            f"band: x has shape {x.shape} and mean {mean.shape}; need equal 1-d shapes"
        )
    (line,) = ax.plot(x, mean, label=label, color=color, **line_kw)
    if lo is not None or hi is not None:
        lo_ = mean if lo is None else np.asarray(lo, dtype=float)
        hi_ = mean if hi is None else np.asarray(hi, dtype=float)
        if lo_.shape != x.shape or hi_.shape != x.shape:
            raise InvalidArgumentError(
                f"band: lo has shape {lo_.shape}, hi {hi_.shape}; expected {x.shape} like x"
            )
        ok = np.isfinite(lo_) & np.isfinite(hi_)
        if ok.any():
            ax.fill_between(
                x, lo_, hi_, where=ok, color=line.get_color(), alpha=alpha, linewidth=0, interpolate=False
            )
    return line


def seed_band(
    ax: Axes,
    x: Any,
    Y: Any,
    *,
    label: str | None,
    color: str | None = None,
    level: float = 0.95,
    **line_kw: Any,
) -> Line2D:
    r"""Mean over seeds and its Student-t confidence band, :math:`\bar y \pm t_{n-1,(1+\ell)/2}\,s/\sqrt n`.

    The statistics are those of :func:`mdpkit.experiments.analysis.mean_band`; the drawing is :func:`band`.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x : array_like, shape (n_points,)
    Y : array_like, shape (n_seeds, n_points)
        One row per seed.
    label : str or None
        Legend entry.
    color : str, optional
        Default: the next colour of the cycle.
    level : float
        Confidence level of the band, in (0, 1).
    **line_kw
        Passed to :func:`band`.

    Returns
    -------
    matplotlib.lines.Line2D
        The mean line (no band with a single seed).
    """
    from mdpkit.experiments.analysis import mean_band

    b = mean_band(np.asarray(Y, dtype=float), level)
    if b.n < 2:
        return band(ax, x, b.mean, label=label, color=color, **line_kw)
    return band(ax, x, b.mean, b.lo, b.hi, label=label, color=color, **line_kw)
