r"""Learning in latent MDPs (Zhou, Wang & Du, ICML 2023): regret vs K, horizon, variance, hard family.

Four panels, from the stored records of the four sweeps of issue #7 (``examples/sweeps/latent_*.toml``):

(a) exact cumulative regret against the number of episodes K (mean and 95% t-band over seeds, log-log) of the
    value- and model-optimistic algorithms (paper constants) and the value-optimistic one with c = 0.2, on a
    random LMDP (S = 3, A = 2, M = 2, H = 5, Gamma = 2); the legend gives the slope over [K/10, K] with its
    95% bootstrap interval;
(b) horizon-free: the value-optimistic regret curves for H = 5, 10, 20, 40 (same kernels, rewards u/H) on
    two families: the revealing family (solid; the first transition reveals the context) and the genuinely
    latent signal family (dashed; :func:`mdpkit.latent.instances.signal_lmdp`, beliefs tracked all
    episode, K = 1400); one colour per H, the title gives both slopes in log H with 95% bootstrap intervals;
(c) variance: regret at K against the exact Var* of random LMDPs with the same S, A, M and transition noise
    eps = 0 ... 0.5 (eps = 0 is deterministic, Var* = 0, drawn at the left edge);
(d) the Gamma = 2 hard family: regret at K against sqrt(Var* M S A K) over (M, L, A, reward scale), with the
    line regret = sqrt(Var* M S A K).

``--quick`` runs the reduced sweeps of :data:`mdpkit.latent.experiments.REDUCED` (2 seeds) in this process
when the stored sweeps are missing; the full figure never recomputes: it raises if the records are missing.

Usage::

    for f in examples/sweeps/latent_{regret_k,horizon,horizon_latent,variance,hard}.toml; do
        mdpkit run $f
    done
    python paper_figures/latent_regret.py            # -> paper_figures/out/latent_regret.{png,pdf,csv}
    python paper_figures/latent_regret.py --quick
"""

from __future__ import annotations

import numpy as np

from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments.analysis import mean_band
from mdpkit.latent.experiments import (
    hard_rows,
    horizon_rows,
    records_for,
    regret_matrix,
    slope_rows,
    variance_rows,
)
from mdpkit.plotting import PALETTE, FigureError, FigureSpec, band, figsize, figure_main, style


def _data(key: str, quick: bool) -> tuple[list, str]:
    try:
        return records_for(key, quick, seeds=2)
    except InvalidArgumentError as exc:
        raise FigureError(f"{exc} (or use --quick)") from None


def _curves(recs: list, panel: str, field) -> list[dict]:
    groups: dict = {}
    for r in recs:
        groups.setdefault(field(r), []).append(r)
    rows = []
    for g, rs in groups.items():
        rs.sort(key=lambda r: r["seed"])
        k, Y = regret_matrix(rs)
        b = mean_band(Y)
        for j in range(k.size):
            rows.append(
                {
                    "panel": panel,
                    "kind": "curve",
                    "group": str(g),
                    "k": int(k[j]),
                    "mean": float(b.mean[j]),
                    "lo": float(b.lo[j]),
                    "hi": float(b.hi[j]),
                }
            )
    return rows


