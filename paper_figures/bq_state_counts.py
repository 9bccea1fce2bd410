"""State counts and DP time: direct MDP (partial solutions) vs BQ-MDP (remaining sub-instances).

Left: exact numbers of decision states of the direct MDP and of the BQ-MDP (Drakulic et al., "BQ-NCO",
NeurIPS 2023, §3) for TSP/ATSP (closed forms, any instance) and for one instance per size of CVRP, OP and
KP drawn from the paper's distributions (:func:`mdpkit.combinatorial.count_states`). Right: wall time of
exact DP on the direct MDP (numba recursion over all tour prefixes) and on the BQ-MDP (Held-Karp), TSP,
median of 3 runs; both return the same optimum (checked).

``quick`` times the direct DP up to n = 10 and Held-Karp up to n = 16 (instead of 12 and 20).

Usage::

    mdpkit figures bq_state_counts            # writes paper_figures/out/bq_state_counts.{png,pdf,csv}
    mdpkit figures bq_state_counts --replot   # redraw from the stored CSV
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from mdpkit.plotting import FigureSpec, figsize, figure_main, style


def _median_time(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def compute(quick: bool) -> list[dict]:
    """Rows ``kind="count"`` (problem, n, direct, bq state counts) and ``kind="time"`` (TSP DP times)."""
    from mdpkit import combinatorial as C
    from mdpkit.combinatorial import _numba as K

    rows: list[dict] = []
    for n in range(2, 21):
        d, b = C.state_count_formula(n)
        rows.append({"kind": "count", "problem": "TSP/ATSP", "n": n, "direct": int(d), "bq": int(b)})
    makers = {
        "CVRP": (range(2, 9), lambda n: C.random_cvrp(n, 0)),
        "OP": (range(2, 13), lambda n: C.random_op(n, 0, budget=2.0)),
        "KP": (range(2, 15), lambda n: C.random_kp(n, 0)),
    }
    for name, (ns, make) in makers.items():
        for n in ns:
            d, b = C.count_states(make(n))
            rows.append({"kind": "count", "problem": name, "n": n, "direct": int(d), "bq": int(b)})
    K.direct_tsp_dp(C.random_tsp(4, 0).dist)
    C.solve_tsp(C.random_tsp(5, 0).dist)
    n_max, direct_max = (16, 10) if quick else (20, 12)
    for n in range(4, n_max + 1):
        dist = C.random_tsp(n, 100 + n).dist
        tb, (vb, _) = _median_time(lambda d=dist: C.solve_tsp(d))
        row = {"kind": "time", "problem": "TSP", "n": n, "bq_time_s": tb}
        if n <= direct_max:
            td, (vd, visited) = _median_time(lambda d=dist: K.direct_tsp_dp(d))
            if abs(vd - vb) > 1e-9:
                raise AssertionError(f"n = {n}: direct DP {vd!r} != Held-Karp {vb!r}")
            row.update(direct_time_s=td, direct=int(visited))
        rows.append(row)
    return rows


def plot(rows: list[dict]):
    """Left: state counts (log scale); right: exact DP wall time (log scale)."""
    import matplotlib.pyplot as plt

    with style():
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=figsize(2, 0.36))
        cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for k, prob in enumerate(dict.fromkeys(r["problem"] for r in rows if r["kind"] == "count")):
            sel = [r for r in rows if r["kind"] == "count" and r["problem"] == prob]
            ns = [int(r["n"]) for r in sel]
            ax.semilogy(ns, [float(r["direct"]) for r in sel], "--", color=cycle[k], label=f"{prob} direct")
            ax.semilogy(ns, [float(r["bq"]) for r in sel], "-", color=cycle[k], label=f"{prob} BQ")
        ax.set_xlabel("instance size n (nodes or items)")
        ax.set_ylabel("decision states")
        ax.set_title("direct MDP (dashed) vs BQ-MDP (solid)")
        ax.legend(ncol=2, fontsize=6.5)
        sel = [r for r in rows if r["kind"] == "time"]
        d_sel = [r for r in sel if "direct_time_s" in r]
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
    return fig


def summary(rows: list[dict]) -> str:
    """Held-Karp time at the largest n, and the direct DP's at its largest n."""
    t = [r for r in rows if r["kind"] == "time"]
    d = [r for r in t if "direct_time_s" in r]
    return (
        f"Held-Karp n = {t[-1]['n']}: {t[-1]['bq_time_s']:.3f} s; "
        f"direct DP n = {d[-1]['n']}: {d[-1]['direct_time_s']:.3f} s ({d[-1]['direct']} states)"
    )


FIGURE = FigureSpec(
    name="bq_state_counts",
    compute=compute,
    plot=plot,
    summary=summary,
    description="decision states and exact DP time: direct MDP vs BQ-MDP (TSP, CVRP, OP, KP)",
)

if __name__ == "__main__":
    raise SystemExit(figure_main(FIGURE))
