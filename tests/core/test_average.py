"""Average-reward solvers on hand-made models: gain/bias, structure checks, multichain detection, options.

Random communicating models are covered in ``tests/property/test_core_identities.py``; closed-form chains
(stationary distributions, the periodic 2-cycle) in ``tests/core/test_textbook.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import mdpkit
from mdpkit import MultichainError, TabularMDP
from mdpkit.core.average import chain_limit, relative_value_iteration


def two_absorbing_states(r0: float = 0.0, r1: float = 1.0) -> TabularMDP:
    """Two absorbing states with rewards r0 and r1 and one action: gains (r0, r1), not constant."""
    P = np.zeros((2, 1, 2))
    P[0, 0, 0] = P[1, 0, 1] = 1.0
    return TabularMDP(P, np.array([[r0], [r1]]))


def trap_model() -> TabularMDP:
    """State 0 can go to the good absorbing state 1 (r=1) or the bad absorbing state 2 (r=0); states 1 and 2
    never leave. Optimal gains (1, 1, 0): not constant, although every state-0 decision is made once."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[0, 1, 2] = 1.0
    P[1, :, 1] = 1.0
    P[2, :, 2] = 1.0
    R = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    return TabularMDP(P, R)


@pytest.mark.parametrize("method", ["rvi", "lp"])
@pytest.mark.parametrize("model", [two_absorbing_states, trap_model])
def test_multichain_raises(method, model):
    mdp = model()
    assert not mdpkit.is_communicating(mdp)
    with pytest.raises(MultichainError, match="optimal gain is not constant") as info:
        mdpkit.average_reward(mdp, method)
    msg = str(info.value)
    assert "between 0 (state" in msg and "and 1 (state" in msg  # names the gains and the states


def test_multichain_can_be_reported_instead_of_raised():
    sol = relative_value_iteration(two_absorbing_states(), raise_on_multichain=False)
    assert not sol.converged
    assert sol.gain_lower == pytest.approx(0.0, abs=1e-12) and sol.gain_upper == pytest.approx(1.0, abs=1e-12)


def test_multichain_error_is_an_mdpkit_error_but_not_a_value_error():
    assert issubclass(MultichainError, mdpkit.MdpkitError)
    assert not issubclass(MultichainError, ValueError)


def test_equal_gains_in_two_closed_classes_are_fine():
    """Two absorbing states with the same reward: multichain structure, but a constant optimal gain."""
    sol = mdpkit.average_reward(two_absorbing_states(0.5, 0.5))
    assert sol.converged and sol.gain == pytest.approx(0.5, abs=1e-12)


