"""Deep Sea Treasure: the exact fronts, then C-MORL (exact tabular) and its hypervolume ratio.

Deep Sea Treasure (Vamplew et al. 2011) is episodic and undiscounted; mdpkit represents it as a total-reward
MOMDP (gamma = 1, one absorbing zero-reward terminal state). Its deterministic Pareto front is concave, so
linear scalarisation finds only its two extreme points (the convex coverage set); stochastic policies
fill the segment between them, and the constrained step of C-MORL walks along it.

Run: ``python examples/morl_deep_sea_treasure.py``
"""

from __future__ import annotations

import numpy as np

from mdpkit.envs.morl_envs import DST_PARETO_FRONT, deep_sea_treasure
from mdpkit.morl import (
    cmorl,
    convex_coverage_set,
    expected_utility,
    hypervolume,
    hypervolume_convex,
    linear_scalarization,
    pareto_front,
    sparsity,
)


def main() -> None:
    m = deep_sea_treasure()
    print(f"Deep Sea Treasure: S={m.S}, A={m.A}, objectives {m.names}, gamma={m.gamma}")
    det = pareto_front(m, policies="deterministic")  # exact, Pareto label correcting over paths
    print("deterministic Pareto front:", det.values.tolist())
    ccs = convex_coverage_set(m)
    print("convex coverage set (OLS):", ccs.values.tolist())
    ref = np.array([0.0, -25.0])
    assert np.allclose(det.values[np.argsort(det.values[:, 0])], DST_PARETO_FRONT)
    print(f"HV of the published deterministic front: {hypervolume(DST_PARETO_FRONT, ref):.1f}")
    hv_exact = hypervolume_convex(ccs.values, ref)
    print(f"HV of the exact stochastic front:        {hv_exact:.1f}")
    for method in ("barrier", "lp"):
        res = cmorl(m, method=method, seed=0)
        print(
            f"C-MORL ({method}): {len(res.values)} points, "
            f"HV ratio {hypervolume(res.values, ref) / hv_exact:.3f}, "
            f"EU {expected_utility(res.values):.2f}, sparsity {sparsity(res.values):.2f}"
        )
    base = linear_scalarization(m, 16, 37, seed=0)
    print(
        f"linear scalarisation: {len(base.values)} points, "
        f"HV ratio {hypervolume(base.values, ref) / hv_exact:.3f}"
    )


if __name__ == "__main__":
    main()
