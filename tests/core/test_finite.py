"""Finite-horizon MDPs on hand-made models: backward induction, evaluation of Markov policies, occupancy.

Random-model identities (brute force over all deterministic Markov policies, occupancy identity) live in
``tests/property/test_core_identities.py``; a shortest-path example in ``tests/core/test_textbook.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import mdpkit
from mdpkit import FiniteHorizonMDP, TabularMDP


def random_stage(S: int, A: int, rng: np.random.Generator):
    P = rng.random((S, A, S)) ** 2 + 1e-3
    P /= P.sum(axis=-1, keepdims=True)
    return P, rng.normal(size=(S, A))


def reference_backward_induction(P, R, terminal, mask):
    """Plain numpy recursion V_h(s) = max_{a feasible} r_h(s,a) + P_h(.|s,a) . V_{h+1} (Puterman, 4.5)."""
    H = R.shape[0]
    V = [np.asarray(terminal, dtype=float)]
    for h in range(H - 1, -1, -1):
        Q = R[h] + P[h] @ V[0]
        V.insert(0, np.where(mask[h], Q, -np.inf).max(axis=1))
    return np.array(V)


def test_two_state_by_hand():
    """S = {0, 1}; action 0 stays, action 1 swaps; r = [[0, 1], [2, 0]], H = 2, terminal 0.

    Stage 1 (last decision): V_1 = max(r) = (1, 2), pi_1 = (swap, stay).
    Stage 0: Q_0(0) = (0 + V_1(0), 1 + V_1(1)) = (1, 3) -> 3 (swap);
    Q_0(1) = (2 + V_1(1), 0 + V_1(0)) = (4, 1) -> 4 (stay).
    So V_0 = (3, 4) and, under the uniform initial distribution, value = 3.5.
    """
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[1, 0, 1] = 1.0
    P[0, 1, 1] = P[1, 1, 0] = 1.0
    R = np.array([[0.0, 1.0], [2.0, 0.0]])
    sol = mdpkit.backward_induction(FiniteHorizonMDP(P, R, 2))
    np.testing.assert_array_equal(sol.V, [[3.0, 4.0], [1.0, 2.0], [0.0, 0.0]])
    np.testing.assert_array_equal(sol.Q, [[[1.0, 3.0], [4.0, 1.0]], [[0.0, 1.0], [2.0, 0.0]]])
    np.testing.assert_array_equal(sol.policy, [[1, 0], [1, 0]])
    assert sol.value == 3.5


@pytest.mark.parametrize("form", ["dense", "csr", "time-indexed"])
def test_matches_reference_recursion(form):
    rng = np.random.default_rng(0)
    S, A, H = 5, 3, 6
    P, _ = random_stage(S, A, rng)
    R = rng.normal(size=(H, S, A))
    mask = rng.random((H, S, A)) < 0.7
    mask[:, :, 0] = True
    term = rng.normal(size=S)
    if form == "dense":
        fh = FiniteHorizonMDP(P, R, H, terminal=term, mask=mask)
    elif form == "csr":
        fh = FiniteHorizonMDP(sp.csr_matrix(P.reshape(S * A, S)), R, H, terminal=term, mask=mask)
    else:
        fh = FiniteHorizonMDP(np.stack([P] * H), R, H, terminal=term, mask=mask)
    sol = mdpkit.backward_induction(fh)
    want = reference_backward_induction(np.stack([P] * H), R, term, mask)
    np.testing.assert_allclose(sol.V, want, rtol=1e-14, atol=1e-14)
    assert sol.V.shape == (H + 1, S) and sol.Q.shape == (H, S, A) and sol.policy.shape == (H, S)
    np.testing.assert_array_equal(sol.V[H], term)
    assert np.all(np.isneginf(sol.Q[~mask]))
    assert np.all(mask[np.arange(H)[:, None], np.arange(S)[None, :], sol.policy])  # feasible actions only
    np.testing.assert_array_equal(sol.policy, np.argmax(sol.Q, axis=2))  # first maximiser
    assert sol.value == pytest.approx(float(fh.initial @ sol.V[0]), rel=1e-15)


def test_time_indexed_kernels_are_used_per_stage():
    """Stage 0 moves everything to state 1, stage 1 moves everything to state 0, and only state 0 pays, at
    stage 2: the values depend on which kernel applies at which stage."""
    to1 = np.zeros((2, 1, 2))
    to1[:, 0, 1] = 1.0
    to0 = np.zeros((2, 1, 2))
    to0[:, 0, 0] = 1.0
    R = np.zeros((3, 2, 1))
    R[2, 0, 0] = 1.0  # reward only in state 0 at stage 2
    fh = FiniteHorizonMDP(np.stack([to1, to0, to1]), R, 3)
    sol = mdpkit.backward_induction(fh)
    # any start -> state 1 at h=1 -> state 0 at h=2 -> reward 1
    np.testing.assert_array_equal(sol.V[0], [1.0, 1.0])
    np.testing.assert_array_equal(sol.V[2], [1.0, 0.0])


def test_horizon_one_is_myopic():
    rng = np.random.default_rng(1)
    P, R = random_stage(4, 3, rng)
    term = rng.normal(size=4)
    sol = mdpkit.backward_induction(FiniteHorizonMDP(P, R, 1, terminal=term))
    np.testing.assert_allclose(sol.V[0], (R + P @ term).max(axis=1), rtol=1e-15)


def test_from_tabular_equals_undiscounted_value_iteration_steps():
    """The H-step truncation's V_0 is T^H applied to the terminal reward with gamma = 1."""
    rng = np.random.default_rng(2)
    P, R = random_stage(4, 2, rng)
    mdp = TabularMDP(P, R, 0.9)
    term = rng.normal(size=4)
    sol = mdpkit.backward_induction(FiniteHorizonMDP.from_tabular(mdp, 7, terminal=term))
    v = term
    for _ in range(7):
        v = (R + P @ v).max(axis=1)
    np.testing.assert_allclose(sol.V[0], v, rtol=1e-13)


