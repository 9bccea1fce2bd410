"""MLE-LOOP: the confidence set at each update, the lazy-update rule, registration, learning."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mdpkit
from mdpkit.average import _numba as AK
from mdpkit.average.loop import MLELoop, loop_beta
from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments import EnvSpec, run_continuing
from mdpkit.experiments.agents import make_agent


def _max_stats(agent: MLELoop) -> float:
    """Largest lazy statistic over all pairs, against the hypothesis in force."""
    worst = 0.0
    for s in range(agent.S):
        for a in range(agent.A):
            n = agent.n_sa[s][a]
            sp, sr = AK.lazy_statistic(
                agent.n_sas[s, a], n, agent.p_tilde[s, a], agent.r_sum[s][a], agent.r_tilde[s, a]
            )
            worst = max(worst, sp, sr)
    return worst


class _Checked(MLELoop):
    """Records the statistics right before and right after every update."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before: list[float] = []
        self.after: list[float] = []

    def _update(self) -> None:
        if self._pi is not None:
            self.before.append(_max_stats(self))
        super()._update()
        self.after.append(_max_stats(self))


@pytest.mark.parametrize("beta_scale", [1.0, 0.01])
def test_lazy_rule_and_confidence_set_invariants(beta_scale):
    mdp = mdpkit.envs.riverswim(5)
    T = 20_000
    agent = _Checked(5, 2, T, beta_scale=beta_scale, seed=1)
    run = run_continuing(mdp, agent, T, seed=2)
    beta = agent.beta
    assert agent.stats["updates"] == len(agent.update_times) == len(agent.after)
    # at each update the optimistic hypothesis lies in the (relaxed) confidence set: every statistic <= beta
    assert max(agent.after) <= beta * (1 + 1e-12)
    # an update happens only when the hypothesis in force failed the 3 beta test
    assert all(b > 3 * beta for b in agent.before)
    # ... and the hypothesis in force at the end has not failed it
    assert _max_stats(agent) <= 3 * beta
    # the runner's switches are a subset of the updates (an update may return the same policy)
    assert run.n_switches <= agent.stats["updates"] - 1
    assert agent.update_times[0] == 1


def test_paper_constant_switches_rarely_and_scaled_learns():
    mdp = mdpkit.envs.riverswim(4)
    T = 40_000
    lazy = MLELoop(4, 2, T, seed=0)
    run1 = run_continuing(mdp, lazy, T, seed=0)
    # a statistic is at most 2n: no test fires before some pair has more than 1.5 beta visits
    assert len(lazy.update_times) >= 2 and lazy.update_times[1] > 1.5 * lazy.beta
    assert run1.n_switches <= len(lazy.update_times) - 1
    fast = MLELoop(4, 2, T, beta_scale=0.01, seed=0)
    run2 = run_continuing(mdp, fast, T, seed=0)
    opt = mdpkit.average_reward(mdp, tol=1e-12)
    g, _ = mdpkit.policy_gain(mdp, run2.policies[run2.policy_ids[-1]])
    assert g.min() == pytest.approx(opt.gain, abs=1e-9)  # ends on an optimal policy
    reg = run2.pseudo_regret()
    assert reg[-1] / T < 0.5 * reg[T // 10 - 1] / (T // 10)  # sublinear over the last decade


def test_beta_formula_and_validation():
    S, A, T, delta = 6, 2, 10_000, 0.05
    expected = math.log(T / delta) + S * A * (S + 1) * math.log(1 + 2 * T)
    assert loop_beta(S, A, T, delta) == pytest.approx(expected, rel=1e-15)
    assert loop_beta(S, A, T, delta, scale=0.5) == pytest.approx(expected / 2, rel=1e-15)
    assert MLELoop(S, A, T, beta=7.0).beta == 7.0
    with pytest.raises(InvalidArgumentError, match="threshold = 0.5"):
        MLELoop(S, A, T, threshold=0.5)
    with pytest.raises(InvalidArgumentError, match="delta = 2"):
        MLELoop(S, A, T, delta=2)
    with pytest.raises(InvalidArgumentError, match="T = 0"):
        loop_beta(S, A, 0)


def test_registered_in_the_agent_factory():
    spec = EnvSpec(3, 2, np.ones((3, 2), bool), None, 1000)
    agent = make_agent("loop", spec, 0, beta_scale=0.1)
    assert isinstance(agent, MLELoop) and agent.beta == pytest.approx(loop_beta(3, 2, 1000, scale=0.1))
    with pytest.raises(InvalidArgumentError, match="unknown parameter"):
        make_agent("loop", spec, 0, conf_scale=0.1)
    episodic = EnvSpec(3, 2, np.ones((3, 2), bool), 5, 1000)
    with pytest.raises(InvalidArgumentError, match="does not support the episodic"):
        make_agent("loop", episodic, 0)


def test_deterministic_given_seeds_and_respects_mask():
    mdp = mdpkit.envs.random_communicating(5, 3, seed=4)
    mask = np.ones((5, 3), bool)
    mask[0, 2] = False
    mdp = mdpkit.TabularMDP(mdp.dense_P(), mdp.R, None, mask=mask)
    runs = [
        run_continuing(mdp, MLELoop(5, 3, 3000, mask=mask, beta_scale=0.05, seed=9), 3000, seed=1)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].actions, runs[1].actions)
    assert not np.any((runs[0].states == 0) & (runs[0].actions == 2))
