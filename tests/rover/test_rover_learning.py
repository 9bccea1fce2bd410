"""Tabular ROVER / REINFORCE / GRPO: the numba kernels against a plain-Python reference, and the small-scale
learning experiment (ROVER keeps solutions that GRPO collapses to one)."""

from __future__ import annotations

import numpy as np
import pytest

from mdpkit import rover
from mdpkit.errors import InvalidArgumentError


def _softmax(x: np.ndarray) -> np.ndarray:
    w = np.exp(x - x.max())
    return w / w.sum()


def _pick(w: np.ndarray, u: float) -> int:
    acc = 0.0
    for k, x in enumerate(w):
        acc += x
        if u < acc:
            return k
    return int(np.flatnonzero(w > 0)[-1])


def _rollout(t: rover.Tree, scores: np.ndarray, inv: float, rng: np.random.Generator):
    n, edges, nxt = 0, [], []
    while t.n_actions[n]:
        s = t.actions(n)
        e = s.start + _pick(_softmax(inv * scores[s]), rng.random())
        o = slice(int(t.outcome_ptr[e]), int(t.outcome_ptr[e + 1]))
        c = int(t.child[o][_pick(t.prob[o], rng.random())])
        edges.append(e)
        nxt.append(c)
        n = c
    return edges, nxt, float(t.reward[n])


def _reference_rover(t, iters, n, rho, lr, broadcast, seed):
    Q = np.zeros(t.n_edges)
    rng = np.random.default_rng(seed)
    for _ in range(iters):
        runs = [_rollout(t, Q, 1 / rho, rng) for _ in range(n)]
        mean = np.mean([r for _, _, r in runs])
        targets: dict[int, list[float]] = {}
        for edges, nxt, r in runs:
            for i, (e, c) in enumerate(zip(edges, nxt, strict=True)):
                boot = Q[t.actions(c)].mean() if t.n_actions[c] else 0.0
                rr = (r - mean) if (broadcast or i == len(edges) - 1) else 0.0
                targets.setdefault(e, []).append(rr + boot)
        for e, v in targets.items():
            Q[e] += lr * (np.mean(v) - Q[e])
    return Q


def _reference_pg(t, iters, n, lr, alg, seed):
    th = np.zeros(t.n_edges)
    rng = np.random.default_rng(seed)
    for _ in range(iters):
        runs = [_rollout(t, th, 1.0, rng) for _ in range(n)]
        r = np.array([x for _, _, x in runs])
        grad = np.zeros_like(th)
        for edges, _, ri in runs:
            if alg == "reinforce":
                adv = ri
            elif alg == "reinforce_baseline":
                adv = ri - r.mean()
            else:
                adv = (ri - r.mean()) / r.std() if r.std() > 0 else 0.0
            w = adv / n / (len(edges) if alg == "grpo" else 1)
            node = 0
            for e in edges:
                s = t.actions(node)
                grad[s] -= w * _softmax(th[s])
                grad[e] += w
                node = int(t.child[t.outcome_ptr[e]])
        th += lr * grad
    return th


@pytest.mark.parametrize("broadcast", [True, False])
def test_rover_kernel_matches_reference(broadcast):
    t = rover.random_stochastic_tree(4, depth=3, branching=(2, 3), outcomes=(1, 2), p_success=0.4)
    curve = rover.train(t, "rover", iterations=12, n_rollouts=5, rho=0.3, lr=0.7, broadcast=broadcast, seed=9)
    ref = _reference_rover(t, 12, 5, 0.3, 0.7, broadcast, 9)
    np.testing.assert_allclose(curve.params, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("alg", ["reinforce", "reinforce_baseline", "grpo"])
def test_policy_gradient_kernels_match_reference(alg):
    t = rover.random_tree(6, depth=3, branching=(2, 3), p_stop=0.3, p_success=0.4)
    curve = rover.train(t, alg, iterations=12, n_rollouts=6, lr=0.8, seed=3)
    np.testing.assert_allclose(curve.params, _reference_pg(t, 12, 6, 0.8, alg, 3), rtol=1e-12, atol=1e-14)


def test_curves_are_exact_and_reproducible():
    toy = rover.paper_toy()
    a = rover.train(toy, "rover", iterations=50, log_every=20, rho=0.2, seed=1)
    b = rover.train(toy, "rover", iterations=50, log_every=20, rho=0.2, seed=1)
    c = rover.train(toy, "rover", iterations=50, log_every=20, rho=0.2, seed=2)
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)
    assert a.steps.tolist() == [0, 20, 40, 50]
    # step 0 is the uniform policy, analysed exactly
    assert a.success[0] == pytest.approx(1 / 16) and a.entropy[0] == pytest.approx(np.log(4))
    final = rover.analyse(toy, a.policy(toy))
    assert final.success == pytest.approx(a.success[-1], abs=1e-12)
    assert final.expected_distinct(64) == pytest.approx(a.distinct[-1], abs=1e-12)
    assert len(a.rows()) == 4 and a.batch_success.shape == (50,)
    assert np.all(np.diff(a.discovered) >= 0) and a.discovered[-1] <= 4


def test_small_scale_rover_keeps_solutions_grpo_collapses():
    toy = rover.paper_toy()
    ro = [rover.train(toy, "rover", rho=0.1, iterations=1000, log_every=1000, seed=s) for s in range(4)]
    gr = [rover.train(toy, "grpo", iterations=1000, log_every=1000, seed=s) for s in range(4)]
    assert np.mean([c.success[-1] for c in ro]) >= 0.95 and np.mean([c.success[-1] for c in gr]) >= 0.95
    assert np.mean([c.distinct[-1] for c in gr]) <= 1.5
    assert np.mean([c.distinct[-1] for c in ro]) >= 2.0


def test_errors():
    toy = rover.paper_toy()
    with pytest.raises(InvalidArgumentError, match="algorithm"):
        rover.train(toy, "ppo")
    with pytest.raises(InvalidArgumentError, match="lr"):
        rover.train(toy, "rover", lr=1.5)
    with pytest.raises(InvalidArgumentError, match="rho"):
        rover.train(toy, "rover", rho=0)
    with pytest.raises(InvalidArgumentError, match="root is a leaf"):
        rover.train(rover.tree_from_spec(1), "grpo")