def compute(quick: bool) -> list[dict]:
    """Rows: ``curve`` (panels a, b), ``slope`` (a), ``hfit`` (b), ``point`` (c, d), ``dfit`` (d)."""
    rows: list[dict] = []
    recs, src = _data("regret_k", quick)
    rows += _curves(recs, "a", lambda r: r["record"]["algorithm"])
    for s in slope_rows(recs):
        rows.append(
            {
                "panel": "a",
                "kind": "slope",
                "group": s["algorithm"],
                "k": s["K"],
                "mean": s["regret_K"],
                "slope": s["slope"],
                "slope_lo": s["lo"],
                "slope_hi": s["hi"],
                "source": src,
            }
        )
    for key, fam, prefix in (("horizon", "revealing", ""), ("horizon_latent", "latent", "latent ")):
        recs, src = _data(key, quick)
        brows = _curves(recs, "b", lambda r, p=prefix: f"{p}H={r['record']['H']}")
        for r in brows:
            r["family"] = fam
        rows += brows
        hr, fit = horizon_rows(recs)
        for h in hr:
            rows.append(
                {
                    "panel": "b",
                    "kind": "final",
                    "family": fam,
                    "group": f"{prefix}H={h['H']}",
                    "k": h["K"],
                    "mean": h["regret_K"],
                    "lo": h["lo"],
                    "hi": h["hi"],
                    "source": src,
                }
            )
        rows.append(
            {
                "panel": "b",
                "kind": "hfit",
                "family": fam,
                "group": f"{fam}: log H",
                "slope": fit["slope"],
                "slope_lo": fit["lo"],
                "slope_hi": fit["hi"],
                "ratio": fit["ratio"],
                "source": src,
            }
        )
    recs, src = _data("variance", quick)
    for v in variance_rows(recs):
        rows.append(
            {
                "panel": "c",
                "kind": "point",
                "group": v["algorithm"],
                "x": v["var_star"],
                "noise": v["noise"],
                "k": v["K"],
                "mean": v["regret_K"],
                "lo": v["lo"],
                "hi": v["hi"],
                "source": src,
            }
        )
    recs, src = _data("hard", quick)
    hrows, hfit = hard_rows(recs)
    for h in hrows:
        rows.append(
            {
                "panel": "d",
                "kind": "point",
                "group": f"M={h['M']} L={h['L']} A={h['A']}",
                "x": h["x"],
                "scale_r": h["scale_r"],
                "k": h["K"],
                "mean": h["regret_K"],
                "lo": h["lo"],
                "hi": h["hi"],
                "ratio": h["ratio"],
                "source": src,
            }
        )
    rows.append(
        {
            "panel": "d",
            "kind": "dfit",
            "group": "exponent",
            "slope": hfit["slope"],
            "slope_lo": hfit["lo"],
            "slope_hi": hfit["hi"],
            "source": src,
        }
    )
    return rows


def _sel(rows: list[dict], panel: str, kind: str) -> list[dict]:
    return [r for r in rows if r["panel"] == panel and r["kind"] == kind]


