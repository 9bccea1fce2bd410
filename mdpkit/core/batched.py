r"""Batched exact solvers in torch: many tabular MDPs of the same size solved together, on any device.

A batch holds ``B`` independent models with a common state and action count:

* ``P[b, s, a, s']`` of shape (B, S, A, S) (dense), or one sparse kernel shared by the batch: a torch sparse
  CSR tensor or a scipy sparse matrix of shape (S*A, S) whose row ``s*A + a`` is ``P[s, a, :]``;
* ``R[b, s, a]`` of shape (B, S, A), ``-inf`` at infeasible pairs (state-dependent action sets);
* ``gamma``: one discount for all models, or one per model, shape (B,).

Every function accepts numpy arrays or torch tensors and returns a small frozen dataclass of torch tensors
with the leading B axis. ``device=None`` runs where the given tensors live (numpy input: CUDA when available,
else CPU); ``dtype=None`` keeps a floating tensor's dtype, else float64. Asking for CUDA without a GPU raises
:class:`~mdpkit.errors.BackendUnavailableError`.

The operators are those of :mod:`mdpkit.core.discounted` and :mod:`mdpkit.core.finite`:

.. math:: Q_b(s, a) = r_b(s, a) + \gamma_b \sum_{s'} P_b(s'|s, a)\, V_b(s'), \qquad
          (T_b V_b)(s) = \max_{a} Q_b(s, a),

solved per model to the same stopping rules as the numba backend (so in float64 each model's result agrees
with :func:`mdpkit.solve` on that model up to rounding; see ``tests/property/test_torch_twin.py``).

Example
-------
>>> import mdpkit
>>> from mdpkit.core import batched
>>> batch = batched.random_models(B=64, S=100, A=4, gamma=0.95, seed=0, device="cpu")
>>> sol = batched.value_iteration(batch.P, batch.R, batch.gamma, tol=1e-8)
>>> sol.V.shape, sol.iterations.shape
(torch.Size([64, 100]), torch.Size([64]))

References
----------
Puterman, *Markov Decision Processes* (1994): backward induction §4.5, VI §6.3, PI §6.4, MPI §6.5,
span stopping rule §6.6.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
import torch

from mdpkit.core import _torch as T
from mdpkit.core.model import TabularMDP
from mdpkit.core.validate import ROW_SUM_TOL
from mdpkit.errors import InvalidArgumentError, InvalidMDPError, InvalidPolicyError

__all__ = [
    "ModelBatch",
    "BellmanResult",
    "BatchedSolution",
    "BatchedEvaluation",
    "BatchedFiniteSolution",
    "stack_models",
    "random_models",
    "bellman",
    "value_iteration",
    "modified_policy_iteration",
    "policy_evaluation",
    "policy_iteration",
    "backward_induction",
]

ArrayLike = np.ndarray | torch.Tensor
Kernel = ArrayLike | sp.spmatrix | sp.sparray


# --------------------------------------------------------------------------- result types
@dataclass(frozen=True, eq=False)
class ModelBatch:
    """A batch of B discounted models with common (S, A), as torch tensors.

    Attributes
    ----------
    P : Tensor (B, S, A, S)
    R : Tensor (B, S, A), ``-inf`` at infeasible pairs
    gamma : Tensor (B,) or None (when the models have no discount)
    initial : Tensor (B, S), the initial distributions
    mask : bool Tensor (B, S, A), feasible pairs

    Unpacks as ``P, R, gamma = batch``.
    """

    P: torch.Tensor
    R: torch.Tensor
    gamma: torch.Tensor | None
    initial: torch.Tensor
    mask: torch.Tensor

    def __iter__(self) -> Iterator[torch.Tensor | None]:
        return iter((self.P, self.R, self.gamma))

    def __len__(self) -> int:
        return int(self.P.shape[0])


@dataclass(frozen=True, eq=False)
class BellmanResult:
    r"""One Bellman backup per model: ``TV`` (B, S), greedy ``policy`` (B, S) (first maximiser), ``Q``
    (B, S, A)."""

    TV: torch.Tensor
    policy: torch.Tensor
    Q: torch.Tensor


@dataclass(frozen=True, eq=False)
class BatchedSolution:
    r"""Per-model solutions of a batch of discounted MDPs (the fields of :class:`mdpkit.Solution`).

    Attributes
    ----------
    V : Tensor (B, S)
        Value estimates, each within ``error_bound[b] / 2`` of :math:`V^*_b` (VI/MPI) or exact (PI).
    policy : int64 Tensor (B, S)
        Greedy deterministic policies, :math:`\|V^{\pi_b} - V_b^*\|_\infty \le` ``error_bound[b]``.
    iterations : int64 Tensor (B,)
        Sweeps (VI, MPI) or policy evaluations (PI) of each model.
    residual : Tensor (B,)
        :math:`\|T V_b - V_b\|_\infty`.
    converged : bool Tensor (B,)
        Whether each model met its stopping rule within the budget (VI/MPI: the span rule; PI: a stable
        policy).
    error_bound : Tensor (B,)
        Certified :math:`\|V^{\pi_b} - V_b^*\|_\infty` bound: :math:`\mathrm{sp}(Tv - v)/(1-\gamma_b)` of the
        last sweep (VI/MPI), or :math:`(\max(TV - V) - \min(T_\pi V - V))/(1-\gamma_b)` (PI), plus
        ``rounding``. It can exceed ``tol`` when ``tol`` is below the floating-point floor.
    rounding : Tensor (B,)
        The worst-case rounding term in ``error_bound``,
        :math:`2(n+2)u(\max|r_b| + \gamma_b\|v_b\|_\infty)/(1-\gamma_b)` (``n`` the longest row of ``P``,
        ``u`` the unit roundoff of the dtype; :func:`mdpkit.core.discounted.rounding_floor`).
    Q : Tensor (B, S, A)
        :math:`R + \gamma P V`, ``-inf`` at infeasible pairs.
    method : str
    """

    V: torch.Tensor
    policy: torch.Tensor
    iterations: torch.Tensor
    residual: torch.Tensor
    converged: torch.Tensor
    error_bound: torch.Tensor
    rounding: torch.Tensor
    Q: torch.Tensor
    method: str


@dataclass(frozen=True, eq=False)
class BatchedEvaluation:
    r"""Exact evaluation of one policy per model: ``V`` (B, S), ``Q`` (B, S, A), ``advantage = Q - V``."""

    V: torch.Tensor
    Q: torch.Tensor
    advantage: torch.Tensor


@dataclass(frozen=True, eq=False)
class BatchedFiniteSolution:
    r"""Backward induction per model: ``V`` (B, H+1, S), ``Q`` (B, H, S, A), ``policy`` (B, H, S)."""

    V: torch.Tensor
    Q: torch.Tensor
    policy: torch.Tensor


# --------------------------------------------------------------------------- input handling
def _is_torch_sparse(x: object) -> bool:
    return isinstance(x, torch.Tensor) and x.layout != torch.strided


def _like(*xs: object) -> torch.Tensor | None:
    for x in xs:
        if isinstance(x, torch.Tensor):
            return x
    return None


def _tensor(x: object, name: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        if x.layout != torch.strided:
            raise InvalidMDPError(f"{name} must be a dense tensor, got layout {x.layout}")
        return x.to(device=device, dtype=dtype)
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidMDPError(f"{name} cannot be converted to a float array: {exc}") from None
    return torch.tensor(arr, dtype=dtype, device=device)


def _fmt(idx: torch.Tensor) -> str:
    return ", ".join(str(int(i)) for i in idx.reshape(-1))


def _first(bad: torch.Tensor) -> torch.Tensor | None:
    """Index of the first True entry of ``bad`` (one device sync), or None."""
    if not bool(bad.any()):
        return None
    return torch.nonzero(bad)[0]


def _setup(P: Kernel, R: object, device, dtype):
    """Resolve device and dtype; returns (CsrKernel or dense P tensor, R tensor, device, dtype)."""
    like = _like(P, R)
    dev = T.resolve_device(device, like)
    dt = T.resolve_dtype(dtype, like.values() if like is not None and _is_torch_sparse(like) else like)
    Rt = _tensor(R, "R", dt, dev)
    if sp.issparse(P) or _is_torch_sparse(P):
        return _sparse_kernel(P, dt, dev), Rt, dev, dt
    return _tensor(P, "P", dt, dev), Rt, dev, dt


def _sparse_kernel(P: object, dtype: torch.dtype, device: torch.device) -> T.CsrKernel:
    if sp.issparse(P):
        S = P.shape[1]
        if S == 0 or P.shape[0] % S:
            raise InvalidMDPError(f"P (sparse) has shape {P.shape}; expected (S*A, S)")
        return T.CsrKernel(T.csr_from_scipy(P, dtype, device), P.shape[0] // S)
    if P.ndim != 2:
        raise InvalidMDPError(f"P (sparse) has shape {tuple(P.shape)}; expected (S*A, S)")
    S = int(P.shape[1])
    if S == 0 or P.shape[0] % S:
        raise InvalidMDPError(f"P (sparse) has shape {tuple(P.shape)}; expected (S*A, S)")
    if P.layout == torch.sparse_coo:
        P = P.coalesce().to_sparse_csr()
    elif P.layout != torch.sparse_csr:
        raise InvalidMDPError(f"P has sparse layout {P.layout}; use torch.sparse_csr (or COO, converted)")
    Pt = T._csr_tensor(P.crow_indices(), P.col_indices(), P.values(), P.shape, dtype, device)
    return T.CsrKernel(Pt, int(P.shape[0]) // S)


def _check_R(R: torch.Tensor, lead: tuple[int, ...], S: int, A: int, name: str = "R") -> None:
    shape = (*lead, S, A)
    if tuple(R.shape) != shape:
        raise InvalidMDPError(f"{name} has shape {tuple(R.shape)}, expected {shape}")
    idx = _first(torch.isnan(R) | torch.isposinf(R))
    if idx is not None:
        raise InvalidMDPError(f"{name}[{_fmt(idx)}] = {float(R[tuple(idx)])!r} is not finite")
    idx = _first(torch.isneginf(R).all(dim=-1))
    if idx is not None:
        raise InvalidMDPError(
            f"{name}[{_fmt(idx)}, :] is -inf for every action: state {int(idx[-1])} of model {int(idx[0])} "
            "has no feasible action"
        )


def _data_eps(P: object) -> float:
    """Machine epsilon of the data as given (float32 input keeps its rounding after an upcast)."""
    if isinstance(P, torch.Tensor):
        dt = P.values().dtype if _is_torch_sparse(P) else P.dtype
        return torch.finfo(dt).eps if dt.is_floating_point else 0.0
    dt = getattr(P, "dtype", None)
    if dt is not None and np.issubdtype(dt, np.floating):
        return float(np.finfo(dt).eps)
    return 0.0


def _row_tol(S: int, dtype: torch.dtype, data_eps: float = 0.0) -> float:
    """Row-sum tolerance: the model's, or the rounding of S entries in the data's or the working dtype."""
    return max(ROW_SUM_TOL, 2 * S * max(torch.finfo(dtype).eps, data_eps))


def _check_dense_P(P: torch.Tensor, feasible: torch.Tensor, data_eps: float, name: str = "P") -> None:
    """``P`` (..., S, A, S): finite everywhere; non-negative and summing to 1 on feasible pairs."""
    idx = _first(~torch.isfinite(P))
    if idx is not None:
        raise InvalidMDPError(f"{name}[{_fmt(idx)}] = {float(P[tuple(idx)])!r} is not finite")
    idx = _first((P < 0) & feasible.unsqueeze(-1))
    if idx is not None:
        raise InvalidMDPError(f"{name}[{_fmt(idx)}] = {float(P[tuple(idx)])!r} is negative")
    sums = P.sum(dim=-1)
    tol = _row_tol(P.shape[-1], P.dtype, data_eps)
    idx = _first(((sums - 1.0).abs() > tol) & feasible)
    if idx is not None:
        raise InvalidMDPError(
            f"{name}[{_fmt(idx)}, :] sums to {float(sums[tuple(idx)]):.12g}, expected 1 (tolerance {tol:g})"
        )


def _check_csr_P(kern: T.CsrKernel, feasible: torch.Tensor, data_eps: float, name: str = "P") -> None:
    """A shared CSR kernel: finite entries; non-negative, unit rows where any model has a feasible pair."""
    S, A = kern.S, kern.A
    if kern.P.shape[0] != S * A:
        raise InvalidMDPError(f"{name} (sparse) has shape {tuple(kern.P.shape)}, expected (S*A, S)")
    rows_ok = feasible.reshape(-1)[kern.rid]
    k = _first(~torch.isfinite(kern.val) | ((kern.val < 0) & rows_ok))
    if k is not None:
        k = int(k[0])
        s, a = divmod(int(kern.rid[k]), A)
        raise InvalidMDPError(f"{name}[{s}, {a}, {int(kern.col[k])}] = {float(kern.val[k])!r} is invalid")
    sums = torch.zeros(S * A, dtype=kern.val.dtype, device=kern.val.device).index_add_(0, kern.rid, kern.val)
    tol = _row_tol(S, kern.val.dtype, data_eps)
    r = _first(((sums - 1.0).abs() > tol) & feasible.reshape(-1))
    if r is not None:
        s, a = divmod(int(r[0]), A)
        raise InvalidMDPError(
            f"{name}[{s}, {a}, :] sums to {float(sums[int(r[0])]):.12g}, expected 1 (tolerance {tol:g})"
        )


def _model_batch(P: Kernel, R: object, device, dtype, check: bool):
    """Kernel, R (B, S, A), B, S, A of a discounted batch (validated when ``check``)."""
    kern, Rt, dev, dt = _setup(P, R, device, dtype)
    if isinstance(kern, T.CsrKernel):
        S, A = kern.S, kern.A
        if Rt.ndim != 3:
            raise InvalidMDPError(f"R has shape {tuple(Rt.shape)}, expected (B, S, A) = (B, {S}, {A})")
        B = int(Rt.shape[0])
    else:
        if kern.ndim != 4 or kern.shape[1] != kern.shape[3]:
            raise InvalidMDPError(f"P has shape {tuple(kern.shape)}, expected (B, S, A, S)")
        kern = T.DenseKernel(kern)
        B, S, A = kern.B, kern.S, kern.A
    if B == 0 or S == 0 or A == 0:
        raise InvalidMDPError(f"empty batch: B={B}, S={S}, A={A}")
    _check_R(Rt, (B,), S, A)
    if check:
        feasible = ~torch.isneginf(Rt)
        if kern.sparse:
            _check_csr_P(kern, feasible.any(dim=0), _data_eps(P))
        else:
            _check_dense_P(kern.P, feasible, _data_eps(P))
    return kern, Rt, B, S, A, dev, dt


def _gammas(gamma: object, B: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Discounts as a (B,) tensor, each in [0, 1)."""
    if gamma is None:
        raise InvalidMDPError(
            "gamma is None; a discounted solver needs 0 <= gamma < 1 (a scalar or shape (B,))"
        )
    if isinstance(gamma, torch.Tensor):
        g = gamma.detach().to(device="cpu", dtype=torch.float64).numpy()
    else:
        try:
            g = np.asarray(gamma, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidMDPError(f"gamma cannot be converted to floats: {exc}") from None
    if g.ndim == 0:
        g = np.full(B, float(g))
    if g.shape != (B,):
        raise InvalidMDPError(f"gamma has shape {g.shape}, expected a scalar or (B,) = ({B},)")
    bad = ~(np.isfinite(g) & (g >= 0) & (g < 1))
    if bad.any():
        b = int(np.argmax(bad))
        raise InvalidMDPError(f"gamma[{b}] = {float(g[b])!r} is outside [0, 1)")
    return torch.tensor(g, dtype=dtype, device=device)


def _check_tol(tol: object) -> float:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not float(tol) > 0:
        raise InvalidArgumentError(f"tol = {tol!r} must be a positive number")
    return float(tol)


def _check_count(x: object, name: str, low: int) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or int(x) < low:
        raise InvalidArgumentError(f"{name} = {x!r} must be an integer >= {low}")
    return int(x)


def _values(x: object, name: str, B: int, S: int, dtype, device) -> torch.Tensor:
    v = _tensor(x, name, dtype, device)
    if tuple(v.shape) != (B, S):
        raise InvalidMDPError(f"{name} has shape {tuple(v.shape)}, expected (B, S) = ({B}, {S})")
    idx = _first(~torch.isfinite(v))
    if idx is not None:
        raise InvalidMDPError(f"{name}[{_fmt(idx)}] = {float(v[tuple(idx)])!r} is not finite")
    return v


def _deterministic(policy: object, R: torch.Tensor, name: str) -> torch.Tensor:
    """Validate int policies (B, S) against the feasible pairs of ``R``."""
    B, S, A = R.shape
    if isinstance(policy, torch.Tensor):
        pol = policy.detach().to(R.device)
        integral = not pol.is_floating_point() or bool((pol == pol.round()).all())
        pol = pol.to(torch.int64)
    else:
        arr = np.asarray(policy)
        integral = np.issubdtype(arr.dtype, np.integer) or (
            np.issubdtype(arr.dtype, np.floating)
            and np.all(np.isfinite(arr))
            and np.all(arr == np.round(arr))
        )
        pol = torch.tensor(
            arr.astype(np.int64) if integral else np.zeros(arr.shape, np.int64), device=R.device
        )
    if not integral:
        raise InvalidPolicyError(f"deterministic {name} must hold integer actions")
    if tuple(pol.shape) != (B, S):
        raise InvalidPolicyError(f"{name} has shape {tuple(pol.shape)}, expected (B, S) = ({B}, {S})")
    idx = _first((pol < 0) | (pol >= A))
    if idx is not None:
        raise InvalidPolicyError(
            f"{name}[{_fmt(idx)}] = {int(pol[tuple(idx)])} is not an action in 0..{A - 1}"
        )
    idx = _first(torch.isneginf(R.gather(-1, pol.unsqueeze(-1)).squeeze(-1)))
    if idx is not None:
        b, s = (int(i) for i in idx)
        raise InvalidPolicyError(
            f"{name}[{b}, {s}] = {int(pol[b, s])} is an infeasible action in state {s} of model {b}"
        )
    return pol


def _stochastic(policy: object, R: torch.Tensor, name: str) -> torch.Tensor:
    """Validate stochastic policies (B, S, A): probability rows, no mass on infeasible pairs."""
    pi = _tensor(policy, name, R.dtype, R.device)
    if tuple(pi.shape) != tuple(R.shape):
        raise InvalidPolicyError(f"{name} has shape {tuple(pi.shape)}, expected (B, S, A) = {tuple(R.shape)}")
    idx = _first(~torch.isfinite(pi) | (pi < 0))
    if idx is not None:
        raise InvalidPolicyError(f"{name}[{_fmt(idx)}] = {float(pi[tuple(idx)])!r} is not a probability")
    sums = pi.sum(-1)
    tol = _row_tol(R.shape[-1], R.dtype)
    idx = _first((sums - 1.0).abs() > tol)
    if idx is not None:
        raise InvalidPolicyError(f"{name}[{_fmt(idx)}, :] sums to {float(sums[tuple(idx)]):.12g}, expected 1")
    idx = _first((pi > 0) & torch.isneginf(R))
    if idx is not None:
        b, s, a = (int(i) for i in idx)
        raise InvalidPolicyError(
            f"{name}[{b}, {s}, {a}] = {float(pi[b, s, a])!r} puts mass on an infeasible action in state {s} "
            f"of model {b}"
        )
    return pi


def _solution(res: T.IterationResult, kern, R, gamma, method: str) -> BatchedSolution:
    return BatchedSolution(
        V=res.V,
        policy=res.policy,
        iterations=res.iterations,
        residual=res.residual,
        converged=res.converged,
        error_bound=res.error_bound,
        rounding=res.rounding,
        Q=T.q_values(kern, R, gamma, res.V),
        method=method,
    )


def _stall(stall: int | None | str, dtype: torch.dtype) -> int | None:
    if stall == "auto":
        return T.STALL_SWEEPS_FLOAT32 if dtype == torch.float32 else None
    if stall is None:
        return None
    return _check_count(stall, "stall", 1)


# --------------------------------------------------------------------------- building batches
def stack_models(
    mdps: Sequence[TabularMDP], device: str | torch.device | None = None, dtype: torch.dtype | None = None
) -> ModelBatch:
    r"""Stack tabular models with the same (S, A) into a dense :class:`ModelBatch`.

    ``P`` becomes (B, S, A, S) (CSR models are densified), ``R`` (B, S, A) with ``-inf`` at infeasible
    pairs (their rows are the models' self-loops), ``gamma`` (B,) (``None`` when no model has a discount;
    a mix of discounted and undiscounted models raises), ``initial`` (B, S) and ``mask`` (B, S, A).

    Raises
    ------
    InvalidMDPError
        Empty list, or a model whose (S, A) differs from model 0's (the message names it).
    """
    mdps = list(mdps)
    if not mdps:
        raise InvalidMDPError("stack_models needs at least one model")
    for i, m in enumerate(mdps):
        if not isinstance(m, TabularMDP):
            raise InvalidArgumentError(f"mdps[{i}] is a {type(m).__name__}, expected a TabularMDP")
    S, A = mdps[0].S, mdps[0].A
    for i, m in enumerate(mdps):
        if (m.S, m.A) != (S, A):
            raise InvalidMDPError(
                f"mdps[{i}] has (S, A) = ({m.S}, {m.A}) but mdps[0] has ({S}, {A}); a batch needs one shape "
                "(pad the smaller models with unreachable states or infeasible actions)"
            )
    has = [m.gamma is not None for m in mdps]
    if any(has) and not all(has):
        i = has.index(not has[0])
        raise InvalidMDPError(
            f"mdps[{i}] has gamma={mdps[i].gamma!r} but mdps[0] has gamma={mdps[0].gamma!r}; all models of a "
            "batch must be discounted, or none"
        )
    dev = T.resolve_device(device)
    dt = T.resolve_dtype(dtype)
    P = torch.tensor(np.stack([m.dense_P() for m in mdps]), dtype=dt, device=dev)
    R = torch.tensor(np.stack([m.R for m in mdps]), dtype=dt, device=dev)
    gamma = torch.tensor([m.gamma for m in mdps], dtype=dt, device=dev) if all(has) else None
    initial = torch.tensor(np.stack([m.initial for m in mdps]), dtype=dt, device=dev)
    mask = torch.tensor(np.stack([m.mask for m in mdps]), device=dev)
    return ModelBatch(P=P, R=R, gamma=gamma, initial=initial, mask=mask)


def random_models(
    B: int,
    S: int,
    A: int,
    gamma: float | Sequence[float] = 0.95,
    seed: int | np.random.Generator = 0,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    support: int | None = None,
) -> ModelBatch:
    r"""B random dense models (Garnet-like): every row of ``P`` a flat Dirichlet draw on ``support`` random
    successors (all S by default), rewards :math:`r(s, a) \sim \mathcal N(0, 1)`.

    Drawn with a :class:`torch.Generator` seeded from ``seed`` on ``device``, so a seed gives the same batch
    on every run of the same device type. Meant for benchmarks and tests of the batched solvers; the
    instance families of :mod:`mdpkit.envs` are the reference generators.

    References
    ----------
    Archibald, McKinnon & Thomas, *On the generation of Markov decision processes* (1995) (Garnet).
    """
    B, S, A = (_check_count(x, n, 1) for x, n in ((B, "B"), (S, "S"), (A, "A")))
    k = S if support is None else _check_count(support, "support", 1)
    if k > S:
        raise InvalidArgumentError(f"support = {k} exceeds S = {S}")
    dev = T.resolve_device(device)
    dt = T.resolve_dtype(dtype)
    gen = T.torch_generator(seed, dev)
    # Dirichlet(1, ..., 1) weights = normalised exponentials, placed on k random successors
    w = -torch.log1p(-torch.rand(B, S, A, S, generator=gen, device=dev, dtype=torch.float64))
    if k < S:
        keys = torch.rand(B, S, A, S, generator=gen, device=dev, dtype=torch.float64)
        cut = keys.kthvalue(k, dim=-1, keepdim=True).values
        w = torch.where(keys <= cut, w, torch.zeros((), dtype=w.dtype, device=dev))
    P = (w / w.sum(-1, keepdim=True)).to(dt)
    R = torch.randn(B, S, A, generator=gen, device=dev, dtype=torch.float64).to(dt)
    g = _gammas(gamma, B, dt, dev)
    initial = torch.full((B, S), 1.0 / S, dtype=dt, device=dev)
    mask = torch.ones(B, S, A, dtype=torch.bool, device=dev)
    return ModelBatch(P=P, R=R, gamma=g, initial=initial, mask=mask)


# --------------------------------------------------------------------------- operators and solvers
def bellman(
    P: Kernel,
    R: ArrayLike,
    gamma: float | ArrayLike,
    V: ArrayLike,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    check: bool = True,
) -> BellmanResult:
    r"""One Bellman optimality backup per model.

    .. math:: Q_b(s, a) = r_b(s, a) + \gamma_b \sum_{s'} P_b(s'|s, a) V_b(s'), \quad
              (T V)_b(s) = \max_a Q_b(s, a), \quad \pi_b(s) = \min \arg\max_a Q_b(s, a)

    (Puterman 1994, §6.2). One batched matrix product, :math:`O(B S^2 A)` (dense) or
    :math:`O(B\,\mathrm{nnz}(P))` (sparse).

    Parameters
    ----------
    P : (B, S, A, S) array/tensor, or a sparse (S*A, S) kernel shared by the batch
    R : (B, S, A), ``-inf`` at infeasible pairs
    gamma : float or (B,)
        Discounts in [0, 1).
    V : (B, S)
    check : bool
        Validate ``P`` (finite, non-negative, unit rows on feasible pairs) and ``R``; costs about one backup.

    Returns
    -------
    BellmanResult
        ``TV`` (B, S), ``policy`` (B, S) (first maximiser), ``Q`` (B, S, A).
    """
    kern, Rt, B, S, A, dev, dt = _model_batch(P, R, device, dtype, check)
    g = _gammas(gamma, B, dt, dev)
    v = _values(V, "V", B, S, dt, dev)
    Q = T.q_values(kern, Rt, g, v)
    TV, pol = T.greedy(Q)
    return BellmanResult(TV=TV, policy=pol, Q=Q)


def value_iteration(
    P: Kernel,
    R: ArrayLike,
    gamma: float | ArrayLike,
    tol: float = 1e-10,
    max_iter: int = 1_000_000,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    v0: ArrayLike | None = None,
    stall: int | None | Literal["auto"] = "auto",
    check: bool = True,
) -> BatchedSolution:
    r"""Value iteration on every model of the batch, each with its own span stopping rule.

    Iterates :math:`v^{k+1}_b = T_b v^k_b` and stops model ``b`` at the first sweep with
    :math:`\mathrm{sp}(T_b v_b - v_b) \le \mathrm{tol}\,(1-\gamma_b)`, returning
    :math:`V_b = v_b + (\min d_b + \max d_b)/(2(1-\gamma_b))` with :math:`d_b = T_b v_b - v_b`: then
    :math:`\|V_b - V^*_b\|_\infty \le \mathrm{tol}/2` and the greedy policy is ``tol``-optimal (Puterman
    1994, §6.3 and Prop. 6.6.5 / Thm 6.6.6), exactly as :func:`mdpkit.value_iteration`. Finished models
    leave the working batch; ``iterations[b]`` is model ``b``'s own sweep count.

    Parameters
    ----------
    P, R, gamma : see :func:`bellman`.
    tol : float
        Target sup-norm suboptimality of the greedy policies.
    max_iter : int
        Sweep budget per model; ``converged[b]`` is False when it runs out.
    v0 : (B, S), optional
        Starting values (default 0).
    stall : int, None or "auto"
        End a model (``converged=False``) after this many sweeps without a new minimum of the span, which
        in exact arithmetic decreases by at least :math:`\gamma_b` per sweep, so only rounding can stall it.
        ``"auto"``: :data:`mdpkit.core._torch.STALL_SWEEPS_FLOAT32` in float32, off in float64.
    """
    kern, Rt, B, S, A, dev, dt = _model_batch(P, R, device, dtype, check)
    g = _gammas(gamma, B, dt, dev)
    tol = _check_tol(tol)
    max_iter = _check_count(max_iter, "max_iter", 1)
    v = torch.zeros(B, S, dtype=dt, device=dev) if v0 is None else _values(v0, "v0", B, S, dt, dev)
    res = T.span_iteration(kern, Rt, g, v, tol, max_iter, m=0, stall=_stall(stall, dt))
    return _solution(res, kern, Rt, g, "vi")


def modified_policy_iteration(
    P: Kernel,
    R: ArrayLike,
    gamma: float | ArrayLike,
    tol: float = 1e-10,
    m: int = 20,
    max_iter: int = 1_000_000,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    v0: ArrayLike | None = None,
    stall: int | None | Literal["auto"] = "auto",
    check: bool = True,
) -> BatchedSolution:
    r"""Modified PI per model (Puterman 1994, §6.5), as :func:`mdpkit.modified_policy_iteration` with
    ``theta = 0`` (a fixed order ``m``; the numba solver's default stops its inner steps adaptively).

    :math:`\pi^k_b = \mathrm{greedy}(v^k_b)`, :math:`v^{k+1}_b = T_{\pi^k_b}^{m}\, T_b v^k_b`, from
    :math:`v^0_b = \min r_b/(1-\gamma_b)` (so the iterates increase monotonically to :math:`V^*_b`); same span
    stopping rule and ``stall`` option as :func:`value_iteration`.
    """
    kern, Rt, B, S, A, dev, dt = _model_batch(P, R, device, dtype, check)
    g = _gammas(gamma, B, dt, dev)
    tol = _check_tol(tol)
    m = _check_count(m, "m", 0)
    max_iter = _check_count(max_iter, "max_iter", 1)
    if v0 is None:
        rmin = torch.where(torch.isneginf(Rt), torch.full_like(Rt, float("inf")), Rt).amin(dim=(1, 2))
        v = (rmin / (1.0 - g)).unsqueeze(-1).expand(B, S).clone()
    else:
        v = _values(v0, "v0", B, S, dt, dev)
    res = T.span_iteration(kern, Rt, g, v, tol, max_iter, m=m, stall=_stall(stall, dt))
    return _solution(res, kern, Rt, g, "mpi")


def policy_evaluation(
    P: Kernel,
    R: ArrayLike,
    gamma: float | ArrayLike,
    policy: ArrayLike,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    check: bool = True,
) -> BatchedEvaluation:
    r"""Exact evaluation of one stationary policy per model by a batched linear solve.

    .. math:: V^\pi_b = (I - \gamma_b P_{b,\pi})^{-1} r_{b,\pi}, \qquad Q^\pi_b = r_b + \gamma_b P_b V^\pi_b,
              \qquad A^\pi_b = Q^\pi_b - V^\pi_b

    with :math:`P_{b,\pi}(s, s') = \sum_a \pi_b(a|s) P_b(s'|s,a)` and
    :math:`r_{b,\pi}(s) = \sum_a \pi_b(a|s) r_b(s, a)` (Puterman 1994, Thm 6.1.1), solved with
    ``torch.linalg.solve`` (LU with partial pivoting; a sparse kernel's :math:`P_\pi` is densified).

    Parameters
    ----------
    policy : int (B, S) (deterministic) or float (B, S, A) (stochastic)
        Must put no mass on infeasible pairs.
    """
    kern, Rt, B, S, A, dev, dt = _model_batch(P, R, device, dtype, check)
    g = _gammas(gamma, B, dt, dev)
    nd = policy.ndim if isinstance(policy, torch.Tensor) else np.ndim(policy)
    if nd == 2:
        V = T.evaluate_policy(kern, Rt, g, _deterministic(policy, Rt, "policy"))
    elif nd == 3:
        V = T.evaluate_stochastic(kern, Rt, g, _stochastic(policy, Rt, "policy"))
    else:
        raise InvalidPolicyError(f"policy must be int (B, S) or stochastic (B, S, A), got ndim {nd}")
    Q = T.q_values(kern, Rt, g, V)
    return BatchedEvaluation(V=V, Q=Q, advantage=Q - V.unsqueeze(-1))


def policy_iteration(
    P: Kernel,
    R: ArrayLike,
    gamma: float | ArrayLike,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    policy0: ArrayLike | None = None,
    check: bool = True,
) -> BatchedSolution:
    r"""Howard's policy iteration per model with exact batched evaluation (Puterman 1994, §6.4).

    :math:`V^k_b = (I - \gamma_b P_{b,\pi^k})^{-1} r_{b,\pi^k}`, then
    :math:`\pi^{k+1}_b(s) \in \arg\max_a Q^k_b(s, a)`, keeping :math:`\pi^k_b(s)` unless another action beats
    it by more than ``64 eps (1 + max|V^k_b|)`` (no cycling on rounding noise). Model ``b`` stops when its
    policy is unchanged (``converged``), with ``error_bound``
    :math:`= (\max(TV - V) - \min(T_\pi V - V))/(1-\gamma_b)` plus ``rounding``, as
    :func:`mdpkit.policy_iteration`. In float32 a model also stops when a switch no longer raises its value
    by more than the tie tolerance.

    Parameters
    ----------
    tol : float
        Unused by the stopping rule (a stable policy is optimal); kept for a uniform signature.
    policy0 : int (B, S), optional
        Initial policies (default: greedy with respect to ``R``, the first maximiser).
    """
    kern, Rt, B, S, A, dev, dt = _model_batch(P, R, device, dtype, check)
    g = _gammas(gamma, B, dt, dev)
    tol = _check_tol(tol)
    max_iter = _check_count(max_iter, "max_iter", 1)
    if policy0 is None:
        pol0 = Rt.argmax(dim=-1)
    else:
        pol0 = _deterministic(policy0, Rt, "policy0")
    res = T.howard(kern, Rt, g, pol0, max_iter, progress_check=dt == torch.float32)
    return _solution(res, kern, Rt, g, "pi")


def backward_induction(
    P: Kernel,
    R: ArrayLike,
    terminal: ArrayLike | None = None,
    H: int | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    check: bool = True,
) -> BatchedFiniteSolution:
    r"""Backward induction per model (Puterman 1994, §4.5), as :func:`mdpkit.backward_induction`.

    .. math:: V_{b,H} = v_{b,\mathrm{term}}, \quad Q_{b,h}(s, a) = r_{b,h}(s, a) + \sum_{s'} P_{b,h}(s'|s,a)
              V_{b,h+1}(s'), \quad V_{b,h}(s) = \max_a Q_{b,h}(s, a)

    Parameters
    ----------
    P : (B, H, S, A, S) time-indexed, (B, S, A, S) stationary, or a sparse (S*A, S) kernel shared by all
        models and stages.
    R : (B, H, S, A), or (B, S, A) stationary (then ``H`` is needed unless ``P`` is time-indexed)
        ``-inf`` at infeasible pairs.
    terminal : (B, S), optional
        Terminal values :math:`V_{b,H}` (default 0).
    H : int, optional
        Horizon; inferred from a time-indexed ``P`` or ``R``.

    Returns
    -------
    BatchedFiniteSolution
        ``V`` (B, H+1, S), ``Q`` (B, H, S, A), ``policy`` (B, H, S) (first maximiser).
    """
    kern, Rt, dev, dt = _setup(P, R, device, dtype)
    if isinstance(kern, T.CsrKernel):
        S, A, Pt = kern.S, kern.A, None
    else:
        Pt = kern
        if Pt.ndim not in (4, 5) or Pt.shape[-1] != Pt.shape[-3]:
            raise InvalidMDPError(f"P has shape {tuple(Pt.shape)}, expected (B, H, S, A, S) or (B, S, A, S)")
        S, A = int(Pt.shape[-1]), int(Pt.shape[-2])
    B = int(Rt.shape[0]) if Rt.ndim >= 1 else 0
    horizons = {"H": H} if H is not None else {}
    if Pt is not None and Pt.ndim == 5:
        horizons["P"] = int(Pt.shape[1])
    if Rt.ndim == 4:
        horizons["R"] = int(Rt.shape[1])
    if not horizons:
        raise InvalidArgumentError("stationary P and R need the horizon H")
    if len(set(horizons.values())) > 1:
        raise InvalidMDPError(f"inconsistent horizons: {horizons}")
    Hh = _check_count(next(iter(horizons.values())), "H", 1)
    if Rt.ndim == 3:
        Rt = Rt.unsqueeze(1).expand(B, Hh, *Rt.shape[1:])
    if Pt is not None and Pt.shape[0] != B:
        raise InvalidMDPError(f"P holds {Pt.shape[0]} models but R holds {B}")
    _check_R(Rt, (B, Hh), S, A)
    if check:
        feasible = ~torch.isneginf(Rt)  # (B, H, S, A)
        if Pt is None:
            _check_csr_P(kern, feasible.any(dim=(0, 1)), _data_eps(P))
        elif Pt.ndim == 5:
            _check_dense_P(Pt, feasible, _data_eps(P))
        else:
            _check_dense_P(Pt, feasible.any(dim=1), _data_eps(P))
    term = (
        torch.zeros(B, S, dtype=dt, device=dev)
        if terminal is None
        else _values(terminal, "terminal", B, S, dt, dev)
    )

    if Pt is None or Pt.ndim == 4:
        stationary = kern if Pt is None else T.DenseKernel(Pt)

        def kernel_at(h: int) -> T.Kernel:
            return stationary
    else:

        def kernel_at(h: int) -> T.Kernel:
            return T.DenseKernel(Pt[:, h])

    Vs, Q, pol = T.backward(kernel_at, Rt, term)
    return BatchedFiniteSolution(V=Vs, Q=Q, policy=pol)
