"""The data model and the exact solvers every other family builds on."""

from mdpkit.core.average import average_reward, is_communicating, policy_gain
from mdpkit.core.discounted import (
    bellman_residual,
    evaluate,
    linear_program,
    modified_policy_iteration,
    occupancy,
    performance_difference,
    policy_iteration,
    solve,
    value_iteration,
)
from mdpkit.core.finite import backward_induction, evaluate_finite, occupancy_finite
from mdpkit.core.model import FiniteHorizonMDP, TabularMDP, deterministic_to_stochastic
from mdpkit.core.results import AverageRewardSolution, FiniteSolution, PolicyEvaluation, Solution

__all__ = [
    "TabularMDP",
    "FiniteHorizonMDP",
    "deterministic_to_stochastic",
    "Solution",
    "FiniteSolution",
    "PolicyEvaluation",
    "AverageRewardSolution",
    "solve",
    "value_iteration",
    "policy_iteration",
    "modified_policy_iteration",
    "linear_program",
    "evaluate",
    "occupancy",
    "performance_difference",
    "bellman_residual",
    "backward_induction",
    "evaluate_finite",
    "occupancy_finite",
    "average_reward",
    "policy_gain",
    "is_communicating",
]
