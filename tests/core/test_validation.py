"""Bad-input tests for every validation rule of mdpkit's core (models, policies, solver options).

Every test asserts both the exception class (a subclass of :class:`mdpkit.MdpkitError`) and that the message
names the offending index and/or value, as promised in ``mdpkit/core/validate.py`` and ``ARCHITECTURE.md``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import mdpkit
from mdpkit import (
    FiniteHorizonMDP,
    InvalidArgumentError,
    InvalidMDPError,
    InvalidPolicyError,
    MdpkitError,
    TabularMDP,
)
from mdpkit.core.average import relative_value_iteration


def raises(exc: type[Exception], fn, *fragments: str) -> str:
    """Assert that ``fn()`` raises ``exc`` (an MdpkitError) with every fragment in its message."""
    assert issubclass(exc, MdpkitError)
    with pytest.raises(exc) as info:
        fn()
    msg = str(info.value)
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in message {msg!r}"
    return msg


def uniform_P(S: int = 2, A: int = 2) -> np.ndarray:
    return np.full((S, A, S), 1.0 / S)


def small_mdp(gamma: float | None = 0.9, mask: np.ndarray | None = None) -> TabularMDP:
    P = np.zeros((3, 2, 3))
    P[:, 0, :] = np.eye(3)[[1, 2, 0]]  # action 0: cycle
    P[:, 1, :] = 1.0 / 3.0
    R = np.array([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]])
    return TabularMDP(P, R, gamma, mask=mask)


def test_every_error_class_is_an_mdpkit_error():
    for cls in (
        mdpkit.InvalidMDPError,
        mdpkit.InvalidPolicyError,
        mdpkit.InvalidArgumentError,
        mdpkit.MultichainError,
        mdpkit.ConvergenceError,
        mdpkit.BackendUnavailableError,
    ):
        assert issubclass(cls, MdpkitError)
    # the three "bad input" errors are also ValueErrors, so generic callers can catch them
    for cls in (InvalidMDPError, InvalidPolicyError, InvalidArgumentError):
        assert issubclass(cls, ValueError)


# ====================================================================================== dense kernel P
class TestDenseKernel:
    @pytest.mark.parametrize(
        ("shape", "text"),
        [
            ((2, 2), "P has shape (2, 2), expected (S, A, S)"),
            ((2, 3, 4), "P has shape (2, 3, 4)"),
            ((3,), "(3,)"),
        ],
    )
    def test_wrong_shape(self, shape, text):
        raises(InvalidMDPError, lambda: TabularMDP(np.ones(shape), np.zeros((2, 2)), 0.9), text)

    def test_four_dimensional_kernel_is_rejected_by_tabular(self):
        raises(InvalidMDPError, lambda: TabularMDP(np.ones((1, 2, 2, 2)), np.zeros((2, 2))), "(1, 2, 2, 2)")

    def test_zero_states_or_actions(self):
        raises(InvalidMDPError, lambda: TabularMDP(np.zeros((0, 1, 0)), np.zeros((0, 1))), "S=0", "A=1")
        raises(InvalidMDPError, lambda: TabularMDP(np.zeros((2, 0, 2)), np.zeros((2, 0))), "S=2", "A=0")

    def test_not_numeric(self):
        raises(InvalidMDPError, lambda: TabularMDP([[["a", "b"]]], np.zeros((1, 1))), "P cannot be converted")

    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_non_finite_entry(self, bad):
        P = uniform_P(3, 2)
        P[1, 0, 2] = bad
        msg = raises(InvalidMDPError, lambda: TabularMDP(P, np.zeros((3, 2))), "P[1, 0, 2] = ", "not finite")
        assert repr(float(bad)) in msg

    def test_negative_probability(self):
        P = uniform_P(2, 2)
        P[0, 1, :] = [1.25, -0.25]  # sums to 1: only the sign is wrong
        raises(InvalidMDPError, lambda: TabularMDP(P, np.zeros((2, 2))), "P[0, 1, 1] = ", "-0.25", "negative")

    def test_row_sum_message_format(self):
        """The documented example: ``P[3, 1, :] sums to 0.97, expected 1 (tolerance 1e-09)``."""
        P = uniform_P(4, 2)
        P[3, 1, :] = [0.5, 0.47, 0.0, 0.0]
        raises(
            InvalidMDPError,
            lambda: TabularMDP(P, np.zeros((4, 2))),
            "P[3, 1, :] sums to 0.97, expected 1 (tolerance 1e-09)",
        )

    def test_first_bad_row_is_named(self):
        P = uniform_P(3, 2)
        P[1, 1, :] *= 1.1
        P[2, 0, :] *= 0.5
        msg = raises(InvalidMDPError, lambda: TabularMDP(P, np.zeros((3, 2))), "P[1, 1, :] sums to 1.1")
        assert "P[2, 0" not in msg

    def test_row_sum_tolerance_is_1e_9(self):
        P = uniform_P(2, 1)
        P[0, 0, 0] += 5e-10  # inside the tolerance: accepted
        TabularMDP(P, np.zeros((2, 1)))
        P[0, 0, 0] += 1.5e-9  # 2e-9 off: rejected
        raises(InvalidMDPError, lambda: TabularMDP(P, np.zeros((2, 1))), "P[0, 0, :] sums to 1.000000002")

    def test_rows_of_infeasible_pairs_are_not_checked(self):
        P = uniform_P(2, 2)
        P[1, 0, :] = [0.3, 0.3]  # junk row of a masked pair
        mask = np.array([[True, True], [False, True]])
        mdp = TabularMDP(P, np.zeros((2, 2)), 0.9, mask=mask)
        np.testing.assert_array_equal(mdp.P[1, 0], [0.0, 1.0])  # replaced by a self-loop
        # but the same row is checked once the pair is feasible
        raises(InvalidMDPError, lambda: TabularMDP(P, np.zeros((2, 2)), 0.9), "P[1, 0, :] sums to 0.6")

    def test_nan_row_of_infeasible_pair_dense_matches_csr(self):
        """The docstring says rows of infeasible pairs are not checked; the CSR path honours it, so must
        the dense path (today the dense path rejects a NaN in a masked row, the CSR path accepts it)."""
        P = uniform_P(2, 2)
        P[0, 1, :] = np.nan
        mask = np.array([[True, False], [True, True]])
        sparse = TabularMDP(sp.csr_matrix(P.reshape(4, 2)), np.zeros((2, 2)), 0.9, mask=mask)
        dense = TabularMDP(P, np.zeros((2, 2)), 0.9, mask=mask)
        np.testing.assert_array_equal(dense.dense_P(), sparse.dense_P())


# ====================================================================================== CSR kernel
class TestCSRKernel:
    def test_rows_not_a_multiple_of_columns(self):
        P = sp.csr_matrix(np.full((7, 3), 1.0 / 3))
        raises(
            InvalidMDPError, lambda: TabularMDP(P, np.zeros((2, 3))), "P (CSR) has shape (7, 3)", "(S*A, S)"
        )

    def test_zero_columns(self):
        raises(InvalidMDPError, lambda: TabularMDP(sp.csr_matrix((4, 0)), np.zeros((2, 2))), "(4, 0)")

    def test_negative_entry(self):
        dense = uniform_P(3, 2).reshape(6, 3)
        dense[3, :] = [0.6, 0.6, -0.2]  # pair (1, 1)
        raises(
            InvalidMDPError,
            lambda: TabularMDP(sp.csr_matrix(dense), np.zeros((3, 2))),
            "P[1, 1, 2] = ",
            "-0.2",
            "negative",
        )

    @pytest.mark.parametrize("bad", [np.nan, np.inf])
    def test_non_finite_entry(self, bad):
        dense = uniform_P(3, 2).reshape(6, 3)
        dense[4, 1] = bad  # pair (2, 0), successor 1
        msg = raises(
            InvalidMDPError,
            lambda: TabularMDP(sp.csr_matrix(dense), np.zeros((3, 2))),
            "P[2, 0, 1] = ",
            "finite",
        )
        assert repr(float(bad)) in msg

    def test_row_sum(self):
        dense = uniform_P(4, 2).reshape(8, 4)
        dense[7, :] = [0.5, 0.47, 0.0, 0.0]  # pair (3, 1)
        raises(
            InvalidMDPError,
            lambda: TabularMDP(sp.csr_matrix(dense), np.zeros((4, 2))),
            "P[3, 1, :] sums to 0.97, expected 1 (tolerance 1e-09)",
        )

    def test_empty_row_of_feasible_pair(self):
        dense = uniform_P(2, 2).reshape(4, 2)
        dense[2, :] = 0.0  # pair (1, 0) has no successor
        raises(
            InvalidMDPError,
            lambda: TabularMDP(sp.csr_matrix(dense), np.zeros((2, 2))),
            "P[1, 0, :] sums to 0",
        )

    def test_duplicates_are_summed_before_checking(self):
        # (0, 0) stored twice as 0.5 + 0.5: a valid row once duplicates are summed
        P = sp.csr_matrix(([0.5, 0.5, 1.0], ([0, 0, 1], [0, 0, 1])), shape=(2, 2))
        mdp = TabularMDP(P, np.zeros((2, 1)), 0.5)
        np.testing.assert_array_equal(mdp.dense_P()[:, 0, :], np.eye(2))


# ====================================================================================== rewards
class TestReward:
    @pytest.mark.parametrize(
        ("shape", "text"),
        [
            ((2, 3), "R has shape (2, 3), expected (2, 2)"),
            ((3, 2), "R has shape (3, 2), expected (2, 2)"),
            ((2, 2, 3), "R has shape (2, 2, 3), expected (2, 2, 2)"),
            ((2,), "R has shape (2,), expected (S, A) or (S, A, S)"),
            ((2, 2, 2, 2), "R has shape (2, 2, 2, 2)"),
        ],
    )
    def test_wrong_shape(self, shape, text):
        raises(InvalidMDPError, lambda: TabularMDP(uniform_P(), np.zeros(shape)), text)

    @pytest.mark.parametrize("bad", [np.inf, np.nan])
    def test_plus_inf_or_nan(self, bad):
        R = np.zeros((2, 2))
        R[1, 0] = bad
        msg = raises(InvalidMDPError, lambda: TabularMDP(uniform_P(), R), "R[1, 0] = ", "not finite")
        assert repr(float(bad)) in msg

    def test_minus_inf_is_infeasible_in_2d_but_invalid_in_3d(self):
        R = np.zeros((2, 2))
        R[1, 0] = -np.inf
        mdp = TabularMDP(uniform_P(), R)
        assert not mdp.mask[1, 0]
        R3 = np.zeros((2, 2, 2))
        R3[0, 1, 1] = -np.inf
        raises(InvalidMDPError, lambda: TabularMDP(uniform_P(), R3), "R[0, 1, 1] = ", "-inf", "not finite")

    def test_nan_in_3d_reward(self):
        R3 = np.zeros((2, 2, 2))
        R3[1, 1, 0] = np.nan
        raises(InvalidMDPError, lambda: TabularMDP(uniform_P(), R3), "R[1, 1, 0] = ", "nan")

    def test_not_numeric(self):
        raises(InvalidMDPError, lambda: TabularMDP(uniform_P(), [["x", 1], [2, 3]]), "R cannot be converted")


# ====================================================================================== feasibility and mask
class TestFeasibility:
    def test_state_without_feasible_action_by_mask(self):
        mask = np.array([[True, False], [False, False]])
        raises(
            InvalidMDPError,
            lambda: TabularMDP(uniform_P(), np.zeros((2, 2)), mask=mask),
            "state 1 has no feasible action",
        )

    def test_state_without_feasible_action_by_minus_inf(self):
        R = np.zeros((3, 2))
        R[2, :] = -np.inf
        raises(InvalidMDPError, lambda: TabularMDP(uniform_P(3, 2), R), "state 2 has no feasible action")

    def test_mask_and_minus_inf_combine(self):
        R = np.zeros((2, 2))
        R[0, 0] = -np.inf
        mask = np.array([[True, False], [True, True]])
        raises(
            InvalidMDPError, lambda: TabularMDP(uniform_P(), R, mask=mask), "state 0 has no feasible action"
        )

    @pytest.mark.parametrize("shape", [(2, 3), (3, 2), (2,), (2, 2, 1)])
    def test_mask_shape(self, shape):
        raises(
            InvalidMDPError,
            lambda: TabularMDP(uniform_P(), np.zeros((2, 2)), mask=np.ones(shape, dtype=bool)),
            f"mask has shape {shape}, expected (S, A) = (2, 2)",
        )


# ====================================================================================== discount factor
class TestGamma:
    @pytest.mark.parametrize(
        ("gamma", "text"),
        [
            (-0.1, "gamma = -0.1 is outside [0, 1]"),
            (1.0000001, "gamma = 1.0000001 is outside [0, 1]"),
            (float("nan"), "gamma = nan"),
            (float("inf"), "gamma = inf"),
            ("0.9", "gamma = '0.9' must be a real number"),
            (True, "gamma = True must be a real number"),
            (1j, "gamma = 1j must be a real number"),
            ([0.9], "gamma = [0.9] must be a real number"),
        ],
    )
    def test_invalid_gamma(self, gamma, text):
        raises(InvalidMDPError, lambda: TabularMDP(uniform_P(), np.zeros((2, 2)), gamma), text)

    @pytest.mark.parametrize("gamma", [0, 0.0, 0.5, 1, 1.0, np.float32(0.25), np.float64(0.99), None])
    def test_valid_gamma(self, gamma):
        mdp = TabularMDP(uniform_P(), np.zeros((2, 2)), gamma)
        assert mdp.gamma is None if gamma is None else mdp.gamma == float(gamma)

    def test_with_gamma_validates(self):
        raises(InvalidMDPError, lambda: small_mdp().with_gamma(2.0), "gamma = 2.0 is outside")

    SOLVERS = [
        ("solve-vi", lambda m: mdpkit.solve(m, "vi"), "value_iteration"),
        ("solve-pi", lambda m: mdpkit.solve(m, "pi"), "policy_iteration"),
        ("solve-mpi", lambda m: mdpkit.solve(m, "mpi"), "modified_policy_iteration"),
        ("solve-lp", lambda m: mdpkit.solve(m, "lp"), "linear_program"),
        ("evaluate", lambda m: mdpkit.evaluate(m, np.zeros(3, dtype=int)), "evaluate"),
        ("occupancy", lambda m: mdpkit.occupancy(m, np.zeros(3, dtype=int)), "occupancy"),
        (
            "pdl",
            lambda m: mdpkit.performance_difference(m, np.zeros(3, dtype=int), np.ones(3, dtype=int)),
            "performance_difference",
        ),
        ("residual", lambda m: mdpkit.bellman_residual(m, np.zeros(3)), "bellman_residual"),
    ]

    @pytest.mark.parametrize(("name", "fn", "what"), SOLVERS, ids=[s[0] for s in SOLVERS])
    def test_discounted_solver_needs_gamma(self, name, fn, what):
        raises(InvalidMDPError, lambda: fn(small_mdp(None)), f"{what} needs a discount factor", "gamma=None")

    @pytest.mark.parametrize(("name", "fn", "what"), SOLVERS, ids=[s[0] for s in SOLVERS])
    def test_discounted_solver_rejects_gamma_one(self, name, fn, what):
        raises(InvalidMDPError, lambda: fn(small_mdp(1.0)), f"{what} needs 0 <= gamma < 1", "gamma = 1.0")


# ====================================================================================== initial distribution
class TestInitial:
    def test_wrong_shape(self):
        raises(
            InvalidMDPError,
            lambda: TabularMDP(uniform_P(3, 1), np.zeros((3, 1)), initial=[0.5, 0.5]),
            "initial has shape (2,), expected (3,)",
        )

    def test_not_summing_to_one(self):
        msg = raises(
            InvalidMDPError,
            lambda: TabularMDP(uniform_P(3, 1), np.zeros((3, 1)), initial=[0.2, 0.2, 0.2]),
            "initial",
            "sums to 0.6",
        )
        # ``initial`` is one-dimensional: the message must not invent a leading row index
        assert "initial[0, :]" not in msg, msg

    def test_negative_entry_names_its_index(self):
        """A 1-d distribution's bad entry is ``initial[1]``, not ``initial[0, 1]`` (a phantom row axis)."""
        raises(
            InvalidMDPError,
            lambda: TabularMDP(uniform_P(3, 1), np.zeros((3, 1)), initial=[1.2, -0.2, 0.0]),
            "initial[1] = ",
            "-0.2",
            "negative",
        )

    def test_non_finite(self):
        raises(
            InvalidMDPError,
            lambda: TabularMDP(uniform_P(3, 1), np.zeros((3, 1)), initial=[0.5, np.nan, 0.5]),
            "nan",
            "not finite",
        )

    def test_with_initial_and_occupancy_validate(self):
        mdp = small_mdp()
        raises(InvalidMDPError, lambda: mdp.with_initial([0.5, 0.5, 0.5]), "sums to 1.5")
        raises(
            InvalidArgumentError,
            lambda: mdpkit.occupancy(mdp, np.zeros(3, dtype=int), initial=[1.0, 0.0]),
            "shape (2,)",
        )

    def test_finite_horizon_initial(self):
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), 3, initial=[0.7, 0.7]),
            "sums to 1.4",
        )

    def test_occupancy_finite_rejects_a_non_distribution(self):
        """occupancy_finite validates the shape of ``initial`` but not that it is a distribution; an
        ``initial`` with a negative entry silently yields negative "occupancies"."""
        fh = FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), 2)
        pol = np.zeros((2, 2), dtype=int)
        raises(
            InvalidArgumentError,
            lambda: mdpkit.occupancy_finite(fh, pol, initial=[1.0]),
            "initial has shape (1,)",
        )
        with pytest.raises(MdpkitError, match=r"initial"):
            mdpkit.occupancy_finite(fh, pol, initial=[2.0, -1.0])


