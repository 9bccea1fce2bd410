r"""Grid worlds: 4-action navigation with walls, slip and wind, built as CSR in vectorised numpy; the
windy walk of the IWOCS paper; a :class:`Grid` helper mapping cells to states and rendering values and
policies as text.

Conventions. Cells are ``(row, col)`` with row 0 at the top (north) and col 0 at the left (west). Walls
are not states: the free cells are numbered ``0 .. S-1`` in row-major order (:class:`Grid` holds the map).
Actions are ``0 = N, 1 = E, 2 = S, 3 = W``; a move into a wall or off the grid leaves the agent in place.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mdpkit.core.model import TabularMDP
from mdpkit.envs._common import check_gamma, check_int, check_prob, check_real, use_sparse
from mdpkit.errors import InvalidArgumentError

__all__ = [
    "GRID_ACTIONS",
    "Grid",
    "gridworld",
    "windy_walk",
    "windy_walk_kernels",
    "windy_walk_grid",
    "WINDY_WALK_START",
    "WINDY_WALK_GOAL",
]

#: Action names; action ``a`` moves by ``_DELTAS[a]`` = (d_row, d_col).
GRID_ACTIONS = ("N", "E", "S", "W")
_DELTAS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int64)
_ARROWS = "^>v<"

Cell = tuple[int, int]


def _direction(d: object, name: str) -> int:
    """A direction given as "N"/"E"/"S"/"W" (any case) or as an action index 0..3."""
    if isinstance(d, str) and d.upper() in GRID_ACTIONS:
        return GRID_ACTIONS.index(d.upper())
    if isinstance(d, numbers.Integral) and not isinstance(d, bool) and 0 <= int(d) < 4:
        return int(d)
    raise InvalidArgumentError(f"{name} = {d!r} is not a direction: use 'N', 'E', 'S', 'W' or 0..3")


@dataclass(frozen=True, eq=False, init=False)
class Grid:
    r"""The map of a grid world: which cells are free, and the state index of each free cell.

    Parameters
    ----------
    height, width : int
        Grid size.
    walls : iterable of (row, col), or bool array (height, width)
        Blocked cells (not states).

    Attributes
    ----------
    index : int ndarray (height, width)
        ``index[row, col]`` is the state of a free cell and -1 on a wall.
    cells : int ndarray (S, 2)
        ``cells[s] = (row, col)``; states are the free cells in row-major order.

    Examples
    --------
    >>> g = Grid(2, 3, walls=[(0, 1)])
    >>> g.S, g.state(1, 1), g.cell(2)
    (5, 3, (1, 0))
    >>> print(g.render_values(np.arange(5.0), decimals=0))
    0 # 1
    2 3 4
    """

    height: int
    width: int
    walls: frozenset[Cell]
    index: np.ndarray
    cells: np.ndarray

    def __init__(self, height: int, width: int, walls: Iterable[Cell] | np.ndarray = ()) -> None:
        H = check_int(height, "height")
        W = check_int(width, "width")
        free = np.ones((H, W), dtype=bool)
        arr = np.asarray(walls) if not isinstance(walls, (set, frozenset)) else None
        if arr is not None and arr.dtype == bool and arr.ndim == 2:
            if arr.shape != (H, W):
                raise InvalidArgumentError(f"walls mask has shape {arr.shape}, expected ({H}, {W})")
            free &= ~arr
        else:
            for k, w in enumerate(walls):
                r, c = _check_cell(w, f"walls[{k}]", H, W)
                free[r, c] = False
        if not free.any():
            raise InvalidArgumentError(
                f"every cell of the {H}x{W} grid is a wall; need at least one free cell"
            )
        index = np.full((H, W), -1, dtype=np.int64)
        index[free] = np.arange(int(free.sum()))
        index.setflags(write=False)
        cells = np.argwhere(free).astype(np.int64)
        cells.setflags(write=False)
        wall_set = frozenset((int(r), int(c)) for r, c in np.argwhere(~free))
        for name, val in (
            ("height", H),
            ("width", W),
            ("walls", wall_set),
            ("index", index),
            ("cells", cells),
        ):
            object.__setattr__(self, name, val)

    @property
    def S(self) -> int:
        """Number of states (free cells)."""
        return int(self.cells.shape[0])

    def state(self, row: int, col: int) -> int:
        """The state of the free cell ``(row, col)``; raises on a wall or outside the grid."""
        r, c = _check_cell((row, col), "cell", self.height, self.width)
        s = int(self.index[r, c])
        if s < 0:
            raise InvalidArgumentError(f"cell ({r}, {c}) is a wall, not a state")
        return s

    def cell(self, s: int) -> Cell:
        """The ``(row, col)`` of state ``s``."""
        s = check_int(s, "s", 0, self.S - 1)
        return int(self.cells[s, 0]), int(self.cells[s, 1])

    def moves(self) -> np.ndarray:
        """``dest[d, s]``: the state reached from ``s`` by a move in direction ``d`` (blocked: ``s``)."""
        rows, cols = self.cells[:, 0], self.cells[:, 1]
        dest = np.empty((4, self.S), dtype=np.int64)
        for d, (dr, dc) in enumerate(_DELTAS):
            nr, nc = rows + dr, cols + dc
            inside = (nr >= 0) & (nr < self.height) & (nc >= 0) & (nc < self.width)
            t = self.index[np.clip(nr, 0, self.height - 1), np.clip(nc, 0, self.width - 1)]
            dest[d] = np.where(inside & (t >= 0), t, np.arange(self.S))
        return dest

    def to_array(self, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """A per-state vector (S,) laid out as a (height, width) array, ``fill`` on walls."""
        v = np.asarray(values, dtype=np.float64)
        if v.shape != (self.S,):
            raise InvalidArgumentError(f"values has shape {v.shape}, expected (S,) = ({self.S},)")
        out = np.full((self.height, self.width), fill, dtype=np.float64)
        out[self.cells[:, 0], self.cells[:, 1]] = v
        return out

    def _render(self, labels: Sequence[str], marks: dict[Cell, str] | None, wall: str) -> str:
        grid = [[wall] * self.width for _ in range(self.height)]
        for s, (r, c) in enumerate(self.cells):
            grid[r][c] = labels[s]
        for cell, text in (marks or {}).items():
            r, c = _check_cell(cell, "marks key", self.height, self.width)
            grid[r][c] = str(text)
        w = max(len(x) for row in grid for x in row)
        return "\n".join(" ".join(x.rjust(w) for x in row) for row in grid)

    def render_values(
        self, values: np.ndarray, decimals: int = 2, marks: dict[Cell, str] | None = None, wall: str = "#"
    ) -> str:
        """A value vector (S,) as a text grid: one right-aligned number per cell, ``wall`` on walls."""
        vals = np.asarray(values, dtype=np.float64)
        if vals.shape != (self.S,):
            raise InvalidArgumentError(f"values has shape {vals.shape}, expected (S,) = ({self.S},)")
        return self._render([f"{x:.{decimals}f}" for x in vals], marks, wall)

    def render_policy(self, policy: np.ndarray, marks: dict[Cell, str] | None = None, wall: str = "#") -> str:
        """A policy as arrows ``^ > v <`` (N E S W); a stochastic (S, 4) policy shows its most likely action.

        ``marks`` overrides cells, e.g. ``{(0, 3): "G"}``.
        """
        pi = np.asarray(policy)
        if pi.ndim == 2 and pi.shape == (self.S, 4):
            pi = np.argmax(pi, axis=1)
        if pi.shape != (self.S,):
            raise InvalidArgumentError(f"policy has shape {pi.shape}, expected (S,) = ({self.S},) or (S, 4)")
        if not np.issubdtype(pi.dtype, np.integer) or pi.min() < 0 or pi.max() > 3:
            raise InvalidArgumentError("a deterministic grid policy must hold integer actions in 0..3")
        return self._render([_ARROWS[a] for a in pi], marks, wall)


def _check_cell(cell: object, name: str, H: int, W: int) -> Cell:
    try:
        r, c = cell  # type: ignore[misc]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} = {cell!r} must be a (row, col) pair") from None
    for v in (r, c):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise InvalidArgumentError(f"{name} = {cell!r} must hold integers")
    r, c = int(r), int(c)
    if not (0 <= r < H and 0 <= c < W):
        raise InvalidArgumentError(f"{name} = ({r}, {c}) is outside the {H}x{W} grid")
    return r, c


def _cell_list(cells: object, name: str, H: int, W: int) -> list[Cell]:
    """One cell ``(r, c)`` or a sequence of cells, as a list."""
    arr = np.asarray(cells, dtype=object)
    if arr.ndim == 1 and arr.shape == (2,) and all(isinstance(x, numbers.Integral) for x in arr):
        return [_check_cell(cells, name, H, W)]
    try:
        items = list(cells)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidArgumentError(
            f"{name} = {cells!r} must be a cell (row, col) or a list of cells"
        ) from None
    if not items:
        raise InvalidArgumentError(f"{name} is empty")
    return [_check_cell(x, f"{name}[{k}]", H, W) for k, x in enumerate(items)]


def _wind_probs(wind: object, H: int, W: int) -> tuple[int, np.ndarray]:
    try:
        direction, probs = wind  # type: ignore[misc]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"wind = {wind!r} must be a pair (direction, probabilities)") from None
    d = _direction(direction, "wind direction")
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 0:
        p = np.full((H, W), float(p))
    elif p.shape == (W,):
        p = np.broadcast_to(p, (H, W))
    elif p.shape != (H, W):
        raise InvalidArgumentError(
            f"wind probabilities have shape {p.shape}; expected a scalar, (width,) = ({W},) per column, "
            f"or (height, width) = ({H}, {W}) per cell"
        )
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InvalidArgumentError(
            f"wind probability at cell ({r}, {c}) is {float(p[r, c])!r}, outside [0, 1]"
        )
    return d, p


def gridworld(
    height: int,
    width: int,
    walls: Iterable[Cell] | np.ndarray = (),
    goal: Cell | Sequence[Cell] | None = None,
    slip: float = 0.0,
    wind: tuple[str | int, float | np.ndarray] | None = None,
    step_reward: float = 0.0,
    goal_reward: float | Sequence[float] = 1.0,
    gamma: float | None = 0.95,
    absorbing_goal: bool = True,
    sparse: bool | None = None,
    start: Cell | None = None,
) -> TabularMDP:
    r"""A 4-action grid world with walls, slip, wind and goal cells.

    Dynamics of a non-goal state :math:`s` under action :math:`a \in \{N, E, S, W\}`: the agent moves one
    cell in direction

    * :math:`a` with probability :math:`1 - \text{slip}`, each of the three other directions with
      probability :math:`\text{slip}/3`, and
    * with probability :math:`w(s)` the wind overrides this: the move is one cell in the wind direction
      :math:`d_w` instead,

    so with :math:`T_d(s)` the cell reached by a move in direction :math:`d` (the same cell when the move
    is blocked by a wall or the border),

    .. math:: P(\cdot|s, a) = (1 - w(s))\Big[(1-\text{slip})\,\delta_{T_a(s)} + \tfrac{\text{slip}}{3}
              \sum_{d \ne a} \delta_{T_d(s)}\Big] + w(s)\, \delta_{T_{d_w}(s)} .

    Rewards: :math:`r(s, a) = \text{step\_reward} + \sum_{g} \text{goal\_reward}_g \, P(g | s, a)` (every
    step costs ``step_reward``; entering goal :math:`g` earns ``goal_reward[g]``). A goal state has reward
    0 and is absorbing (``absorbing_goal=True``: every action loops) or restarts the episode
    (``absorbing_goal=False``: every action leads to the initial distribution, which keeps the model
    communicating when the free cells are connected; for average-reward studies).

    Parameters
    ----------
    height, width : int
        Grid size.
    walls : iterable of (row, col) or bool array (height, width)
        Blocked cells (never states, never entered).
    goal : (row, col) or list of cells, optional
        Goal cell(s); default the bottom-right cell ``(height-1, width-1)``.
    slip : float in [0, 1]
        Probability of moving in a uniformly random *other* direction.
    wind : (direction, probabilities), optional
        Direction ``"N"|"E"|"S"|"W"`` (or 0..3) and push probabilities: a scalar, a (width,) array (per
        column) or a (height, width) array (per cell; entries on walls are ignored).
    step_reward, goal_reward : float
        Rewards (``goal_reward`` may give one value per goal).
    gamma : float or None
        Discount factor.
    absorbing_goal : bool
        Absorbing goals (default) or restart from the initial distribution.
    sparse : bool or None
        CSR (built from COO triplets, vectorised) when True, dense when False, CSR iff
        :math:`S \cdot 4 \cdot S > 5 \cdot 10^6` when None.
    start : (row, col), optional
        Initial cell; default the uniform distribution over the free non-goal cells.

    Returns
    -------
    TabularMDP
        With ``S = height * width - #walls`` states (see :class:`Grid` for the numbering) and ``A = 4``.

    References
    ----------
    Sutton & Barto, *Reinforcement Learning: An Introduction* (2nd ed., 2018), Examples 3.5, 4.1 (grid
    worlds) and 6.5 (windy gridworld); the slip model is the usual "slippery" variant.
    """
    grid = Grid(height, width, walls)
    H, W, S, A = grid.height, grid.width, grid.S, 4
    goals = _cell_list((H - 1, W - 1) if goal is None else goal, "goal", H, W)
    goal_states = np.array([_free_state(grid, c, "goal") for c in goals], dtype=np.int64)
    if np.unique(goal_states).size != goal_states.size:
        raise InvalidArgumentError(f"goal lists a cell twice: {goals}")
    gr = np.asarray(goal_reward, dtype=np.float64)
    if gr.ndim == 0:
        gr = np.full(goal_states.size, float(gr))
    if gr.shape != goal_states.shape:
        raise InvalidArgumentError(f"goal_reward has shape {gr.shape}, expected () or ({goal_states.size},)")
    for k, v in enumerate(gr):
        check_real(float(v), f"goal_reward[{k}]")
    slip = check_prob(slip, "slip")
    step = check_real(step_reward, "step_reward")
    g = check_gamma(gamma)
    if not isinstance(absorbing_goal, (bool, np.bool_)):
        raise InvalidArgumentError(f"absorbing_goal = {absorbing_goal!r} must be a bool")
    sparse_ = use_sparse(sparse, S, A)
    is_goal = np.zeros(S, dtype=bool)
    is_goal[goal_states] = True
    if start is None:
        initial = np.where(is_goal, 0.0, 1.0) if not is_goal.all() else np.ones(S)
        initial /= initial.sum()
    else:
        initial = np.zeros(S)
        initial[_free_state(grid, start, "start")] = 1.0

    if wind is None:
        wdir, wcell = 0, np.zeros(S)
    else:
        wdir, wp = _wind_probs(wind, H, W)
        wcell = wp[grid.cells[:, 0], grid.cells[:, 1]]

    dest = grid.moves()  # (4, S)
    moving = np.flatnonzero(~is_goal)
    m = moving.size
    coef = np.full((A, 4), slip / 3.0)
    np.fill_diagonal(coef, 1.0 - slip)
    base = moving[:, None] * A + np.arange(A)[None, :]  # (m, A) row of each pair
    # the four move outcomes of each pair, then the wind outcome
    rows = [np.repeat(base[:, :, None], 4, axis=2).ravel(), base.ravel()]
    cols = [np.broadcast_to(dest.T[moving][:, None, :], (m, A, 4)).ravel(), np.repeat(dest[wdir, moving], A)]
    vals = [
        ((1.0 - wcell[moving])[:, None, None] * coef[None, :, :]).ravel(),
        np.repeat(wcell[moving], A),
    ]
    goal_rows = (goal_states[:, None] * A + np.arange(A)[None, :]).ravel()
    if absorbing_goal:
        rows.append(goal_rows)
        cols.append(np.repeat(goal_states, A))
        vals.append(np.ones(goal_rows.size))
    else:
        support = np.flatnonzero(initial)
        rows.append(np.repeat(goal_rows, support.size))
        cols.append(np.tile(support, goal_rows.size))
        vals.append(np.tile(initial[support], goal_rows.size))
    r_all, c_all, v_all = (np.concatenate(x) for x in (rows, cols, vals))
    keep = v_all > 0
    P = sp.csr_matrix((v_all[keep], (r_all[keep], c_all[keep])), shape=(S * A, S))
    P.sum_duplicates()
    R = step + np.asarray(P[:, goal_states] @ gr).ravel()
    R = R.reshape(S, A)
    R[goal_states] = 0.0
    return TabularMDP(P if sparse_ else P.toarray().reshape(S, A, S), R, g, initial=initial)


def _free_state(grid: Grid, cell: object, name: str) -> int:
    r, c = _check_cell(cell, name, grid.height, grid.width)
    s = int(grid.index[r, c])
    if s < 0:
        raise InvalidArgumentError(f"{name} = ({r}, {c}) is a wall")
    return s


# --------------------------------------------------------------------------- windy walk (IWOCS, 2024)
#: Start and goal cells of :func:`windy_walk` (bottom-left and bottom-right of the 6x6 grid).
WINDY_WALK_START: Cell = (5, 0)
WINDY_WALK_GOAL: Cell = (5, 5)
_WW_WALLS = tuple((r, c) for r in (2, 4) for c in range(1, 5))
#: corridor rows -> exponent k of the wind probability alpha**k (columns 1..4 of those rows)
_WW_CORRIDORS = {5: 1, 3: 3, 0: 6, 1: 6}


def windy_walk_grid() -> Grid:
    """The 6x6 map of :func:`windy_walk` (for ``render_values`` / ``render_policy``)."""
    return Grid(6, 6, _WW_WALLS)


def windy_walk(alpha: float, gamma: float | None = 0.95) -> TabularMDP:
    r"""The 6x6 windy walk of the IWOCS paper: three corridors to the goal, windier the shorter.

    Map (row 0 on top; ``#`` wall, ``S`` start, ``G`` goal, digits = exponent :math:`k` of the wind
    probability :math:`\alpha^k` of a cell, ``.`` calm)::

        . 6 6 6 6 .      top corridor (rows 0-1): wind alpha^6, path S -> G of 13 moves
        . 6 6 6 6 .
        . # # # # .
        . 3 3 3 3 .      middle corridor (row 3): wind alpha^3, 9 moves
        . # # # # .
        S 1 1 1 1 G      bottom corridor (row 5): wind alpha, 5 moves

    It is :func:`gridworld` with ``slip = 0``, wind pushing West (``"W"``) with probability
    :math:`\alpha^k` in the corridor cells above (columns 1-4) and 0 in columns 0 and 5, reward -1 per step
    (``step_reward = -1``, ``goal_reward = 0``), an absorbing goal, and the initial distribution on S.
    With :math:`\alpha = 0` the model is deterministic and the shortest path (bottom corridor, 5 moves) is
    optimal; as :math:`\alpha` grows the agent trades length for calmer corridors. The wind overrides
    the chosen move: in a windy cell every action leads one cell West with probability :math:`\alpha^k`.

    Reconstruction note: the IWOCS paper (Figure 1) specifies a 6x6 grid, a start S, a goal G and wind
    pushing West with probabilities :math:`\alpha, \alpha^3, \alpha^6` in three corridors. The exact wall
    layout, the reward scale and whether the wind replaces or adds to the move could not be recovered
    from the sources available here; the choices above are ours (documented, stable across versions).

    Parameters
    ----------
    alpha : float in [0, 1]
        Wind parameter.
    gamma : float or None
        Discount factor (default 0.95).

    References
    ----------
    Zouitine, Geist & Rachelson, "Solving robust MDPs as a sequence of static RL problems" (IWOCS),
    arXiv:2410.06212 (2024), section 4 and Figure 1.
    """
    a = check_prob(alpha, "alpha")
    probs = np.zeros((6, 6))
    for row, k in _WW_CORRIDORS.items():
        probs[row, 1:5] = a**k
    return gridworld(
        6,
        6,
        walls=_WW_WALLS,
        goal=WINDY_WALK_GOAL,
        slip=0.0,
        wind=("W", probs),
        step_reward=-1.0,
        goal_reward=0.0,
        gamma=gamma,
        absorbing_goal=True,
        sparse=False,
        start=WINDY_WALK_START,
    )


def windy_walk_kernels(alphas: Iterable[float], gamma: float | None = 0.95) -> list[TabularMDP]:
    r"""The finite family :math:`\{\text{windy\_walk}(\alpha) : \alpha \in \text{alphas}\}`.

    The models share states, actions, rewards and initial distribution and differ only in ``P``: the
    finite (static) uncertainty set over which IWOCS searches worst cases. ``[m.P for m in ...]`` gives
    the kernels.

    Parameters
    ----------
    alphas : iterable of float in [0, 1]
        Wind parameters (at least one), e.g. ``np.linspace(0, 1, 11)``.
    gamma : float or None
        Discount factor shared by all models.
    """
    try:
        arr = np.asarray(list(alphas) if not isinstance(alphas, np.ndarray) else alphas, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"alphas = {alphas!r} must be a sequence of numbers in [0, 1]") from None
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidArgumentError(f"alphas must be a non-empty 1-d sequence, got shape {arr.shape}")
    out = []
    for k, a in enumerate(arr.tolist()):
        if not (0.0 <= a <= 1.0):
            raise InvalidArgumentError(f"alphas[{k}] = {a!r} is outside [0, 1]")
        out.append(windy_walk(a, gamma))
    return out
