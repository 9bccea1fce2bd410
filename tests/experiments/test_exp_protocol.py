"""The online-learning protocol: environment sampling, runners, exact regret, policy checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdpkit
from mdpkit.errors import InvalidArgumentError, InvalidPolicyError
from mdpkit.experiments import (
    Agent,
    Observation,
    RandomAgent,
    TabularEnv,
    Transition,
    run_continuing,
    run_episodic,
)
from mdpkit.experiments.protocol import _FiniteEvaluator
from tests.experiments.helpers import FixedPolicyAgent, random_mdp


def test_env_next_state_frequencies_match_the_kernel():
    mdp = random_mdp(5, 2, seed=1)
    env = TabularEnv(mdp, seed=3)
    n = 40_000
    for s, a in [(0, 0), (3, 1)]:
        counts = np.bincount([env.step(s, a)[1] for _ in range(n)], minlength=5)
        p = mdp.P[s, a]
        se = np.sqrt(p * (1 - p) / n)
        assert np.all(np.abs(counts / n - p) <= 5 * se), (counts / n, p)


def test_env_reward_is_the_mean_or_a_bernoulli_draw():
    mdp = random_mdp(3, 2, seed=2)
    r, _ = TabularEnv(mdp, seed=0).step(1, 1)
    assert r == mdp.R[1, 1]
    env = TabularEnv(mdp, seed=0, reward_noise="bernoulli")
    draws = np.array([env.step(1, 1)[0] for _ in range(20_000)])
    assert set(np.unique(draws)) <= {0.0, 1.0}
    p = mdp.R[1, 1]
    assert abs(draws.mean() - p) <= 5 * np.sqrt(p * (1 - p) / draws.size)


def test_env_rejects_bernoulli_rewards_outside_unit_interval():
    P = np.full((2, 1, 2), 0.5)
    mdp = mdpkit.TabularMDP(P, np.array([[2.0], [0.0]]))
    with pytest.raises(InvalidArgumentError, match=r"rewards in \[0, 2\]"):
        TabularEnv(mdp, seed=0, reward_noise="bernoulli")
    with pytest.raises(InvalidArgumentError, match="reward_noise"):
        TabularEnv(mdp, seed=0, reward_noise="gauss")


def test_episodic_regret_of_the_optimal_policy_is_zero(riverswim):
    fh = mdpkit.FiniteHorizonMDP.from_tabular(riverswim(5), 12)
    sol = mdpkit.backward_induction(fh)
    agent = FixedPolicyAgent(sol.policy)
    run = run_episodic(fh, agent, 50, seed=0)
    assert run.K == 50 and agent.episodes == 50 and len(agent.seen) == 50 * 12
    assert np.array_equal(run.values, run.v_star[run.start_states])
    assert np.all(run.regret() == 0.0)
    assert run.n_switches == 0 and len(run.policies) == 1
    np.testing.assert_array_equal(run.steps, 12 * np.arange(1, 51))


def test_episodic_regret_uses_the_exact_value_of_the_played_policy():
    mdp = random_mdp(4, 3, seed=5)
    fh = mdpkit.FiniteHorizonMDP.from_tabular(mdp, 6)
    run = run_episodic(fh, RandomAgent(4, 3, seed=1), 30, seed=2)
    V_unif, _ = mdpkit.evaluate_finite(fh, np.full((4, 3), 1 / 3))
    V_star = mdpkit.backward_induction(fh).V[0]
    np.testing.assert_allclose(run.values, V_unif[0][run.start_states], rtol=0, atol=1e-13)
    np.testing.assert_allclose(run.regret(), np.cumsum(V_star[run.start_states] - run.values), atol=1e-12)
    np.testing.assert_allclose(
        run.realized_regret(), np.cumsum(V_star[run.start_states] - run.returns), atol=1e-12
    )


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 7), st.booleans(), st.integers(0, 2**32 - 1))
def test_fast_evaluation_of_deterministic_policies_matches_evaluate_finite(S, A, H, stationary, seed):
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S)) if stationary else rng.random((H, S, A, S))
    P /= P.sum(axis=-1, keepdims=True)
    R = rng.random((H, S, A))
    # a 4-d reward (H, S, A, S) avoids the (H, S, A) / (S, A, S) ambiguity when H == S == A
    fh = mdpkit.FiniteHorizonMDP(P, np.repeat(R[..., None], S, axis=-1), H, terminal=rng.random(S))
    pols = [rng.integers(0, A, size=(H, S)), rng.integers(0, A, size=S)]
    got = _FiniteEvaluator(fh).values(pols)
    for p, v in zip(pols, got, strict=True):
        np.testing.assert_allclose(v, mdpkit.evaluate_finite(fh, p)[0][0], rtol=1e-13, atol=1e-12)


def test_continuing_regret_and_pseudo_regret(riverswim):
    mdp = riverswim(4)
    sol = mdpkit.average_reward(mdp, tol=1e-12)
    run = run_continuing(mdp, FixedPolicyAgent(sol.policy), 3000, seed=1)
    t = np.arange(1, 3001)
    np.testing.assert_array_equal(run.regret(), sol.gain * t - np.cumsum(run.rewards))
    # the optimal policy has gain rho* in every state: zero pseudo-regret (up to the solvers' tolerance)
    assert np.max(np.abs(run.pseudo_regret())) <= 1e-9 * 3000
    assert run.n_switches == 0
    # the uniform policy: pseudo-regret grows by rho* - g_unif per step
    rand = run_continuing(mdp, RandomAgent(4, 2, seed=0), 2000, seed=1)
    g, _ = mdpkit.policy_gain(mdp, np.full((4, 2), 0.5))
    np.testing.assert_allclose(np.diff(rand.pseudo_regret()), sol.gain - g[rand.states[1:]], atol=1e-9)
    assert rand.pseudo_regret()[-1] > 0


def test_an_agent_seeded_like_the_environment_draws_independent_numbers(riverswim):
    """An int seed gives the environment a stream of its own: the random agent's realised regret then
    tracks its pseudo-regret: their gap is a martingale with increments at most 1 + sp(h) (h: bias of the
    uniform policy), below 5 sqrt(T) (1 + sp(h)) but with probability 1e-5 (Azuma)."""
    mdp = riverswim(3)
    T = 50_000
    run = run_continuing(mdp, RandomAgent(3, 2, seed=0), T, seed=0)
    _, h = mdpkit.policy_gain(mdp, np.full((3, 2), 0.5))
    span = float(h.max() - h.min())
    assert abs(run.regret()[-1] - run.pseudo_regret()[-1]) <= 5 * np.sqrt(T) * (1 + span) + span


class _SwitchingAgent(Agent):
    """Switches between two deterministic policies at fixed times (continuing) or mid-episode (episodic)."""

    def __init__(self, S: int, at: set[int]) -> None:
        self.pis = [np.zeros(S, dtype=np.int64), np.ones(S, dtype=np.int64)]
        self.i = 0
        self.t = 0
        self.at = at

    def act(self, obs: Observation) -> int:
        if self.t in self.at:
            self.i = 1 - self.i
        self.t += 1
        return int(self.pis[self.i][obs.state])

    def observe(self, transition: Transition) -> None:
        pass

    def policy(self) -> np.ndarray:
        return self.pis[self.i]


def test_policy_switches_are_recorded(riverswim):
    run = run_continuing(riverswim(3), _SwitchingAgent(3, {10, 25, 26}), 40, seed=0)
    np.testing.assert_array_equal(run.switch_times, [10, 25, 26])
    assert len(run.policies) == 2
    np.testing.assert_array_equal(run.policy_ids[:10], 0)
    np.testing.assert_array_equal(run.policy_ids[10:25], 1)


def test_episodic_agent_may_not_switch_inside_an_episode(riverswim):
    fh = mdpkit.FiniteHorizonMDP.from_tabular(riverswim(3), 5)
    with pytest.raises(InvalidPolicyError, match="inside episode 1"):
        run_episodic(fh, _SwitchingAgent(3, {7}), 4, seed=0)


class _LyingAgent(Agent):
    def act(self, obs):
        return 1

    def observe(self, transition):
        pass

    def policy(self):
        return np.zeros(3, dtype=np.int64)


class _BadActionAgent(Agent):
    def __init__(self, action):
        self.action = action

    def act(self, obs):
        return self.action

    def observe(self, transition):
        pass


def test_actions_are_checked(riverswim):
    mdp = riverswim(3)
    with pytest.raises(InvalidPolicyError, match="step 0, state 0: the agent played action 1"):
        run_continuing(mdp, _LyingAgent(), 5, seed=0)
    run_continuing(mdp, _LyingAgent(), 5, seed=0, check_policy=False)
    with pytest.raises(InvalidArgumentError, match="returned action 2 at step 0 in state 0: not feasible"):
        run_continuing(mdp, _BadActionAgent(2), 5, seed=0)
    with pytest.raises(InvalidArgumentError, match="expected an int"):
        run_continuing(mdp, _BadActionAgent(0.5), 5, seed=0)
    run = run_continuing(mdp, _BadActionAgent(np.int64(1)), 5, seed=0)  # numpy ints are fine
    assert np.all(run.actions == 1) and np.all(np.isnan(run.pseudo_regret()))


def test_infeasible_actions_are_rejected():
    P = np.full((2, 2, 2), 0.5)
    mask = np.array([[True, False], [True, True]])
    mdp = mdpkit.TabularMDP(P, np.ones((2, 2)), mask=mask)
    with pytest.raises(InvalidArgumentError, match="action 1 at step 0 in state 0: not feasible"):
        run_continuing(mdp.with_initial(np.array([1.0, 0.0])), _BadActionAgent(1), 3, seed=0)
    # the random agent only plays feasible actions
    run = run_continuing(mdp, RandomAgent(2, 2, mask=mask, seed=0), 500, seed=0)
    assert not np.any((run.states == 0) & (run.actions == 1))


def test_reported_policy_shape_is_validated(riverswim):
    class Wrong(_LyingAgent):
        def act(self, obs):
            return 0

        def policy(self):
            return np.zeros((2, 3))

    with pytest.raises(InvalidPolicyError, match=r"shape \(2, 3\)"):
        run_continuing(riverswim(3), Wrong(), 3, seed=0)


def test_bad_arguments(riverswim):
    mdp = riverswim(3)
    with pytest.raises(InvalidArgumentError, match="T = 0"):
        run_continuing(mdp, RandomAgent(3, 2), 0, seed=0)
    with pytest.raises(InvalidArgumentError, match="needs a FiniteHorizonMDP"):
        run_episodic(mdp, RandomAgent(3, 2), 3, seed=0)
    with pytest.raises(InvalidArgumentError, match="seed"):
        run_continuing(mdp, RandomAgent(3, 2), 3, seed=-1)


def test_runs_are_deterministic_in_the_seed(riverswim):
    mdp = riverswim(4)
    a = run_continuing(mdp, RandomAgent(4, 2, seed=7), 500, seed=3)
    b = run_continuing(mdp, RandomAgent(4, 2, seed=7), 500, seed=3)
    c = run_continuing(mdp, RandomAgent(4, 2, seed=7), 500, seed=4)
    assert np.array_equal(a.states, b.states) and np.array_equal(a.rewards, b.rewards)
    assert not np.array_equal(a.states, c.states)