# ====================================================================================== finite horizon
class TestFiniteHorizon:
    @pytest.mark.parametrize(
        ("H", "text"),
        [
            (0, "H = 0 must be a positive integer"),
            (-2, "H = -2 must be a positive integer"),
            (2.0, "H = 2.0 must be a positive integer"),
            ("3", "H = '3' must be a positive integer"),
            (True, "H = True must be a positive integer"),
            (None, "H = None must be a positive integer"),
        ],
    )
    def test_bad_horizon(self, H, text):
        raises(InvalidMDPError, lambda: FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), H), text)

    def test_numpy_integer_horizon_is_accepted(self):
        assert FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), np.int64(3)).H == 3

    @pytest.mark.parametrize("stages", [2, 4])
    def test_wrong_number_of_stages(self, stages):
        P = np.stack([uniform_P()] * stages)
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(P, np.zeros((2, 2)), 3),
            f"P has {stages} stages, expected H = 3",
        )

    @pytest.mark.parametrize("shape", [(4, 2), (1, 1, 1, 1, 1)])
    def test_kernel_dimension(self, shape):
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(np.ones(shape), np.zeros((1, 1)), 1),
            f"P has shape {shape}",
        )

    def test_bad_stage_kernel_names_stage_and_row(self):
        P = np.stack([uniform_P()] * 3)
        P[2, 1, 0, :] = [0.5, 0.4]
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(P, np.zeros((2, 2)), 3),
            "stage h=2: P[1, 0, :] sums to 0.9",
        )

    def test_ambiguous_reward_shape_reads_as_time_indexed(self):
        # H = S = A = 2: a 3-d R of shape (2, 2, 2) fits both (H, S, A) and (S, A, S); the documented rule
        # reads it as (H, S, A), so R[h] is the reward of stage h.
        R = np.arange(8.0).reshape(2, 2, 2)
        fh = FiniteHorizonMDP(uniform_P(), R, 2)
        np.testing.assert_array_equal(fh.R, R)

    def test_reward_fits_neither_3d_reading(self):
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(uniform_P(), np.zeros((4, 2, 2)), 3),
            "R has shape (4, 2, 2), expected (H, S, A) = (3, 2, 2) or (S, A, S)",
        )

    def test_reward_4d_shape(self):
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(uniform_P(), np.zeros((2, 2, 2, 2)), 3),
            "R has shape (2, 2, 2, 2), expected (3, 2, 2, 2)",
        )

    @pytest.mark.parametrize("ndim", [1, 5])
    def test_reward_dimension(self, ndim):
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(uniform_P(), np.zeros((2,) * ndim), 3),
            "expected (H, S, A), (S, A), (H, S, A, S) or (S, A, S)",
        )

    def test_infinite_reward_time_indexed_kernel_names_stage(self):
        R = np.zeros((3, 2, 2))
        R[1, 0, 1] = np.inf
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(np.stack([uniform_P()] * 3), R, 3),
            "stage h=1: R[0, 1] = ",
            "inf",
        )

    def test_infinite_reward_stationary_kernel_names_stage(self):
        """The same bad R[1, 0, 1] with a stationary kernel: the message must still name the stage."""
        R = np.zeros((3, 2, 2))
        R[1, 0, 1] = np.inf
        raises(InvalidMDPError, lambda: FiniteHorizonMDP(uniform_P(), R, 3), "h=1", "R[0, 1] = ", "inf")

    def test_stage_without_feasible_action_time_indexed(self):
        mask = np.ones((3, 2, 2), dtype=bool)
        mask[2, 1, :] = False
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(np.stack([uniform_P()] * 3), np.zeros((2, 2)), 3, mask=mask),
            "stage h=2: state 1 has no feasible action",
        )

    def test_stage_without_feasible_action_stationary_names_stage(self):
        mask = np.ones((3, 2, 2), dtype=bool)
        mask[2, 1, :] = False
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), 3, mask=mask),
            "h=2",
            "state 1 has no feasible action",
        )

    @pytest.mark.parametrize("shape", [(2, 3), (3, 2, 3), (2, 1), (1, 2)])
    def test_mask_shape(self, shape):
        """A mask must be (S, A) or (H, S, A); today a wrong shape escapes as a raw numpy ValueError
        (``operands could not be broadcast``) or, for (S, 1) / (1, A), is silently broadcast."""
        with pytest.raises(InvalidMDPError, match=r"mask has shape"):
            FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), 3, mask=np.ones(shape, dtype=bool))

    def test_terminal(self):
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), 3, terminal=[0.0, np.nan]),
            "terminal[1] = ",
            "nan",
        )
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), 3, terminal=np.zeros(3)),
            "terminal has shape (3,), expected (2,)",
        )

    def test_csr_stationary_kernel_is_validated(self):
        dense = uniform_P(2, 2).reshape(4, 2)
        dense[1] = [0.2, 0.2]
        raises(
            InvalidMDPError,
            lambda: FiniteHorizonMDP(sp.csr_matrix(dense), np.zeros((2, 2)), 2),
            "P[0, 1, :] sums to 0.4",
        )


