r"""Instances of d-rectangular linear MDPs: the 5-state simulated linear MDP and an American put option.

Both are *reconstructions*: the exact published descriptions (Liu & Xu, AISTATS 2024, experiments; Ma et al.
2022, experiments; the DR-RPO paper, 2025, experiments) could not be retrieved in the session that wrote this
module, so each docstring states what was rebuilt and which choices are ours. What they keep from the
published instances (as recalled, not re-read): the state/action structure, the perturbation parameter
``q`` at the first step (simulated MDP) and the binomial price dynamics with an exercise payoff
:math:`\max(0, K - p)` (American put). The features are in the simplex, as the model requires, so the
simulated MDP's perturbed test model is a member of the TV ball of radius :math:`q` around the nominal
factors (for the put, a perturbation is a change of the up-probability).

References
----------
Liu & Xu, "Distributionally robust off-dynamics reinforcement learning: provable efficiency with linear
function approximation", AISTATS 2024 (simulated linear MDP, American put option).
Ma, Liang, Blanchet, Liu, Xu, Zhou & Zhou, "Distributionally robust offline reinforcement learning with
linear function approximation", arXiv:2209.06620, 2022.
Tamar, Mannor & Xu, "Scaling up robust MDPs using function approximation", ICML 2014 (American put option).
"""

from __future__ import annotations

import itertools

import numpy as np

from mdpkit.core import validate as V
from mdpkit.errors import InvalidArgumentError
from mdpkit.linear.model import LinearMDP

__all__ = ["simulated_linear_mdp", "american_put", "hat_weights", "random_linear_mdp", "SIM_STATES"]

#: Names of the simulated MDP's states, in index order.
SIM_STATES = ("x1", "x2", "x3", "x4_fail", "x5_goal")

# factor indices of the simulated MDP
_ADV2, _ADV3, _FAIL, _GOAL = 0, 1, 2, 3


def _check_unit(x: object, name: str, lo: float = 0.0, hi: float = 1.0) -> float:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} = {x!r} is not a number") from None
    if not np.isfinite(v) or v < lo or v > hi:
        raise InvalidArgumentError(f"{name} = {v!r} is outside [{lo:g}, {hi:g}]")
    return v


