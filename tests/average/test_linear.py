"""Linear AMDPs and LOOP on them (mdpkit.average.linear): model validation, one-hot embedding, the exact
optimistic solve against brute force, optimism, low switching, reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

import mdpkit
from mdpkit.average.linear import (
    BNB_TOL,
    OPTIMISTIC_METHODS,
    ConfidenceSet,
    LinearAMDP,
    LinearLOOP,
    confidence_radius,
    one_hot_embedding,
    optimistic_solve,
    random_linear_amdp,
    switch_bound,
)
from mdpkit.envs import riverswim
from mdpkit.errors import ConvergenceError, InvalidArgumentError, InvalidMDPError, MdpkitError
from mdpkit.experiments import run_continuing

#: Clarabel's default feasibility / gap tolerances are 1e-8; a solved program's J and D are that accurate.
SOLVER_TOL = 1e-7


def _simple() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    phi = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.5], [1.0, 0.0]]])  # (S=2, A=2, d=2)
    mu = np.array([[0.9, 0.1], [0.2, 0.8]])
    theta = np.array([0.0, 1.0])
    return phi, mu, theta


# ------------------------------------------------------------------------------------------ validation
def test_valid_model_builds_kernel_and_reward() -> None:
    phi, mu, theta = _simple()
    m = LinearAMDP(phi, mu, theta)
    assert (m.S, m.A, m.d) == (2, 2, 2)
    np.testing.assert_array_equal(m.P[1, 0], 0.5 * mu[0] + 0.5 * mu[1])
    np.testing.assert_array_equal(m.R, phi @ theta)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p, m, t: (p[:, :, :1], m, t), r"mu has shape \(2, 2\), expected \(d, S\) = \(1, 2\)"),
        (lambda p, m, t: (p, m[:, :1], t), r"mu has shape \(2, 1\), expected \(d, S\) = \(2, 2\)"),
        (lambda p, m, t: (p, m, t[:1]), r"theta has shape \(1,\)"),
        (lambda p, m, t: (p[0], m, t), r"phi has shape \(2, 2\), expected \(S, A, d\)"),
        (
            lambda p, m, t: (p, m * np.array([[1.0], [1.1]]), t),
            r"P\[0, 1, :\] = phi\[0, 1\] @ mu sums to 1\.1",
        ),
        (lambda p, m, t: (p, m + np.array([[0.2, -0.2], [0.0, 0.0]]), t), r"P\[0, 0, 1\] .* is negative"),
        (lambda p, m, t: (p, m, t * 2.0), r"r\[0, 1\] = phi\[0, 1\] @ theta = 2\.0 is not in \[0, 1\]"),
        (lambda p, m, t: (p, m, t - 0.5), r"r\[0, 0\] = phi\[0, 0\] @ theta = -0\.5 is not in \[0, 1\]"),
        (lambda p, m, t: (np.where(p == 1.0, np.nan, p), m, t), r"phi\[0, 0, 0\] = nan is not finite"),
    ],
)
def test_invalid_models_raise_naming_the_entry(change, message) -> None:
    phi, mu, theta = change(*_simple())
    with pytest.raises(InvalidMDPError, match=message):
        LinearAMDP(phi, mu, theta)


def test_errors_are_mdpkit_errors() -> None:
    phi, mu, theta = _simple()
    with pytest.raises(MdpkitError):
        LinearAMDP(phi, mu, theta * 3)
    with pytest.raises(InvalidMDPError, match=r"initial has shape \(3,\)"):
        LinearAMDP(phi, mu, theta, initial=np.ones(3) / 3)


# ------------------------------------------------------------------------------------- embedding, generator
def test_one_hot_embedding_equals_tabular() -> None:
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.ones(4), size=(4, 3))
    tab = mdpkit.TabularMDP(P, rng.random((4, 3)))
    lin = one_hot_embedding(tab)
    assert lin.d == 12
    back = lin.to_tabular()
    np.testing.assert_array_equal(back.dense_P(), tab.dense_P())
    np.testing.assert_array_equal(back.R, tab.R)
    a, b = mdpkit.average_reward(tab, tol=1e-12), mdpkit.average_reward(back, tol=1e-12)
    assert a.gain == b.gain and np.array_equal(a.h, b.h)


def test_one_hot_embedding_rejects_masks_and_large_rewards() -> None:
    P = np.full((2, 2, 2), 0.5)
    with pytest.raises(InvalidMDPError, match="action 1 is infeasible in state 0"):
        one_hot_embedding(mdpkit.TabularMDP(P, np.ones((2, 2)), mask=np.array([[True, False], [True, True]])))
    with pytest.raises(InvalidMDPError, match=r"r\[1, 0\] .* = 3\.0 is not in \[0, 1\]"):
        one_hot_embedding(mdpkit.TabularMDP(P, np.array([[0.0, 1.0], [3.0, 0.0]])))


def test_random_linear_amdp_is_communicating_low_rank_and_seeded() -> None:
    m = random_linear_amdp(6, 3, 5, seed=4)
    assert m.d < m.S * m.A
    tab = m.to_tabular()
    assert mdpkit.is_communicating(tab)
    assert np.linalg.matrix_rank(m.phi.reshape(-1, m.d)) <= 5
    again = random_linear_amdp(6, 3, 5, seed=4)
    assert np.array_equal(m.phi, again.phi) and np.array_equal(m.mu, again.mu)
    sol = mdpkit.average_reward(tab, tol=1e-12)
    w = m.optimal_parameter(sol.h, sol.gain)
    Q = tab.R + tab.dense_P() @ sol.h - sol.gain
    np.testing.assert_allclose(m.phi @ w, Q, atol=1e-12)
    assert np.linalg.norm(w) <= math.sqrt(m.d) * (1 + sol.span)  # the W of confidence_radius
    with pytest.raises(InvalidArgumentError, match="d = 6 must be < S \\* A = 6"):
        random_linear_amdp(3, 2, 6, seed=0)


# --------------------------------------------------------------------------- exact solve vs brute force
def _data(m: LinearAMDP, n: int, seed: int) -> tuple[list[int], list[int], list[float], list[int]]:
    rng = np.random.default_rng(seed)
    s, S_, A_, R_, N_ = 0, [], [], [], []
    for _ in range(n):
        a = int(rng.integers(m.A))
        s2 = int(rng.choice(m.S, p=m.P[s, a]))
        S_.append(s)
        A_.append(a)
        R_.append(float(m.R[s, a]))
        N_.append(s2)
        s = s2
    return S_, A_, R_, N_


def _best_J(cs: ConfidenceSet, w: np.ndarray) -> float:
    """max J in [0, 1] with D(w, J) <= beta for a fixed w in the class (a quadratic in J); -inf if none."""
    Q = cs.phi @ w
    if Q.min() < -1 or Q.max() > cs.span_bound + 1:
        return -np.inf
    a = cs.Lambda @ w - cs.b - cs.G @ Q.max(axis=1)
    Li = np.linalg.inv(cs.Lambda)
    cc, ac, aa = cs.c @ Li @ cs.c, a @ Li @ cs.c, a @ Li @ a
    disc = ac * ac - cc * (aa - cs.beta)
    if disc < 0:
        return -np.inf
    lo, hi = (-ac - math.sqrt(disc)) / cc, (-ac + math.sqrt(disc)) / cc
    if hi < 0 or lo > 1:
        return -np.inf
    return min(hi, 1.0)


def _brute_force(cs: ConfidenceSet) -> float:
    """Grid over w (d = 2) in the box the class allows, then Nelder-Mead from the best grid points."""
    flat = cs.phi.reshape(-1, 2)
    # the class box -1 <= phi w <= B + 1 on two independent rows bounds w
    M = flat[:2] if abs(np.linalg.det(flat[:2])) > 1e-3 else flat[[0, 2]]
    corners = [
        np.linalg.solve(M, np.array([u, v])) for u in (-1, cs.span_bound + 1) for v in (-1, cs.span_bound + 1)
    ]
    lo, hi = np.min(corners, axis=0), np.max(corners, axis=0)
    g0, g1 = np.linspace(lo[0], hi[0], 301), np.linspace(lo[1], hi[1], 301)
    vals = np.array([[_best_J(cs, np.array([x, y])) for y in g1] for x in g0])
    order = np.argsort(vals, axis=None)[::-1][:8]
    best = float(vals.max())
    for k in order:
        i, j = np.unravel_index(k, vals.shape)
        res = minimize(
            lambda w: -_best_J(cs, w) if np.isfinite(_best_J(cs, w)) else 10.0,
            np.array([g0[i], g1[j]]),
            method="Nelder-Mead",
            options={"xatol": 1e-12, "fatol": 1e-13, "maxiter": 4000},
        )
        best = max(best, -float(res.fun))
    return best


@pytest.mark.parametrize(("seed", "beta"), [(1, 0.05), (1, 0.5), (2, 0.2), (5, 1.0)])
def test_exact_optimistic_solve_matches_brute_force_on_d2(seed: int, beta: float) -> None:
    m = random_linear_amdp(3, 2, 2, seed=seed)
    sol = mdpkit.average_reward(m.to_tabular(), tol=1e-12)
    cs = ConfidenceSet.from_data(m.phi, *_data(m, 200, seed), beta=beta, span_bound=sol.span + 0.5)
    exact = optimistic_solve(cs, "exact")
    assert exact.feasible
    # the exact point is in the (non-convex) set, with the true max in V_w
    assert cs.discrepancy(exact.w, exact.J) <= cs.beta + SOLVER_TOL
    assert cs.in_class(exact.w, exact.J, tol=SOLVER_TOL)
    brute = _brute_force(cs)
    assert brute <= exact.J + SOLVER_TOL  # brute force only finds feasible points
    assert exact.J - brute <= 1e-6  # ... and gets within its search resolution of the maximum
    enum = optimistic_solve(cs, "enumerate")
    assert enum.programs == 2**cs.visited.size and abs(enum.J - exact.J) <= SOLVER_TOL
    relaxed, alt = optimistic_solve(cs, "relaxed"), optimistic_solve(cs, "alternating")
    assert relaxed.J >= exact.J - SOLVER_TOL  # relaxation: upper bound
    assert alt.J <= exact.J + SOLVER_TOL  # greedy-consistent point: lower bound
    assert cs.discrepancy(alt.w, alt.J) <= cs.beta + SOLVER_TOL


@pytest.mark.parametrize(("S", "A", "d", "seed", "beta"), [(6, 3, 4, 1, 0.2), (7, 2, 5, 3, 2.0)])
def test_branch_and_bound_equals_enumeration(S: int, A: int, d: int, seed: int, beta: float) -> None:
    m = random_linear_amdp(S, A, d, seed=seed)
    sol = mdpkit.average_reward(m.to_tabular(), tol=1e-12)
    cs = ConfidenceSet.from_data(m.phi, *_data(m, 400, seed), beta=beta, span_bound=sol.span + 0.5)
    exact, enum = optimistic_solve(cs, "exact"), optimistic_solve(cs, "enumerate")
    assert enum.programs == A**cs.visited.size
    assert abs(exact.J - enum.J) <= SOLVER_TOL + BNB_TOL
    assert cs.discrepancy(exact.w, exact.J) <= cs.beta + SOLVER_TOL


def test_optimistic_solve_contains_truth_and_rejects_bad_method() -> None:
    m = random_linear_amdp(4, 2, 3, seed=0)
    sol = mdpkit.average_reward(m.to_tabular(), tol=1e-12)
    w_star = m.optimal_parameter(sol.h, sol.gain)
    S_, A_, R_, N_ = _data(m, 500, 0)
    cs0 = ConfidenceSet.from_data(m.phi, S_, A_, R_, N_, beta=0.0, span_bound=sol.span)
    d_star = cs0.discrepancy(w_star, sol.gain)  # D(f*) = ||sum phi eta - lam w*||^2_{Lambda^-1}
    cs = ConfidenceSet.from_data(m.phi, S_, A_, R_, N_, beta=d_star * 1.01, span_bound=sol.span)
    assert cs.in_class(w_star, sol.gain, tol=1e-12)
    assert optimistic_solve(cs, "exact").J >= sol.gain - SOLVER_TOL  # f* feasible => optimism
    with pytest.raises(InvalidArgumentError, match="method = 'lp'"):
        optimistic_solve(cs, "lp")
    with pytest.raises(InvalidArgumentError, match="max_programs = 2"):
        optimistic_solve(cs, "enumerate", max_programs=2)
    with pytest.raises(ConvergenceError, match="max_programs = 2"):
        optimistic_solve(cs, "exact", max_programs=2)


# ------------------------------------------------------------------------------ LOOP runs: optimism etc.
@pytest.mark.parametrize(("seed", "noise"), [(0, "none"), (1, "none"), (2, "bernoulli")])
def test_loop_is_optimistic_and_truth_stays_in_the_set(seed: int, noise: str) -> None:
    m = random_linear_amdp(5, 2, 4, seed=seed)
    tab = m.to_tabular()
    sol = mdpkit.average_reward(tab, tol=1e-12)
    w_star = m.optimal_parameter(sol.h, sol.gain)
    agent = LinearLOOP.for_model(m, covering=False)  # the smallest radius the theory allows for f*
    run_continuing(tab, agent, 3000, seed=seed, rho_star=sol.gain, reward_noise=noise)
    assert agent.n_updates >= 5
    for u in agent.updates:
        assert u["feasible"] and u["beta_used"] == u["beta"] and not u["fallback"]
        assert u["J"] >= sol.gain - SOLVER_TOL
    # f* in B_t at the last update (recomputed from the agent's statistics)
    cs = agent.confidence_set()
    assert cs.discrepancy(w_star, sol.gain) <= cs.beta


def test_switches_grow_logarithmically() -> None:
    m = random_linear_amdp(5, 2, 4, seed=7)
    tab = m.to_tabular()
    agent = LinearLOOP.for_model(m, method="alternating")
    T = 20_000
    run = run_continuing(tab, agent, T, seed=7)
    L = float(np.linalg.norm(m.phi, axis=2).max())
    assert run.n_switches <= agent.n_updates - 1
    # every update doubled det(Lambda): K <= 1 + log2(det Lambda_T / lam^d) <= switch_bound(T)
    logdet_T = float(np.linalg.slogdet(agent.Lambda)[1])
    assert agent.n_updates <= 1 + logdet_T / math.log(2.0)
    assert agent.n_updates <= switch_bound(T, m.d, 1.0, L)
    times = np.array([u["t"] for u in agent.updates])
    for k in range(1, times.size):  # the bound holds at every horizon, not just at T
        assert k + 1 <= switch_bound(int(times[k]), m.d, 1.0, L)
    every = LinearLOOP.for_model(m, method="alternating", switching="every-step")
    run_continuing(tab, every, 200, seed=7)
    assert every.n_updates == 200


def test_regret_is_finite_and_reproducible() -> None:
    m = one_hot_embedding(riverswim(3)) if riverswim(3).R.max() <= 1 else None
    assert m is not None
    tab = m.to_tabular()

    def once() -> tuple[np.ndarray, np.ndarray, list[float]]:
        agent = LinearLOOP.for_model(m, conf_scale=0.1)
        run = run_continuing(tab, agent, 2000, seed=11)
        return run.regret(), run.switch_times, [u["J"] for u in agent.updates]

    (r1, s1, j1), (r2, s2, j2) = once(), once()
    assert np.isfinite(r1).all()
    assert r1.tobytes() == r2.tobytes() and s1.tobytes() == s2.tobytes() and j1 == j2


def test_agent_argument_errors() -> None:
    phi = _simple()[0]
    for kwargs, msg in [
        ({"delta": 1.5}, "delta = 1.5"),
        ({"lam": 0.0}, "lam = 0.0 must be > 0"),
        ({"method": "mip"}, "method = 'mip'"),
        ({"switching": "never"}, "switching = 'never'"),
        ({"conf_scale": -1.0}, "conf_scale = -1.0"),
    ]:
        with pytest.raises(InvalidArgumentError, match=msg):
            LinearLOOP(phi, 1.0, **kwargs)


def test_confidence_radius_grows_with_data_and_covering() -> None:
    small = confidence_radius(4 * math.log(10.0), 4, 100, 1.0, 0.05, covering=False)
    big = confidence_radius(4 * math.log(100.0), 4, 10_000, 1.0, 0.05, covering=False)
    assert 0 < small < big < confidence_radius(4 * math.log(100.0), 4, 10_000, 1.0, 0.05, covering=True)
    assert set(OPTIMISTIC_METHODS) == {"exact", "enumerate", "relaxed", "alternating"}


def test_discrepancy_switching_tracks_the_discrepancy_incrementally() -> None:
    m = random_linear_amdp(5, 2, 4, seed=3)
    tab = m.to_tabular()
    agent = LinearLOOP.for_model(m, switching="discrepancy", switch_factor=2.0, covering=False)
    run_continuing(tab, agent, 3000, seed=3)
    V = (m.phi @ agent.w).max(axis=1)
    u = agent.Lambda @ agent.w - agent.b - agent.G @ V + agent.J * agent.c
    scale = float(np.abs(agent.Lambda @ agent.w).max() + np.abs(agent.b).max() + np.abs(agent.G @ V).max())
    # t rank-one additions, each rounding by a few ulps of the magnitudes involved
    np.testing.assert_allclose(agent._u, u, rtol=0, atol=8 * np.finfo(float).eps * scale * agent.t)
    cs = agent.confidence_set()
    # the rule has not fired since the last update: D_t(f_k) <= kappa beta_t now
    assert cs.discrepancy(agent.w, agent.J) <= 2.0 * cs.beta
    for upd in agent.updates:  # each update starts inside the set
        assert upd["discrepancy"] <= upd["beta_used"] + SOLVER_TOL
    with pytest.raises(InvalidArgumentError, match="switch_factor = 0.5"):
        LinearLOOP(m.phi, 1.0, switch_factor=0.5)


def test_from_spec_uses_one_hot_features() -> None:
    from mdpkit.experiments.agents import make_agent
    from mdpkit.experiments.protocol import EnvSpec

    tab = riverswim(3)
    spec = EnvSpec(tab.S, tab.A, np.asarray(tab.mask), None, 100)
    agent = make_agent("mdpkit.average.linear:LinearLOOP", spec, 0, span_bound=2.5, conf_scale=0.1)
    assert isinstance(agent, LinearLOOP) and agent.d == tab.S * tab.A
    np.testing.assert_array_equal(agent.phi, one_hot_embedding(tab).phi)
    run = run_continuing(tab, agent, 100, seed=0)
    assert np.isfinite(run.regret()).all()
    mask = np.ones((3, 2), dtype=bool)
    mask[1, 1] = False
    with pytest.raises(InvalidArgumentError, match="action 1 is infeasible in state 1"):
        LinearLOOP.from_spec(EnvSpec(3, 2, mask, None, 10), 0)
    with pytest.raises(InvalidArgumentError, match="continuing"):
        LinearLOOP.from_spec(EnvSpec(3, 2, np.ones((3, 2), dtype=bool), 5, 10), 0)


@settings(max_examples=20, deadline=None)
@given(
    S=st.integers(2, 4),
    A=st.integers(2, 3),
    d=st.integers(1, 4),
    n=st.integers(0, 300),
    beta=st.floats(0.01, 5.0),
    seed=st.integers(0, 2**16),
)
def test_solver_ordering_property(S: int, A: int, d: int, n: int, beta: float, seed: int) -> None:
    """On random sets: alternating <= exact = enumerate <= relaxed, and the exact point is in the set."""
    d = min(d, S * A - 1)
    m = random_linear_amdp(S, A, d, seed=seed)
    cs = ConfidenceSet.from_data(m.phi, *_data(m, n, seed), beta=beta, span_bound=2.0)
    out = {meth: optimistic_solve(cs, meth) for meth in OPTIMISTIC_METHODS}
    if not out["exact"].feasible:  # an empty set (small beta): no leaf program is feasible either
        assert not out["enumerate"].feasible and not out["alternating"].feasible
        return
    ex = out["exact"].J
    assert abs(out["enumerate"].J - ex) <= SOLVER_TOL + BNB_TOL
    assert out["relaxed"].J >= ex - SOLVER_TOL
    if out["alternating"].feasible:
        assert out["alternating"].J <= ex + SOLVER_TOL
    assert cs.discrepancy(out["exact"].w, ex) <= cs.beta + SOLVER_TOL
    assert cs.in_class(out["exact"].w, ex, tol=SOLVER_TOL)
