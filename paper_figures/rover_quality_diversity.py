"""Quality vs diversity of ROVER's softmax policy over the uniform policy's Q, as the temperature varies.

For each tree and each temperature rho the policy pi_s = softmax(Q^{pi_u} / rho) (He et al. 2025, §3.1.1)
is analysed exactly (no sampling): success probability (pass@1), Theorem 3.2's lower bound on it, the
entropy of the distribution over solutions and the expected number of distinct solutions among 64
samples. Greedy on Q^{pi_u} (Theorem 3.1), the first-maximiser optimal policy a value-iteration learner
converges to, and the uniform-over-optimal-actions policy are marked for reference.

The full figure adds a 16^6 = 16.8M-leaf token tree and a finer temperature grid (about 1.5 min on two
CPU cores); ``quick`` draws the toy and a 32k-leaf token tree (seconds).

Usage::

    mdpkit figures rover_quality_diversity            # writes paper_figures/out/rover_quality_diversity.*
    mdpkit figures rover_quality_diversity --quick    # toy + 32k-leaf tree, into paper_figures/out/quick/
    mdpkit figures rover_quality_diversity --replot   # redraw from the stored CSV
"""

from __future__ import annotations

import numpy as np

from mdpkit import rover
from mdpkit.plotting import FigureSpec, figsize, figure_main, style


def instances(full: bool) -> list[tuple[str, rover.Tree | rover.TokenTree]]:
    """The trees of the figure (token trees on CUDA when available)."""
    out: list[tuple[str, rover.Tree | rover.TokenTree]] = [
        ("paper toy: V=4, H=3, 4 solutions", rover.paper_toy()),
        (
            "token tree: V=8, H=5, 16 solutions",
            rover.token_tree(8, 5, n_success=16, seed=0, clusters=4, cluster_depth=1),
        ),
    ]
    if full:
        out.append(
            (
                "token tree: V=16, H=6, 64 solutions",
                rover.token_tree(16, 6, n_success=64, seed=0, clusters=8, cluster_depth=2),
            )
        )
    return out


def compute(quick: bool) -> list[dict[str, object]]:
    """One row per (tree, policy); softmax rows for a log grid of temperatures up to 10."""
    rows: list[dict[str, object]] = []
    for name, tree in instances(not quick):
        # Q^{pi_u} scales like (solutions below) / (leaves below): start the grid two decades under the
        # largest root value, so that the greedy limit is reached on every tree
        qu = rover.uniform_q(tree)
        q0 = float(qu[0].max()) if isinstance(tree, rover.TokenTree) else float(qu[tree.actions(0)].max())
        rhos = np.logspace(np.floor(np.log10(q0)) - 2, 1, 49 if quick else 73)
        table = rover.quality_diversity(tree, rhos, ks=(1,), n_samples=(64,), q=qu)
        explicit = tree if isinstance(tree, rover.Tree) else None
        if explicit is None and tree.n_leaves <= 10**5:
            explicit = tree.to_tree()
        q = rover.uniform_q(explicit) if explicit is not None else None
        for r in table:
            rho = float(r["rho"])
            bound = float("nan")
            if explicit is not None and r["policy"] == "softmax":
                bound = rover.softmax_lower_bound(explicit, rho, q) / explicit.R
            rows.append(
                {
                    "tree": name,
                    "policy": r["policy"],
                    "rho": rho,
                    "success": float(r["success"]),
                    "bound": bound,
                    "entropy": r["entropy"],
                    "effective_solutions": r["effective_solutions"],
                    "distinct@64": r["distinct@64"],
                    "n_solutions": r["n_solutions"],
                }
            )
    return rows


