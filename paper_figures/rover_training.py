"""Training curves of tabular ROVER against GRPO and REINFORCE: success and diversity over training.

Each algorithm (:mod:`mdpkit.rover.learning`) is trained from the uniform policy on the same trees with
batches of 8 rollouts; every 20 batches the current policy is analysed exactly: success probability,
entropy over solutions, expected number of distinct solutions among 64 samples. Curves show the mean over
seeds with a band of one standard deviation. The paper's claim (He et al. 2025, abstract and Fig. 5e) is
that ROVER keeps the diversity that policy-gradient training collapses.

Writes ``paper_figures/out/rover_training.{png,pdf,csv}`` (the CSV has one row per seed and log point).

Usage::

    python paper_figures/rover_training.py            # 8 seeds x 1000 batches on two trees (seconds)
    python paper_figures/rover_training.py --full     # 32 seeds x 3000 batches on three trees
    python paper_figures/rover_training.py --replot   # redraw from the stored CSV
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from mdpkit import rover
from mdpkit.experiments.analysis import STYLE

OUT = Path(__file__).resolve().parent / "out"
NAME = "rover_training"
FIELDS = [
    "tree",
    "label",
    "algorithm",
    "seed",
    "step",
    "value",
    "success",
    "entropy",
    "distinct",
    "covered",
    "discovered",
]

#: (label, algorithm, keyword arguments of mdpkit.rover.train)
RUNS: tuple[tuple[str, str, dict[str, float]], ...] = (
    ("ROVER, rho=0.1", "rover", {"rho": 0.1}),
    ("ROVER, rho=0.05", "rover", {"rho": 0.05}),
    ("GRPO", "grpo", {"lr": 1.0}),
    ("REINFORCE (mean baseline)", "reinforce_baseline", {"lr": 1.0}),
)


def trees(full: bool) -> list[tuple[str, rover.Tree]]:
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


def compute(full: bool) -> list[dict[str, object]]:
    seeds = range(32 if full else 8)
    iterations = 3000 if full else 1000
    rows: list[dict[str, object]] = []
    for name, tree in trees(full):
        for label, alg, kw in RUNS:
            for s in seeds:
                c = rover.train(tree, alg, iterations=iterations, n_rollouts=8, log_every=20, seed=s, **kw)
                rows += [{"tree": name, "label": label, **r} for r in c.rows()]
    return rows


def write_csv(rows: list[dict[str, object]], path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)


def read_csv(path: Path) -> list[dict[str, object]]:
    with path.open() as f:
        return [
            {k: (v if k in ("tree", "label", "algorithm") else float(v)) for k, v in row.items()}
            for row in csv.DictReader(f)
        ]


def plot(rows: list[dict[str, object]], stem: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(str(r["tree"]) for r in rows))
    labels = list(dict.fromkeys(str(r["label"]) for r in rows))
    panels = (
        ("success", "success probability"),
        ("entropy", "entropy over solutions (nats)"),
        ("distinct", "distinct solutions in 64 samples"),
    )
    with plt.rc_context(STYLE):
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        fig, axes = plt.subplots(len(names), 3, figsize=(10.5, 2.8 * len(names)), squeeze=False)
        for i, name in enumerate(names):
            rs = [r for r in rows if r["tree"] == name]
            for j, label in enumerate(labels):
                sel = [r for r in rs if r["label"] == label]
                steps = np.array(sorted({float(r["step"]) for r in sel}))
                for k, (field, ylabel) in enumerate(panels):
                    y = np.array([[float(r[field]) for r in sel if float(r["step"]) == st] for st in steps])
                    m, sd = y.mean(axis=1), y.std(axis=1)
                    ax = axes[i, k]
                    ax.plot(steps, m, color=colors[j], label=label)
                    lo = np.maximum(m - sd, 0.0)
                    hi = np.minimum(m + sd, 1.0) if field == "success" else m + sd
                    ax.fill_between(steps, lo, hi, color=colors[j], alpha=0.15, linewidth=0)
                    ax.set_xlabel("training batches (8 rollouts each)")
                    ax.set_ylabel(ylabel)
            n_sol = int(max(float(r["covered"]) for r in rs if float(r["step"]) == 0))
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
                    fontsize=7,
                    color="0.4",
                )
            axes[i, 0].set_title(name, loc="left")
            axes[i, 0].set_ylim(-0.02, 1.02)
            axes[i, 0].legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(stem.with_suffix(".png"))
        fig.savefig(stem.with_suffix(".pdf"))
        plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--full", action="store_true", help="32 seeds x 3000 batches, and a 32k-leaf token tree"
    )
    parser.add_argument(
        "--replot", action="store_true", help="redraw from the stored CSV without recomputing"
    )
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    stem = OUT / NAME
    if args.replot:
        rows = read_csv(stem.with_suffix(".csv"))
    else:
        rows = compute(args.full)
        write_csv(rows, stem.with_suffix(".csv"))
    plot(rows, stem)
    print(f"wrote {stem}.png, .pdf, .csv ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