# ====================================================================================== policies
class TestPolicy:
    """Policies are validated by ``TabularMDP.policy_matrix`` (used by evaluate, occupancy, policy_gain)."""

    mask = np.array([[True, True], [False, True], [True, True]])

    def mdp(self):
        return small_mdp(0.9, mask=self.mask)

    CALLERS = [
        ("policy_matrix", lambda m, p: m.policy_matrix(p)),
        ("evaluate", lambda m, p: mdpkit.evaluate(m, p)),
        ("occupancy", lambda m, p: mdpkit.occupancy(m, p)),
        ("policy_gain", lambda m, p: mdpkit.policy_gain(m, p)),
        ("pdl-new", lambda m, p: mdpkit.performance_difference(m, p, np.array([0, 1, 0]))),
        ("pdl-old", lambda m, p: mdpkit.performance_difference(m, np.array([0, 1, 0]), p)),
    ]
    ids = [c[0] for c in CALLERS]

    @pytest.mark.parametrize(("name", "call"), CALLERS, ids=ids)
    @pytest.mark.parametrize(
        ("policy", "text"),
        [
            (np.array([0, 1]), "policy has shape (2,), expected (S,) = (3,) or (S, A)"),
            (np.full((3, 3), 1 / 3), "policy has shape (3, 3), expected (S, A) = (3, 2)"),
            (np.zeros((3, 2, 1)), "ndim 3"),
            (np.array([0, 1, 2]), "policy[2] = 2 is not an action in 0..1"),
            (np.array([0, 1, -1]), "policy[2] = -1 is not an action in 0..1"),
            (np.array([0, 0, 0]), "policy[1] = 0 is an infeasible action in state 1"),
            (np.array([0.0, 1.5, 0.0]), "must hold integer actions"),
            (np.array([0.0, np.nan, 0.0]), "must hold integer actions"),
            (np.array(["a", "b", "c"]), "must hold integer actions"),
            (np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.4]]), "policy[2, :] sums to 0.9"),
            (np.array([[1.5, -0.5], [0.0, 1.0], [0.5, 0.5]]), "policy[0, 1] = "),
            (
                np.array([[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]]),
                ("policy[1, 0] = ", "puts mass on an infeasible action in state 1"),
            ),
            (np.array([[1.0, 0.0], [0.0, 1.0], [np.nan, 1.0]]), "policy[2, 0] = "),
        ],
    )
    def test_bad_policy(self, name, call, policy, text):
        fragments = text if isinstance(text, tuple) else (text,)
        raises(InvalidPolicyError, lambda: call(self.mdp(), policy), *fragments)

    def test_integral_floats_are_accepted_as_actions(self):
        np.testing.assert_array_equal(
            self.mdp().policy_matrix(np.array([0.0, 1.0, 1.0])), [[1, 0], [0, 1], [0, 1]]
        )

    def test_tiny_mass_on_infeasible_action_is_rejected(self):
        pol = np.array([[1.0, 0.0], [1e-300, 1.0], [0.5, 0.5]])
        raises(InvalidPolicyError, lambda: self.mdp().policy_matrix(pol), "policy[1, 0] = ", "infeasible")

    def test_policy_iteration_policy0(self):
        mdp = self.mdp()
        raises(
            InvalidPolicyError,
            lambda: mdpkit.policy_iteration(mdp, policy0=np.array([0, 0, 0])),
            "policy0[1] = 0",
        )
        raises(
            InvalidPolicyError,
            lambda: mdpkit.solve(mdp, "pi", policy0=np.array([0, 1])),
            "policy0 has shape (2,)",
        )

    def test_policy_iteration_rejects_a_stochastic_policy0(self):
        """policy0 is documented as ``int ndarray (S,)``. A stochastic (S, A) matrix passes validation
        (check_policy accepts both forms) and then crashes inside numba with a TypingError."""
        mdp = self.mdp()
        with pytest.raises(InvalidPolicyError, match="policy0"):
            mdpkit.policy_iteration(mdp, policy0=np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))

    def test_finite_policy_messages_name_the_stage(self):
        fh = FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), 3, mask=np.array([[True, True], [True, False]]))
        pol = np.zeros((3, 2), dtype=int)
        pol[2, 0] = 7
        raises(
            InvalidPolicyError, lambda: mdpkit.evaluate_finite(fh, pol), "policy[2][0] = 7 is not an action"
        )
        pol[2, 0] = 0
        pol[1, 1] = 1
        raises(
            InvalidPolicyError, lambda: mdpkit.evaluate_finite(fh, pol), "policy[1][1] = 1 is an infeasible"
        )
        raises(
            InvalidPolicyError,
            lambda: mdpkit.occupancy_finite(fh, np.zeros((4, 2), dtype=int)),
            "policy has shape (4, 2), expected (H, S) = (3, 2) or (H, S, A)",
        )
        sto = np.full((3, 2, 2), 0.5)
        raises(InvalidPolicyError, lambda: mdpkit.evaluate_finite(fh, sto), "policy[0][1, 1] = ", "puts mass")