def test_weakly_communicating_with_transient_state():
    """State 2 is transient under every policy and leads to the communicating class {0, 1}."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 0] = 1.0  # stay
    P[0, 1, 1] = 1.0  # go to 1
    P[1, 0, 1] = 1.0
    P[1, 1, 0] = 1.0
    P[2, :, 0] = 1.0
    R = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    mdp = TabularMDP(P, R)
    assert not mdpkit.is_communicating(mdp)
    for method in ("rvi", "lp"):
        sol = mdpkit.average_reward(mdp, method)
        assert sol.converged and sol.gain == pytest.approx(1.0, abs=1e-10)  # sit in state 1 forever
        assert sol.policy[1] == 0
        # bias: h(1) - h(0) = 1 (the detour 0 -> 1 costs one step of gain), h(2) = 5 - 1 + h(0)
        np.testing.assert_allclose(sol.h - sol.h[0], [0.0, 1.0, 4.0], atol=1e-9)


class TestIsCommunicating:
    def test_cycle_is_communicating(self):
        P = np.zeros((3, 1, 3))
        P[np.arange(3), 0, (np.arange(3) + 1) % 3] = 1.0
        assert mdpkit.is_communicating(TabularMDP(P, np.zeros((3, 1))))
        assert mdpkit.is_communicating(TabularMDP(sp.csr_matrix(P.reshape(3, 3)), np.zeros((3, 1))))

    def test_masked_action_breaks_communication(self):
        """Action 1 of state 2 is the only way back to 0; masking it breaks the strong connectivity."""
        P = np.zeros((3, 2, 3))
        P[0, :, 1] = 1.0
        P[1, :, 2] = 1.0
        P[2, 0, 2] = 1.0
        P[2, 1, 0] = 1.0
        mdp = TabularMDP(P, np.zeros((3, 2)))
        assert mdpkit.is_communicating(mdp)
        masked = TabularMDP(P, np.zeros((3, 2)), mask=np.array([[1, 1], [1, 1], [1, 0]], dtype=bool))
        assert not mdpkit.is_communicating(masked)

    def test_single_state(self):
        assert mdpkit.is_communicating(TabularMDP(np.ones((1, 2, 1)), np.zeros((1, 2))))


class TestChainLimit:
    def test_periodic_chain(self):
        P = np.array([[0.0, 1.0], [1.0, 0.0]])
        np.testing.assert_allclose(chain_limit(P), 0.5, atol=1e-15)

    def test_absorption_probabilities(self):
        """From state 0: to 1 w.p. 0.3, to 2 w.p. 0.2, stay w.p. 0.5; 1 and 2 absorbing.
        Absorption in 1 from 0: 0.3 / (0.3 + 0.2) = 0.6."""
        P = np.array([[0.5, 0.3, 0.2], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        np.testing.assert_allclose(chain_limit(P), [[0, 0.6, 0.4], [0, 1, 0], [0, 0, 1]], atol=1e-15)

    def test_is_a_projection_commuting_with_P(self):
        rng = np.random.default_rng(0)
        P = rng.random((6, 6)) * (rng.random((6, 6)) < 0.3)
        P[np.arange(6), np.arange(6)] += 0.01
        P /= P.sum(axis=1, keepdims=True)
        L = chain_limit(P)
        np.testing.assert_allclose(L @ L, L, atol=1e-12)
        np.testing.assert_allclose(P @ L, L, atol=1e-12)
        np.testing.assert_allclose(L @ P, L, atol=1e-12)
        np.testing.assert_allclose(L.sum(axis=1), 1.0, atol=1e-12)


def test_policy_gain_of_a_multichain_policy():
    """Under 'always action 0' in trap_model: state 0 -> 1 (gain 1), 1 absorbing (1), 2 absorbing (0)."""
    g, h = mdpkit.policy_gain(trap_model(), np.array([0, 0, 0]))
    np.testing.assert_allclose(g, [1.0, 1.0, 0.0], atol=1e-15)
    # bias: P* h = 0 on each closed class, and g + h = r + P h gives h(0) = 0 - 1 + h(1) = -1
    np.testing.assert_allclose(h, [-1.0, 0.0, 0.0], atol=1e-15)


def test_gamma_is_ignored():
    rng = np.random.default_rng(1)
    P = rng.random((4, 2, 4)) + 0.1
    P /= P.sum(axis=-1, keepdims=True)
    R = rng.random((4, 2))
    a = mdpkit.average_reward(TabularMDP(P, R, None))
    b = mdpkit.average_reward(TabularMDP(P, R, 0.3))
    assert a.gain == b.gain
    np.testing.assert_array_equal(a.h, b.h)


def test_solution_fields_and_options():
    rng = np.random.default_rng(2)
    P = rng.random((5, 3, 5)) + 0.05
    P /= P.sum(axis=-1, keepdims=True)
    mdp = TabularMDP(P, rng.random((5, 3)))
    for method in ("rvi", "lp"):
        sol = mdpkit.average_reward(mdp, method, tol=1e-11)
        assert sol.method == method and sol.converged
        assert sol.h.min() == 0.0 and sol.span == pytest.approx(sol.h.max(), rel=1e-15)
        assert sol.gain_lower <= sol.gain <= sol.gain_upper
        assert sol.gain_upper - sol.gain_lower <= 1e-11
        assert sol.residual == pytest.approx((sol.gain_upper - sol.gain_lower) / 2, rel=1e-12, abs=1e-300)
    # reference state and aperiodicity parameter do not change the answer beyond the tolerance
    base = mdpkit.average_reward(mdp)
    for kw in ({"ref": 3}, {"tau": 1.0}, {"tau": 0.1}):
        other = relative_value_iteration(mdp, **kw)
        assert other.gain == pytest.approx(base.gain, abs=1e-10)
        np.testing.assert_allclose(other.h, base.h, atol=1e-8)
    budget = relative_value_iteration(mdp, max_iter=1)
    assert not budget.converged and budget.iterations == 1
    assert budget.gain_lower <= base.gain + 1e-12 and base.gain <= budget.gain_upper + 1e-12
