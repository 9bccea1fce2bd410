r"""The torch twin (:mod:`mdpkit.core._torch`, :mod:`mdpkit.core.batched`) against the numba reference.

Tolerances
----------
float64 (``TOL64``). Both backends run the same algorithm with the same stopping rule; their iterates differ
only by rounding (the order of the dot products), which the contraction does not amplify, and at a stop
either one is within ``error_bound / 2`` of :math:`V^*` (``error_bound <= tol + rounding``). Values,
Q-functions and evaluations must agree to ``1e-10 * (1 + ||V*||_inf)`` (observed: <= 1e-12 on these draws).

float32 (``tol32``). With unit roundoff :math:`u = 2^{-24}`, :math:`n = S` and
:math:`M = 1 + \|V^*\|_\infty + \max|r|`: rounding ``P`` and ``r`` to float32 moves :math:`V^*` by at most
:math:`2uM/(1-\gamma)`; one float32 sweep errs by at most :math:`(n+2)uM` (a length-n dot product with
non-negative weights, a product and a sum), and the contraction accumulates these to
:math:`(n+2)uM/(1-\gamma)`. So :math:`\|V_{32} - V^*\|_\infty \le \mathrm{tol}/2 + (n+4)uM/(1-\gamma)`.
The span test can only fire when its threshold :math:`\mathrm{tol}(1-\gamma)` exceeds the rounding noise of
:math:`\mathrm{sp}(Tv - v)`, at most :math:`2(n+2)uM`; we run with twice that,
:math:`\mathrm{tol}_{32} = 4(n+3)uM/(1-\gamma)`, which must converge and gives
:math:`\|V_{32} - V^*\|_\infty \le \mathrm{tol}_{32}` (about :math:`10^{-5}\,\|V^*\|/(1-\gamma)` for S = 8).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mdpkit
from mdpkit.core import batched
from tests.property.strategies import (
    finite_horizon_batches,
    finite_horizon_mdps,
    tabular_mdp_batches,
    tabular_mdps,
)

TOL64 = 1e-10
EPS = np.finfo(np.float64).eps
U32 = 2.0**-24
MAX_ITER = {"vi": 200_000, "mpi": 200_000, "pi": 10_000}


def scale(V: np.ndarray) -> float:
    return 1.0 + float(np.max(np.abs(V)))


def unique_states(Q: np.ndarray, mask: np.ndarray, margin: float) -> np.ndarray:
    """States whose best feasible action beats every other one by more than ``margin``."""
    q = np.where(mask, Q, -np.inf)
    top = np.sort(q, axis=-1)
    if q.shape[-1] == 1:
        return np.ones(q.shape[:-1], dtype=bool)
    return (top[..., -1] - top[..., -2]) > margin


def assert_close_q(Qa: np.ndarray, Qb: np.ndarray, mask: np.ndarray, atol: float) -> None:
    assert np.array_equal(np.isneginf(Qa), ~mask)
    assert np.array_equal(np.isneginf(Qb), ~mask)
    np.testing.assert_allclose(Qa[mask], Qb[mask], rtol=0, atol=atol)


def kernel_for_batch(mdp: mdpkit.TabularMDP):
    """``P`` as the batched API takes it: the CSR itself (shared), or dense with a batch axis of one."""
    return mdp.P if mdp.is_sparse else mdp.P[None]


def tol32(mdp: mdpkit.TabularMDP, V_star: np.ndarray) -> float:
    M = 1.0 + float(np.max(np.abs(V_star))) + float(np.max(np.abs(mdp.R[mdp.mask])))
    return 4 * (mdp.S + 3) * U32 * M / (1.0 - mdp.gamma)


# --------------------------------------------------------------------------- discounted solvers
@settings(max_examples=40, deadline=None)
@given(tabular_mdps(), st.sampled_from(["vi", "pi", "mpi"]))
def test_solve_matches_numba_float64(mdp, method):
    star = mdpkit.solve(mdp, "pi")
    ref = mdpkit.solve(mdp, method, max_iter=MAX_ITER[method])
    got = mdpkit.solve(mdp, method, backend="torch", device="cpu", max_iter=MAX_ITER[method])
    sc = scale(star.V)
    assert got.method == method
    assert isinstance(got.V, np.ndarray) and got.V.dtype == np.float64 and got.policy.dtype == np.int64
    np.testing.assert_allclose(got.V, ref.V, rtol=0, atol=TOL64 * sc)
    np.testing.assert_allclose(got.V, star.V, rtol=0, atol=TOL64 * sc)
    assert_close_q(got.Q, ref.Q, mdp.mask, TOL64 * sc)
    # greedy policies agree wherever the optimal action is unique by a margin
    uniq = unique_states(star.Q, mdp.mask, 1e-8 * sc)
    np.testing.assert_array_equal(got.policy[uniq], star.policy[uniq])
    assert mdp.mask[np.arange(mdp.S), got.policy].all()
    # the certificate, as the numba reference computes it (span bracket + rounding floor)
    assert got.converged == ref.converged
    assert 0 <= got.rounding <= got.error_bound
    if got.iterations == ref.iterations:
        assert got.rounding == pytest.approx(ref.rounding, rel=1e-9)
    if method != "pi":
        assert got.converged and got.error_bound - got.rounding <= 1e-10
    # ... and what it certifies: ||V^pi - V*|| <= error_bound, and V within error_bound / 2 of V* (VI/MPI)
    slack = 64 * EPS * sc / (1 - mdp.gamma)  # rounding of the float64 references themselves
    assert np.max(star.V - mdpkit.evaluate(mdp, got.policy).V) <= got.error_bound + slack
    assert (
        np.max(np.abs(got.V - star.V)) <= (got.error_bound / 2 if method != "pi" else got.error_bound) + slack
    )
    assert mdpkit.bellman_residual(mdp, got.V) <= 1e-10 + 64 * EPS * sc
    assert abs(got.residual - mdpkit.bellman_residual(mdp, got.V)) <= 64 * EPS * sc


@settings(max_examples=30, deadline=None)
@given(tabular_mdps(), st.sampled_from(["vi", "pi", "mpi"]))
def test_float32_within_derived_tolerance(mdp, method):
    star = mdpkit.solve(mdp, "pi")
    tol = tol32(mdp, star.V)
    got = mdpkit.solve(mdp, method, tol=tol, backend="torch", device="cpu", dtype=torch.float32)
    assert got.converged
    assert np.max(np.abs(got.V - star.V)) <= tol
    # its greedy policy is tol-optimal: evaluate it exactly in float64
    assert np.max(star.V - mdpkit.evaluate(mdp, got.policy).V) <= tol


@settings(max_examples=40, deadline=None)
@given(tabular_mdps(), st.integers(0, 2**32 - 1))
def test_policy_evaluation_matches_numba(mdp, seed):
    rng = np.random.default_rng(seed)
    det = np.array([rng.choice(np.flatnonzero(row)) for row in mdp.mask])
    w = rng.random((mdp.S, mdp.A)) * mdp.mask
    w[np.arange(mdp.S), det] += 0.1
    stoch = w / w.sum(axis=1, keepdims=True)
    for pol in (det, stoch):
        ref = mdpkit.evaluate(mdp, pol)
        got = batched.policy_evaluation(
            kernel_for_batch(mdp), mdp.R[None], mdp.gamma, pol[None], device="cpu"
        )
        sc = scale(ref.V)
        np.testing.assert_allclose(got.V[0].numpy(), ref.V, rtol=0, atol=TOL64 * sc)
        assert_close_q(got.Q[0].numpy(), ref.Q, mdp.mask, TOL64 * sc)
        assert_close_q(got.advantage[0].numpy(), ref.advantage, mdp.mask, TOL64 * sc)


# --------------------------------------------------------------------------- finite horizon
def check_finite_solution(got: mdpkit.FiniteSolution, ref: mdpkit.FiniteSolution, mask: np.ndarray) -> None:
    sc = scale(ref.V)
    np.testing.assert_allclose(got.V, ref.V, rtol=0, atol=TOL64 * sc)
    assert_close_q(got.Q, ref.Q, mask, TOL64 * sc)
    assert abs(got.value - ref.value) <= TOL64 * sc
    uniq = unique_states(ref.Q, mask, 1e-8 * sc)
    np.testing.assert_array_equal(got.policy[uniq], ref.policy[uniq])


@settings(max_examples=40, deadline=None)
@given(finite_horizon_mdps())
def test_backward_induction_matches_numba(fh):
    check_finite_solution(
        mdpkit.backward_induction(fh, backend="torch", device="cpu"), mdpkit.backward_induction(fh), fh.mask
    )


@settings(max_examples=30, deadline=None)
@given(tabular_mdps(), st.integers(1, 6))
def test_backward_induction_stationary_matches_numba(mdp, H):
    fh = mdpkit.FiniteHorizonMDP.from_tabular(mdp, H, terminal=np.linspace(-1.0, 1.0, mdp.S))
    check_finite_solution(
        mdpkit.backward_induction(fh, backend="torch", device="cpu"), mdpkit.backward_induction(fh), fh.mask
    )


# --------------------------------------------------------------------------- batches
@settings(max_examples=25, deadline=None)
@given(tabular_mdp_batches())
def test_batched_solvers_equal_per_model(models):
    batch = batched.stack_models(models, device="cpu")
    results = {
        "vi": batched.value_iteration(*batch),
        "pi": batched.policy_iteration(*batch),
        "mpi": batched.modified_policy_iteration(*batch),
    }
    for b, mdp in enumerate(models):
        star = mdpkit.solve(mdp, "pi")
        sc = scale(star.V)
        for method, res in results.items():
            single = mdpkit.solve(mdp, method, backend="torch", device="cpu")
            # each model stops at its own sweep, exactly as when solved alone ...
            assert int(res.iterations[b]) == single.iterations
            assert bool(res.converged[b]) == single.converged
            np.testing.assert_array_equal(res.policy[b].numpy(), single.policy)
            np.testing.assert_allclose(res.V[b].numpy(), single.V, rtol=0, atol=1e-12 * sc)
            assert_close_q(res.Q[b].numpy(), single.Q, mdp.mask, 1e-12 * sc)
            # the span part of the certificate is the same; the rounding term uses the longest row of P,
            # which stack_models densified (S) where the model was CSR (its longest stored row)
            span_b = float(res.error_bound[b] - res.rounding[b])
            assert span_b == pytest.approx(single.error_bound - single.rounding, rel=0, abs=64 * EPS * sc)
            if not mdp.is_sparse:
                assert float(res.rounding[b]) == pytest.approx(single.rounding, rel=1e-12)
            # ... and agrees with the numba solution
            np.testing.assert_allclose(res.V[b].numpy(), star.V, rtol=0, atol=TOL64 * sc)


@settings(max_examples=30, deadline=None)
@given(tabular_mdp_batches(), st.integers(0, 2**32 - 1))
def test_batched_bellman_and_evaluation_equal_per_model(models, seed):
    rng = np.random.default_rng(seed)
    batch = batched.stack_models(models, device="cpu")
    B, S = batch.R.shape[:2]
    V = rng.normal(size=(B, S)) * 10
    bell = batched.bellman(*batch, V)
    pols = np.stack([mdpkit.solve(m, "pi").policy for m in models])
    ev = batched.policy_evaluation(*batch, pols)
    for b, mdp in enumerate(models):
        ops = mdpkit.core.discounted._ops(mdp)
        q = ops.q(V[b], mdp.gamma)
        assert_close_q(bell.Q[b].numpy(), q, mdp.mask, TOL64 * scale(V[b]))
        np.testing.assert_allclose(bell.TV[b].numpy(), q.max(axis=1), rtol=0, atol=TOL64 * scale(V[b]))
        ref = mdpkit.evaluate(mdp, pols[b])
        np.testing.assert_allclose(ev.V[b].numpy(), ref.V, rtol=0, atol=TOL64 * scale(ref.V))


@settings(max_examples=20, deadline=None)
@given(
    tabular_mdps(sparse=True),
    st.lists(st.tuples(st.floats(-3, 3), st.sampled_from([0.0, 0.5, 0.9, 0.99])), min_size=1, max_size=4),
)
def test_shared_sparse_kernel_batch(mdp, variants):
    """One CSR kernel, B models differing in reward scale and discount: each equals its own numba solve."""
    R = np.where(mdp.mask[None], np.stack([c * mdp.R_finite for c, _ in variants]), -np.inf)
    gammas = np.array([g for _, g in variants])
    sol = batched.value_iteration(mdp.P, R, gammas, device="cpu")
    pis = batched.policy_iteration(mdp.P, R, gammas, device="cpu")
    for b, (_, g) in enumerate(variants):
        m = mdpkit.TabularMDP(mdp.P, R[b], g, mask=mdp.mask)
        star = mdpkit.solve(m, "pi")
        sc = scale(star.V)
        np.testing.assert_allclose(sol.V[b].numpy(), star.V, rtol=0, atol=TOL64 * sc)
        np.testing.assert_allclose(pis.V[b].numpy(), star.V, rtol=0, atol=TOL64 * sc)
        assert int(sol.iterations[b]) == mdpkit.solve(m, "vi", backend="torch", device="cpu").iterations


@settings(max_examples=30, deadline=None)
@given(finite_horizon_batches())
def test_batched_backward_induction_equals_per_model(models):
    P = np.stack([m.P for m in models])
    R = np.stack([m.R for m in models])
    term = np.stack([m.terminal for m in models])
    got = batched.backward_induction(P, R, term, device="cpu")
    for b, fh in enumerate(models):
        ref = mdpkit.backward_induction(fh)
        sc = scale(ref.V)
        np.testing.assert_allclose(got.V[b].numpy(), ref.V, rtol=0, atol=TOL64 * sc)
        assert_close_q(got.Q[b].numpy(), ref.Q, fh.mask, TOL64 * sc)
        uniq = unique_states(ref.Q, fh.mask, 1e-8 * sc)
        np.testing.assert_array_equal(got.policy[b].numpy()[uniq], ref.policy[uniq])


# --------------------------------------------------------------------------- devices
@settings(max_examples=10, deadline=None)
@given(tabular_mdps(max_S=4))
def test_explicit_cpu_device(mdp):
    sol = batched.value_iteration(kernel_for_batch(mdp), mdp.R[None], mdp.gamma, device="cpu")
    assert sol.V.device.type == "cpu" and sol.policy.device.type == "cpu"
    star = mdpkit.solve(mdp, "pi")
    got = mdpkit.solve(mdp, "pi", backend="torch", device=torch.device("cpu"))
    np.testing.assert_allclose(got.V, star.V, rtol=0, atol=TOL64 * scale(star.V))
    np.testing.assert_allclose(sol.V[0].numpy(), star.V, rtol=0, atol=TOL64 * scale(star.V))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_request_without_gpu_raises():
    mdp = mdpkit.TabularMDP(np.ones((1, 1, 1)), np.zeros((1, 1)), 0.5)
    with pytest.raises(mdpkit.BackendUnavailableError, match="CUDA is not available"):
        mdpkit.solve(mdp, "vi", backend="torch", device="cuda")
    with pytest.raises(mdpkit.BackendUnavailableError):
        batched.value_iteration(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 1)), 0.5, device="cuda:0")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@settings(max_examples=20, deadline=None)
@given(tabular_mdps(), st.sampled_from(["vi", "pi", "mpi"]))
def test_cuda_matches_numba(mdp, method):
    star = mdpkit.solve(mdp, "pi")
    got = mdpkit.solve(mdp, method, backend="torch", device="cuda")
    np.testing.assert_allclose(got.V, star.V, rtol=0, atol=TOL64 * scale(star.V))
