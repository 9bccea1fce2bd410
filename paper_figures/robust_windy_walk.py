"""IWOCS on the windy walk (Zouitine, Geist & Rachelson 2024, Figure 1): iterations to the worst case, and
its value against robust value iteration.

The uncertainty set is the finite family {windy_walk(alpha) : alpha in A} (6x6 grid, wind pushing West
with probability alpha, alpha^3, alpha^6 in the three corridors, gamma = 0.95; see
:func:`mdpkit.envs.windy_walk` for the reconstructed layout), with A the 25 points of linspace(0, 0.5, 25).
IWOCS starts from the calm kernel (alpha = 0) and searches worst cases exactly (enumeration of the set);
each static problem is solved exactly (policy iteration). Robust VI solves the dynamic model (the
(s, a)-rectangular hull of the set) to tol 1e-10.

Panels: (a) IWOCS's upper bound mu^T V_i and its policy's worst-case value per iteration, with the robust VI
value; (b) iterations to the worst case when the set is truncated to alpha <= alpha_max (the first k of the
25 points, k = 1..25); (c) IWOCS's worst-case value and robust VI's value against alpha_max.

Exact and fast (about a second), so ``quick`` computes the full figure too.

Usage::

    mdpkit figures robust_windy_walk            # writes paper_figures/out/robust_windy_walk.{png,pdf,csv}
    mdpkit figures robust_windy_walk --replot   # redraw from the stored CSV
"""

from __future__ import annotations

import numpy as np

from mdpkit import envs
from mdpkit.plotting import FigureSpec, figsize, figure_main, style
from mdpkit.robust import FiniteSet, iwocs, solve

GAMMA = 0.95
ALPHAS = np.linspace(0.0, 0.5, 25)


def compute(quick: bool) -> list[dict[str, object]]:
    """Rows of the CSV: the IWOCS trace on the full set, then one row per truncated set (``quick`` is
    ignored: the exact computation takes about a second)."""
    models = envs.windy_walk_kernels(ALPHAS, GAMMA)
    mdp = models[0]
    rows: list[dict[str, object]] = []
    for k in range(1, len(ALPHAS) + 1):
        F = FiniteSet(models[:k])
        res = iwocs(mdp, F, eps=1e-8)
        J_vi = float(mdp.initial @ solve(mdp, F, tol=1e-10).V)
        if k == len(ALPHAS):
            for st in res.steps:
                rows.append(
                    {
                        "panel": "trace",
                        "alpha_max": float(ALPHAS[k - 1]),
                        "iteration": int(st.i),
                        "J_upper": float(st.J_upper),
                        "J_worst": float(st.J_worst),
                        "alpha_found": float(ALPHAS[st.kernel_index]),
                        "J_robust_vi": J_vi,
                        "status": res.status,
                    }
                )
        rows.append(
            {
                "panel": "sweep",
                "alpha_max": float(ALPHAS[k - 1]),
                "iteration": int(res.iterations),
                "J_upper": float(res.J_upper),
                "J_worst": float(res.J_worst),
                "alpha_found": float(ALPHAS[res.steps[-1].kernel_index]),
                "J_robust_vi": J_vi,
                "status": res.status,
            }
        )
    return rows


def plot(rows: list[dict[str, object]]):
    """Three panels across the page: (a) IWOCS trace, (b) iterations, (c) values against alpha_max."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    trace = [r for r in rows if r["panel"] == "trace"]
    sweep = [r for r in rows if r["panel"] == "sweep"]
    with style():
        fig, ax = plt.subplots(1, 3, figsize=figsize(2, 0.3))
        it = [int(r["iteration"]) for r in trace]
        ax[0].plot(it, [r["J_upper"] for r in trace], "o-", label=r"IWOCS bound $\mu^\top V_i$")
        ax[0].plot(it, [r["J_worst"] for r in trace], "s-", label=r"worst case of $\pi_i$")
        ax[0].axhline(trace[0]["J_robust_vi"], color="k", ls="--", lw=1, label="robust VI")
        for r in trace:
            ax[0].annotate(
                f"α={r['alpha_found']:.3g}",
                (r["iteration"], r["J_worst"]),
                fontsize=7,
                xytext=(4, -10),
                textcoords="offset points",
            )
        ax[0].set_xlabel("IWOCS iteration $i$")
        ax[0].set_ylabel(r"value $J = \mu^\top V$")
        ax[0].set_title(f"(a) 25 kernels, α ∈ [0, 0.5] ({trace[-1]['status']})")
        ax[0].set_xticks(it)
        ax[0].legend()
        am = [r["alpha_max"] for r in sweep]
        ax[1].step(am, [r["iteration"] for r in sweep], where="mid")
        ax[1].set_xlabel(r"$\alpha_{\max}$ (set: grid points $\leq \alpha_{\max}$)")
        ax[1].set_ylabel("iterations to the worst case")
        ax[1].set_title("(b) IWOCS iterations")
        ax[1].yaxis.set_major_locator(MaxNLocator(integer=True))
        ax[2].plot(am, [r["J_worst"] for r in sweep], "o", ms=4, label="IWOCS (worst case\nof its policy)")
        ax[2].plot(am, [r["J_robust_vi"] for r in sweep], "-", label="robust VI")
        ax[2].set_xlabel(r"$\alpha_{\max}$")
        ax[2].set_ylabel(r"robust value $\mu^\top V$")
        err = max(abs(r["J_worst"] - r["J_robust_vi"]) for r in sweep)
        ax[2].set_title(f"(c) values (max |diff| = {err:.1e})")
        ax[2].legend(loc="upper right")
    return fig


def summary(rows: list[dict[str, object]]) -> str:
    """IWOCS iteration range and its largest gap to robust VI."""
    sweep = [r for r in rows if r["panel"] == "sweep"]
    return (
        f"IWOCS iterations {min(r['iteration'] for r in sweep)}..{max(r['iteration'] for r in sweep)}; "
        f"max |J_IWOCS - J_robustVI| = {max(abs(r['J_worst'] - r['J_robust_vi']) for r in sweep):.2e}"
    )


FIGURE = FigureSpec(
    name="robust_windy_walk",
    compute=compute,
    plot=plot,
    summary=summary,
    description="IWOCS on the windy walk: iterations to the worst case and value against robust VI",
)

if __name__ == "__main__":
    raise SystemExit(figure_main(FIGURE))