def plot(rows: list[dict]):
    """Draw the four panels."""
    import matplotlib.pyplot as plt

    with style():
        fig, axes2 = plt.subplots(2, 2, figsize=figsize(2, 0.36, rows=2))
        axes = axes2.ravel()
        ax = axes[0]
        slopes = {r["group"]: r for r in _sel(rows, "a", "slope")}
        for g in dict.fromkeys(r["group"] for r in _sel(rows, "a", "curve")):
            c = [r for r in _sel(rows, "a", "curve") if r["group"] == g]
            s = slopes.get(g)
            lab = g if s is None else f"{g}: {s['slope']:.2f} [{s['slope_lo']:.2f}, {s['slope_hi']:.2f}]"
            band(
                ax,
                [r["k"] for r in c],
                [r["mean"] for r in c],
                [r.get("lo", np.nan) for r in c],
                [r.get("hi", np.nan) for r in c],
                label=lab,
            )
        ax.set(xscale="log", yscale="log", xlabel="episodes K", ylabel="regret", title="(a) regret vs K")
        ax.legend(fontsize=5)
        ax = axes[1]
        bcurves = _sel(rows, "b", "curve")
        hs = sorted({int(r["group"].rsplit("H=", 1)[1]) for r in bcurves})
        colour = {H: PALETTE[i % len(PALETTE)] for i, H in enumerate(hs)}
        dash = {"revealing": "-", "latent": "--"}
        for g in dict.fromkeys(r["group"] for r in bcurves):
            c = [r for r in bcurves if r["group"] == g]
            fam = c[0].get("family", "revealing")
            H = int(g.rsplit("H=", 1)[1])
            band(
                ax,
                [r["k"] for r in c],
                [r["mean"] for r in c],
                [r.get("lo", np.nan) for r in c],
                [r.get("hi", np.nan) for r in c],
                label=f"H={H}" if fam == "revealing" else None,
                color=colour[H],
                linestyle=dash.get(fam, ":"),
                alpha=0.12,
            )
        for fam in dict.fromkeys(r.get("family", "revealing") for r in bcurves):
            ax.plot([], [], color="0.3", linestyle=dash.get(fam, ":"), label=fam)
        title = "(b) horizon-free, slope in log H"
        for hf in _sel(rows, "b", "hfit"):
            title += (
                f"\n{hf.get('family', 'revealing')}: {hf['slope']:.2f} "
                f"[{hf['slope_lo']:.2f}, {hf['slope_hi']:.2f}], max/min {hf['ratio']:.2f}"
            )
        ax.set(xscale="log", yscale="log", xlabel="episodes K", ylabel="regret", title=title)
        ax.legend(fontsize=5, ncol=2)
        ax = axes[2]
        pts = _sel(rows, "c", "point")
        pos = [r["x"] for r in pts if r["x"] > 0]
        floor = min(pos) / 3 if pos else 1e-4
        for g in dict.fromkeys(r["group"] for r in pts):
            p = sorted((r for r in pts if r["group"] == g), key=lambda r: r["x"])
            x = [max(r["x"], floor) for r in p]
            y = [r["mean"] for r in p]
            err = [
                [r["mean"] - r.get("lo", r["mean"]) for r in p],
                [r.get("hi", r["mean"]) - r["mean"] for r in p],
            ]
            ax.errorbar(x, y, yerr=err, marker="o", capsize=2, label=g)
        ax.set(
            xscale="log",
            xlabel="Var* (eps = 0 drawn at the left edge)",
            ylabel="regret at K",
            title="(c) variance dependence",
        )
        ax.legend(fontsize=5)
        ax = axes[3]
        pts = _sel(rows, "d", "point")
        for sc in sorted({r["scale_r"] for r in pts}):
            p = [r for r in pts if r["scale_r"] == sc]
            err = [
                [r["mean"] - r.get("lo", r["mean"]) for r in p],
                [r.get("hi", r["mean"]) - r["mean"] for r in p],
            ]
            ax.errorbar(
                [r["x"] for r in p],
                [r["mean"] for r in p],
                yerr=err,
                marker="o",
                linestyle="none",
                capsize=2,
                label=f"reward scale {sc:g}",
            )
        if pts:
            xs = np.array([min(r["x"] for r in pts) / 1.5, max(r["x"] for r in pts) * 1.5])
            ax.plot(xs, xs, color="0.5", linestyle="--", label="sqrt(Var* M S A K)")
        df = _sel(rows, "d", "dfit")
        title = "(d) Gamma=2 hard family"
        if df:
            title += f"\nexponent {df[0]['slope']:.2f} [{df[0]['slope_lo']:.2f}, {df[0]['slope_hi']:.2f}]"
        ax.set(xscale="log", yscale="log", xlabel="sqrt(Var* M S A K)", ylabel="regret at K", title=title)
        ax.legend(fontsize=5)
        from matplotlib.ticker import NullFormatter

        for ax in axes:
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.yaxis.set_minor_formatter(NullFormatter())
    return fig


def summary(rows: list[dict]) -> str:
    """Slopes (a), regret at K per H (b), regret per Var* (c), exponent (d)."""
    parts = [
        "slopes: " + ", ".join(f"{r['group']} {r['slope']:.3f}" for r in _sel(rows, "a", "slope")),
        "regret at K per H: "
        + ", ".join(f"{r['group']} (K={r['k']}) {r['mean']:.1f}" for r in _sel(rows, "b", "final")),
        "slope in log H: "
        + ", ".join(
            f"{r['group']} {r['slope']:.3f} [{r['slope_lo']:.3f}, {r['slope_hi']:.3f}]"
            for r in _sel(rows, "b", "hfit")
        ),
        "regret at K per Var*: "
        + ", ".join(f"{r['group']} eps={r['noise']:g} {r['mean']:.1f}" for r in _sel(rows, "c", "point")),
    ]
    df = _sel(rows, "d", "dfit")
    if df:
        parts.append(f"hard-family exponent {df[0]['slope']:.3f}")
    return "; ".join(parts)


FIGURE = FigureSpec(
    name="latent_regret",
    compute=compute,
    plot=plot,
    summary=summary,
    description="LMDP learning: regret vs K, horizon-free overlay, variance dependence, Gamma=2 hard family",
)

if __name__ == "__main__":
    raise SystemExit(figure_main(FIGURE))