def simulated_linear_mdp(
    H: int = 3,
    delta: float = 0.3,
    xi: object | None = None,
    m: int = 4,
    q: float = 0.0,
) -> LinearMDP:
    r"""The 5-state simulated d-rectangular linear MDP with a perturbation ``q`` of the first step.

    States ``x1`` (start), ``x2``, ``x3`` (intermediate), ``x4`` (fail, absorbing), ``x5`` (goal,
    absorbing); actions :math:`a \in \{-1, 1\}^m` (index ``k`` is the binary expansion of ``k``, bit
    ``j`` set meaning :math:`a_j = +1`). The success probability of an action is
    :math:`p(a) = \delta + \langle \xi, a \rangle \in [0, 2\delta]` (needs :math:`\|\xi\|_1 \le \delta`).
    Features (:math:`d = 4` factors: *advance to x2*, *advance to x3*, *fail*, *goal*):

    .. math:: \phi(x_1, a) = (1 - p(a))\,e_{\mathrm{adv2}} + p(a)\,e_{\mathrm{goal}}, \quad
              \phi(x_2, a) = (1 - p(a))\,e_{\mathrm{adv3}} + p(a)\,e_{\mathrm{goal}}, \quad
              \phi(x_3, a) = (1 - p(a))\,e_{\mathrm{fail}} + p(a)\,e_{\mathrm{goal}},

    :math:`\phi(x_4, a) = e_{\mathrm{fail}}`, :math:`\phi(x_5, a) = e_{\mathrm{goal}}`. Nominal factors
    (every stage) are point masses: :math:`\mu_{\mathrm{adv2}} = \delta_{x_2}`, :math:`\mu_{\mathrm{adv3}} =
    \delta_{x_3}`, :math:`\mu_{\mathrm{fail}} = \delta_{x_4}`, :math:`\mu_{\mathrm{goal}} = \delta_{x_5}`;
    rewards :math:`\theta_h = e_{\mathrm{goal}}`, so :math:`r_h(s, a)` is the weight on the goal factor
    (1 at ``x5``, :math:`p(a)` at x1-x3, 0 at ``x4``). The start is ``x1``.

    The perturbed (target) model moves mass ``q`` of the *goal* factor of the first step to the fail state:
    :math:`\mu_{0,\mathrm{goal}} = (1-q)\,\delta_{x_5} + q\,\delta_{x_4}`; it lies in the d-rectangular TV
    ball of radius :math:`\rho` around the nominal model whenever :math:`q \le \rho`.

    At every state the actions differ only through the scalar :math:`p(a)`, so
    :math:`Q_h(s, a) = c_{h,s} + p(a)\,(\nu_{h,\mathrm{goal}} - \nu_{h,\mathrm{next}(s)})` for the nominal
    *and* every robust backup: the nominal and robust optimal (greedy) policies coincide (the action of
    largest :math:`p(a)` while the goal factor is worth more, as with the defaults); robustness shows in
    values, not in the optimal policy, and a KL ball around a point-mass factor contains only that factor.
    Learned policies (DR-RPO vs a non-robust learner) can still differ.
    For an instance whose robust policy differs from the nominal one, see :func:`american_put`.

    Reconstruction note: the published instance (Liu & Xu 2024, experiments, after Ma et al. 2022) has the
    same states, action set :math:`\{-1,1\}^4`, :math:`\delta`/:math:`\xi` parametrisation and first-step
    perturbation ``q``; the exact features/factors above are our rebuild, chosen so that every constraint
    of the d-rectangular model holds exactly.

    Parameters
    ----------
    H : int, default 3
        Horizon.
    delta : float in [0, 0.5], default 0.3
        Base success probability; :math:`p(a) \le 2\delta \le 1`.
    xi : array (m,), optional
        Action weights with :math:`\|\xi\|_1 \le \delta` (default :math:`\xi_j = \delta / (2m)`, so the
        best action :math:`a = (1, \dots, 1)` has :math:`p = 1.5\delta`).
    m : int, default 4
        Action dimension; :math:`A = 2^m`.
    q : float in [0, 1], default 0
        First-step perturbation (0 = the nominal/source model).

    Returns
    -------
    LinearMDP
        ``S = 5``, ``A = 2**m``, ``d = 4``, initial state ``x1``.

    Raises
    ------
    InvalidArgumentError
        A parameter out of range (named with its value).
    """
    H = V.check_positive_int(H, "H")
    m = V.check_positive_int(m, "m")
    delta = _check_unit(delta, "delta", 0.0, 0.5)
    q = _check_unit(q, "q")
    if xi is None:
        xiv = np.full(m, delta / (2 * m))
    else:
        xiv = np.asarray(xi, dtype=np.float64)
        if xiv.shape != (m,) or not np.all(np.isfinite(xiv)):
            raise InvalidArgumentError(f"xi has shape {xiv.shape}, expected (m,) = ({m},) and finite entries")
    if np.abs(xiv).sum() > delta + 1e-12:
        raise InvalidArgumentError(f"||xi||_1 = {float(np.abs(xiv).sum())!r} exceeds delta = {delta!r}")
    acts = np.array(list(itertools.product((-1.0, 1.0), repeat=m)))[:, ::-1]  # bit j of k <-> a_j
    p = np.clip(delta + acts @ xiv, 0.0, 1.0)
    S, A, d = 5, 2**m, 4
    phi = np.zeros((S, A, d))
    for s, nxt in ((0, _ADV2), (1, _ADV3), (2, _FAIL)):
        phi[s, :, nxt] = 1.0 - p
        phi[s, :, _GOAL] += p
    phi[3, :, _FAIL] = 1.0
    phi[4, :, _GOAL] = 1.0
    mu = np.zeros((H, d, S))
    mu[:, _ADV2, 1] = 1.0
    mu[:, _ADV3, 2] = 1.0
    mu[:, _FAIL, 3] = 1.0
    mu[:, _GOAL, 4] = 1.0
    mu[0, _GOAL, 4] = 1.0 - q
    mu[0, _GOAL, 3] = q
    theta = np.zeros((H, d))
    theta[:, _GOAL] = 1.0
    initial = np.zeros(S)
    initial[0] = 1.0
    return LinearMDP(phi, mu, theta, H, initial)


