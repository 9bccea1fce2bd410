"""Grid worlds: the Grid map, the vectorised kernel against a loop reference, rewards, goals, rendering;
the IWOCS windy walk."""

from __future__ import annotations

import numpy as np
import pytest

import mdpkit
from mdpkit import InvalidArgumentError, InvalidMDPError
from mdpkit.envs import (
    WINDY_WALK_GOAL,
    WINDY_WALK_START,
    Grid,
    gridworld,
    windy_walk,
    windy_walk_grid,
    windy_walk_kernels,
)

MOVES = [(-1, 0), (0, 1), (1, 0), (0, -1)]  # N E S W


def reference_kernel(H, W, walls, goals, slip, wind_dir, wind, absorbing, initial):
    """Loop-by-loop kernel of the documented dynamics (independent of the vectorised code)."""
    free = [(r, c) for r in range(H) for c in range(W) if (r, c) not in set(walls)]
    idx = {cell: k for k, cell in enumerate(free)}
    S = len(free)

    def step(cell, d):
        r, c = cell[0] + MOVES[d][0], cell[1] + MOVES[d][1]
        return idx[(r, c)] if (r, c) in idx else idx[cell]

    P = np.zeros((S, 4, S))
    for cell, s in idx.items():
        for a in range(4):
            if cell in goals:
                if absorbing:
                    P[s, a, s] = 1.0
                else:
                    P[s, a] = initial
                continue
            w = wind[cell] if wind is not None else 0.0
            for d in range(4):
                P[s, a, step(cell, d)] += (1 - w) * ((1 - slip) if d == a else slip / 3)
            if w:
                P[s, a, step(cell, wind_dir)] += w
    return P, idx


# ----------------------------------------------------------------------------------------------- Grid
def test_grid_index_round_trip_and_errors():
    g = Grid(3, 4, walls=[(1, 1), (0, 3)])
    assert g.S == 10 and g.walls == frozenset({(1, 1), (0, 3)})
    for s in range(g.S):
        assert g.state(*g.cell(s)) == s
    assert g.index[1, 1] == -1 and g.index[0, 3] == -1
    assert [g.cell(s) for s in range(4)] == [(0, 0), (0, 1), (0, 2), (1, 0)]  # row-major over free cells
    with pytest.raises(InvalidArgumentError, match=r"cell \(1, 1\) is a wall"):
        g.state(1, 1)
    with pytest.raises(InvalidArgumentError, match=r"\(3, 0\) is outside the 3x4 grid"):
        g.state(3, 0)
    with pytest.raises(InvalidArgumentError, match="s = 10"):
        g.cell(10)
    mask = np.zeros((3, 4), dtype=bool)
    mask[1, 1] = mask[0, 3] = True
    np.testing.assert_array_equal(Grid(3, 4, mask).index, g.index)
    with pytest.raises(InvalidArgumentError, match="every cell"):
        Grid(1, 2, [(0, 0), (0, 1)])
    with pytest.raises(InvalidArgumentError, match=r"walls\[0\]"):
        Grid(2, 2, [(5, 0)])


def test_grid_rendering():
    g = Grid(2, 3, walls=[(0, 1)])
    assert g.render_values(np.arange(5.0), decimals=0) == "0 # 1\n2 3 4"
    assert g.render_policy(np.array([1, 2, 3, 0, 1]), marks={(1, 2): "G"}) == "> # v\n< ^ G"
    stochastic = np.eye(4)[[1, 2, 3, 0, 1]]
    assert g.render_policy(stochastic) == "> # v\n< ^ >"
    arr = g.to_array(np.arange(5.0))
    assert np.isnan(arr[0, 1]) and arr[1, 2] == 4
    with pytest.raises(InvalidArgumentError, match="values has shape"):
        g.render_values(np.zeros(3))
    with pytest.raises(InvalidArgumentError, match="policy has shape"):
        g.render_policy(np.zeros(4, dtype=int))


