"""Linear and d-rectangular linear MDPs (finite horizon), exact regularised robust DP, DR-RPO.

* :mod:`mdpkit.linear.model` — :class:`LinearMDP` (simplex features, factor distributions, the one-hot
  embedding of a tabular model and the tabular model it induces);
* :mod:`mdpkit.linear.instances` — the 5-state simulated linear MDP (perturbation ``q``) and an American
  put option;
* :mod:`mdpkit.linear.robust` — d-rectangular TV/KL sets, their inner problems (dual and cvxpy primal), the
  exact policy-regularised robust value by backward DP, robust and perturbed-kernel policy evaluation.
"""

from mdpkit.linear.instances import american_put, hat_weights, random_linear_mdp, simulated_linear_mdp
from mdpkit.linear.model import LinearMDP
from mdpkit.linear.robust import (
    DRectangularSet,
    LinearEvaluation,
    RobustLinearEvaluation,
    RobustLinearSolution,
    as_markov_policy,
    evaluate_under,
    kl_dual_objective,
    primal_inner,
    regularised_value,
    robust_dp,
    robust_evaluate,
    sa_rectangular_backward,
    softmax_policy,
    tv_dual,
    worst_case_factors,
)

__all__ = [
    "LinearMDP",
    "simulated_linear_mdp",
    "american_put",
    "hat_weights",
    "random_linear_mdp",
    "DRectangularSet",
    "tv_dual",
    "kl_dual_objective",
    "primal_inner",
    "worst_case_factors",
    "regularised_value",
    "softmax_policy",
    "as_markov_policy",
    "robust_dp",
    "robust_evaluate",
    "evaluate_under",
    "sa_rectangular_backward",
    "RobustLinearSolution",
    "RobustLinearEvaluation",
    "LinearEvaluation",
]
