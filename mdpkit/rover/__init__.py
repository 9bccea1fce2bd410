r"""ROVER: random policy valuation on tree MDPs (He et al., "Random Policy Valuation is Enough for LLM
Reasoning with Verifiable Rewards", arXiv:2509.24981, 2025).

Quick start::

    from mdpkit import rover
    toy = rover.paper_toy()                       # A-D, depth 3, solutions ACD, BDC, CAB, DBA
    q = rover.uniform_q(toy)                      # Q of the uniform policy, one value per edge
    rover.success_probability(toy, rover.greedy_policy(toy, q))          # 1.0 (Theorem 3.1)
    rover.success_probability(toy, rover.softmax_policy(toy, q, 1.0))    # 0.1425...

Modules: :mod:`~mdpkit.rover.tree` (the CSR tree, builders, the paper's toy), :mod:`~mdpkit.rover.token`
(complete token trees in torch), :mod:`~mdpkit.rover.generators` (random instances in and outside the
paper's class), :mod:`~mdpkit.rover.valuation` (uniform / optimal Q, greedy and softmax policies),
:mod:`~mdpkit.rover.analysis` (exact success, solution entropy, distinct solutions, pass@k),
:mod:`~mdpkit.rover.exact` (rational certificates), :mod:`~mdpkit.rover.theory` (Theorems 3.1, 3.2),
:mod:`~mdpkit.rover.learning` (tabular ROVER vs REINFORCE / GRPO).
"""

from mdpkit.rover.analysis import (
    PolicyAnalysis,
    analyse,
    distinct_solutions,
    pass_at_k,
    policy_value,
    quality_diversity,
    solution_distribution,
    solution_entropy,
    success_probability,
    visit_probabilities,
)
from mdpkit.rover.generators import random_dag, random_stochastic_tree, random_tree
from mdpkit.rover.learning import ALGORITHMS, TrainingCurve, train, train_grpo, train_reinforce, train_rover
from mdpkit.rover.theory import greedy_gap, key_states, softmax_lower_bound
from mdpkit.rover.token import TokenTree, token_tree
from mdpkit.rover.tree import PAPER_TOY_SOLUTIONS, Tree, TreeBuilder, complete_tree, paper_toy, tree_from_spec
from mdpkit.rover.valuation import (
    check_policy,
    greedy_policy,
    optimal_policy,
    optimal_q,
    policy_q,
    softmax_policy,
    state_values,
    uniform_policy,
    uniform_q,
)

__all__ = [
    "Tree",
    "TreeBuilder",
    "TokenTree",
    "tree_from_spec",
    "complete_tree",
    "paper_toy",
    "PAPER_TOY_SOLUTIONS",
    "token_tree",
    "random_tree",
    "random_stochastic_tree",
    "random_dag",
    "uniform_q",
    "optimal_q",
    "policy_q",
    "state_values",
    "uniform_policy",
    "greedy_policy",
    "softmax_policy",
    "optimal_policy",
    "check_policy",
    "visit_probabilities",
    "success_probability",
    "policy_value",
    "solution_distribution",
    "solution_entropy",
    "distinct_solutions",
    "pass_at_k",
    "PolicyAnalysis",
    "analyse",
    "quality_diversity",
    "key_states",
    "greedy_gap",
    "softmax_lower_bound",
    "ALGORITHMS",
    "TrainingCurve",
    "train",
    "train_rover",
    "train_grpo",
    "train_reinforce",
]
