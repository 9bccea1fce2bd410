"""Optimality gap of the BQ-NCO attention policy on TSP: in distribution (n = 10-15) and at n = 20, 50, 100.

The policy (:mod:`mdpkit.combinatorial.neural`: Transformer encoder over the BQ state, no positional
encoding, re-encoded every step) is trained by imitation of random suffixes of optimal tours of uniform
instances with n = 10..15 (Held-Karp labels), then decoded greedily and by beam search on fresh instances.
Baselines: nearest neighbour and 2-opt (from the nearest-neighbour tour). The gap is measured against the
exact optimum (Held-Karp) for n <= 20 and against the best tour any method found for n = 50, 100 (marked by
the dotted line; there it is a lower bound on the true gap). Drakulic et al. (NeurIPS 2023, Table 1) train
on n = 100 with 9 layers; this is the same recipe at laptop scale, so the absolute gaps are larger.

Writes ``paper_figures/out/bq_generalisation.{png,pdf,csv}`` (one row per instance and method) and
``bq_generalisation_training.csv`` (loss and next-node accuracy), and the trained policy
``bq_generalisation_policy.pt``.

Usage::

    python paper_figures/bq_generalisation.py            # 2000 steps, 16 instances per size (CPU: ~5 min)
    python paper_figures/bq_generalisation.py --full     # 6000 steps, 64 instances per size (use a GPU)
    python paper_figures/bq_generalisation.py --replot   # redraw from the stored CSVs
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
import torch

from mdpkit.experiments.analysis import STYLE

OUT = Path(__file__).resolve().parent / "out"
NAME = "bq_generalisation"
SIZES = (10, 12, 15, 20, 50, 100)
FIELDS = ["n", "instance", "method", "length", "reference", "reference_kind", "gap"]
POLICY = {"d_model": 64, "n_layers": 3, "n_heads": 4, "d_ff": 256}


def compute(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    from mdpkit.combinatorial import neural

    steps = args.steps or (6000 if args.full else 2000)
    per_size = 500 if args.full else 150
    n_eval = args.eval or (64 if args.full else 16)
    t0 = time.perf_counter()
    data = neural.make_dataset(range(10, 16), per_size, seed=args.seed)
    policy, hist = neural.train_policy(
        data,
        steps=steps,
        batch_size=128,
        seed=args.seed,
        device=args.device,
        log_every=max(1, steps // 20),
        **POLICY,
    )
    print(f"trained {steps} steps in {time.perf_counter() - t0:.0f} s")
    torch.save({"config": policy.config, "state_dict": policy.state_dict()}, OUT / f"{NAME}_policy.pt")
    rows: list[dict] = []
    for n in SIZES:
        t0 = time.perf_counter()
        rows += neural.evaluate_tsp(policy, n, n_eval, seed=10_000 + n, beam=args.beam if n <= 50 else 0)
        print(f"n = {n}: evaluated in {time.perf_counter() - t0:.1f} s")
    training = [
        {"step": s, "loss": loss, "accuracy": acc}
        for s, loss, acc in zip(hist.step, hist.loss, hist.accuracy, strict=True)
    ]
    return rows, training


def write_csv(rows: list[dict], path: Path, fields: list[str]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def read_csv(path: Path) -> list[dict]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def plot(rows: list[dict], training: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({int(r["n"]) for r in rows})
    methods = [m for m in dict.fromkeys(r["method"] for r in rows) if m != "exact"]
    pos = {n: i for i, n in enumerate(sizes)}
    with plt.rc_context(STYLE):
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.4), gridspec_kw={"width_ratios": [1.6, 1]})
        for k, m in enumerate(methods):
            xs, mean, se = [], [], []
            for n in sizes:
                g = np.array([float(r["gap"]) for r in rows if r["method"] == m and int(r["n"]) == n])
                if g.size:
                    xs.append(pos[n] + (k - (len(methods) - 1) / 2) * 0.06)
                    mean.append(100 * g.mean())
                    se.append(100 * g.std(ddof=1) / np.sqrt(g.size) if g.size > 1 else 0.0)
            ax.errorbar(xs, mean, yerr=se, marker="o", ms=3.5, capsize=2, label=m)
        trained = [pos[n] for n in sizes if 10 <= n <= 15]
        if trained:
            ax.axvspan(min(trained) - 0.3, max(trained) + 0.3, color="0.9", zorder=0, label="training sizes")
        exact = [
            pos[n] for n in sizes if any(r["reference_kind"] == "exact" for r in rows if int(r["n"]) == n)
        ]
        if exact and max(exact) < len(sizes) - 1:
            ax.axvline(max(exact) + 0.5, color="0.4", ls=":", lw=1)
            ax.text(max(exact) + 0.55, ax.get_ylim()[1] * 0.95, "vs best found", fontsize=7, va="top")
            ax.text(max(exact) + 0.45, ax.get_ylim()[1] * 0.95, "vs exact", fontsize=7, va="top", ha="right")
        ax.set_xticks(range(len(sizes)), [str(n) for n in sizes])
        ax.set_xlabel("TSP size n")
        ax.set_ylabel("optimality gap [%] (mean +- s.e.)")
        ax.set_title("BQ policy vs baselines")
        ax.legend(loc="upper left")
        if training:
            st = [int(r["step"]) for r in training]
            ax2.plot(st, [float(r["loss"]) for r in training], label="cross-entropy")
            ax3 = ax2.twinx()
            ax3.plot(
                st, [float(r["accuracy"]) for r in training], color="#D55E00", label="next-node accuracy"
            )
            ax3.set_ylim(0, 1)
            ax3.set_ylabel("accuracy")
            ax2.set_xlabel("training step")
            ax2.set_ylabel("loss")
            ax2.set_title("imitation of optimal suffixes")
            h1, l1 = ax2.get_legend_handles_labels()
            h2, l2 = ax3.get_legend_handles_labels()
            ax2.legend(h1 + h2, l1 + l2, loc="center right")
        fig.tight_layout()
        for ext in ("png", "pdf"):
            fig.savefig(OUT / f"{NAME}.{ext}")
        plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--full", action="store_true", help="6000 steps, 500 instances per size, 64 per eval size"
    )
    ap.add_argument("--replot", action="store_true", help="redraw from the stored CSVs")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--eval", type=int, default=None, help="evaluation instances per size")
    ap.add_argument("--beam", type=int, default=8)
    ap.add_argument("--device", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (1 is 5-10x faster on a loaded 2-core machine)",
    )
    ap.add_argument("--out", type=Path, default=None, help="output directory (default paper_figures/out)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    global OUT
    OUT = args.out or OUT
    OUT.mkdir(parents=True, exist_ok=True)
    csv_path, train_path = OUT / f"{NAME}.csv", OUT / f"{NAME}_training.csv"
    if args.replot:
        rows, training = read_csv(csv_path), read_csv(train_path) if train_path.exists() else []
    else:
        rows, training = compute(args)
        write_csv(rows, csv_path, FIELDS)
        write_csv(training, train_path, ["step", "loss", "accuracy"])
    plot(rows, training)
    for n in sorted({int(r["n"]) for r in rows}):
        parts = []
        for m in dict.fromkeys(r["method"] for r in rows):
            g = [float(r["gap"]) for r in rows if r["method"] == m and int(r["n"]) == n]
            if g and m != "exact":
                parts.append(f"{m} {100 * np.mean(g):.2f}%")
        print(f"n = {n}: " + ", ".join(parts))
    print(f"wrote {OUT / NAME}.png/.pdf/.csv")


if __name__ == "__main__":
    main()