# ====================================================================================== solver options
class TestSolverOptions:
    @pytest.mark.parametrize("method", ["foo", "VI", None, ""])
    def test_bad_method(self, method):
        raises(
            InvalidArgumentError,
            lambda: mdpkit.solve(small_mdp(), method=method),
            f"method = {method!r} is not one of 'vi', 'pi', 'mpi', 'lp'",
        )

    @pytest.mark.parametrize("backend", ["jax", "cuda", None])
    def test_bad_backend(self, backend):
        raises(
            InvalidArgumentError,
            lambda: mdpkit.solve(small_mdp(), backend=backend),
            f"backend = {backend!r} is not one of 'numba', 'torch'",
        )
        raises(
            InvalidArgumentError,
            lambda: mdpkit.backward_induction(
                FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), 2), backend=backend
            ),
            f"backend = {backend!r}",
        )

    @pytest.mark.parametrize("method", ["vi", "pi", "mpi", "lp"])
    @pytest.mark.parametrize(
        ("tol", "text"),
        [
            (0, "tol = 0 must be"),
            (-1e-3, "tol = -0.001"),
            (float("nan"), "tol = nan"),
            ("1e-3", "tol = '1e-3'"),
            (True, "tol = True"),
            (None, "tol = None"),
        ],
    )
    def test_bad_tol(self, method, tol, text):
        raises(
            InvalidArgumentError, lambda: mdpkit.solve(small_mdp(), method=method, tol=tol), text, "positive"
        )

    @pytest.mark.parametrize("method", ["rvi", "lp"])
    def test_bad_tol_average(self, method):
        raises(
            InvalidArgumentError, lambda: mdpkit.average_reward(small_mdp(None), method, tol=0.0), "tol = 0.0"
        )

    @pytest.mark.parametrize(
        ("m", "text"), [(-1, "m = -1"), (2.5, "m = 2.5"), (True, "m = True"), ("3", "m = '3'")]
    )
    def test_bad_m(self, m, text):
        raises(
            InvalidArgumentError, lambda: mdpkit.solve(small_mdp(), "mpi", m=m), text, "non-negative integer"
        )

    def test_m_accepts_numpy_integers_and_zero(self):
        assert mdpkit.solve(small_mdp(), "mpi", m=np.int64(3)).converged
        assert mdpkit.solve(small_mdp(), "mpi", m=0).converged

    @pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps"])
    def test_device_with_numba(self, device):
        raises(
            InvalidArgumentError,
            lambda: mdpkit.solve(small_mdp(), "vi", device=device),
            f"device = {device!r} needs backend='torch'",
        )
        fh = FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), 2)
        raises(
            InvalidArgumentError, lambda: mdpkit.backward_induction(fh, device=device), f"device = {device!r}"
        )

    def test_cpu_device_with_numba_is_fine(self):
        assert mdpkit.solve(small_mdp(), "vi", device="cpu").converged

    def test_average_reward_options(self):
        mdp = small_mdp(None)
        raises(
            InvalidArgumentError,
            lambda: mdpkit.average_reward(mdp, "dp"),
            "method = 'dp' is not one of 'rvi'",
        )
        for tau in (0.0, -0.5, 1.5):
            raises(
                InvalidArgumentError, lambda tau=tau: relative_value_iteration(mdp, tau=tau), f"tau = {tau!r}"
            )
        for ref in (-1, 3):
            raises(
                InvalidArgumentError,
                lambda ref=ref: relative_value_iteration(mdp, ref=ref),
                f"ref = {ref!r} is not a state in 0..2",
            )

    def test_bellman_residual_vector_shape(self):
        raises(InvalidMDPError, lambda: mdpkit.bellman_residual(small_mdp(), np.zeros(4)), "v has shape (4,)")


