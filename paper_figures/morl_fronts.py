"""Fronts found by C-MORL (barrier and LP constrained steps) and linear scalarisation vs the exact front.

For every benchmark of :data:`mdpkit.morl.experiments.BENCHMARKS` and every seed, runs the three methods
(:func:`mdpkit.morl.experiments.run_cell`) and records hypervolume, expected utility, sparsity and the
ratio HV / HV(exact stochastic front). The figure shows the 2-objective fronts (seed 0) over the exact
front (the polyline through the CCS) and, in the last panel, the HV ratio per benchmark and method
(mean over seeds, min-max bars).

The full figure runs every benchmark with seeds 0-2 (the sampled torch C-MORL: seed 0), storing each cell
as a JSON line in ``paper_figures/out/morl_fronts_cells.jsonl``: a re-run computes only the missing cells
(the torch cells take minutes each on CPU), so the figure is drawn from the stored records. ``quick`` runs
the 2-objective benchmarks with seed 0, without the torch method and with smaller C-MORL stages
(3 initial policies, one round of 2 extensions, 20 + 5 iterations), and stores nothing.

The CSV has ``kind="metric"`` rows (one per cell) and ``kind="point"`` rows (the fronts: ``f1`` ... ``fk``).

Usage::

    mdpkit figures morl_fronts            # resumable; all cells stored: seconds
    mdpkit figures morl_fronts --quick    # small version (seconds)
    mdpkit figures morl_fronts --replot   # redraw from the stored CSV
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from mdpkit.morl.experiments import BENCHMARKS, METHODS, exact_reference, run_cell
from mdpkit.plotting import FigureSpec, default_out_dir, figsize, figure_main, style

LABELS = {
    "cmorl-barrier": "C-MORL (log barrier)",
    "cmorl-lp": "C-MORL (CMDP LP)",
    "cmorl-torch": "C-MORL (torch, PPO)",
    "linear": "linear scal.",
}
MARKERS = {"cmorl-barrier": "o", "cmorl-lp": "s", "cmorl-torch": "D", "linear": "^"}
QUICK_BENCHMARKS = ("dst", "dst-convex", "random-k2")


def cells_path() -> Path:
    """The store of computed cells (JSON lines, append-only) of the full figure."""
    return default_out_dir() / "morl_fronts_cells.jsonl"


def _stored() -> dict[tuple, dict]:
    done: dict[tuple, dict] = {}
    if cells_path().exists():
        with cells_path().open() as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    done[(r["benchmark"], r["method"], r["seed"])] = r
    return done


def _append(record: dict) -> None:
    cells_path().parent.mkdir(parents=True, exist_ok=True)
    with cells_path().open("a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()


def compute(quick: bool) -> list[dict]:
    """Metric rows (one per benchmark, method, seed) and point rows (the fronts, and the exact CCS)."""
    if quick:
        benchmarks = {b: _quick(BENCHMARKS[b]) for b in QUICK_BENCHMARKS}
        methods, seeds, torch_seeds = [m for m in METHODS if m != "cmorl-torch"], [0], []
        done: dict[tuple, dict] = {}
    else:
        benchmarks, methods, seeds, torch_seeds = dict(BENCHMARKS), list(METHODS), [0, 1, 2], [0]
        done = _stored()
    rows: list[dict] = []
    pts: list[dict] = []
    for name, bench in benchmarks.items():
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
            if not quick:
                _append(done[key])
        ex = done[key]
        pts += [_point(name, "exact-ccs", -1, v) for v in ex["front"]]
        for method in methods:
            for seed in torch_seeds if method == "cmorl-torch" else seeds:
                ck = (name, method, seed)
                if ck not in done:
                    done[ck] = run_cell(bench, method, seed)
                    if not quick:
                        _append(done[ck])
                r = done[ck]
                rows.append(
                    {
                        "kind": "metric",
                        "benchmark": name,
                        "method": method,
                        "seed": seed,
                        "k": int(ex["k"]),
                        "hv": float(r["hv"]),
                        "hv_exact": float(ex["hv"]),
                        "hv_ratio": float(r["hv"]) / float(ex["hv"]),
                        "eu": float(r["eu"]),
                        "eu_exact": float(ex["eu"]),
                        "sparsity": float(r["sparsity"]),
                        "n_points": int(r["n_points"]),
                        "steps": int(r["steps"]),
                        "lps": int(r["lps"]),
                    }
                )
                pts += [_point(name, method, seed, v) for v in r["front"]]
    return rows + pts


def _quick(bench):
    return dataclasses.replace(bench, n_init=3, n_select=2, n_rounds=1, init_iters=20, ext_iters=5)


def _point(benchmark: str, method: str, seed: int, v: list[float]) -> dict:
    return {
        "kind": "point",
        "benchmark": benchmark,
        "method": method,
        "seed": seed,
        **{f"f{i + 1}": float(x) for i, x in enumerate(v)},
    }


def plot(rows: list[dict]):
    """Top: the 2-objective fronts (seed 0) over the exact front; bottom: HV ratio per benchmark."""
    import matplotlib.pyplot as plt

    metrics = [r for r in rows if r["kind"] == "metric"]
    pts = [r for r in rows if r["kind"] == "point"]
    benches = list(dict.fromkeys(r["benchmark"] for r in metrics))
    methods = [m for m in METHODS if any(r["method"] == m for r in metrics)]
    two = [b for b in benches if next(r for r in metrics if r["benchmark"] == b)["k"] == 2]
    with style():
        fig = plt.figure(figsize=figsize(2, 0.29, rows=2))
        top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 0.95])
        axes = top.subplots(1, max(len(two), 1), squeeze=False)[0]
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        color = {m: colors[i] for i, m in enumerate(METHODS)}
        for ax, b in zip(axes, two, strict=False):
            ccs = np.array(
                [[p["f1"], p["f2"]] for p in pts if p["benchmark"] == b and p["method"] == "exact-ccs"]
            )
            ccs = ccs[np.argsort(ccs[:, 0])]
            ax.plot(ccs[:, 0], ccs[:, 1], "k-", lw=0.9, marker="o", ms=2.5, label="exact front (CCS hull)")
            for meth in methods:
                F = np.array(
                    [
                        [p["f1"], p["f2"]]
                        for p in pts
                        if p["benchmark"] == b and p["method"] == meth and p["seed"] == 0
                    ]
                )
                if F.size:
                    ax.scatter(
                        F[:, 0],
                        F[:, 1],
                        s=12,
                        marker=MARKERS[meth],
                        alpha=0.75,
                        color=color[meth],
                        label=LABELS[meth],
                        linewidths=0,
                    )
            ax.set_title(b)
            ax.set_xlabel("objective 1 (return)")
            ax.set_ylabel("objective 2 (return)")
        handles, labels = axes[0].get_legend_handles_labels()
        top.legend(handles, labels, loc="outside right upper", title="fronts, seed 0")
        ax = bottom.subplots()
        width = 0.8 / len(methods)
        n_seeds = max(len({r["seed"] for r in metrics if r["method"] == m}) for m in methods)
        for i, meth in enumerate(methods):
            mean, lo, hi, xs = [], [], [], []
            for j, b in enumerate(benches):
                r = np.array([x["hv_ratio"] for x in metrics if x["benchmark"] == b and x["method"] == meth])
                if r.size:
                    xs.append(j + (i - (len(methods) - 1) / 2) * width)
                    mean.append(r.mean())
                    lo.append(r.mean() - r.min())
                    hi.append(r.max() - r.mean())
            ax.bar(
                xs,
                mean,
                width,
                yerr=[lo, hi],
                color=color[meth],
                label=LABELS[meth],
                error_kw={"elinewidth": 0.7, "capsize": 1.5},
            )
        ax.axhline(1.0, color="k", lw=0.8)
        ks = {r["benchmark"]: r["k"] for r in metrics}
        ax.set_xticks(np.arange(len(benches)), [f"{b}\n(k = {ks[b]})" for b in benches])
        ax.set_ylabel("HV / HV(exact front)")
        spread = ", min-max bars" if n_seeds > 1 else ""
        ax.set_title(f"hypervolume ratio (mean over up to {n_seeds} seed{'s' * (n_seeds > 1)}{spread})")
        bottom.legend(loc="outside right upper")
    return fig


def summary(rows: list[dict]) -> str:
    """Mean HV ratio per method over all benchmarks and seeds."""
    metrics = [r for r in rows if r["kind"] == "metric"]
    parts = []
    for m in METHODS:
        v = [r["hv_ratio"] for r in metrics if r["method"] == m]
        if v:
            parts.append(f"{m} {np.mean(v):.3f}")
    return "mean HV / HV(exact): " + ", ".join(parts)


FIGURE = FigureSpec(
    name="morl_fronts",
    compute=compute,
    plot=plot,
    summary=summary,
    description="C-MORL (barrier, LP, torch) and linear scalarisation vs the exact Pareto front",
)

if __name__ == "__main__":
    raise SystemExit(figure_main(FIGURE))
