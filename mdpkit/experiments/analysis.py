r"""Analysis of stored sweeps: curves grouped over seeds, mean and confidence bands, log-log slope fits with
confidence intervals (the number a regret claim is judged by), summary tables and the standard regret plot.

A regret bound :math:`\mathrm{Regret}(T) = \tilde O(T^{\alpha})` is checked by the slope of
:math:`\log \overline{\mathrm{Regret}}(T)` against :math:`\log T` over a range of horizons, where
:math:`\overline{\mathrm{Regret}}` is the mean over seeds; :func:`loglog_slope` gives that slope with a
bootstrap interval over seeds (seeds are the independent replicates; the points of one curve are not).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments.store import StoredRecord, dumps
from mdpkit.plotting.style import STYLE as _PLOT_STYLE

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "Band",
    "Curve",
    "SlopeFit",
    "mean_band",
    "loglog_slope",
    "curves",
    "summary_table",
    "format_table",
    "regret_plot",
    "DEFAULT_GROUP",
]

#: how records are grouped into curves by default (missing fields are skipped)
DEFAULT_GROUP = ("algorithm", "setting", "instance", "size")


@dataclass(frozen=True)
class Band:
    r"""Mean over seeds with a Student-t confidence band, :math:`\bar y \pm t_{n-1,(1+\ell)/2}\, s/\sqrt n`.

    ``lo``/``hi`` are NaN with a single seed. Arrays have the shape of one curve.
    """

    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    n: int
    level: float


def _check_level(level: float) -> float:
    if not (isinstance(level, (int, float)) and 0.0 < float(level) < 1.0):
        raise InvalidArgumentError(f"level = {level!r} must be in (0, 1), e.g. 0.95")
    return float(level)


def mean_band(Y: np.ndarray, level: float = 0.95) -> Band:
    """Mean and t-interval over the first axis (seeds) of ``Y`` (n_seeds, n_points)."""
    level = _check_level(level)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[None, :]
    if Y.ndim != 2 or Y.shape[0] < 1:
        raise InvalidArgumentError(f"Y has shape {Y.shape}; expected (n_seeds, n_points)")
    from scipy import stats

    n = Y.shape[0]
    mean = Y.mean(axis=0)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return Band(mean, nan, nan.copy(), n, level)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * Y.std(axis=0, ddof=1) / math.sqrt(n)
    return Band(mean, mean - half, mean + half, n, level)


@dataclass(frozen=True)
class SlopeFit:
    r"""A log-log slope: the least-squares fit of :math:`\log \bar y` on :math:`\log t` over
    ``t_min <= t <= t_max``, with a confidence interval ``[lo, hi]`` at ``level``.

    ``method`` is ``"bootstrap"`` (percentile interval of the slope over seeds resampled with replacement),
    ``"per-seed"`` (t-interval of the per-seed slopes; ``slope`` is then their mean) or ``"single"`` (one
    seed: no interval).
    """

    slope: float
    lo: float
    hi: float
    intercept: float
    t_min: float
    t_max: float
    n_points: int
    n_seeds: int
    level: float
    method: str

    def __str__(self) -> str:
        if math.isnan(self.lo):
            return f"{self.slope:.3f}"
        return f"{self.slope:.3f} [{self.lo:.3f}, {self.hi:.3f}]"


def _ols_slopes(x: np.ndarray, Ylog: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slopes and intercepts of the least-squares lines of each row of ``Ylog`` on ``x``."""
    xc = x - x.mean()
    sxx = float(xc @ xc)
    slopes = (Ylog - Ylog.mean(axis=-1, keepdims=True)) @ xc / sxx
    intercepts = Ylog.mean(axis=-1) - slopes * x.mean()
    return slopes, intercepts


