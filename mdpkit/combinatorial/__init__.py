"""Combinatorial optimisation as MDPs: BQ-NCO (Drakulic et al., NeurIPS 2023).

Problems (TSP, ATSP, CVRP, OP, KP) with the paper's generators, their direct MDPs and bisimulation-quotiented
BQ-MDPs, a generic coarsest-bisimulation algorithm for tabular MDPs, exact DP on the BQ-MDPs (Held-Karp and
friends), brute force, classical heuristics and the paper's attention policy over BQ states (torch, lazy).
"""

from mdpkit.combinatorial.bisimulation import coarsest_bisimulation, is_bisimulation, quotient, same_partition
from mdpkit.combinatorial.brute_force import brute_cvrp, brute_kp, brute_op, brute_tsp
from mdpkit.combinatorial.exact import (
    MAX_HELD_KARP_N,
    solve_cvrp,
    solve_knapsack,
    solve_op,
    solve_tsp,
    tsp_value_table,
)
from mdpkit.combinatorial.heuristics import nearest_neighbour, two_opt
from mdpkit.combinatorial.mdp import (
    ExplicitMDP,
    bq_partition,
    bq_state,
    count_states,
    direct_mdp,
    state_count_formula,
    sub_instance,
)
from mdpkit.combinatorial.problems import (
    FEAS_TOL,
    CVRPInstance,
    InvalidInstanceError,
    InvalidSolutionError,
    KPInstance,
    OPInstance,
    TSPInstance,
    cvrp_cost,
    euclidean_distances,
    kp_value,
    op_length,
    op_prize,
    random_atsp,
    random_cvrp,
    random_kp,
    random_op,
    random_tsp,
    tour_length,
    validate_distance_matrix,
)

__all__ = [
    "FEAS_TOL",
    "MAX_HELD_KARP_N",
    "CVRPInstance",
    "ExplicitMDP",
    "InvalidInstanceError",
    "InvalidSolutionError",
    "KPInstance",
    "OPInstance",
    "TSPInstance",
    "bq_partition",
    "bq_state",
    "brute_cvrp",
    "brute_kp",
    "brute_op",
    "brute_tsp",
    "coarsest_bisimulation",
    "count_states",
    "cvrp_cost",
    "direct_mdp",
    "euclidean_distances",
    "is_bisimulation",
    "kp_value",
    "nearest_neighbour",
    "op_length",
    "op_prize",
    "random_atsp",
    "random_cvrp",
    "random_kp",
    "random_op",
    "random_tsp",
    "same_partition",
    "solve_cvrp",
    "solve_knapsack",
    "solve_op",
    "solve_tsp",
    "state_count_formula",
    "sub_instance",
    "quotient",
    "tour_length",
    "tsp_value_table",
    "two_opt",
    "validate_distance_matrix",
]


def __getattr__(name: str):
    # the torch policy is imported on first use, so that the exact solvers do not pull in torch
    if name == "neural":
        import importlib

        return importlib.import_module("mdpkit.combinatorial.neural")
    raise AttributeError(f"module 'mdpkit.combinatorial' has no attribute {name!r}")
