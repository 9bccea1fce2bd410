r"""C-MORL vs the exact front and vs linear scalarisation: hypervolume, expected utility, sparsity.

One *cell* is ``(benchmark, method, seed) -> record`` (a pure function, :func:`run_cell`); the exact
reference of a benchmark is computed once (:func:`exact_reference`). Methods:

* ``cmorl-barrier``: :func:`mdpkit.morl.cmorl` with the paper's log-barrier constrained step;
* ``cmorl-lp``: the same with the constrained step solved exactly as the CMDP LP;
* ``cmorl-torch``: :func:`mdpkit.morl.cmorl_torch.cmorl_torch`, sampled PPO-style updates (same stage
  sizes, 128 episodes per batch, 10 PPO iterations per constrained step);
* ``linear``: :func:`mdpkit.morl.linear_scalarization` with as many policies as ``cmorl-barrier``
  produces and the same total number of natural-gradient steps.

Reference hypervolume: the exact HV of the stochastic Pareto front, the region dominated by the convex
hull of the CCS (:func:`mdpkit.morl.hypervolume_convex`), for every k. Every found front's HV is at most
this (claim ``morl.exact-front-hv``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mdpkit.errors import InvalidArgumentError
from mdpkit.morl.cmorl import cmorl, linear_scalarization
from mdpkit.morl.fronts import convex_coverage_set
from mdpkit.morl.metrics import expected_utility, hypervolume, hypervolume_convex, sparsity
from mdpkit.morl.model import MultiObjectiveMDP

__all__ = ["Benchmark", "BENCHMARKS", "exact_reference", "run_cell", "METHODS"]

METHODS = ("cmorl-barrier", "cmorl-lp", "cmorl-torch", "linear")


@dataclass(frozen=True)
class Benchmark:
    """A named model factory with its hypervolume reference point and C-MORL settings."""

    name: str
    make: Callable[[], MultiObjectiveMDP]
    ref: tuple[float, ...]
    n_init: int = 6
    n_select: int = 5
    n_rounds: int = 2
    init_iters: int = 60
    ext_iters: int = 20
    lr: float = 0.5
    horizon: int = 60


def _benchmarks() -> dict[str, Benchmark]:
    from mdpkit.envs.morl_envs import deep_sea_treasure, fruit_tree, random_momdp, resource_gathering

    return {
        b.name: b
        for b in (
            Benchmark("dst", deep_sea_treasure, (0.0, -25.0)),
            Benchmark("dst-convex", lambda: deep_sea_treasure(convex=True), (0.0, -25.0)),
            Benchmark("resource-gathering", resource_gathering, (-1.0, -0.1, -0.1)),
            Benchmark("fruit-tree-5", lambda: fruit_tree(5), (0.0,) * 6, n_init=8, n_rounds=2, ext_iters=15),
            Benchmark(
                "random-k2", lambda: random_momdp(20, 3, 2, gamma=0.9, seed=7, branching=4), (0.0,) * 2
            ),
            Benchmark("random-k4", lambda: random_momdp(6, 2, 4, gamma=0.9, seed=8, branching=3), (0.0,) * 4),
        )
    }


#: The benchmarks of the experiment (name -> :class:`Benchmark`).
BENCHMARKS: dict[str, Benchmark] = _benchmarks()


def exact_reference(bench: Benchmark) -> dict:
    """The exact front of a benchmark: CCS (OLS), reference HV and EU, and which HV it is."""
    m = bench.make()
    ccs = convex_coverage_set(m)
    ref = np.array(bench.ref)
    hv, kind = hypervolume_convex(ccs.values, ref), "exact stochastic front (convex hull of the CCS)"
    return {
        "benchmark": bench.name,
        "k": m.k,
        "ccs": ccs.values,
        "hv": hv,
        "hv_kind": kind,
        "eu": expected_utility(ccs.values),
        "sparsity": sparsity(ccs.values),
        "n_points": len(ccs),
    }


def run_cell(bench: Benchmark, method: str, seed: int) -> dict:
    """Run one method on one benchmark with one seed; return its metrics and front (JSON-ready lists)."""
    if method not in METHODS:
        raise InvalidArgumentError(f"method = {method!r} is not one of {METHODS}")
    m = bench.make()
    kw = dict(
        n_init=bench.n_init,
        n_select=bench.n_select,
        n_rounds=bench.n_rounds,
        init_iters=bench.init_iters,
        ext_iters=bench.ext_iters,
        lr=bench.lr,
        seed=seed,
    )
    if method == "cmorl-barrier":
        res = cmorl(m, method="barrier", **kw)
    elif method == "cmorl-lp":
        res = cmorl(m, method="lp", **kw)
    elif method == "cmorl-torch":
        from mdpkit.morl.cmorl_torch import cmorl_torch

        res = cmorl_torch(
            m,
            n_init=bench.n_init,
            n_select=bench.n_select,
            n_rounds=bench.n_rounds,
            init_iters=30,
            ext_iters=10,
            n_envs=128,
            horizon=bench.horizon,
            seed=seed,
        )
    else:
        ref_run = cmorl(m, method="barrier", **kw)
        n_pol = len(ref_run.log)
        iters = max(1, ref_run.steps // n_pol)
        res = linear_scalarization(m, n_pol, iters, lr=bench.lr, seed=seed)
    ref = np.array(bench.ref)
    return {
        "benchmark": bench.name,
        "method": method,
        "seed": seed,
        "hv": hypervolume(res.values, ref),
        "eu": expected_utility(res.values),
        "sparsity": sparsity(res.values),
        "n_points": int(res.values.shape[0]),
        "steps": res.steps,
        "lps": res.lps,
        "front": res.values.tolist(),
    }
