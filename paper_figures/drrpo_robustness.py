"""Robustness of DR-RPO: value under perturbed test dynamics against the perturbation level q.

Reads the records of ``examples/sweeps/drrpo_robustness.toml``: policies trained (DR-RPO with TV balls
rho = 0.1, 0.3, and its non-robust counterpart, K = 20 000 episodes, 10 seeds) or computed exactly (the
regularised robust optima for rho = 0, 0.1, 0.3) on the nominal 5-state simulated linear MDP (q = 0), each
evaluated exactly on the test model whose first-step goal factor moves mass q to the fail state. Panel (a):
the regularised value (lambda = 0.05, the training objective) against q, mean and 95% band over seeds;
panel (b): the same minus the exact nominal-optimal policy's value, which makes the robustness trade-off
visible (robust policies lose a little at q = 0 and gain at large q). ``--quick`` runs the same grid with
2 seeds and K = 1000 in a temporary store.

Usage::

    mdpkit run examples/sweeps/drrpo_robustness.toml -j 1
    python paper_figures/drrpo_robustness.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mdpkit.experiments.analysis import mean_band
from mdpkit.linear.experiments import sweep_records
from mdpkit.plotting import FigureSpec, band, figsize, figure_main, style

SWEEP = Path(__file__).resolve().parents[1] / "examples" / "sweeps" / "drrpo_robustness.toml"
QUICK = {"K": 1000}
BASELINE = "exact nominal"


def compute(quick: bool) -> list[dict]:
    """One row per (policy, q): mean / band of the regularised value, the difference to the baseline and
    the mean unregularised return."""
    recs = sweep_records(SWEEP, quick=quick, quick_params=QUICK, quick_seeds=2)
    groups: dict[str, list[dict]] = {}
    for r in recs:
        groups.setdefault(r["record"]["algorithm"], []).append(r["record"])
    base = np.asarray(groups[BASELINE][0]["value"])
    rows: list[dict] = []
    for label, rs in groups.items():
        qs = rs[0]["values"]
        Vv = np.asarray([r["value"] for r in rs])
        b = mean_band(Vv)
        d = mean_band(Vv - base[None, :])
        ret = np.asarray([r["return"] for r in rs]).mean(axis=0)
        for j, q in enumerate(qs):
            rows.append(
                {
                    "algorithm": label,
                    "q": float(q),
                    "rho": rs[0]["rho"],
                    "value": b.mean[j],
                    "lo": b.lo[j],
                    "hi": b.hi[j],
                    "diff": d.mean[j],
                    "diff_lo": d.lo[j],
                    "diff_hi": d.hi[j],
                    "return": ret[j],
                    "seeds": len(rs),
                }
            )
    return rows


def plot(rows: list[dict]):
    """(a) value vs q; (b) value minus the exact nominal policy's value."""
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(r["algorithm"] for r in rows))
    with style():
        fig, (a1, a2) = plt.subplots(1, 2, figsize=figsize(2, 0.38))
        for label in labels:
            rs = [r for r in rows if r["algorithm"] == label]
            q = np.array([r["q"] for r in rs])
            ls = ":" if label.startswith("exact") else "-"
            mk = "o" if label.startswith("exact") else None

            def col(k: str, rs: list[dict] = rs) -> np.ndarray:
                return np.array([r.get(k, np.nan) for r in rs], dtype=float)

            band(
                a1,
                q,
                col("value"),
                col("lo"),
                col("hi"),
                label=label,
                linestyle=ls,
                marker=mk,
                markersize=2.5,
            )
            band(
                a2,
                q,
                col("diff"),
                col("diff_lo"),
                col("diff_hi"),
                label=label,
                linestyle=ls,
                marker=mk,
                markersize=2.5,
            )
        a1.set_xlabel("perturbation $q$")
        a1.set_ylabel(r"regularised value $V^\pi_q(x_1)$")
        a1.set_title("(a) value under the test model")
        a2.axhline(0.0, color="0.6", linewidth=0.8)
        a2.set_xlabel("perturbation $q$")
        a2.set_ylabel("value $-$ exact nominal policy's")
        a2.set_title("(b) gain over the nominal optimum")
        a1.legend(fontsize=6)
    return fig


def summary(rows: list[dict]) -> str:
    """Value at q = 0, 0.5 and 1 for every policy."""
    out = []
    for label in dict.fromkeys(r["algorithm"] for r in rows):
        vals = {r["q"]: r["value"] for r in rows if r["algorithm"] == label}
        pts = ", ".join(f"q={q:g}: {vals[q]:.4f}" for q in (0.0, 0.5, 1.0) if q in vals)
        out.append(f"{label}: {pts}")
    return "\n".join(out)


FIGURE = FigureSpec(
    name="drrpo_robustness",
    compute=compute,
    plot=plot,
    summary=summary,
    description="DR-RPO, its non-robust counterpart and exact robust policies under perturbed dynamics",
)

if __name__ == "__main__":
    raise SystemExit(figure_main(FIGURE))
