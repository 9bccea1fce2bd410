"""Fronts found by C-MORL (barrier and LP constrained steps) and linear scalarisation vs the exact front.

For every benchmark of :data:`mdpkit.morl.experiments.BENCHMARKS` and every seed, runs the three methods
(:func:`mdpkit.morl.experiments.run_cell`) and records hypervolume, expected utility, sparsity and the
ratio HV / HV(exact stochastic front). The figure shows the 2-objective fronts (seed 0) over the exact
front (the polyline through the CCS) and, in the last panel, the HV ratio per benchmark and method
(mean over seeds, min-max bars). Cells are stored in ``out/morl_fronts_cells.jsonl``; a re-run only
computes the missing ones.

Writes ``paper_figures/out/morl_fronts.{png,pdf,csv}`` (metrics, one row per cell) and
``paper_figures/out/morl_fronts_points.csv`` (the fronts).

Usage::

    python paper_figures/morl_fronts.py            # all benchmarks, seeds 0-2 (torch: seed 0); resumable
    python paper_figures/morl_fronts.py --quick    # 2-objective benchmarks only, seeds 0-1
    python paper_figures/morl_fronts.py --replot   # redraw from the stored CSVs
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from mdpkit.experiments.analysis import STYLE
from mdpkit.morl.experiments import BENCHMARKS, METHODS, exact_reference, run_cell

OUT = Path(__file__).resolve().parent / "out"
NAME = "morl_fronts"
FIELDS = [
    "benchmark",
    "method",
    "seed",
    "k",
    "hv",
    "hv_exact",
    "hv_ratio",
    "eu",
    "eu_exact",
    "sparsity",
    "n_points",
    "steps",
    "lps",
]
LABELS = {
    "cmorl-barrier": "C-MORL (log barrier)",
    "cmorl-lp": "C-MORL (CMDP LP)",
    "cmorl-torch": "C-MORL (torch, PPO)",
    "linear": "linear scal.",
}


def _cells_path() -> Path:
    return OUT / f"{NAME}_cells.jsonl"


def compute(benchmarks: list[str], seeds: list[int], torch_seeds: list[int]) -> None:
    """Run the missing cells (appended to ``out/morl_fronts_cells.jsonl``, so a re-run resumes), then
    write the CSVs from every stored cell of the requested benchmarks and seeds."""
    OUT.mkdir(parents=True, exist_ok=True)
    done: dict[tuple, dict] = {}
    if _cells_path().exists():
        for line in open(_cells_path()):
            if line.strip():
                r = json.loads(line)
                done[(r["benchmark"], r["method"], r["seed"])] = r
    rows, pts = [], []
    for name in benchmarks:
        bench = BENCHMARKS[name]
        key = (name, "exact", -1)
        if key not in done:
            ex = exact_reference(bench)
            done[key] = {
                "benchmark": name,
                "method": "exact",
                "seed": -1,
                "k": ex["k"],
                "hv": ex["hv"],
                "eu": ex["eu"],
                "sparsity": ex["sparsity"],
                "front": ex["ccs"].tolist(),
            }
            with open(_cells_path(), "a") as f:
                f.write(json.dumps(done[key]) + "\n")
        ex = done[key]
        for v in ex["front"]:
            pts.append({"benchmark": name, "method": "exact-ccs", "seed": -1, "point": json.dumps(v)})
        for method in METHODS:
            for seed in torch_seeds if method == "cmorl-torch" else seeds:
                ck = (name, method, seed)
                if ck not in done:
                    r = run_cell(bench, method, seed)
                    done[ck] = r
                    with open(_cells_path(), "a") as f:
                        f.write(json.dumps(r) + "\n")
                r = done[ck]
                rows.append(
                    {
                        "benchmark": name,
                        "method": method,
                        "seed": seed,
                        "k": ex["k"],
                        "hv": r["hv"],
                        "hv_exact": ex["hv"],
                        "hv_ratio": r["hv"] / ex["hv"],
                        "eu": r["eu"],
                        "eu_exact": ex["eu"],
                        "sparsity": r["sparsity"],
                        "n_points": r["n_points"],
                        "steps": r["steps"],
                        "lps": r["lps"],
                    }
                )
                for v in r["front"]:
                    pts.append({"benchmark": name, "method": method, "seed": seed, "point": json.dumps(v)})
                print(f"{name:20s} {method:14s} seed {seed}: HV ratio {r['hv'] / ex['hv']:.4f}", flush=True)
    with open(OUT / f"{NAME}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    with open(OUT / f"{NAME}_points.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["benchmark", "method", "seed", "point"])
        w.writeheader()
        w.writerows(pts)


def plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(open(OUT / f"{NAME}.csv")))
    pts = list(csv.DictReader(open(OUT / f"{NAME}_points.csv")))
    benches = list(dict.fromkeys(r["benchmark"] for r in rows))
    two = [b for b in benches if rows and next(r for r in rows if r["benchmark"] == b)["k"] == "2"]
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(two) + 1, figsize=(3.4 * (len(two) + 1), 3.2), squeeze=False)
        for ax, b in zip(axes[0], two, strict=False):
            ccs = np.array(
                [json.loads(p["point"]) for p in pts if p["benchmark"] == b and p["method"] == "exact-ccs"]
            )
            ccs = ccs[np.argsort(ccs[:, 0])]
            ax.plot(ccs[:, 0], ccs[:, 1], "k-", lw=1.0, label="exact (stochastic)")
            ax.plot(ccs[:, 0], ccs[:, 1], "ko", ms=3)
            for meth, mk in zip(METHODS, ("o", "s", "D", "^"), strict=True):
                F = np.array(
                    [
                        json.loads(p["point"])
                        for p in pts
                        if p["benchmark"] == b and p["method"] == meth and p["seed"] == "0"
                    ]
                )
                if F.size:
                    ax.scatter(F[:, 0], F[:, 1], s=14, marker=mk, alpha=0.75, label=LABELS[meth])
            ax.set_title(b)
            ax.set_xlabel("objective 1")
            ax.set_ylabel("objective 2")
        axes[0][0].legend(loc="lower left")
        ax = axes[0][-1]
        width = 0.8 / len(METHODS)
        for i, meth in enumerate(METHODS):
            mean, lo, hi = [], [], []
            for b in benches:
                r = np.array(
                    [float(x["hv_ratio"]) for x in rows if x["benchmark"] == b and x["method"] == meth]
                )
                mean.append(r.mean())
                lo.append(r.mean() - r.min())
                hi.append(r.max() - r.mean())
            ax.bar(
                np.arange(len(benches)) + (i - 1.5) * width, mean, width, yerr=[lo, hi], label=LABELS[meth]
            )
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xticks(np.arange(len(benches)))
        ax.set_xticklabels(benches, rotation=35, ha="right")
        ax.set_ylabel("HV / HV(exact front)")
        ax.set_title("hypervolume ratio")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.tight_layout()
        for ext in ("png", "pdf"):
            fig.savefig(OUT / f"{NAME}.{ext}")
        plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2-objective benchmarks, seeds 0-1")
    ap.add_argument("--replot", action="store_true", help="redraw from the stored CSVs")
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the exact-tabular methods")
    ap.add_argument("--torch-seeds", type=int, default=1, help="seeds of the sampled (torch) C-MORL")
    args = ap.parse_args()
    if not args.replot:
        if args.quick:
            compute([b for b in BENCHMARKS if b in ("dst", "dst-convex", "random-k2")], [0, 1], [0])
        else:
            compute(list(BENCHMARKS), list(range(args.seeds)), list(range(args.torch_seeds)))
    plot()
    print(f"wrote {OUT / NAME}.png/.pdf/.csv")


if __name__ == "__main__":
    main()
