"""C-MORL (exact tabular): gradients, the constrained step (barrier and LP) and the archive."""

from __future__ import annotations

import numpy as np
import pytest

from mdpkit.envs.morl_envs import deep_sea_treasure, random_momdp
from mdpkit.errors import InvalidArgumentError
from mdpkit.morl import (
    barrier_extend,
    cmorl,
    constrained_solve,
    constraint_thresholds,
    dominance_margin,
    evaluate_vector,
    linear_scalarization,
    pareto_mask,
    softmax_policy,
    vector_advantages,
)


def test_natural_gradient_direction_is_ascent() -> None:
    """The exact policy gradient sum_s d(s) pi(a|s) A(s,a) matches finite differences of J."""
    m = random_momdp(4, 3, 2, gamma=0.8, seed=5)
    rng = np.random.default_rng(0)
    th = rng.standard_normal((4, 3))
    J, A = vector_advantages(m, th)
    pi = softmax_policy(th, m.mask)
    d = evaluate_vector(m, pi).d
    grad = d[:, None, None] * pi[:, :, None] * A  # (S, A, k)
    h = 1e-6
    for s, a in [(0, 0), (1, 2), (3, 1)]:
        e = np.zeros_like(th)
        e[s, a] = h
        fd = (vector_advantages(m, th + e)[0] - vector_advantages(m, th - e)[0]) / (2 * h)
        np.testing.assert_allclose(grad[s, a], fd, rtol=1e-5, atol=1e-8)


def test_thresholds() -> None:
    J = np.array([10.0, -20.0, 0.0])
    c = constraint_thresholds(J, 0.9, 0)
    assert np.isneginf(c[0])
    assert c[1] == pytest.approx(-22.0)  # lose at most 10% of |J|
    assert c[2] < 0.0  # strictly feasible start at J = 0


@pytest.mark.parametrize("seed", range(4))
def test_constrained_step_respects_constraints(seed: int) -> None:
    m = random_momdp(5, 3, 3, gamma=0.9, seed=seed)
    th = np.random.default_rng(seed).standard_normal((5, 3))
    J0, _ = vector_advantages(m, th)
    for obj in range(3):
        th1, J1, c = barrier_extend(m, th, obj, iters=15)
        others = [j for j in range(3) if j != obj]
        assert np.all(J1[others] > c[others])

        def barrier(J: np.ndarray, obj: int = obj, others: list = others, c: np.ndarray = c) -> float:
            return float(J[obj] + np.sum(np.log(J[others] - c[others])) / 20.0)

        assert barrier(J1) >= barrier(J0)  # accepted steps never lower the barrier objective
        pi, Jlp = constrained_solve(m, obj, c)
        assert np.all(Jlp[others] >= c[others] - 1e-9)
        assert Jlp[obj] >= J1[obj] - 1e-9  # the LP is the exact optimum of the same problem


@pytest.mark.parametrize("method", ["barrier", "lp"])
def test_cmorl_archive_feasible_and_nondominated(method: str) -> None:
    m = deep_sea_treasure()
    res = cmorl(m, n_init=4, n_select=2, n_rounds=1, init_iters=15, ext_iters=5, method=method, seed=1)
    assert pareto_mask(res.values).all()
    for v, pi in zip(res.values, res.policies, strict=True):
        np.testing.assert_allclose(evaluate_vector(m, pi).J, v, rtol=1e-8, atol=1e-8)
        assert dominance_margin(m, v) >= -1e-7  # achievable
    assert res.steps == 4 * 15 + (2 * 2 * 5 if method == "barrier" else 0)
    assert res.lps == (0 if method == "barrier" else 4)
    with pytest.raises(InvalidArgumentError):
        cmorl(m, method="ppo")


def test_linear_scalarization_baseline() -> None:
    m = random_momdp(5, 2, 2, gamma=0.9, seed=2)
    res = linear_scalarization(m, 4, 10, seed=0)
    assert res.steps == 40
    assert pareto_mask(res.values).all()
