"""Unit tests of the batched torch API (mdpkit.core.batched) and the torch branch of mdpkit.solve."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import mdpkit
from mdpkit.core import _torch, batched
from mdpkit.errors import (
    BackendUnavailableError,
    InvalidArgumentError,
    InvalidMDPError,
    InvalidPolicyError,
)

EPS = np.finfo(np.float64).eps


def two_state(gamma: float) -> mdpkit.TabularMDP:
    """State 0: action 0 stays (reward 1), action 1 moves to state 1 (reward 0). State 1 absorbs, reward 2.

    V*(1) = 2/(1-g); V*(0) = max(1/(1-g), 2g/(1-g)): action 1 is optimal iff g > 1/2.
    """
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, 0, 1] = P[1, 1, 1] = 1.0
    R = np.array([[1.0, 0.0], [2.0, 2.0]])
    return mdpkit.TabularMDP(P, R, gamma)


def closed_form(gamma: float) -> tuple[np.ndarray, int]:
    v1 = 2.0 / (1.0 - gamma)
    return np.array([max(1.0 / (1.0 - gamma), gamma * v1), v1]), int(gamma > 0.5)


def random_mdp(S: int, A: int, gamma: float, seed: int, infeasible: bool = False) -> mdpkit.TabularMDP:
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S)) ** 3
    P /= P.sum(-1, keepdims=True)
    mask = None
    if infeasible:
        mask = rng.random((S, A)) < 0.6
        mask[:, 0] = True
    return mdpkit.TabularMDP(P, rng.normal(size=(S, A)) * 5, gamma, mask=mask)


# --------------------------------------------------------------------------- known solutions
@pytest.mark.parametrize(
    "solver", [batched.value_iteration, batched.policy_iteration, batched.modified_policy_iteration]
)
def test_textbook_two_state_per_model_gamma(solver):
    gammas = [0.3, 0.9, 0.0]
    batch = batched.stack_models([two_state(g) for g in gammas], device="cpu")
    sol = solver(*batch)
    assert sol.V.shape == (3, 2) and sol.policy.shape == (3, 2) and sol.Q.shape == (3, 2, 2)
    for b, g in enumerate(gammas):
        V, a0 = closed_form(g)
        np.testing.assert_allclose(sol.V[b].numpy(), V, rtol=0, atol=1e-9)
        assert int(sol.policy[b, 0]) == a0
        assert bool(sol.converged[b])
        assert float(sol.error_bound[b]) <= 1e-10


def test_each_model_stops_at_its_own_sweep():
    models = [random_mdp(5, 3, g, seed=i) for i, g in enumerate([0.0, 0.5, 0.95, 0.99])]
    sol = batched.value_iteration(*batched.stack_models(models, device="cpu"))
    assert sol.iterations.tolist() == [
        mdpkit.solve(m, "vi", backend="torch", device="cpu").iterations for m in models
    ]
    assert int(sol.iterations[0]) == 2  # gamma = 0: T v = max_a r after one sweep, a zero span after two
    assert len(set(sol.iterations.tolist())) > 1


def test_bellman_matches_definition():
    mdp = random_mdp(6, 3, 0.9, seed=3, infeasible=True)
    V = np.linspace(-2.0, 3.0, 6)
    res = batched.bellman(mdp.P[None], mdp.R[None], 0.9, V[None], device="cpu")
    Q = np.where(mdp.mask, mdp.R + 0.9 * np.einsum("sat,t->sa", mdp.P, V), -np.inf)
    np.testing.assert_allclose(res.Q[0].numpy()[mdp.mask], Q[mdp.mask], rtol=0, atol=1e-12)
    assert np.all(np.isneginf(res.Q[0].numpy()[~mdp.mask]))
    np.testing.assert_allclose(res.TV[0].numpy(), Q.max(axis=1), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.policy[0].numpy(), Q.argmax(axis=1))


def test_first_maximiser_on_ties():
    P = np.ones((1, 2, 3, 2)) / 2
    R = np.array([[[1.0, 1.0, 0.0], [0.0, 5.0, 5.0]]])
    res = batched.bellman(P, R, 0.5, np.zeros((1, 2)), device="cpu")
    assert res.policy.tolist() == [[0, 1]]


def test_infeasible_rows_need_not_be_self_loops():
    """The batched API ignores the rows of -inf pairs (they only have to be finite)."""
    mdp = random_mdp(4, 3, 0.9, seed=5, infeasible=True)
    P = np.array(mdp.P)
    P[~mdp.mask] = 0.0  # junk rows at infeasible pairs
    sol = batched.policy_iteration(P[None], mdp.R[None], 0.9, device="cpu")
    np.testing.assert_allclose(sol.V[0].numpy(), mdpkit.solve(mdp, "pi").V, rtol=0, atol=1e-10)


# --------------------------------------------------------------------------- stack_models, random_models
def test_stack_models_shapes_and_sparse_densified():
    m0 = random_mdp(4, 2, 0.9, seed=0, infeasible=True)
    m1 = mdpkit.TabularMDP(sp.csr_matrix(random_mdp(4, 2, 0.5, seed=1).P.reshape(8, 4)), np.ones((4, 2)), 0.5)
    batch = batched.stack_models([m0, m1], device="cpu")
    assert len(batch) == 2
    P, R, gamma = batch
    assert P.shape == (2, 4, 2, 4) and R.shape == (2, 4, 2) and gamma.tolist() == [0.9, 0.5]
    np.testing.assert_array_equal(P[1].numpy(), m1.dense_P())
    np.testing.assert_array_equal(batch.mask[0].numpy(), m0.mask)
    assert batch.initial.shape == (2, 4)
    assert batched.stack_models([m0], dtype=torch.float32, device="cpu").P.dtype == torch.float32


def test_stack_models_errors():
    a, b = random_mdp(4, 2, 0.9, seed=0), random_mdp(5, 2, 0.9, seed=1)
    with pytest.raises(
        InvalidMDPError, match=r"mdps\[1\] has \(S, A\) = \(5, 2\) but mdps\[0\] has \(4, 2\)"
    ):
        batched.stack_models([a, b])
    with pytest.raises(InvalidMDPError, match="at least one model"):
        batched.stack_models([])
    with pytest.raises(InvalidArgumentError, match=r"mdps\[1\] is a str"):
        batched.stack_models([a, "model"])
    with pytest.raises(InvalidMDPError, match=r"mdps\[1\] has gamma=None"):
        batched.stack_models([a, a.with_gamma(None)])
    undiscounted = batched.stack_models([a.with_gamma(None)] * 2, device="cpu")
    assert undiscounted.gamma is None


def test_random_models_seeded():
    a = batched.random_models(3, 5, 2, gamma=0.9, seed=7, device="cpu")
    b = batched.random_models(3, 5, 2, gamma=0.9, seed=7, device="cpu")
    c = batched.random_models(3, 5, 2, gamma=0.9, seed=8, device="cpu")
    assert torch.equal(a.P, b.P) and torch.equal(a.R, b.R) and not torch.equal(a.P, c.P)
    torch.testing.assert_close(a.P.sum(-1), torch.ones(3, 5, 2, dtype=torch.float64), rtol=0, atol=1e-12)
    sparse = batched.random_models(
        2, 6, 3, gamma=[0.5, 0.9], seed=np.random.default_rng(0), support=2, device="cpu"
    )
    assert ((sparse.P > 0).sum(-1) == 2).all()
    assert sparse.gamma.tolist() == [0.5, 0.9]
    with pytest.raises(InvalidArgumentError, match="support = 7 exceeds S = 6"):
        batched.random_models(1, 6, 2, support=7, device="cpu")
    with pytest.raises(InvalidArgumentError, match="seed"):
        _torch.torch_generator("seven")


# --------------------------------------------------------------------------- validation
def test_invalid_inputs_name_the_index():
    mdp = random_mdp(3, 2, 0.9, seed=0)
    P, R = np.array(mdp.P)[None], np.array(mdp.R)[None]
    bad = P.copy()
    bad[0, 1, 0, 2] += 0.1
    with pytest.raises(InvalidMDPError, match=r"P\[0, 1, 0, :\] sums to"):
        batched.value_iteration(bad, R, 0.9, device="cpu")
    bad = P.copy()
    bad[0, 2, 1, 0] = -0.5
    bad[0, 2, 1, 1] += 0.5
    with pytest.raises(InvalidMDPError, match=r"P\[0, 2, 1, 0\] = -0.5 is negative"):
        batched.value_iteration(bad, R, 0.9, device="cpu")
    bad = P.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(InvalidMDPError, match=r"P\[0, 0, 0, 0\] = nan is not finite"):
        batched.bellman(bad, R, 0.9, np.zeros((1, 3)), device="cpu")
    badR = R.copy()
    badR[0, 1, 1] = np.inf
    with pytest.raises(InvalidMDPError, match=r"R\[0, 1, 1\] = inf"):
        batched.value_iteration(P, badR, 0.9, device="cpu")
    badR = R.copy()
    badR[0, 2, :] = -np.inf
    with pytest.raises(InvalidMDPError, match="state 2 of model 0 has no feasible action"):
        batched.value_iteration(P, badR, 0.9, device="cpu")
    with pytest.raises(InvalidMDPError, match=r"gamma\[1\] = 1.0 is outside \[0, 1\)"):
        batched.value_iteration(np.repeat(P, 2, 0), np.repeat(R, 2, 0), [0.5, 1.0], device="cpu")
    with pytest.raises(InvalidMDPError, match=r"gamma has shape \(3,\)"):
        batched.value_iteration(P, R, [0.5, 0.5, 0.5], device="cpu")
    with pytest.raises(InvalidMDPError, match=r"expected \(B, S, A, S\)"):
        batched.value_iteration(P[0], R, 0.9, device="cpu")
    with pytest.raises(InvalidMDPError, match=r"V has shape \(1, 2\)"):
        batched.bellman(P, R, 0.9, np.zeros((1, 2)), device="cpu")
    with pytest.raises(InvalidArgumentError, match="tol"):
        batched.value_iteration(P, R, 0.9, tol=0.0, device="cpu")
    with pytest.raises(InvalidArgumentError, match="max_iter"):
        batched.policy_iteration(P, R, 0.9, max_iter=0, device="cpu")
    with pytest.raises(InvalidArgumentError, match="dtype"):
        batched.value_iteration(P, R, 0.9, device="cpu", dtype=torch.float16)
    with pytest.raises(InvalidArgumentError, match="not a torch device"):
        batched.value_iteration(P, R, 0.9, device="gpu0")
    # check=False skips the kernel validation (the caller vouches for P)
    assert batched.value_iteration(P, R, 0.9, device="cpu", check=False).converged.all()


def test_sparse_kernel_validation():
    mdp = random_mdp(3, 2, 0.9, seed=0)
    rows = sp.csr_matrix(mdp.P.reshape(6, 3))
    rows.data[0] += 0.25
    with pytest.raises(InvalidMDPError, match=r"P\[0, 0, :\] sums to"):
        batched.value_iteration(rows, mdp.R[None], 0.9, device="cpu")
    with pytest.raises(InvalidMDPError, match=r"expected \(S\*A, S\)"):
        batched.value_iteration(sp.csr_matrix(np.ones((5, 3)) / 3), np.zeros((1, 3, 2)), 0.9, device="cpu")


def test_invalid_policies():
    mdp = random_mdp(3, 2, 0.9, seed=0, infeasible=True)
    mdp = mdpkit.TabularMDP(mdp.P, np.where([[True, False], [True, True], [True, True]], mdp.R, -np.inf), 0.9)
    args = (mdp.P[None], mdp.R[None], 0.9)
    with pytest.raises(
        InvalidPolicyError, match=r"policy\[0, 0\] = 1 is an infeasible action in state 0 of model 0"
    ):
        batched.policy_evaluation(*args, np.array([[1, 0, 0]]), device="cpu")
    with pytest.raises(InvalidPolicyError, match=r"policy\[0, 2\] = 2 is not an action"):
        batched.policy_evaluation(*args, np.array([[0, 0, 2]]), device="cpu")
    with pytest.raises(InvalidPolicyError, match="integer actions"):
        batched.policy_evaluation(*args, np.array([[0.5, 0, 0]]), device="cpu")
    pi = np.full((1, 3, 2), 0.5)
    with pytest.raises(
        InvalidPolicyError, match=r"policy\[0, 0, 1\] = 0.5 puts mass on an infeasible action"
    ):
        batched.policy_evaluation(*args, pi, device="cpu")
    pi[0, 0] = [0.7, 0.0]
    with pytest.raises(InvalidPolicyError, match=r"policy\[0, 0, :\] sums to 0.7"):
        batched.policy_evaluation(*args, pi, device="cpu")
    with pytest.raises(InvalidPolicyError, match=r"policy0\[0, 0\] = 1 is an infeasible action"):
        batched.policy_iteration(*args, policy0=np.array([[1, 0, 0]]), device="cpu")
    with pytest.raises(InvalidPolicyError, match="ndim 1"):
        batched.policy_evaluation(*args, np.array([0, 0, 0]), device="cpu")


# --------------------------------------------------------------------------- options and budgets
def test_max_iter_budget_matches_numba():
    mdp = random_mdp(6, 3, 0.99, seed=2)
    ref = mdpkit.solve(mdp, "vi", max_iter=3)
    got = batched.value_iteration(mdp.P[None], mdp.R[None], 0.99, max_iter=3, device="cpu")
    assert not ref.converged and not bool(got.converged[0]) and int(got.iterations[0]) == 3
    np.testing.assert_allclose(got.V[0].numpy(), ref.V, rtol=0, atol=1e-10)
    assert float(got.error_bound[0]) == pytest.approx(ref.error_bound, rel=1e-9)
    refpi = mdpkit.solve(mdp, "pi", max_iter=1, policy0=np.zeros(6, dtype=int))
    gotpi = mdpkit.solve(mdp, "pi", max_iter=1, policy0=np.zeros(6, dtype=int), backend="torch", device="cpu")
    assert refpi.converged == gotpi.converged
    np.testing.assert_allclose(gotpi.V, refpi.V, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(gotpi.policy, refpi.policy)


def test_float32_stall_ends_unreachable_tolerance():
    mdp = random_mdp(20, 3, 0.99, seed=4)
    args = (mdp.P[None], mdp.R[None], 0.99)
    sol = batched.value_iteration(*args, tol=1e-12, dtype=torch.float32, device="cpu")
    assert sol.V.dtype == torch.float32
    assert not bool(sol.converged[0])
    assert int(sol.iterations[0]) < 10_000
    assert float(sol.error_bound[0]) > 1e-12
    # the stalled iterate is still accurate to float32 rounding (bound of tests/property/test_torch_twin.py)
    star = mdpkit.solve(mdp, "pi").V
    M = 1 + np.abs(star).max() + np.abs(mdp.R).max()
    assert np.abs(sol.V[0].numpy() - star).max() <= 4 * (20 + 3) * 2.0**-24 * M / 0.01
    # without the stall rule the budget runs out
    nostall = batched.value_iteration(
        *args, tol=1e-12, dtype=torch.float32, stall=None, max_iter=300, device="cpu"
    )
    assert int(nostall.iterations[0]) == 300 and not bool(nostall.converged[0])
    pi32 = batched.policy_iteration(*args, dtype=torch.float32, device="cpu")
    np.testing.assert_allclose(pi32.V[0].numpy(), star, rtol=0, atol=4 * 23 * 2.0**-24 * M / 0.01)


def test_tensor_inputs_keep_dtype_and_device():
    b = batched.random_models(2, 4, 2, gamma=0.9, seed=0, device="cpu", dtype=torch.float32)
    sol = batched.policy_iteration(b.P, b.R, b.gamma)
    assert sol.V.dtype == torch.float32 and sol.V.device.type == "cpu"
    sol64 = batched.policy_iteration(b.P, b.R, b.gamma, dtype=torch.float64)
    assert sol64.V.dtype == torch.float64


def test_sparse_evaluation_memory_guard(monkeypatch):
    mdp = mdpkit.TabularMDP(
        sp.csr_matrix(random_mdp(4, 2, 0.9, seed=0).P.reshape(8, 4)), np.ones((4, 2)), 0.9
    )
    monkeypatch.setattr(_torch, "DENSE_CHAIN_MAX_BYTES", 64)
    with pytest.raises(InvalidArgumentError, match="densifies P_pi"):
        batched.policy_evaluation(mdp.P, mdp.R[None], 0.9, np.zeros((1, 4), dtype=int), device="cpu")
    # VI and MPI never densify
    assert batched.modified_policy_iteration(mdp.P, mdp.R[None], 0.9, device="cpu").converged.all()


def test_mpi_sparse_large_uses_csr_product():
    """Above CSR_SMALL products the CSR path (sparse matmul) gives the dense result."""
    rng = np.random.default_rng(0)
    S, A = 60, 3
    P = rng.random((S, A, S)) * (rng.random((S, A, S)) < 0.5)
    P[:, :, 0] += 1e-3
    P /= P.sum(-1, keepdims=True)
    R = rng.normal(size=(2, S, A))
    assert 2 * np.count_nonzero(P) > _torch.CSR_SMALL
    dense = batched.modified_policy_iteration(np.stack([P, P]), R, [0.9, 0.95], device="cpu")
    csr = batched.modified_policy_iteration(sp.csr_matrix(P.reshape(S * A, S)), R, [0.9, 0.95], device="cpu")
    torch.testing.assert_close(csr.V, dense.V, rtol=0, atol=1e-9)
    assert torch.equal(csr.policy, dense.policy)


# --------------------------------------------------------------------------- backward induction
def test_backward_induction_shapes_and_horizons():
    rng = np.random.default_rng(0)
    models = [random_mdp(4, 2, 0.9, seed=i, infeasible=True) for i in range(3)]
    batch = batched.stack_models(models, device="cpu")
    term = rng.normal(size=(3, 4))
    sol = batched.backward_induction(batch.P, batch.R, term, H=5)
    assert sol.V.shape == (3, 6, 4) and sol.Q.shape == (3, 5, 4, 2) and sol.policy.shape == (3, 5, 4)
    for b, m in enumerate(models):
        ref = mdpkit.backward_induction(mdpkit.FiniteHorizonMDP.from_tabular(m, 5, terminal=term[b]))
        np.testing.assert_allclose(sol.V[b].numpy(), ref.V, rtol=0, atol=1e-12)
    # time-indexed P gives H; R may stay stationary; CSR shared kernel
    Pt = np.repeat(batch.P.numpy()[:, None], 5, axis=1)
    sol_t = batched.backward_induction(Pt, batch.R, term)
    torch.testing.assert_close(sol_t.V, sol.V, rtol=0, atol=1e-12)
    csr = sp.csr_matrix(models[0].P.reshape(8, 4))
    sol_s = batched.backward_induction(csr, batch.R[:1], term[:1], H=5)
    torch.testing.assert_close(sol_s.V, sol.V[:1], rtol=0, atol=1e-12)
    zero = batched.backward_induction(batch.P, batch.R, H=2)
    assert torch.equal(zero.V[:, 2], torch.zeros(3, 4, dtype=torch.float64))
    with pytest.raises(InvalidArgumentError, match="need the horizon H"):
        batched.backward_induction(batch.P, batch.R)
    with pytest.raises(InvalidMDPError, match="inconsistent horizons"):
        batched.backward_induction(Pt, batch.R, H=4)


# --------------------------------------------------------------------------- mdpkit.solve(backend="torch")
def test_solve_torch_options():
    mdp = random_mdp(5, 3, 0.9, seed=1)
    star = mdpkit.solve(mdp, "pi")
    with pytest.raises(InvalidArgumentError, match="numba/HiGHS only"):
        mdpkit.solve(mdp, "lp", backend="torch")
    with pytest.raises(InvalidArgumentError, match="not understood"):
        mdpkit.solve(mdp, "vi", backend="torch", device="cpu", m=3)
    seen = []
    sol = mdpkit.solve(
        mdp, "vi", backend="torch", device="cpu", callback=lambda k, v, p: seen.append((k, v, p))
    )
    assert [k for k, _, _ in seen] == list(range(1, sol.iterations + 1))
    assert isinstance(seen[0][1], np.ndarray) and seen[0][2].dtype == np.int64
    warm = mdpkit.solve(mdp, "vi", backend="torch", device="cpu", v0=star.V)
    assert warm.iterations == 1
    one = mdpkit.solve(mdp, "pi", backend="torch", device="cpu", policy0=star.policy)
    assert one.iterations == 1 and np.array_equal(one.policy, star.policy)
    with pytest.raises(InvalidPolicyError, match="deterministic"):
        mdpkit.solve(mdp, "pi", backend="torch", device="cpu", policy0=np.full((5, 3), 1 / 3))
    with pytest.raises(InvalidMDPError, match="v0 has shape"):
        mdpkit.solve(mdp, "vi", backend="torch", device="cpu", v0=np.zeros(4))
    mpi = mdpkit.solve(mdp, "mpi", backend="torch", device="cpu", m=5)
    # the torch twin runs MPI of fixed order m, i.e. the numba solver with theta = 0
    assert mpi.iterations == mdpkit.solve(mdp, "mpi", m=5, theta=0.0).iterations
    with pytest.raises(InvalidMDPError, match="gamma"):
        mdpkit.solve(mdp.with_gamma(None), "vi", backend="torch", device="cpu")


def test_backward_induction_torch_backend_float32():
    fh = mdpkit.FiniteHorizonMDP.from_tabular(random_mdp(5, 2, 0.9, seed=0), 4)
    ref = mdpkit.backward_induction(fh)
    got = _torch.backward_induction_model(fh, device="cpu", dtype=torch.float32)
    np.testing.assert_allclose(got.V, ref.V, rtol=0, atol=4 * 5 * 2.0**-24 * (1 + np.abs(ref.V).max()) * 4)


# --------------------------------------------------------------------------- devices
def test_resolve_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert _torch.resolve_device(None).type == expected
    assert _torch.resolve_device("cpu").type == "cpu"
    assert _torch.resolve_device(None, like=torch.zeros(1)).type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_raises_clear_error():
    with pytest.raises(BackendUnavailableError, match="CUDA is not available.*device='cpu'"):
        _torch.resolve_device("cuda")
    fh = mdpkit.FiniteHorizonMDP.from_tabular(random_mdp(3, 2, 0.9, seed=0), 2)
    with pytest.raises(BackendUnavailableError):
        mdpkit.backward_induction(fh, backend="torch", device="cuda")
    with pytest.raises(BackendUnavailableError):
        batched.stack_models([random_mdp(3, 2, 0.9, seed=0)], device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_batch_matches_cpu():
    b = batched.random_models(8, 30, 4, gamma=0.95, seed=0, device="cpu")
    cpu = batched.policy_iteration(*b)
    gpu = batched.policy_iteration(b.P.cuda(), b.R.cuda(), b.gamma.cuda())
    assert gpu.V.device.type == "cuda"
    torch.testing.assert_close(gpu.V.cpu(), cpu.V, rtol=0, atol=1e-9)
    vi = batched.value_iteration(b.P, b.R, b.gamma, device="cuda")
    torch.testing.assert_close(vi.V.cpu(), cpu.V, rtol=0, atol=1e-9)
