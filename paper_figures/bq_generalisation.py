"""Optimality gap of the BQ-NCO attention policy on TSP: in distribution (n = 10-15) and at n = 20, 50, 100.

The policy (:mod:`mdpkit.combinatorial.neural`: Transformer encoder over the BQ state, no positional
encoding, re-encoded every step) is trained by imitation of random suffixes of optimal tours of uniform
instances with n = 10..15 (Held-Karp labels), then decoded greedily and by beam search on fresh instances.
Baselines: nearest neighbour and 2-opt (from the nearest-neighbour tour). The gap is measured against the
exact optimum (Held-Karp) for n <= 20 and against the best tour any method found for n = 50, 100 (marked by
the dotted line; there it is a lower bound on the true gap). Drakulic et al. (NeurIPS 2023, Table 1) train
on n = 100 with 9 layers; this is the same recipe at laptop scale, so the absolute gaps are larger.

The full figure trains 2000 steps (batches of 128 from 150 optimal tours per size) and evaluates 16
instances per size, beam 8 up to n = 50 (about 5 min on one CPU thread); it also saves the trained policy
to ``paper_figures/out/bq_generalisation_policy.pt``. ``quick`` trains 60 steps (batches of 64 from 20
tours per size) and evaluates 4 instances per size, beam 4 up to n = 20 (seconds; the gaps are then
those of a barely trained policy). Torch runs on one CPU thread (5-10x faster than two on a loaded
2-core machine), or on CUDA when available.

The CSV has ``kind="eval"`` rows (one per instance and method) and ``kind="training"`` rows (loss and
next-node accuracy per logged step).

Usage::

    mdpkit figures bq_generalisation            # writes paper_figures/out/bq_generalisation.{png,pdf,csv}
    mdpkit figures bq_generalisation --quick    # small version, into paper_figures/out/quick/
    mdpkit figures bq_generalisation --replot   # redraw from the stored CSV
"""

from __future__ import annotations

import time

import numpy as np

from mdpkit.plotting import FigureSpec, default_out_dir, figsize, figure_main, style
from mdpkit.plotting.figure import atomic_path

SIZES = (10, 12, 15, 20, 50, 100)
POLICY = {"d_model": 64, "n_layers": 3, "n_heads": 4, "d_ff": 256}
SEED = 0


