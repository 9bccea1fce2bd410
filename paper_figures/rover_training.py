"""Training curves of tabular ROVER against GRPO and REINFORCE: success and diversity over training.

Each algorithm (:mod:`mdpkit.rover.learning`) is trained from the uniform policy on the same trees with
batches of 8 rollouts; every 20 batches the current policy is analysed exactly: success probability,
entropy over solutions, expected number of distinct solutions among 64 samples. Curves show the mean over
seeds with its 95% confidence band (Student t over seeds). The paper's claim (He et al. 2025, abstract and
Fig. 5e) is that ROVER keeps the diversity that policy-gradient training collapses.

The CSV has one row per tree, run, seed and log point.

Usage::

    mdpkit figures rover_training            # 32 seeds x 3000 batches on three trees
    mdpkit figures rover_training --quick    # 8 seeds x 1000 batches on two trees (seconds)
    mdpkit figures rover_training --replot   # redraw from the stored CSV
"""

from __future__ import annotations

import numpy as np

from mdpkit import rover
from mdpkit.plotting import PALETTE, FigureSpec, figsize, figure_main, seed_band, style

#: (label, algorithm, keyword arguments of mdpkit.rover.train)
RUNS: tuple[tuple[str, str, dict[str, float]], ...] = (
    ("ROVER, rho=0.1", "rover", {"rho": 0.1}),
    ("ROVER, rho=0.05", "rover", {"rho": 0.05}),
    ("GRPO", "grpo", {"lr": 1.0}),
    ("REINFORCE (mean baseline)", "reinforce_baseline", {"lr": 1.0}),
)


def trees(full: bool) -> list[tuple[str, rover.Tree]]:
    """The trees of the figure (the third only in the full version)."""
    out = [
        ("paper toy: V=4, H=3, 4 solutions", rover.paper_toy()),
        (
            "token tree: V=6, H=4, 8 solutions",
            rover.token_tree(6, 4, n_success=8, seed=0, device="cpu").to_tree(),
        ),
    ]
    if full:
        tok = rover.token_tree(8, 5, n_success=16, seed=0, clusters=4, cluster_depth=1, device="cpu")
        out.append(("token tree: V=8, H=5, 16 solutions", tok.to_tree()))
    return out


def compute(quick: bool) -> list[dict[str, object]]:
    """One row per tree, run, seed and log point (:meth:`mdpkit.rover.TrainingCurve.rows`)."""
    full = not quick
    seeds = range(32 if full else 8)
    iterations = 3000 if full else 1000
    rows: list[dict[str, object]] = []
    for name, tree in trees(full):
        for label, alg, kw in RUNS:
            for s in seeds:
                c = rover.train(tree, alg, iterations=iterations, n_rollouts=8, log_every=20, seed=s, **kw)
                rows += [{"tree": name, "label": label, **r} for r in c.rows()]
    return rows


def plot(rows: list[dict[str, object]]):
    """One row of panels per tree: success, entropy over solutions, distinct solutions, against training."""
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(str(r["tree"]) for r in rows))
    labels = list(dict.fromkeys(str(r["label"]) for r in rows))
    panels = (
        ("success", "success probability"),
        ("entropy", "entropy over\nsolutions [nats]"),
        ("distinct", "distinct solutions\nin 64 samples"),
    )
    with style():
        fig, axes = plt.subplots(len(names), 3, figsize=figsize(2, 0.25, rows=len(names)), squeeze=False)
        for i, name in enumerate(names):
            rs = [r for r in rows if r["tree"] == name]
            for j, label in enumerate(labels):
                sel = [r for r in rs if r["label"] == label]
                steps = np.array(sorted({r["step"] for r in sel}))
                seeds = sorted({r["seed"] for r in sel})
                index = {(r["seed"], r["step"]): r for r in sel}
                for k, (field, ylabel) in enumerate(panels):
                    Y = np.array([[float(index[s, t][field]) for t in steps] for s in seeds])
                    seed_band(axes[i, k], steps, Y, label=label, color=PALETTE[j])
                    axes[i, k].set_ylabel(ylabel)
                    if i == len(names) - 1:
                        axes[i, k].set_xlabel("training batches (8 rollouts each)")
            n_sol = int(max(r["covered"] for r in rs if r["step"] == 0))
            for k, level, text in (
                (1, np.log(n_sol), f"log {n_sol} (uniform over solutions)"),
                (2, n_sol, f"all {n_sol}"),
            ):
                axes[i, k].axhline(level, color="0.5", linestyle=":", linewidth=1)
                axes[i, k].annotate(
                    text,
                    (1.0, level),
                    xycoords=("axes fraction", "data"),
                    ha="right",
                    va="bottom",
                    fontsize=6.5,
                    color="0.4",
                )
            axes[i, 0].set_title(name, loc="left")
            axes[i, 0].set_ylim(-0.02, 1.02)
        n_seeds = len({r["seed"] for r in rows})
        handles, labs = axes[0, 0].get_legend_handles_labels()
        fig.legend(
            handles,
            [f"{lab}" for lab in labs],
            loc="outside lower center",
            ncol=len(labs),
            title=f"mean over {n_seeds} seeds, 95% confidence band",
        )
    return fig


def summary(rows: list[dict[str, object]]) -> str:
    """Per tree and run: final success and distinct solutions (mean over seeds)."""
    lines = []
    for name in dict.fromkeys(str(r["tree"]) for r in rows):
        rs = [r for r in rows if r["tree"] == name]
        last = max(r["step"] for r in rs)
        parts = []
        for label in dict.fromkeys(str(r["label"]) for r in rs):
            end = [r for r in rs if r["label"] == label and r["step"] == last]
            parts.append(
                f"{label}: success {np.mean([r['success'] for r in end]):.2f}, "
                f"distinct {np.mean([r['distinct'] for r in end]):.1f}"
            )
        lines.append(f"{name} (batch {last}): " + "; ".join(parts))
    return "\n".join(lines)


FIGURE = FigureSpec(
    name="rover_training",
    compute=compute,
    plot=plot,
    summary=summary,
    description="ROVER vs GRPO and REINFORCE: success and diversity over training (tabular trees)",
)

if __name__ == "__main__":
    raise SystemExit(figure_main(FIGURE))
