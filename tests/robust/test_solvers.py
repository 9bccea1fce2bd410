"""Robust VI / modified PI / robust policy evaluation: agreement, certificates and defining identities."""

from __future__ import annotations

import numpy as np
import pytest

import mdpkit
from mdpkit.claims.instances import random_mdp
from mdpkit.errors import InvalidArgumentError
from mdpkit.robust import (
    FiniteSet,
    KLBall,
    L1Ball,
    LinfBall,
    RectangularHull,
    SL1Ball,
    evaluate_kernel,
    iwocs,
    robust_evaluate,
    solve,
)
from tests.robust.helpers import random_kernels, small_mdp

SETS = {
    "l1": lambda m: L1Ball(m, 0.3),
    "linf": lambda m: LinfBall(m, 0.1),
    "kl": lambda m: KLBall(m, 0.2),
    "s_l1": lambda m: SL1Ball(m, 0.7),
    "hull": lambda m: RectangularHull([m.P, *random_kernels(7, 2, m.S, m.A)]),
}


@pytest.mark.parametrize("name", sorted(SETS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vi_mpi_agree_and_certify(name, seed):
    m = small_mdp(seed, S=6, A=3, gamma=0.9, infeasible=bool(seed % 2))
    U = SETS[name](m)
    vi, mpi = solve(m, U, "vi", tol=1e-10), solve(m, U, "mpi", tol=1e-10)
    assert vi.converged and mpi.converged
    assert np.abs(vi.V - mpi.V).max() <= 0.5 * (vi.error_bound + mpi.error_bound)
    # fixed point of the robust Bellman operator
    tv, _ = U.bellman(np.asarray(m.R), 0.9, vi.V)
    assert np.abs(tv - vi.V).max() <= vi.error_bound
    # the worst kernel lies in the set; the robust policy's exact value under it is the robust value
    assert U.contains(vi.kernel)
    ev = robust_evaluate(m, U, vi.policy_matrix)
    assert U.contains(ev.kernel)
    assert np.abs(ev.V - vi.V).max() <= vi.error_bound + ev.error_bound
    assert np.allclose(ev.V, evaluate_kernel(m, ev.kernel, vi.policy_matrix), atol=1e-12, rtol=0)
    # robust value <= nominal value (the nominal kernel is in every set)
    assert np.all(vi.V <= mdpkit.solve(m).V + vi.error_bound)


def test_zero_radius_is_the_nominal_mdp():
    m = small_mdp(3, S=7, A=2)
    for U in (L1Ball(m, 0.0), LinfBall(m, 0.0), KLBall(m, 0.0), SL1Ball(m, 0.0), RectangularHull([m.P])):
        sol = solve(m, U)
        assert np.abs(sol.V - mdpkit.solve(m).V).max() <= sol.error_bound
        assert np.allclose(sol.kernel, m.P)


def test_robust_value_monotone_in_radius():
    m = small_mdp(4, S=6, A=3)
    vals = [solve(m, L1Ball(m, r)).V for r in (0.0, 0.1, 0.5, 1.0, 2.0)]
    for a, b in zip(vals, vals[1:], strict=False):
        assert np.all(b <= a + 1e-9)
    # radius 2 = the whole simplex: every backup sees min v
    sol = solve(m, L1Ball(m, 2.0))
    R = np.where(np.isfinite(m.R), m.R, -np.inf)
    expect = R.max(axis=1) + 0.9 * sol.V.min()
    assert np.abs(sol.V - expect).max() <= sol.error_bound


def test_s_rectangular_between_sa_balls():
    """U_sa(kappa / A) is inside U_s(kappa), which is inside U_sa(kappa): values are sandwiched."""
    m = small_mdp(5, S=6, A=3)
    kappa = 0.9
    vs = solve(m, SL1Ball(m, kappa)).V
    assert np.all(solve(m, L1Ball(m, kappa)).V <= vs + 1e-9)
    assert np.all(vs <= solve(m, L1Ball(m, kappa / 3)).V + 1e-9)


def test_finite_set_is_solved_over_its_hull():
    m = small_mdp(6, S=5, A=2)
    Ks = random_kernels(1, 3, 5, 2)
    a, b = solve(m, FiniteSet(Ks)), solve(m, RectangularHull(Ks))
    assert np.allclose(a.V, b.V, atol=1e-12)


def test_solve_rejects_bad_arguments():
    m = small_mdp(0)
    with pytest.raises(InvalidArgumentError, match="method"):
        solve(m, L1Ball(m, 0.1), method="pi")
    with pytest.raises(InvalidArgumentError, match="option"):
        solve(m, L1Ball(m, 0.1), foo=1)
    with pytest.raises(InvalidArgumentError, match="S="):
        solve(m, L1Ball(small_mdp(0, S=4), 0.1))
    with pytest.raises(InvalidArgumentError, match="UncertaintySet"):
        solve(m, m.P)


def test_sparse_models_and_infeasible_actions():
    m = random_mdp(np.random.default_rng(7), 6, 3, 0.9, infeasible=True, sparse=True)
    assert m.is_sparse and not m.mask.all()
    for U in (L1Ball(m, 0.3), KLBall(m, 0.3), SL1Ball(m, 0.6), LinfBall(m, 0.1)):
        vi, mpi = solve(m, U), solve(m, U, "mpi")
        assert np.abs(vi.V - mpi.V).max() <= vi.error_bound + mpi.error_bound
        assert np.all(vi.policy_matrix[~m.mask] == 0)
        assert np.all(np.isneginf(vi.Q[~m.mask]))
    res = iwocs(m, L1Ball(m, 0.3), eps=1e-9)
    assert res.status == "converged" and abs(res.J_upper - m.initial @ solve(m, L1Ball(m, 0.3)).V) <= 1e-8
