"""Instance families: random models (GARNET, dense, communicating, multichain), textbook models (RiverSwim,
chains, Puterman's two-state example), grid worlds (incl. the IWOCS windy walk) and multi-objective
benchmarks (Deep Sea Treasure, Fruit Tree, Resource Gathering, random MOMDPs).

Every family returns a :class:`mdpkit.TabularMDP` (multi-objective ones a
:class:`mdpkit.morl.MultiObjectiveMDP`); random ones take ``seed: int | np.random.Generator``.
"""

from mdpkit.envs.classic import chain, riverswim, two_state_puterman
from mdpkit.envs.gridworld import (
    GRID_ACTIONS,
    WINDY_WALK_GOAL,
    WINDY_WALK_START,
    Grid,
    gridworld,
    windy_walk,
    windy_walk_grid,
    windy_walk_kernels,
)
from mdpkit.envs.morl_envs import (
    DST_PARETO_FRONT,
    DST_TREASURES,
    deep_sea_treasure,
    fruit_tree,
    random_momdp,
    resource_gathering,
)
from mdpkit.envs.random_mdps import dense_random, garnet, random_communicating, random_multichain

__all__ = [
    "garnet",
    "dense_random",
    "random_communicating",
    "random_multichain",
    "riverswim",
    "chain",
    "two_state_puterman",
    "gridworld",
    "Grid",
    "GRID_ACTIONS",
    "windy_walk",
    "windy_walk_kernels",
    "windy_walk_grid",
    "WINDY_WALK_START",
    "WINDY_WALK_GOAL",
    "deep_sea_treasure",
    "fruit_tree",
    "resource_gathering",
    "random_momdp",
    "DST_PARETO_FRONT",
    "DST_TREASURES",
]
