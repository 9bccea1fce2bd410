"""State counts and DP time: direct MDP (partial solutions) vs BQ-MDP (remaining sub-instances).

Left: exact numbers of decision states of the direct MDP and of the BQ-MDP (Drakulic et al., "BQ-NCO",
NeurIPS 2023, §3) for TSP/ATSP (closed forms, any instance) and for one instance per size of CVRP, OP and
KP drawn from the paper's distributions (:func:`mdpkit.combinatorial.count_states`). Right: wall time of
exact DP on the direct MDP (numba recursion over all tour prefixes) and on the BQ-MDP (Held-Karp), TSP,
median of 3 runs; both return the same optimum (checked).

Writes ``paper_figures/out/bq_state_counts.{png,pdf,csv}``.

Usage::

    python paper_figures/bq_state_counts.py            # seconds to a minute
    python paper_figures/bq_state_counts.py --replot   # redraw from the stored CSV
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

from mdpkit.experiments.analysis import STYLE

OUT = Path(__file__).resolve().parent / "out"
NAME = "bq_state_counts"
FIELDS = ["kind", "problem", "n", "direct", "bq", "direct_time_s", "bq_time_s"]


def _median_time(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def compute() -> list[dict]:
    from mdpkit import combinatorial as C
    from mdpkit.combinatorial import _numba as K

    rows: list[dict] = []
    for n in range(2, 21):
        d, b = C.state_count_formula(n)
        rows.append({"kind": "count", "problem": "TSP/ATSP", "n": n, "direct": d, "bq": b})
    makers = {
        "CVRP": (range(2, 9), lambda n: C.random_cvrp(n, 0)),
        "OP": (range(2, 13), lambda n: C.random_op(n, 0, budget=2.0)),
        "KP": (range(2, 15), lambda n: C.random_kp(n, 0)),
    }
    for name, (ns, make) in makers.items():
        for n in ns:
            d, b = C.count_states(make(n))
            rows.append({"kind": "count", "problem": name, "n": n, "direct": d, "bq": b})
    K.direct_tsp_dp(C.random_tsp(4, 0).dist)
    C.solve_tsp(C.random_tsp(5, 0).dist)
    for n in range(4, 21):
        dist = C.random_tsp(n, 100 + n).dist
        tb, (vb, _) = _median_time(lambda d=dist: C.solve_tsp(d))
        row = {"kind": "time", "problem": "TSP", "n": n, "bq_time_s": tb}
        if n <= 12:
            td, (vd, visited) = _median_time(lambda d=dist: K.direct_tsp_dp(d))
            if abs(vd - vb) > 1e-9:
                raise AssertionError(f"n = {n}: direct DP {vd!r} != Held-Karp {vb!r}")
            row.update(direct_time_s=td, direct=visited)
        rows.append(row)
    return rows


def plot(rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.4))
        cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for k, prob in enumerate(dict.fromkeys(r["problem"] for r in rows if r["kind"] == "count")):
            sel = [r for r in rows if r["kind"] == "count" and r["problem"] == prob]
            ns = [int(r["n"]) for r in sel]
            ax.semilogy(ns, [float(r["direct"]) for r in sel], "--", color=cycle[k], label=f"{prob} direct")
            ax.semilogy(ns, [float(r["bq"]) for r in sel], "-", color=cycle[k], label=f"{prob} BQ")
        ax.set_xlabel("n")
        ax.set_ylabel("decision states")
        ax.set_title("direct MDP (dashed) vs BQ-MDP (solid)")
        ax.legend(ncol=2, fontsize=6.5)
        sel = [r for r in rows if r["kind"] == "time"]
        d_sel = [r for r in sel if r.get("direct_time_s") not in (None, "")]
        ax2.semilogy(
            [int(r["n"]) for r in d_sel],
            [float(r["direct_time_s"]) for r in d_sel],
            "o--",
            ms=3,
            label="DP on direct MDP",
        )
        ax2.semilogy(
            [int(r["n"]) for r in sel],
            [float(r["bq_time_s"]) for r in sel],
            "o-",
            ms=3,
            label="DP on BQ-MDP (Held-Karp)",
        )
        ax2.set_xlabel("TSP size n")
        ax2.set_ylabel("wall time [s] (median of 3)")
        ax2.set_title("exact DP time")
        ax2.legend()
        fig.tight_layout()
        for ext in ("png", "pdf"):
            fig.savefig(OUT / f"{NAME}.{ext}")
        plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replot", action="store_true", help="redraw from the stored CSV")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{NAME}.csv"
    if args.replot:
        with path.open() as fh:
            rows = list(csv.DictReader(fh))
    else:
        rows = compute()
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=FIELDS)
            w.writeheader()
            w.writerows(rows)
    plot(rows)
    last = [r for r in rows if r["kind"] == "time"][-1]
    print(f"Held-Karp n = {last['n']}: {float(last['bq_time_s']):.3f} s; wrote {OUT / NAME}.png/.pdf/.csv")


if __name__ == "__main__":
    main()