# ----------------------------------------------------------------------------------------------- kernel
CASES = [
    dict(H=1, W=1, walls=(), goals=[(0, 0)], slip=0.0, wind=None, absorbing=True),
    dict(H=3, W=4, walls=((1, 1), (1, 2)), goals=[(2, 3)], slip=0.0, wind=None, absorbing=True),
    dict(
        H=4, W=5, walls=((0, 2), (2, 2), (3, 1)), goals=[(0, 4), (3, 0)], slip=0.2, wind=None, absorbing=True
    ),
    dict(
        H=4, W=4, walls=((1, 2),), goals=[(0, 3)], slip=0.1, wind=("N", [0.0, 0.3, 0.5, 0.0]), absorbing=False
    ),
    dict(H=3, W=5, walls=((1, 3),), goals=[(2, 4)], slip=0.3, wind=("W", "cells"), absorbing=True),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("sparse", [True, False])
def test_gridworld_matches_loop_reference(case, sparse):
    H, W, walls, goals = case["H"], case["W"], case["walls"], case["goals"]
    wind_arg, wind_cells, wdir = None, None, 0
    if case["wind"] is not None:
        wdir = "NESW".index(case["wind"][0])
        if case["wind"][1] == "cells":
            probs = np.random.default_rng(0).random((H, W))
        else:
            probs = np.broadcast_to(np.asarray(case["wind"][1]), (H, W))
        wind_arg = (case["wind"][0], probs if case["wind"][1] == "cells" else case["wind"][1])
        wind_cells = {(r, c): probs[r, c] for r in range(H) for c in range(W)}
    m = gridworld(
        H,
        W,
        walls=walls,
        goal=goals,
        slip=case["slip"],
        wind=wind_arg,
        absorbing_goal=case["absorbing"],
        sparse=sparse,
    )
    assert m.is_sparse == sparse and m.A == 4 and m.S == H * W - len(walls)
    P_ref, idx = reference_kernel(
        H, W, walls, goals, case["slip"], wdir, wind_cells, case["absorbing"], m.initial
    )
    np.testing.assert_allclose(m.dense_P(), P_ref, rtol=0, atol=1e-15)
    # walls are never entered and every move goes to the same or an adjacent free cell
    cells = {s: cell for cell, s in idx.items()}
    for s, a, t in zip(*np.nonzero(m.dense_P()), strict=True):
        (r, c), (r2, c2) = cells[s], cells[t]
        assert (r2, c2) not in walls
        if cells[s] not in goals:
            assert abs(r - r2) + abs(c - c2) <= 1, (s, a, t)


def test_gridworld_blocked_moves_stay_put():
    g = Grid(3, 3, walls=[(1, 1)])
    m = gridworld(3, 3, walls=[(1, 1)], goal=(2, 2))
    P = m.dense_P()
    s = g.state(0, 1)  # wall to the south, border to the north
    assert P[s, 2, s] == 1.0 and P[s, 0, s] == 1.0
    assert P[s, 1, g.state(0, 2)] == 1.0 and P[s, 3, g.state(0, 0)] == 1.0


def test_gridworld_rewards_and_goals():
    g = Grid(2, 3)
    m = gridworld(2, 3, goal=[(0, 2), (1, 2)], goal_reward=[5.0, -2.0], step_reward=-0.5, slip=0.3, gamma=0.9)
    P = m.dense_P()
    gs = [g.state(0, 2), g.state(1, 2)]
    expected = -0.5 + 5.0 * P[:, :, gs[0]] - 2.0 * P[:, :, gs[1]]
    expected[gs] = 0.0
    np.testing.assert_allclose(m.R, expected, atol=1e-15)
    for s in gs:  # absorbing
        np.testing.assert_array_equal(P[s, :, s], 1.0)
    # default initial distribution: uniform over the non-goal cells; start= gives a point mass
    np.testing.assert_allclose(m.initial, [0.25, 0.25, 0, 0.25, 0.25, 0])
    m2 = gridworld(2, 3, start=(1, 0))
    np.testing.assert_array_equal(m2.initial, np.eye(6)[g.state(1, 0)])


def test_gridworld_shortest_path_values():
    """Open grid, no slip, reward 1 on entering the goal: V*(s) = gamma^(d(s)-1), d = Manhattan distance."""
    H, W, gamma = 4, 5, 0.9
    g = Grid(H, W)
    sol = mdpkit.solve(gridworld(H, W, goal=(0, 0), gamma=gamma), method="pi")
    d = np.abs(g.cells).sum(axis=1)
    expected = np.where(d > 0, gamma ** (d - 1.0), 0.0)
    np.testing.assert_allclose(sol.V, expected, atol=1e-9)


def test_gridworld_restart_goal_is_communicating():
    m = gridworld(4, 4, walls=[(1, 1), (2, 2)], slip=0.1, absorbing_goal=False, gamma=None)
    assert mdpkit.is_communicating(m)
    assert not mdpkit.is_communicating(gridworld(4, 4, walls=[(1, 1), (2, 2)], slip=0.1, gamma=None))
    sol = mdpkit.average_reward(m)
    assert sol.gain > 0


def test_gridworld_large_sparse():
    m = gridworld(100, 100, slip=0.1, gamma=0.99)
    assert m.is_sparse and m.S == 10_000 and m.nnz <= 10_000 * 4 * 4
    np.testing.assert_allclose(np.asarray(m.P.sum(axis=1)).ravel(), 1.0, atol=1e-12)
    assert not gridworld(10, 10).is_sparse


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"height": 0, "width": 3}, InvalidArgumentError, "height = 0"),
        ({"slip": 1.5}, InvalidArgumentError, "slip = 1.5"),
        ({"walls": [(0, 9)]}, InvalidArgumentError, r"walls\[0\] = \(0, 9\) is outside"),
        ({"walls": [(2, 2)], "goal": (2, 2)}, InvalidArgumentError, r"goal = \(2, 2\) is a wall"),
        ({"start": (1, 1), "walls": [(1, 1)]}, InvalidArgumentError, r"start = \(1, 1\) is a wall"),
        ({"goal": [(0, 0), (0, 0)]}, InvalidArgumentError, "twice"),
        ({"goal": [(0, 0), (0, 1)], "goal_reward": [1.0, 2.0, 3.0]}, InvalidArgumentError, "goal_reward"),
        ({"wind": ("X", 0.1)}, InvalidArgumentError, "wind direction = 'X'"),
        ({"wind": ("N", [0.1, 0.2])}, InvalidArgumentError, "wind probabilities have shape"),
        ({"wind": ("N", 1.2)}, InvalidArgumentError, r"wind probability at cell \(0, 0\) is 1.2"),
        ({"wind": 0.3}, InvalidArgumentError, "wind = 0.3"),
        ({"step_reward": float("inf")}, InvalidArgumentError, "step_reward"),
        ({"gamma": 1.01}, InvalidMDPError, "gamma"),
        ({"absorbing_goal": "no"}, InvalidArgumentError, "absorbing_goal"),
    ],
)
def test_gridworld_bad_parameters(kwargs, exc, match):
    args = {"height": 3, "width": 3} | kwargs
    with pytest.raises(exc, match=match):
        gridworld(**args)


