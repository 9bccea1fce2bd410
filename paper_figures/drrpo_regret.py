"""DR-RPO's robust regret against K on the 5-state simulated linear MDP, with fitted log-log slopes.

Reads the records of ``examples/sweeps/drrpo_regret.toml`` (DR-RPO with TV balls rho = 0.1 and 0.3 and its
non-robust counterpart, lambda = 0.05, bonus multipliers c = 1 and c = 0.1, 10 seeds, K = 200 000): the
cumulative regret against the exact regularised robust optimum (each learner's own objective), mean and 95%
t-band over seeds, on log-log axes; the legend gives the slope fitted on the last decade of K with its 95%
bootstrap interval (:func:`mdpkit.experiments.analysis.loglog_slope`). ``--quick`` runs the same grid with
3 seeds and K = 2000 in a temporary store instead (seconds).

Usage::

    mdpkit run examples/sweeps/drrpo_regret.toml -j 1
    python paper_figures/drrpo_regret.py            # -> paper_figures/out/drrpo_regret.{png,pdf,csv}
    python paper_figures/drrpo_regret.py --quick
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mdpkit.experiments.analysis import loglog_slope, mean_band
from mdpkit.linear.experiments import sweep_records
from mdpkit.plotting import FigureSpec, band, figsize, figure_main, style

SWEEP = Path(__file__).resolve().parents[1] / "examples" / "sweeps" / "drrpo_regret.toml"
QUICK = {"K": 2000, "checkpoints": 20}


def compute(quick: bool) -> list[dict]:
    """One ``curve`` row per (algorithm, checkpoint) and one ``fit`` row per algorithm."""
    recs = sweep_records(SWEEP, quick=quick, quick_params=QUICK)
    groups: dict[str, list[dict]] = {}
    for r in recs:
        groups.setdefault(r["record"]["algorithm"], []).append(r["record"])
    rows: list[dict] = []
    for label, rs in groups.items():
        t = np.asarray(rs[0]["t"], dtype=float)
        Y = np.asarray([r["regret"] for r in rs])
        b = mean_band(Y)
        K = int(rs[0]["K"])
        fit = loglog_slope(t, Y, t_range=(K / 10, K))
        for j in range(t.size):
            rows.append(
                {
                    "kind": "curve",
                    "algorithm": label,
                    "K": int(t[j]),
                    "mean": b.mean[j],
                    "lo": b.lo[j],
                    "hi": b.hi[j],
                }
            )
        rows.append(
            {
                "kind": "fit",
                "algorithm": label,
                "K": K,
                "mean": float(Y[:, -1].mean()),
                "slope": fit.slope,
                "slope_lo": fit.lo,
                "slope_hi": fit.hi,
                "fit_from": K // 10,
                "seeds": int(Y.shape[0]),
                "rho": rs[0]["rho"],
                "bonus_beta": rs[0]["beta"],
                "final_gap": float(np.mean([r["final_gap"] for r in rs])),
            }
        )
    return rows


def plot(rows: list[dict]):
    """Log-log cumulative regret with bands; slopes in the legend."""
    import matplotlib.pyplot as plt

    fits = {r["algorithm"]: r for r in rows if r["kind"] == "fit"}
    with style():
        fig, ax = plt.subplots(figsize=figsize(1, 0.8))
        for label, f in fits.items():
            cur = [r for r in rows if r["kind"] == "curve" and r["algorithm"] == label]
            x = np.array([r["K"] for r in cur], dtype=float)
            m = np.array([r["mean"] for r in cur])
            lo = np.array([r.get("lo", np.nan) for r in cur], dtype=float)
            hi = np.array([r.get("hi", np.nan) for r in cur], dtype=float)
            ls = "-" if "DR-RPO" in label else "--"
            band(
                ax,
                x,
                m,
                lo,
                hi,
                label=f"{label}: {f['slope']:.2f} [{f['slope_lo']:.2f}, {f['slope_hi']:.2f}]",
                linestyle=ls,
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("episodes $K$")
        ax.set_ylabel("cumulative robust regret")
        ax.legend(title="slope on last decade [95% CI]", fontsize=6, title_fontsize=6, loc="upper left")
    return fig


def summary(rows: list[dict]) -> str:
    """One line per algorithm: slope, interval, regret at K."""
    return "\n".join(
        f"{r['algorithm']}: slope {r['slope']:.3f} [{r['slope_lo']:.3f}, {r['slope_hi']:.3f}] on "
        f"[{r['fit_from']}, {r['K']}], Regret(K) = {r['mean']:.1f}, final gap {r['final_gap']:.2e}"
        for r in rows
        if r["kind"] == "fit"
    )


FIGURE = FigureSpec(
    name="drrpo_regret",
    compute=compute,
    plot=plot,
    summary=summary,
    description="DR-RPO and its non-robust counterpart: cumulative robust regret vs K, log-log slopes",
)

if __name__ == "__main__":
    raise SystemExit(figure_main(FIGURE))