class TestEvaluateFinite:
    def setup_method(self):
        rng = np.random.default_rng(3)
        self.S, self.A, self.H = 4, 3, 5
        self.P = np.stack([random_stage(4, 3, rng)[0] for _ in range(5)])
        self.R = rng.normal(size=(5, 4, 3))
        self.term = rng.normal(size=4)
        self.fh = FiniteHorizonMDP(self.P, self.R, 5, terminal=self.term)

    def test_optimal_policy_recovers_V_and_Q(self):
        sol = mdpkit.backward_induction(self.fh)
        V, Q = mdpkit.evaluate_finite(self.fh, sol.policy)
        np.testing.assert_allclose(V, sol.V, rtol=1e-14)
        np.testing.assert_allclose(Q, sol.Q, rtol=1e-14)

    def test_deterministic_policy_by_forward_simulation_of_the_distribution(self):
        rng = np.random.default_rng(4)
        pol = rng.integers(0, self.A, size=(self.H, self.S))
        V, _ = mdpkit.evaluate_finite(self.fh, pol)
        # independent check: for each start state propagate the state distribution forward
        for s0 in range(self.S):
            dist = np.eye(self.S)[s0]
            total = 0.0
            for h in range(self.H):
                total += dist @ self.R[h][np.arange(self.S), pol[h]]
                dist = dist @ self.P[h][np.arange(self.S), pol[h]]
            total += dist @ self.term
            assert V[0, s0] == pytest.approx(total, rel=1e-13, abs=1e-13)

    def test_stationary_policy_forms_are_broadcast(self):
        pol = np.array([0, 2, 1, 1])
        V1, Q1 = mdpkit.evaluate_finite(self.fh, pol)
        V2, Q2 = mdpkit.evaluate_finite(self.fh, np.tile(pol, (self.H, 1)))
        np.testing.assert_array_equal(V1, V2)
        np.testing.assert_array_equal(Q1, Q2)
        pi = np.full((self.S, self.A), 1.0 / 3.0)
        V3, _ = mdpkit.evaluate_finite(self.fh, pi)
        V4, _ = mdpkit.evaluate_finite(self.fh, np.broadcast_to(pi, (self.H, self.S, self.A)))
        np.testing.assert_array_equal(V3, V4)

    def test_stochastic_policy_is_the_mixture(self):
        rng = np.random.default_rng(5)
        pi = rng.dirichlet(np.ones(self.A), size=(self.H, self.S))
        V, Q = mdpkit.evaluate_finite(self.fh, pi)
        np.testing.assert_allclose(V[:-1], np.sum(pi * Q, axis=2), rtol=1e-14)
        np.testing.assert_allclose(Q, self.R + np.einsum("hsat,ht->hsa", self.P, V[1:]), rtol=1e-13)

    def test_no_policy_beats_backward_induction(self):
        sol = mdpkit.backward_induction(self.fh)
        rng = np.random.default_rng(6)
        for _ in range(20):
            V, _ = mdpkit.evaluate_finite(self.fh, rng.dirichlet(np.ones(self.A), size=(self.H, self.S)))
            assert np.all(V <= sol.V + 1e-12)


class TestOccupancyFinite:
    def test_point_mass_on_a_deterministic_chain(self):
        """A 3-state ring s -> s+1 (mod 3) started in state 0: d_h = e_(h mod 3, 0)."""
        P = np.zeros((3, 1, 3))
        P[np.arange(3), 0, (np.arange(3) + 1) % 3] = 1.0
        fh = FiniteHorizonMDP(P, np.zeros((3, 1)), 4, initial=[1.0, 0.0, 0.0])
        d = mdpkit.occupancy_finite(fh, np.zeros((4, 3), dtype=int))
        for h in range(4):
            np.testing.assert_array_equal(d[h, :, 0], np.eye(3)[h % 3])

    def test_initial_override_and_stage_sums(self):
        rng = np.random.default_rng(7)
        P, R = random_stage(3, 2, rng)
        fh = FiniteHorizonMDP(P, R, 3)
        pi = rng.dirichlet(np.ones(2), size=(3, 3))
        mu = np.array([0.0, 0.25, 0.75])
        d = mdpkit.occupancy_finite(fh, pi, initial=mu)
        np.testing.assert_allclose(d.sum(axis=(1, 2)), 1.0, rtol=0, atol=1e-15)
        np.testing.assert_allclose(d[0], mu[:, None] * pi[0], rtol=0, atol=1e-16)
        np.testing.assert_allclose(d[1].sum(axis=1), np.einsum("sa,sat->t", d[0], P), rtol=1e-14)

    def test_csr_and_dense_agree(self):
        rng = np.random.default_rng(8)
        P, R = random_stage(4, 2, rng)
        pol = rng.integers(0, 2, size=(3, 4))
        a = mdpkit.occupancy_finite(FiniteHorizonMDP(P, R, 3), pol)
        b = mdpkit.occupancy_finite(FiniteHorizonMDP(sp.csr_matrix(P.reshape(8, 4)), R, 3), pol)
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-16)
