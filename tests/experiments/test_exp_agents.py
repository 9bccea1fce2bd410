"""Baseline agents: the pieces of UCRL2 and UCBVI-BF checked against their papers' definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import mdpkit
from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments import UCBVI, UCRL2, EnvSpec, RandomAgent, make_agent, run_continuing, run_episodic
from mdpkit.experiments import _numba as K
from mdpkit.experiments.agents import agent_params, resolve_agent


# ----------------------------------------------------------------------------- UCRL2
def _l1_lp(p_hat: np.ndarray, d: float, u: np.ndarray) -> float:
    """max p.u over the simplex and the L1 ball of radius d around p_hat (an LP in p and e >= |p - p_hat|)."""
    S = p_hat.size
    c = np.concatenate([-u, np.zeros(S)])
    I = np.eye(S)
    A_ub = np.block([[I, -I], [-I, -I], [np.zeros((1, S)), np.ones((1, S))]])
    b_ub = np.concatenate([p_hat, -p_hat, [d]])
    A_eq = np.concatenate([np.ones(S), np.zeros(S)])[None]
    res = linprog(
        c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0], bounds=[(0, None)] * (2 * S), method="highs"
    )
    assert res.status == 0
    return -res.fun


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.floats(0.0, 2.5), st.integers(0, 2**32 - 1))
def test_extended_value_iteration_inner_max_solves_the_l1_linear_program(S, d, seed):
    rng = np.random.default_rng(seed)
    p_hat = rng.dirichlet(np.ones(S))
    u = rng.normal(size=S)
    if S > 2:
        u[1] = u[0]  # ties in u
    order = np.argsort(-u, kind="mergesort")
    p = np.empty(S)
    val = K.optimistic_l1_value(p_hat, d, order, u, p)
    assert np.all(p >= -1e-15) and abs(p.sum() - 1) <= 1e-12
    assert np.abs(p - p_hat).sum() <= d + 1e-12
    assert val == pytest.approx(p @ u, abs=1e-12)
    assert val == pytest.approx(_l1_lp(p_hat, d, u), abs=1e-7)


def test_extended_value_iteration_without_confidence_is_average_reward_optimal(riverswim):
    """With radii 0 the extended MDP is the model itself: EVI returns a gain-optimal policy."""
    mdp = riverswim(6)
    rho = mdpkit.average_reward(mdp, tol=1e-12).gain
    eps = 1e-9
    u, pol, sweeps, span = K.extended_value_iteration(
        np.asarray(mdp.P),
        mdp.R.copy(),
        np.zeros((6, 2)),
        np.asarray(mdp.mask),
        eps,
        100_000,
        np.zeros(6),
        np.full(6, -1.0),
    )
    assert span < eps
    g, _ = mdpkit.policy_gain(mdp, pol)
    assert np.all(g >= rho - eps)


def test_extended_value_iteration_is_optimistic_when_the_model_is_plausible(riverswim):
    """If the true model lies in the confidence set, the optimistic gain is at least rho* (JOA 2010, Thm 7).

    (Arrays are passed as writable copies so that the kernels' compiled signatures are reused.)"""
    mdp = riverswim(5)
    rho = mdpkit.average_reward(mdp, tol=1e-12).gain
    rng = np.random.default_rng(0)
    P = np.asarray(mdp.P)
    n = 50
    p_hat = np.array([[rng.multinomial(n, P[s, a]) / n for a in range(2)] for s in range(5)])
    d = np.abs(p_hat - P).sum(axis=2) + 0.05  # radii that contain the true rows
    u, pol, sweeps, span = K.extended_value_iteration(
        p_hat, mdp.R + 0.01, d, np.array(mdp.mask), 1e-10, 100_000, np.zeros(5), np.full(5, -1.0)
    )
    # (T u - u) brackets the optimistic gain; its lower end must dominate rho*
    p = np.empty(5)
    order = np.argsort(-u, kind="mergesort")
    Tu = np.array(
        [
            max(
                mdp.R[s, a] + 0.01 + K.optimistic_l1_value(p_hat[s, a], d[s, a], order, u, p)
                for a in range(2)
            )
            for s in range(5)
        ]
    )
    assert (Tu - u).min() >= rho - 1e-9


def test_extended_value_iteration_falls_back_to_the_aperiodicity_transform():
    """A periodic chain (two states that swap, reward 1 in state 0): plain EVI oscillates forever
    (sp(T u - u) = 1); after max_iter sweeps the damped iteration converges to gain 1/2."""
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = P[1, 0, 0] = 1.0
    r = np.array([[1.0], [0.0]])
    args = (P, r, np.zeros((2, 1)), np.ones((2, 1), dtype=bool), 1e-9)
    u, _, sweeps, span = K.extended_value_iteration(*args, 30, np.zeros(2), np.full(2, -1.0))
    assert 30 < sweeps < 60 and span < 1e-9
    p = np.empty(2)
    Tu = np.array([r[s, 0] + K.optimistic_l1_value(P[s, 0], 0.0, np.argsort(-u), u, p) for s in range(2)])
    np.testing.assert_allclose(Tu - u, 0.5, atol=1e-9)


def test_ucrl2_doubling_rule_and_episode_count(riverswim):
    """Episode k ends when the visits v_k(s, a) of the pair about to be played reach max(1, N_k(s, a))
    (JOA 2010, Figure 1, step 6); hence at most SA log2(8T / SA) episodes (their Proposition 18)."""
    S, A, T = 4, 2, 20_000
    agent = UCRL2(S, A, seed=0)
    run = run_continuing(riverswim(S), agent, T, seed=0)
    starts = [t - 1 for t in agent.episode_starts] + [T]  # 0-based step of each episode's first action
    assert starts[0] == 0 and all(b > a for a, b in zip(starts, starts[1:], strict=False))
    N = np.zeros((S, A), dtype=np.int64)
    for k, (a0, a1) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
        v = np.zeros((S, A), dtype=np.int64)
        np.add.at(v, (run.states[a0:a1], run.actions[a0:a1]), 1)
        assert np.all(v <= np.maximum(1, N)), f"episode {k} overran the doubling rule"
        if a1 < T:  # the next pair to play had reached its budget
            s_next = run.states[a1]
            a_prev = run.policies[run.policy_ids[a1 - 1]][s_next]
            assert v[s_next, a_prev] == max(1, N[s_next, a_prev])
        N += v
    assert agent.stats["episodes"] == len(starts) - 1
    assert agent.stats["episodes"] <= S * A * math.log2(8 * T / (S * A))
    assert run.n_switches <= agent.stats["episodes"] - 1
    assert agent.stats["evi_damped"] == 0


def test_ucrl2_confidence_radii_follow_the_paper(riverswim, monkeypatch):
    captured = {}
    real = K.extended_value_iteration

    def spy(p_hat, r_tilde, d, mask, eps, max_iter, u0, tie_u):
        captured.setdefault("calls", []).append((p_hat.copy(), r_tilde.copy(), d.copy(), eps))
        return real(p_hat, r_tilde, d, mask, eps, max_iter, u0, tie_u)

    monkeypatch.setattr(K, "extended_value_iteration", spy)
    S, A, delta = 3, 2, 0.1
    agent = UCRL2(S, A, delta=delta, seed=0)
    run_continuing(riverswim(S), agent, 200, seed=1)
    for tk, (_p_hat, r_tilde, d, eps) in zip(agent.episode_starts, captured["calls"], strict=True):
        assert eps == 1 / math.sqrt(tk)
        # recover N_k from the radius and check both radii against the formulas
        n1 = 14 * S * math.log(2 * A * tk / delta) / d**2
        np.testing.assert_allclose(n1, np.round(n1), rtol=1e-9)
        bonus = np.sqrt(7 * math.log(2 * S * A * tk / delta) / (2 * np.round(n1)))
        assert np.all(r_tilde - bonus >= -1e-12) and np.all(r_tilde - bonus <= 1 + 1e-12)


# ----------------------------------------------------------------------------- UCBVI
def _ucbvi_reference(n_sa, n_sas, r_sum, n_hs, q_prev, L, H):
    """Algorithm 1 + bonus_2 of Azar et al. (2017) transcribed literally (slow, for checking the kernel)."""
    S, A = n_sa.shape
    Q = np.empty((H, S, A))
    V = np.zeros((H + 1, S))
    for h in range(H - 1, -1, -1):
        for x in range(S):
            for a in range(A):
                n = n_sa[x, a]
                if n == 0:
                    Q[h, x, a] = H
                    continue
                p = n_sas[x, a] / n
                mean = p @ V[h + 1]
                var = p @ (V[h + 1] - mean) ** 2
                b = math.sqrt(8 * L * var / n) + 14 * H * L / (3 * n)
                if h < H - 1:
                    caps = [
                        H**2
                        if n_hs[h + 1, y] == 0
                        else min(100**2 * H**3 * S**2 * A * L**2 / n_hs[h + 1, y], H**2)
                        for y in range(S)
                    ]
                    b += math.sqrt(8 * (p @ np.array(caps, dtype=float)) / n)
                Q[h, x, a] = min(q_prev[h, x, a], H, r_sum[x, a] / n + mean + b)
            V[h, x] = Q[h, x].max()
    return Q, V


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_ucbvi_backward_pass_matches_a_literal_transcription(S, A, H, seed):
    rng = np.random.default_rng(seed)
    n_sas = rng.integers(0, 4, size=(S, A, S)) * (rng.random((S, A, S)) < 0.7)
    n_sas[rng.random((S, A)) < 0.2] = 0
    n_sa = n_sas.sum(axis=2)
    r_sum = n_sa * rng.random((S, A))
    n_hs = rng.integers(0, 3, size=(H, S)) * 10 ** rng.integers(0, 12, size=(H, S))
    q_prev = H * (0.5 + rng.random((H, S, A)))
    L = float(rng.uniform(0.1, 20))
    Q, V, pol = K.ucbvi_bernstein_backward(
        n_sa,
        n_sas,
        r_sum,
        n_hs,
        q_prev,
        np.ones((S, A), dtype=bool),
        L,
        100.0**2 * H**3 * S**2 * A * L**2,
        1.0,
        np.full((H, S), -1.0),
    )
    Qr, Vr = _ucbvi_reference(n_sa, n_sas, r_sum, n_hs, q_prev, L, H)
    np.testing.assert_allclose(Q, Qr, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(V[:H], Vr[:H], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(pol, np.argmax(Q, axis=2))


def test_ucbvi_is_optimistic_and_monotone(riverswim):
    """With probability 1 - delta, Q_{k,h} >= Q*_h for all k (Azar et al. 2017, Lemma 18); Q_k is
    non-increasing in k by construction (the min with Q_{k-1})."""
    mdp = riverswim(4)
    H, Kn = 6, 800
    fh = mdpkit.FiniteHorizonMDP.from_tabular(mdp, H)
    Qstar = mdpkit.backward_induction(fh).Q
    agent = UCBVI(4, 2, H, Kn, seed=0)
    seen = []

    orig = agent._plan

    def plan():
        before = agent.Q.copy()
        orig()
        seen.append((before, agent.Q.copy()))

    agent._plan = plan
    run_episodic(fh, agent, Kn, seed=3)
    assert len(seen) == Kn
    for before, after in seen:
        assert np.all(after <= before)
        assert np.all(after >= Qstar - 1e-12)


def test_ucbvi_plays_the_greedy_policy_of_its_q(riverswim):
    fh = mdpkit.FiniteHorizonMDP.from_tabular(riverswim(3), 4)
    agent = UCBVI(3, 2, 4, 50, tie_break="first")
    run = run_episodic(fh, agent, 50, seed=0)
    np.testing.assert_array_equal(run.policies[run.policy_ids[-1]], np.argmax(agent.Q, axis=2))


def test_random_tie_breaking_is_uniform():
    q = np.array([1.0, 3.0, 3.0, -np.inf, 3.0])
    picks = [K.pick_max(q, u) for u in np.linspace(0, 1, 300, endpoint=False)]
    assert set(picks) == {1, 2, 4} and all(abs(picks.count(a) - 100) <= 1 for a in (1, 2, 4))
    assert K.pick_max(q, -1.0) == 1


# ----------------------------------------------------------------------------- registry
def test_make_agent_and_its_errors():
    spec_c = EnvSpec(3, 2, np.ones((3, 2), dtype=bool), None, 100)
    spec_e = EnvSpec(3, 2, np.ones((3, 2), dtype=bool), 5, 100)
    assert isinstance(make_agent("ucrl2", spec_c, 0, delta=0.1), UCRL2)
    assert isinstance(make_agent("UCBVI", spec_e, 0), UCBVI)
    assert isinstance(make_agent("random", spec_e, 0), RandomAgent)
    assert make_agent("ucbvi", spec_e, 0).K == 20
    with pytest.raises(InvalidArgumentError, match=r"unknown parameter\(s\) \['gamma'\]; it accepts"):
        make_agent("ucrl2", spec_c, 0, gamma=0.9)
    with pytest.raises(InvalidArgumentError, match="does not support the episodic setting"):
        make_agent("ucrl2", spec_e, 0)
    with pytest.raises(InvalidArgumentError, match="unknown algorithm 'psrl'"):
        make_agent("psrl", spec_c, 0)
    with pytest.raises(InvalidArgumentError, match="cannot be imported"):
        resolve_agent("nowhere.module:Agent")
    with pytest.raises(InvalidArgumentError, match="delta"):
        UCRL2(3, 2, delta=1.5)
    with pytest.raises(InvalidArgumentError, match="tie_break"):
        UCBVI(3, 2, 4, 10, tie_break="last")
    with pytest.raises(InvalidArgumentError, match="state 1 has no feasible action"):
        RandomAgent(2, 2, mask=np.array([[True, False], [False, False]]))
    assert set(agent_params("ucbvi")) == {"delta", "bonus_scale", "tie_break"}