def hat_weights(x: object, grid: object) -> np.ndarray:
    r"""Piecewise-linear ("hat") interpolation weights of points ``x`` on an increasing ``grid``.

    .. math:: w_i(x) = \max\Bigl(0, 1 - \frac{|x - g_i|}{g_{i+1} - g_i}\Bigr) \ \text{(on the cell holding
              } x\text{)}, \qquad \sum_i w_i(x) = 1, \qquad \sum_i w_i(x)\, g_i = x,

    with ``x`` clipped to :math:`[g_0, g_{n-1}]`. Rows are in the simplex: they are the features of
    :func:`american_put`.

    Parameters
    ----------
    x : array (m,)
        Points.
    grid : array (n,)
        Strictly increasing knots.

    Returns
    -------
    ndarray (m, n)
    """
    g = np.asarray(grid, dtype=np.float64)
    if g.ndim != 1 or g.size < 1 or np.any(np.diff(g) <= 0):
        raise InvalidArgumentError("grid must be a non-empty strictly increasing 1-d array")
    xv = np.clip(np.atleast_1d(np.asarray(x, dtype=np.float64)), g[0], g[-1])
    W = np.zeros((xv.size, g.size))
    if g.size == 1:
        W[:, 0] = 1.0
        return W
    j = np.clip(np.searchsorted(g, xv, side="right") - 1, 0, g.size - 2)
    t = (xv - g[j]) / (g[j + 1] - g[j])
    W[np.arange(xv.size), j] = 1.0 - t
    W[np.arange(xv.size), j + 1] += t
    return W


def american_put(
    H: int = 20,
    n_prices: int = 41,
    n_anchors: int = 11,
    strike: float = 100.0,
    p_low: float = 70.0,
    p_high: float = 130.0,
    up: float = 1.02,
    down: float = 0.98,
    p_up: float = 0.5,
    p0: float = 100.0,
) -> LinearMDP:
    r"""An American put option on a discretised price grid, as a d-rectangular linear MDP.

    States: ``n_prices`` equally spaced prices :math:`g_0 < \dots < g_{N-1}` on ``[p_low, p_high]`` plus an
    absorbing *exercised* state (index ``N``). Actions: 0 = hold, 1 = exercise. Holding moves the price to
    :math:`u\,p` with probability ``p_up`` and to :math:`d\,p` otherwise (Tamar, Mannor & Xu 2014),
    each target split onto its two neighbouring grid prices by linear interpolation (mean-preserving) and
    clipped to the grid; exercising pays :math:`\max(0, K - p) / K` (in [0, 1]) and ends the episode.

    Linear structure (:math:`d = 2n + 1` with ``n = n_anchors`` anchor prices :math:`c_1 < \dots < c_n`
    equally spaced on the grid's range): :math:`\phi(p, \mathrm{hold}) = (w(p), 0, 0)`,
    :math:`\phi(p, \mathrm{exercise}) = (0, w(p), 0)`, :math:`\phi(\mathrm{exercised}, \cdot) = (0, 0, 1)`
    with :math:`w(p)` the hat weights of :math:`p` on the anchors (:func:`hat_weights`). The hold factor of
    anchor :math:`i` is the next-price distribution from :math:`c_i`; every exercise factor and the last
    factor are the point mass on *exercised*; :math:`\theta = (0, \max(0, K - c)/K, 0)`. The model is
    therefore exactly linear (the kernel at a non-anchor price is the anchors' mixture), and the payoff is
    exact at every grid price when ``strike`` is an anchor (the payoff is linear between anchors on each
    side of the strike). The initial distribution is :math:`w(p_0)` pushed onto the grid by the same hat
    interpolation.

    A perturbed test model is ``american_put(..., p_up=p')`` (same features, other factors).
    Reconstruction note: Liu & Xu (2024) and Ma et al. (2022) use this option-pricing problem (after Tamar,
    Mannor & Xu 2014) with radial-basis features; the simplex (hat) features and the grid are our rebuild,
    required by the d-rectangular model's :math:`\phi \in \Delta_d`.

    Parameters
    ----------
    H : int, default 20
        Horizon (exercise dates).
    n_prices : int, default 41
        Grid size N (states: N + 1).
    n_anchors : int, default 11
        Number of anchor prices n (feature dimension 2n + 1).
    strike : float, default 100
        Strike :math:`K` > 0.
    p_low, p_high : float, default 70, 130
        Price range of the grid, ``0 < p_low < p_high``.
    up, down : float, default 1.02, 0.98
        Multiplicative moves, ``down < up``.
    p_up : float in [0, 1], default 0.5
        Probability of an up move.
    p0 : float, default 100
        Initial price (clipped to the grid).

    Returns
    -------
    LinearMDP
        ``S = n_prices + 1``, ``A = 2``, ``d = 2 n_anchors + 1``.

    Raises
    ------
    InvalidArgumentError
        A parameter out of range (named with its value).
    """
    H = V.check_positive_int(H, "H")
    N = V.check_positive_int(n_prices, "n_prices")
    n = V.check_positive_int(n_anchors, "n_anchors")
    if N < 2 or n < 2:
        raise InvalidArgumentError(f"need n_prices >= 2 and n_anchors >= 2, got {N} and {n}")
    p_up = _check_unit(p_up, "p_up")
    for name, val in (("strike", strike), ("p_low", p_low), ("up", up), ("down", down)):
        if not np.isfinite(val) or val <= 0:
            raise InvalidArgumentError(f"{name} = {val!r} must be finite and > 0")
    if not p_high > p_low:
        raise InvalidArgumentError(f"p_high = {p_high!r} must exceed p_low = {p_low!r}")
    if not up > down:
        raise InvalidArgumentError(f"up = {up!r} must exceed down = {down!r}")
    grid = np.linspace(p_low, p_high, N)
    anchors = np.linspace(p_low, p_high, n)
    S, d = N + 1, 2 * n + 1
    W = hat_weights(grid, anchors)  # (N, n) features of the grid prices
    phi = np.zeros((S, 2, d))
    phi[:N, 0, :n] = W
    phi[:N, 1, n : 2 * n] = W
    phi[N, :, 2 * n] = 1.0
    mu = np.zeros((d, S))
    mu[:n, :N] = p_up * hat_weights(up * anchors, grid) + (1.0 - p_up) * hat_weights(down * anchors, grid)
    mu[n:, N] = 1.0
    theta = np.zeros(d)
    theta[n : 2 * n] = np.maximum(0.0, strike - anchors) / strike
    initial = np.zeros(S)
    initial[:N] = hat_weights(p0, grid)[0]
    return LinearMDP(phi, np.broadcast_to(mu, (H, d, S)), np.broadcast_to(theta, (H, d)), H, initial)