def loglog_slope(
    t: Sequence[float],
    Y: np.ndarray,
    t_range: tuple[float, float] | None = None,
    level: float = 0.95,
    method: str = "bootstrap",
    n_boot: int = 4000,
    seed: int = 0,
) -> SlopeFit:
    r"""Slope of :math:`\log \bar Y` against :math:`\log t` with a confidence interval over seeds.

    Parameters
    ----------
    t : (n_points,)
        Horizons (positive, increasing).
    Y : (n_seeds, n_points)
        One curve per seed (e.g. cumulative regret).
    t_range : (t_min, t_max), optional
        The horizons to fit (inclusive; default: all). At least two points must fall inside.
    level : float
        Confidence level of the interval.
    method : {"bootstrap", "per-seed"}
        ``"bootstrap"``: fit the mean curve; the interval is the percentile interval of the slopes of
        ``n_boot`` mean curves of seeds drawn with replacement (deterministic given ``seed``).
        ``"per-seed"``: fit each seed's curve; report the mean slope and its Student-t interval.
    n_boot, seed : int
        Bootstrap replicates and their generator's seed.

    Returns
    -------
    SlopeFit
        Raises :class:`~mdpkit.InvalidArgumentError` if a fitted curve is not positive inside the range
        (the logarithm is undefined there), naming the first offending horizon.
    """
    level = _check_level(level)
    t = np.asarray(t, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[None, :]
    if Y.ndim != 2 or Y.shape[1] != t.size:
        raise InvalidArgumentError(f"Y has shape {Y.shape}; expected (n_seeds, {t.size}) to match t")
    if np.any(t <= 0) or np.any(np.diff(t) <= 0):
        raise InvalidArgumentError("t must be positive and strictly increasing")
    lo_t, hi_t = (t[0], t[-1]) if t_range is None else (float(t_range[0]), float(t_range[1]))
    sel = (t >= lo_t) & (t <= hi_t)
    if sel.sum() < 2:
        raise InvalidArgumentError(
            f"only {int(sel.sum())} horizon(s) fall in [{lo_t:g}, {hi_t:g}] "
            f"(recorded t from {t[0]:g} to {t[-1]:g}); "
            "need at least two to fit a slope"
        )
    x = np.log(t[sel])
    Ys = Y[:, sel]
    n = Ys.shape[0]

    def logs(M: np.ndarray, what: str) -> np.ndarray:
        bad = np.argwhere(~(M > 0))
        if bad.size:
            j = bad[0][-1]
            raise InvalidArgumentError(
                f"{what} is {M[tuple(bad[0])]:.6g} <= 0 at t = {t[sel][j]:g}: "
                "a log-log slope needs positive values "
                "(fit a later range of horizons)"
            )
        return np.log(M)

    if method == "per-seed":
        from scipy import stats

        slopes, inters = _ols_slopes(x, logs(Ys, "a seed's curve"))
        s = float(slopes.mean())
        if n < 2:
            return SlopeFit(
                s, math.nan, math.nan, float(inters.mean()), lo_t, hi_t, int(sel.sum()), n, level, "single"
            )
        half = stats.t.ppf(0.5 + level / 2, n - 1) * slopes.std(ddof=1) / math.sqrt(n)
        return SlopeFit(
            s, s - half, s + half, float(inters.mean()), lo_t, hi_t, int(sel.sum()), n, level, method
        )
    if method != "bootstrap":
        raise InvalidArgumentError(f"method = {method!r} must be 'bootstrap' or 'per-seed'")
    slope, inter = _ols_slopes(x, logs(Ys.mean(axis=0), "the mean curve"))
    slope, inter = float(slope), float(inter)
    if n < 2:
        return SlopeFit(slope, math.nan, math.nan, inter, lo_t, hi_t, int(sel.sum()), n, level, "single")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    means = Ys[idx].mean(axis=1)
    boot, _ = _ols_slopes(x, logs(means, "a bootstrap mean curve"))
    lo, hi = np.quantile(boot, [0.5 - level / 2, 0.5 + level / 2])
    return SlopeFit(slope, float(lo), float(hi), inter, lo_t, hi_t, int(sel.sum()), n, level, method)


@dataclass(frozen=True)
class Curve:
    """The curves of one group (one line of a plot): ``Y[i]`` is seed ``seeds[i]``'s curve over ``t``.

    ``group`` maps the grouping fields (e.g. algorithm, setting, instance, size) to their values.
    """

    group: dict
    t: np.ndarray
    Y: np.ndarray
    seeds: tuple[int, ...]

    @property
    def label(self) -> str:
        """The group as one line, e.g. ``"UCRL2, setting=continuing, size=3"``."""
        return ", ".join(f"{v}" if k == "algorithm" else f"{k}={v}" for k, v in self.group.items())

    def band(self, level: float = 0.95) -> Band:
        """:func:`mean_band` of the curves."""
        return mean_band(self.Y, level)

    def slope(self, t_range: tuple[float, float] | None = None, level: float = 0.95, **kw: Any) -> SlopeFit:
        """:func:`loglog_slope` of the curves over ``t_range``."""
        return loglog_slope(self.t, self.Y, t_range, level, **kw)


def _field(rec: StoredRecord | dict, key: str) -> Any:
    record = rec.record if isinstance(rec, StoredRecord) else rec.get("record", {})
    config = rec.config if isinstance(rec, StoredRecord) else rec.get("config", {})
    if key in record and not isinstance(record[key], (list, dict)):
        return record[key]
    if key in config:
        v = config[key]
        if isinstance(v, dict):
            return v.get("label", v.get("name", dumps(v)))
        if isinstance(v, list):
            return dumps(v)
        return v
    return None


def curves(
    records: Iterable[StoredRecord | dict],
    y: str = "regret",
    x: str = "t",
    by: Sequence[str] = DEFAULT_GROUP,
) -> list[Curve]:
    """Group records into :class:`Curve` objects, one per distinct value of the ``by`` fields.

    A field is read from the record (scalars), else from the config (a table gives its ``label`` or
    ``name``); fields that no record has are dropped from the grouping. Records of one group must share
    the same ``x`` grid. Groups keep the order of first appearance.
    """
    recs = list(records)
    if not recs:
        raise InvalidArgumentError("no records to analyse")
    fields = [k for k in by if any(_field(r, k) is not None for r in recs)]
    groups: dict[tuple, list] = {}
    for r in recs:
        record = r.record if isinstance(r, StoredRecord) else r["record"]
        if y not in record or x not in record:
            continue
        groups.setdefault(tuple(_field(r, k) for k in fields), []).append(r)
    if not groups:
        raise InvalidArgumentError(f"no record has both {x!r} and {y!r}")
    out = []
    for key, members in groups.items():
        members.sort(key=lambda r: r.seed if isinstance(r, StoredRecord) else r["seed"])
        seeds = tuple(int(r.seed if isinstance(r, StoredRecord) else r["seed"]) for r in members)
        grp = dict(zip(fields, key, strict=True))
        if len(set(seeds)) != len(seeds):
            raise InvalidArgumentError(
                f"group {grp} holds several records for the same seed; group by more fields (e.g. 'T')"
            )
        recs_ = [r.record if isinstance(r, StoredRecord) else r["record"] for r in members]
        t = np.asarray(recs_[0][x], dtype=np.float64)
        for rr, s in zip(recs_, seeds, strict=True):
            if len(rr[x]) != t.size or not np.array_equal(np.asarray(rr[x], dtype=np.float64), t):
                raise InvalidArgumentError(f"group {grp}: seed {s} was recorded on another {x!r} grid")
        Y = np.asarray([rr[y] for rr in recs_], dtype=np.float64)
        out.append(Curve(grp, t, Y, seeds))
    return out


def summary_table(
    cs: Sequence[Curve],
    t_range: tuple[float, float] | None = None,
    level: float = 0.95,
    method: str = "bootstrap",
) -> list[dict]:
    """One row per curve: its group fields, ``seeds``, ``T`` (last horizon), ``final`` (mean at ``T``) with
    its t-interval, and the log-log ``slope`` with its interval over ``t_range`` (default: the last two
    decades, :math:`[T/100, T]`). A slope that cannot be fitted (non-positive mean) is NaN with a ``note``."""
    rows = []
    for c in cs:
        band = c.band(level)
        T = float(c.t[-1])
        rng_ = t_range if t_range is not None else (T / 100.0, T)
        row = {**c.group, "seeds": len(c.seeds), "T": T}
        row.update(final=float(band.mean[-1]), final_lo=float(band.lo[-1]), final_hi=float(band.hi[-1]))
        try:
            fit = c.slope(rng_, level, method=method)
            row.update(
                slope=fit.slope, slope_lo=fit.lo, slope_hi=fit.hi, fit_from=fit.t_min, fit_to=fit.t_max
            )
            row["note"] = ""
        except InvalidArgumentError as exc:
            row.update(slope=math.nan, slope_lo=math.nan, slope_hi=math.nan, fit_from=rng_[0], fit_to=rng_[1])
            row["note"] = str(exc)
        rows.append(row)
    return rows


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return (
            f"{v:.4g}" if abs(v) >= 1e4 or (v != 0 and abs(v) < 1e-3) else f"{v:.3f}".rstrip("0").rstrip(".")
        )
    return str(v)


def format_table(rows: Sequence[dict], fmt: str = "markdown", level: float = 0.95) -> str:
    """Render :func:`summary_table` rows as ``"markdown"`` (slopes as ``s [lo, hi]``) or ``"csv"`` (every
    column, full precision)."""
    if not rows:
        return ""
    if fmt == "csv":
        buf = io.StringIO()
        cols = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: repr(v) if isinstance(v, float) else v for k, v in r.items()})
        return buf.getvalue()
    if fmt != "markdown":
        raise InvalidArgumentError(f"fmt = {fmt!r} must be 'markdown' or 'csv'")
    stat_cols = {
        "seeds",
        "T",
        "final",
        "final_lo",
        "final_hi",
        "slope",
        "slope_lo",
        "slope_hi",
        "fit_from",
        "fit_to",
        "note",
    }
    group_cols = [k for k in rows[0] if k not in stat_cols]
    pct = f"{100 * level:g}%"
    head = [*group_cols, "seeds", "T", f"regret(T) [{pct} CI]", f"log-log slope [{pct} CI]", "fit range"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        final = f"{_fmt(r['final'])} [{_fmt(r['final_lo'])}, {_fmt(r['final_hi'])}]"
        slope = (
            f"{r['slope']:.3f} [{r['slope_lo']:.3f}, {r['slope_hi']:.3f}]"
            if not math.isnan(r["slope"]) and not math.isnan(r["slope_lo"])
            else ("n/a" if math.isnan(r["slope"]) else f"{r['slope']:.3f}")
        )
        cells = [*(str(r[k]) for k in group_cols), str(r["seeds"]), _fmt(r["T"]), final, slope]
        cells.append(f"[{r['fit_from']:.3g}, {r['fit_to']:.3g}]")
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {r.get('algorithm', i)}: {r['note']}" for i, r in enumerate(rows) if r.get("note")]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


#: the project's figure style (matplotlib rc parameters), defined in :mod:`mdpkit.plotting.style`; without
#: constrained layout here because :func:`regret_plot` lays its figure out with ``tight_layout``
STYLE: dict[str, Any] = {**_PLOT_STYLE, "figure.constrained_layout.use": False}


def regret_plot(
    cs: Sequence[Curve],
    panel_by: str | None = "size",
    t_range: tuple[float, float] | None = None,
    level: float = 0.95,
    ylabel: str = "cumulative regret",
    title: str | None = None,
    path: str | Path | None = None,
    guides: bool = True,
) -> Figure:
    r"""The standard regret figure: log-log axes, one panel per value of ``panel_by``, per curve the mean
    over seeds with its ``level`` t-band, and the fitted slope with its interval in the legend.

    Parameters
    ----------
    cs : list of Curve
        From :func:`curves`.
    panel_by : str or None
        Group field that splits panels (None: one panel).
    t_range : (t_min, t_max), optional
        Fit range of the slopes (default :math:`[T/100, T]` per curve), shaded in grey.
    guides : bool
        Draw dotted :math:`\propto \sqrt t` and :math:`\propto t` reference lines.
    path : path, optional
        Save there; a ``.png`` path also writes the ``.pdf`` next to it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if not cs:
        raise InvalidArgumentError("no curves to plot")
    panels: dict[Any, list[Curve]] = {}
    for c in cs:
        panels.setdefault(c.group.get(panel_by) if panel_by else None, []).append(c)
    keys = list(panels)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1, len(keys), figsize=(3.6 * len(keys) + 0.4, 3.6), squeeze=False, sharey=False
        )
        colors = {}
        cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for ax, key in zip(axes[0], keys, strict=True):
            for c in panels[key]:
                lab = ", ".join(
                    str(v) for k, v in c.group.items() if k != panel_by and k not in ("instance",)
                )
                color = colors.setdefault(lab, cycle[len(colors) % len(cycle)])
                band = c.band(level)
                ok = band.mean > 0
                ax.plot(c.t[ok], band.mean[ok], color=color, label=lab)
                if band.n > 1:
                    lo = np.where(band.lo > 0, band.lo, np.nan)
                    ax.fill_between(c.t[ok], lo[ok], band.hi[ok], color=color, alpha=0.18, linewidth=0)
                T = float(c.t[-1])
                rng_ = t_range if t_range is not None else (T / 100.0, T)
                try:
                    fit = c.slope(rng_, level)
                    ax.lines[-1].set_label(f"{lab}: slope {fit}")
                except InvalidArgumentError:
                    pass
            rng_ = (
                t_range
                if t_range is not None
                else (float(panels[key][0].t[-1]) / 100.0, float(panels[key][0].t[-1]))
            )
            ax.axvspan(*rng_, color="0.5", alpha=0.06, linewidth=0)
            ax.set_xscale("log")
            ax.set_yscale("log")
            if guides:
                t0, t1 = ax.get_xlim()
                y0, y1 = ax.get_ylim()
                tt = np.geomspace(max(t0, 1.0), t1, 50)
                for p, txt in ((0.5, r"$\sqrt{t}$"), (1.0, r"$t$")):
                    yy = y0 * (tt / tt[0]) ** p
                    ax.plot(tt, yy, ":", color="0.55", linewidth=0.9, zorder=0)
                    ax.annotate(
                        txt, (tt[-1], min(yy[-1], y1)), fontsize=7, color="0.45", ha="right", va="bottom"
                    )
                ax.set_xlim(t0, t1)
                ax.set_ylim(y0, y1)
            ax.set_xlabel("steps $t$")
            ax.set_title(f"{panel_by} = {key}" if panel_by else (title or ""))
            ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.3), borderaxespad=0.0)
        axes[0][0].set_ylabel(ylabel)
        if title and panel_by:
            fig.suptitle(title)
        fig.tight_layout()
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path)
            if path.suffix == ".png":
                fig.savefig(path.with_suffix(".pdf"))
    return fig