def compute(quick: bool) -> list[dict]:
    """Train the BQ policy by imitation, evaluate it and the baselines on every size; eval + training rows."""
    import torch

    from mdpkit.combinatorial import neural

    steps, per_size, batch, n_eval = (60, 20, 64, 4) if quick else (2000, 150, 128, 16)
    beam, beam_max_n = (4, 20) if quick else (8, 50)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        data = neural.make_dataset(range(10, 16), per_size, seed=SEED)
        policy, hist = neural.train_policy(
            data, steps=steps, batch_size=batch, seed=SEED, log_every=max(1, steps // 20), **POLICY
        )
        print(f"bq_generalisation: trained {steps} steps in {time.perf_counter() - t0:.0f} s", flush=True)
        if not quick:
            with atomic_path(default_out_dir() / "bq_generalisation_policy.pt") as tmp:
                torch.save({"config": policy.config, "state_dict": policy.state_dict()}, tmp)
        rows: list[dict] = []
        for n in SIZES:
            ev = neural.evaluate_tsp(policy, n, n_eval, seed=10_000 + n, beam=beam if n <= beam_max_n else 0)
            rows += [{"kind": "eval", **r} for r in ev]
    finally:
        torch.set_num_threads(threads)
    rows += [
        {"kind": "training", "step": int(s), "loss": float(loss), "accuracy": float(acc)}
        for s, loss, acc in zip(hist.step, hist.loss, hist.accuracy, strict=True)
    ]
    return rows


def plot(rows: list[dict]):
    """Left: optimality gap per size and method; right: the imitation training curves."""
    import matplotlib.pyplot as plt

    training = [r for r in rows if r["kind"] == "training"]
    rows = [r for r in rows if r["kind"] == "eval"]
    sizes = sorted({int(r["n"]) for r in rows})
    methods = [m for m in dict.fromkeys(r["method"] for r in rows) if m != "exact"]
    pos = {n: i for i, n in enumerate(sizes)}
    with style():
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=figsize(2, 0.36), width_ratios=[1.6, 1])
        for k, m in enumerate(methods):
            xs, mean, se = [], [], []
            for n in sizes:
                g = np.array([float(r["gap"]) for r in rows if r["method"] == m and int(r["n"]) == n])
                if g.size:
                    xs.append(pos[n] + (k - (len(methods) - 1) / 2) * 0.06)
                    mean.append(100 * g.mean())
                    se.append(100 * g.std(ddof=1) / np.sqrt(g.size) if g.size > 1 else 0.0)
            ax.errorbar(xs, mean, yerr=se, marker="o", ms=3, capsize=1.5, elinewidth=0.8, label=m)
        trained = [pos[n] for n in sizes if 10 <= n <= 15]
        if trained:
            ax.axvspan(min(trained) - 0.3, max(trained) + 0.3, color="0.92", zorder=0, label="training sizes")
        exact = [
            pos[n] for n in sizes if any(r["reference_kind"] == "exact" for r in rows if int(r["n"]) == n)
        ]
        if exact and max(exact) < len(sizes) - 1:
            ax.axvline(max(exact) + 0.5, color="0.4", ls=":", lw=1)
            top = ax.get_ylim()[1]
            ax.text(max(exact) + 0.55, top * 0.97, "gap vs best found", fontsize=6.5, va="top", color="0.3")
            ax.text(
                max(exact) + 0.45, top * 0.97, "gap vs exact", fontsize=6.5, va="top", ha="right", color="0.3"
            )
        ax.set_xticks(range(len(sizes)), [str(n) for n in sizes])
        ax.set_xlabel("TSP size n (cities)")
        ax.set_ylabel("optimality gap [%] (mean ± s.e.)")
        ax.set_title("BQ policy vs baselines")
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=len(labels))
        if training:
            st = [int(r["step"]) for r in training]
            ax2.plot(st, [float(r["loss"]) for r in training], label="cross-entropy")
            ax3 = ax2.twinx()
            ax3.spines["right"].set_visible(True)
            ax3.grid(False)
            ax3.plot(
                st, [float(r["accuracy"]) for r in training], color="#D55E00", label="next-node accuracy"
            )
            ax3.set_ylim(0, 1)
            ax3.set_ylabel("next-node accuracy")
            ax2.set_xlabel("training step (batches)")
            ax2.set_ylabel("cross-entropy loss [nats]")
            ax2.set_title("imitation of optimal suffixes")
            h1, l1 = ax2.get_legend_handles_labels()
            h2, l2 = ax3.get_legend_handles_labels()
            ax2.legend(h1 + h2, l1 + l2, loc="center right")
    return fig


def summary(rows: list[dict]) -> str:
    """Mean gap per size and method."""
    ev = [r for r in rows if r["kind"] == "eval"]
    lines = []
    for n in sorted({int(r["n"]) for r in ev}):
        parts = []
        for m in dict.fromkeys(r["method"] for r in ev):
            g = [float(r["gap"]) for r in ev if r["method"] == m and int(r["n"]) == n]
            if g and m != "exact":
                parts.append(f"{m} {100 * np.mean(g):.2f}%")
        lines.append(f"n = {n}: " + ", ".join(parts))
    return "\n".join(lines)


FIGURE = FigureSpec(
    name="bq_generalisation",
    compute=compute,
    plot=plot,
    summary=summary,
    description="optimality gap of the BQ-NCO attention policy on TSP, in and out of its training sizes",
)

if __name__ == "__main__":
    raise SystemExit(figure_main(FIGURE))
