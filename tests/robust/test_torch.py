"""torch twin of robust VI (L1 and KL balls) against the numba kernels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mdpkit.errors import InvalidArgumentError
from mdpkit.robust import KLBall, L1Ball, SL1Ball, solve
from mdpkit.robust import _torch as T
from tests.robust.helpers import small_mdp


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.integers(1, 3), st.sampled_from(["l1", "kl"]))
def test_batched_q_matches_numba(seed, S, A, kind):
    rng = np.random.default_rng(seed)
    B = 3
    ms = [small_mdp(int(rng.integers(2**31)), S=S, A=A, infeasible=bool(seed % 2)) for _ in range(B)]
    rad = rng.uniform(0, 2 if kind == "l1" else 1.5, size=(B, S, A))
    rad[0, 0, 0] = 0.0
    sets = [(L1Ball if kind == "l1" else KLBall)(m, rad[b]) for b, m in enumerate(ms)]
    v = rng.normal(size=(B, S)) * 5
    t = dict(dtype=torch.float64)
    P = torch.tensor(np.stack([U.nominal for U in sets]), **t)
    R = torch.tensor(np.stack([np.asarray(m.R) for m in ms]), **t)
    g = torch.full((B,), 0.9, **t)
    f = T.q_l1 if kind == "l1" else T.q_kl
    Q = f(P, R, g, torch.tensor(v, **t), torch.tensor(rad, **t)).numpy()
    for b in range(B):
        ref = sets[b].q(np.asarray(ms[b].R), 0.9, v[b])
        fin = np.isfinite(ref)
        assert np.array_equal(fin, np.isfinite(Q[b]))
        assert np.abs(Q[b][fin] - ref[fin]).max() <= 1e-10 * (1 + np.abs(ref[fin]).max())


@pytest.mark.parametrize("make", [lambda m: L1Ball(m, 0.3), lambda m: KLBall(m, 0.25)])
def test_torch_solve_matches_numba(make):
    m = small_mdp(5, S=8, A=3)
    U = make(m)
    a = solve(m, U, tol=1e-10)
    b = solve(m, U, tol=1e-10, backend="torch", device="cpu")
    assert b.converged and np.abs(a.V - b.V).max() <= a.error_bound + b.error_bound + 1e-12
    assert np.array_equal(a.policy, b.policy)
    assert U.contains(b.kernel)


def test_torch_rejects_other_sets():
    m = small_mdp(0)
    with pytest.raises(InvalidArgumentError, match="torch"):
        solve(m, SL1Ball(m, 0.5), backend="torch")
    with pytest.raises(InvalidArgumentError):
        solve(m, L1Ball(m, 0.5), method="mpi", backend="torch")


def test_solve_batched_matches_per_model_numba():
    from mdpkit.robust import solve_batched

    ms = [small_mdp(s, S=6, A=3, gamma=g) for s, g in ((1, 0.9), (2, 0.5), (3, 0.95))]
    us = [L1Ball(m, r) for m, r in zip(ms, (0.1, 0.5, 1.0), strict=True)]
    sols = solve_batched(ms, us, tol=1e-10, device="cpu")
    for m, u, b in zip(ms, us, sols, strict=True):
        a = solve(m, u, tol=1e-10)
        assert b.converged and np.abs(a.V - b.V).max() <= a.error_bound + b.error_bound
        assert u.contains(b.kernel) and b.Q.shape == (6, 3)
    with pytest.raises(InvalidArgumentError, match="L1Ball or all KLBall"):
        solve_batched(ms[:2], [us[0], KLBall(ms[1], 0.1)])