# ====================================================================================== message cosmetics
MESSAGE_CASES = {
    "dense-nan": lambda: TabularMDP(np.full((2, 1, 2), np.nan), np.zeros((2, 1))),
    "dense-negative": lambda: TabularMDP(np.array([[[1.5, -0.5]], [[0.5, 0.5]]]), np.zeros((2, 1))),
    "reward-inf": lambda: TabularMDP(uniform_P(), np.array([[0.0, np.inf], [0.0, 0.0]])),
    "csr-negative": lambda: TabularMDP(sp.csr_matrix(np.array([[1.5, -0.5], [0.5, 0.5]])), np.zeros((2, 1))),
    "terminal": lambda: FiniteHorizonMDP(uniform_P(), np.zeros((2, 2)), 1, terminal=[np.inf, 0.0]),
    "policy-negative": lambda: small_mdp().policy_matrix(np.array([[1.5, -0.5], [0.5, 0.5], [0.5, 0.5]])),
}


def test_messages_print_plain_numbers():
    """Values are printed as plain numbers (``= -0.5``), not numpy reprs (``= np.float64(-0.5)``): the
    ``{value!r}`` formatting in validate.py leaks numpy-2 scalar reprs into user-facing messages."""
    leaky = {}
    for case, fn in sorted(MESSAGE_CASES.items()):
        with pytest.raises(MdpkitError) as info:
            fn()
        if "np.float64(" in str(info.value):
            leaky[case] = str(info.value)
    assert not leaky, leaky