# ----------------------------------------------------------------------------------------------- windy walk
def test_windy_walk_alpha_zero_is_deterministic_and_shortest():
    """alpha = 0: no wind, the bottom corridor takes 5 moves of reward -1: V*(S) = -(1 - g^5)/(1 - g)."""
    gamma = 0.95
    m = windy_walk(0.0, gamma)
    assert set(np.unique(m.dense_P())) <= {0.0, 1.0}
    grid = windy_walk_grid()
    s0 = grid.state(*WINDY_WALK_START)
    np.testing.assert_array_equal(m.initial, np.eye(grid.S)[s0])
    sol = mdpkit.solve(m)
    assert abs(sol.V[s0] + (1 - gamma**5) / (1 - gamma)) < 1e-9
    assert sol.V[grid.state(*WINDY_WALK_GOAL)] == pytest.approx(0.0, abs=1e-9)


def test_windy_walk_wind_structure():
    a = 0.7
    m = windy_walk(a)
    g = windy_walk_grid()
    P = m.dense_P()
    assert g.S == 36 - 8 and m.A == 4
    for row, k in ((5, 1), (3, 3), (1, 6), (0, 6)):
        s = g.state(row, 2)
        expected = np.zeros(g.S)
        expected[g.state(row, 3)] += 1 - a**k
        expected[g.state(row, 1)] += a**k
        np.testing.assert_allclose(P[s, 1], expected, atol=1e-15)  # East against a West wind
    for row in range(6):  # the side columns are calm
        for col in (0, 5):
            if (row, col) != WINDY_WALK_GOAL:
                assert set(np.unique(P[g.state(row, col)])) <= {0.0, 1.0}
    np.testing.assert_array_equal(m.R[g.state(*WINDY_WALK_GOAL)], 0.0)
    assert np.all(np.delete(m.R, g.state(*WINDY_WALK_GOAL), axis=0) == -1.0)


