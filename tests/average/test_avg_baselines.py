"""SpanUCRL: the span-truncated UCRL2 baseline."""

from __future__ import annotations

import numpy as np
import pytest

import mdpkit
from mdpkit.average.baselines import UCRL2, SpanUCRL
from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments import EnvSpec, run_continuing
from mdpkit.experiments.agents import make_agent


def test_large_cap_is_ucrl2():
    mdp = mdpkit.envs.riverswim(4)
    a = run_continuing(mdp, UCRL2(4, 2, seed=3), 5000, seed=1)
    b = run_continuing(mdp, SpanUCRL(4, 2, 1e9, seed=3), 5000, seed=1)
    np.testing.assert_array_equal(a.actions, b.actions)


def test_small_cap_truncates_the_optimistic_bias():
    mdp = mdpkit.envs.riverswim(6)
    agent = SpanUCRL(6, 2, 0.5, seed=0)
    run_continuing(mdp, agent, 3000, seed=0)
    assert agent.u.max() - agent.u.min() <= 0.5 + 1e-12
    assert agent.stats["episodes"] >= 2


def test_factory_and_validation():
    spec = EnvSpec(3, 2, np.ones((3, 2), bool), None, 100)
    assert isinstance(make_agent("ucrl2-span", spec, 0, span_bound=2.0), SpanUCRL)
    with pytest.raises(InvalidArgumentError, match="needs span_bound"):
        make_agent("ucrl2-span", spec, 0)
    with pytest.raises(InvalidArgumentError, match="span_bound = -1"):
        SpanUCRL(3, 2, -1.0)