def plot(rows: list[dict[str, object]]):
    """One row of three panels per tree: success, diversity, and success against diversity."""
    import matplotlib.pyplot as plt

    trees = list(dict.fromkeys(str(r["tree"]) for r in rows))
    with style():
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        fig, axes = plt.subplots(len(trees), 3, figsize=figsize(2, 0.3, rows=len(trees)), squeeze=False)
        for i, name in enumerate(trees):
            rs = [r for r in rows if r["tree"] == name]
            soft = sorted((r for r in rs if r["policy"] == "softmax"), key=lambda r: r["rho"])
            ref = {str(r["policy"]): r for r in rs if r["policy"] != "softmax"}
            rho = np.array([r["rho"] for r in soft])
            n_sol = int(soft[0]["n_solutions"])
            ax = axes[i, 0]
            ax.semilogx(
                rho, [r["success"] for r in soft], color=colors[0], label="softmax($Q^{\\pi_u}/\\rho$)"
            )
            bound = np.array([r["bound"] for r in soft], dtype=float)
            if np.isfinite(bound).any():
                ax.semilogx(rho, bound, "--", color=colors[1], label="Theorem 3.2 bound / R")
            ax.axhline(
                ref["uniform"]["success"], color="0.5", linestyle=":", linewidth=1, label="uniform policy"
            )
            ax.set_xlabel("temperature $\\rho$")
            ax.set_ylabel("success probability (pass@1)")
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(name, loc="left")
            ax = axes[i, 1]
            ax.semilogx(
                rho, [r["effective_solutions"] for r in soft], color=colors[2], label="$e^{H}$ over solutions"
            )
            ax.semilogx(
                rho,
                [r["distinct@64"] for r in soft],
                color=colors[3],
                label="distinct solutions in 64 samples",
            )
            ax.axhline(n_sol, color="0.2", linestyle="-.", linewidth=0.8, label="all solutions of the tree")
            ax.set_xlabel("temperature $\\rho$")
            ax.set_ylabel("number of solutions")
            ax = axes[i, 2]
            ax.plot(
                [r["distinct@64"] for r in soft],
                [r["success"] for r in soft],
                color=colors[0],
                marker=".",
                ms=3,
                label="softmax($Q^{\\pi_u}/\\rho$)",
            )
            for key, label, c, m in (
                ("greedy", "greedy on $Q^{\\pi_u}$ (Thm 3.1)", colors[1], "s"),
                ("optimal_first", "value iteration (first argmax)", colors[4], "^"),
                ("optimal_uniform", "uniform over optimal actions", colors[2], "o"),
                ("uniform", "uniform policy", "0.4", "x"),
            ):
                ax.plot(
                    ref[key]["distinct@64"], ref[key]["success"], m, color=c, label=label, ms=6, mfc="none"
                )
            x_span = max(float(r["distinct@64"]) for r in rs) or 1.0
            placed: list[tuple[float, float]] = []
            for decade in 10.0 ** np.arange(0, np.floor(np.log10(rho.min())), -1):
                r = min(soft, key=lambda x: abs(np.log10(float(x["rho"])) - np.log10(decade)))
                xy = (float(r["distinct@64"]) / x_span, float(r["success"]))
                if any(abs(xy[0] - a) < 0.12 and abs(xy[1] - b) < 0.08 for a, b in placed):
                    continue  # the curve has not moved since the last label
                placed.append(xy)
                ax.annotate(
                    f"$\\rho$={decade:g}",
                    (r["distinct@64"], r["success"]),
                    fontsize=6.5,
                    color="0.35",
                    xytext=(3, 3),
                    textcoords="offset points",
                )
            ax.set_xlabel("distinct solutions in 64 samples")
            ax.set_ylabel("success probability")
            ax.set_ylim(-0.02, 1.08)
        # one legend for the whole figure, under it (per-panel legends covered the curves)
        entries: dict[str, object] = {}
        for ax in axes.flat:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab == "uniform policy" and lab in entries and not isinstance(entries[lab], tuple):
                    entries[lab] = (entries[lab], h)  # the dotted level and the marker
                else:
                    entries.setdefault(lab, h)
        from matplotlib.legend_handler import HandlerTuple

        fig.legend(
            list(entries.values()),
            list(entries),
            loc="outside lower center",
            ncol=4,
            handler_map={tuple: HandlerTuple(ndivide=None)},
        )
    return fig


def summary(rows: list[dict[str, object]]) -> str:
    """Per tree: success and distinct solutions of greedy-on-Q^{pi_u} and of the best softmax policy."""
    lines = []
    for name in dict.fromkeys(str(r["tree"]) for r in rows):
        rs = [r for r in rows if r["tree"] == name]
        g = next(r for r in rs if r["policy"] == "greedy")
        lines.append(
            f"{name}: greedy success {g['success']:.3f}, distinct@64 {g['distinct@64']:.1f} "
            f"of {int(g['n_solutions'])}"
        )
    return "\n".join(lines)


FIGURE = FigureSpec(
    name="rover_quality_diversity",
    compute=compute,
    plot=plot,
    summary=summary,
    description="ROVER's softmax policy over Q^{pi_u}: success vs diversity as the temperature varies",
)

if __name__ == "__main__":
    raise SystemExit(figure_main(FIGURE))