def random_linear_mdp(
    seed: int | np.random.Generator,
    S: int = 4,
    A: int = 2,
    d: int = 3,
    H: int = 3,
    sparse: bool = False,
) -> LinearMDP:
    r"""A random d-rectangular linear MDP (for tests, claims and examples).

    Features :math:`\phi(s,a) \sim \mathrm{Dirichlet}(\mathbf 1_d)`, factors :math:`\mu_{h,i} \sim
    \mathrm{Dirichlet}(\tfrac12 \mathbf 1_S)`, :math:`\theta_h \sim U[0,1]^d` (so rewards are in [0, 1]),
    uniform initial distribution. With ``sparse``, each factor keeps a random support of 1 to S states and
    each feature row one to d factors (exercising the KL support and degenerate cases).

    Parameters
    ----------
    seed : int or numpy.random.Generator
    S, A, d, H : int, default 4, 2, 3, 3
        Sizes.
    sparse : bool, default False
        Random supports for factors and feature rows.

    Returns
    -------
    LinearMDP
    """
    rng = np.random.default_rng(seed)
    phi = rng.dirichlet(np.ones(d), size=(S, A))
    mu = rng.dirichlet(0.5 * np.ones(S), size=(H, d))
    if sparse:
        for arr, n in ((phi, d), (mu, S)):
            flat = arr.reshape(-1, n)
            for row in flat:
                k = int(rng.integers(1, n + 1))
                keep = rng.choice(n, size=k, replace=False)
                mask = np.zeros(n, dtype=bool)
                mask[keep] = True
                row[~mask] = 0.0
                if row.sum() <= 0:
                    row[keep[0]] = 1.0
                row /= row.sum()
    theta = rng.uniform(size=(H, d))
    return LinearMDP(phi, mu, theta, H)