def test_windy_walk_alpha_one_blocks_every_corridor():
    """alpha = 1: every corridor cell sends the agent West, so G is unreachable from S: V*(S) = -1/(1-g)."""
    m = windy_walk(1.0, 0.9)
    g = windy_walk_grid()
    sol = mdpkit.solve(m)
    assert abs(sol.V[g.state(*WINDY_WALK_START)] + 1 / (1 - 0.9)) < 1e-9


def test_windy_walk_kernels_and_monotonicity():
    r"""V*_alpha is non-increasing in alpha (pointwise).

    Proof: the wind does not depend on the action, so with w = w_alpha(s) and slip = 0,
    (T_alpha V)(s) = -1 + gamma [(1 - w) max_a V(T_a s) + w V(T_W s)]. Since West is an action,
    V(T_W s) <= max_a V(T_a s); so for w' >= w, T_alpha' V <= T_alpha V. With V = V*_alpha this gives
    T_alpha' V*_alpha <= V*_alpha, and iterating the monotone contraction T_alpha' gives
    V*_alpha' <= V*_alpha.
    """
    alphas = np.linspace(0.0, 1.0, 6)
    models = windy_walk_kernels(alphas, gamma=0.9)
    assert len(models) == 6
    for m in models[1:]:
        np.testing.assert_array_equal(m.R, models[0].R)
        np.testing.assert_array_equal(m.initial, models[0].initial)
        assert m.gamma == 0.9
    assert not np.array_equal(models[1].P, models[2].P)
    values = [mdpkit.solve(m, tol=1e-11).V for m in models]
    for lo, hi in zip(values, values[1:], strict=False):
        assert np.all(hi <= lo + 1e-10)
    # the optimal route changes with alpha: at alpha = 0.6 the bottom corridor is no longer taken from S
    g = windy_walk_grid()
    s0 = g.state(*WINDY_WALK_START)
    assert mdpkit.solve(windy_walk(0.0)).policy[s0] == 1  # East
    assert mdpkit.solve(windy_walk(0.6)).policy[s0] == 0  # North, towards a calmer corridor


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan"), "a"])
def test_windy_walk_bad_alpha(alpha):
    with pytest.raises(InvalidArgumentError, match="alpha"):
        windy_walk(alpha)


def test_windy_walk_kernels_bad_input():
    with pytest.raises(InvalidArgumentError, match="non-empty"):
        windy_walk_kernels([])
    with pytest.raises(InvalidArgumentError, match=r"alphas\[1\] = 2.0"):
        windy_walk_kernels([0.1, 2.0])
