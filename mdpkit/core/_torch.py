r"""torch twins of the numba kernels: Bellman backups, exact evaluation, VI/MPI/Howard PI, backward induction.

Private: :mod:`mdpkit.core.batched` (public batched API), :func:`mdpkit.solve` (``backend="torch"``) and
:func:`mdpkit.backward_induction` validate their inputs and call in here. Everything is batched over a
leading axis ``B`` (independent models solved together) and runs on any torch device, in float64 or float32.

Conventions (the same as :mod:`mdpkit.core._numba`)
----------------------------------------------------
* A kernel is either dense, ``P[b, s, a, s']`` of shape (B, S, A, S), or one torch sparse CSR matrix of
  shape (S*A, S) (row ``s*A + a`` is ``P[s, a, :]``) shared by the whole batch (B models that differ in
  ``R``, ``gamma`` or the starting point only).
* Rewards ``R[b, s, a]`` hold ``-inf`` at infeasible pairs, so a max over actions ignores them without a
  special case (their kernel rows only have to be finite; the models build them as self-loops).
* Greedy policies take the **first** maximiser (``torch.argmax`` returns the first maximal index), as the
  numba kernels do.
* Certificates are those of :mod:`mdpkit.core.discounted`. VI and modified PI stop model ``b`` once
  :math:`\mathrm{sp}(d) \le \mathrm{tol}\,(1-\gamma_b)` with :math:`d = Tv - v` (Puterman 1994, Prop. 6.6.5,
  Thm 6.6.6) and return :math:`V = v + (\min d + \max d) / (2(1-\gamma_b))`, ``residual``
  :math:`= \mathrm{sp}(d)/2` (:math:`= \|TV - V\|_\infty`) and ``error_bound``
  :math:`= \mathrm{sp}(d)/(1-\gamma_b)` plus the worst-case rounding term :func:`rounding_floor` (reported
  as ``rounding``; ``u`` is the unit roundoff of the working dtype). Each model stops at its own sweep.
* Howard policy iteration keeps the current action unless another one beats it by more than
  :func:`tie_tolerance` (``64 eps (1 + max|v|)``, as in :func:`mdpkit.core.discounted._tie`) and stops at a
  stable policy, certified by :math:`(\max(TV - V) - \min(T_\pi V - V))/(1-\gamma)` plus the rounding term.

Float32. Rounding makes the measured span :math:`\mathrm{sp}(Tv - v)` stall at a floor of a few ulps of
:math:`\max|V|`, while in exact arithmetic it contracts by at least :math:`\gamma` per sweep (the Bellman
operator is a span contraction). In float32 a sweep count without a new minimum of the span
(:data:`STALL_SWEEPS_FLOAT32`) therefore ends the iteration with ``converged=False`` instead of running to
``max_iter``; likewise Howard PI in float32 stops (as at a stable policy) when a policy switch no longer
increases the value by more than the tie tolerance. Neither rule is used in float64, where the
iterates follow the numba reference sweep for sweep.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from mdpkit.core import validate as V
from mdpkit.core.model import FiniteHorizonMDP, TabularMDP
from mdpkit.core.results import FiniteSolution, Solution
from mdpkit.errors import BackendUnavailableError, InvalidArgumentError, InvalidPolicyError

__all__ = [
    "DTYPES",
    "STALL_SWEEPS_FLOAT32",
    "resolve_device",
    "resolve_dtype",
    "torch_generator",
    "DenseKernel",
    "CsrKernel",
    "csr_from_scipy",
    "q_values",
    "greedy",
    "bellman",
    "improve",
    "evaluate_policy",
    "evaluate_stochastic",
    "tie_tolerance",
    "max_abs_reward",
    "rounding_floor",
    "span_iteration",
    "howard",
    "backward",
    "IterationResult",
    "solve_discounted",
    "backward_induction_model",
]

#: Floating dtypes the kernels run in.
DTYPES = (torch.float64, torch.float32)

#: Float32 VI/MPI stop (``converged=False``) after this many sweeps without a new minimum of sp(Tv - v).
STALL_SWEEPS_FLOAT32 = 100

#: Below this many products (B * nnz) a CSR backup on the CPU uses gather + scatter-add, not a sparse matmul.
CSR_SMALL = 4096

#: Exact evaluation with a CSR kernel densifies P_pi (B, S, S); refuse beyond this many bytes.
DENSE_CHAIN_MAX_BYTES = 4 * 2**30


# --------------------------------------------------------------------------- devices, dtypes, randomness
def resolve_device(
    device: str | torch.device | None = None, like: torch.Tensor | None = None
) -> torch.device:
    """The torch device to run on.

    ``None`` means the device of ``like`` when given, else ``"cuda"`` when a GPU is available and ``"cpu"``
    otherwise. Asking for a CUDA (or MPS) device that this machine does not have raises
    :class:`~mdpkit.errors.BackendUnavailableError`.
    """
    if device is None:
        if like is not None:
            return like.device
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InvalidArgumentError(f"device = {device!r} is not a torch device: {exc}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise BackendUnavailableError(
                f"device = {device!r} was requested but CUDA is not available (torch {torch.__version__}, "
                f"built with CUDA {torch.version.cuda}); use device='cpu' or device=None"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise BackendUnavailableError(
                f"device = {device!r} was requested but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise BackendUnavailableError(f"device = {device!r} was requested but MPS is not available")
    return dev


def resolve_dtype(dtype: torch.dtype | None = None, like: torch.Tensor | None = None) -> torch.dtype:
    """``torch.float64`` or ``torch.float32``; ``None``: the dtype of a floating ``like``, else float64."""
    if dtype is None:
        if like is not None and like.dtype in DTYPES:
            return like.dtype
        return torch.float64
    if dtype not in DTYPES:
        raise InvalidArgumentError(f"dtype = {dtype!r} is not one of torch.float64, torch.float32")
    return dtype


def torch_generator(
    seed: int | np.random.Generator | None, device: torch.device | str = "cpu"
) -> torch.Generator:
    """A :class:`torch.Generator` on ``device`` seeded from ``seed`` (an int or a numpy Generator).

    A numpy ``Generator`` is advanced by one draw, so two calls with the same generator give independent
    torch streams, and the same integer seed always gives the same stream.
    """
    if isinstance(seed, np.random.Generator):
        s = int(seed.integers(0, 2**63 - 1))
    elif seed is None:
        s = int(np.random.default_rng().integers(0, 2**63 - 1))
    elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        s = int(seed)
    else:
        raise InvalidArgumentError(f"seed = {seed!r} must be an int or a numpy.random.Generator")
    gen = torch.Generator(device=device)
    gen.manual_seed(s)
    return gen


# --------------------------------------------------------------------------- kernels
def csr_from_scipy(P: sp.spmatrix | sp.sparray, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A torch sparse CSR tensor with the same rows as a scipy sparse matrix (indices made canonical)."""
    csr = sp.csr_matrix(P, dtype=np.float64, copy=True)
    csr.sum_duplicates()
    csr.sort_indices()
    return _csr_tensor(
        torch.as_tensor(csr.indptr.astype(np.int64)),
        torch.as_tensor(csr.indices.astype(np.int64)),
        torch.as_tensor(csr.data),
        csr.shape,
        dtype,
        device,
    )


def _csr_tensor(crow, col, val, shape, dtype, device) -> torch.Tensor:
    with warnings.catch_warnings():  # "sparse CSR support is in beta": we only use matmul by a dense matrix
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            crow.to(device=device, dtype=torch.int64),
            col.to(device=device, dtype=torch.int64),
            val.to(device=device, dtype=dtype),
            size=tuple(shape),
            check_invariants=False,
        )


class DenseKernel:
    """A batch of dense kernels ``P[b, s, a, s']`` of shape (B, S, A, S)."""

    sparse = False

    def __init__(self, P: torch.Tensor) -> None:
        self.P = P
        self.B, self.S, self.A, _ = P.shape
        self.row_len = self.S  # longest row (for the rounding floor)
        self._rows = P.reshape(self.B, self.S * self.A, self.S)

    def expect(self, v: torch.Tensor) -> torch.Tensor:
        r""":math:`(P v)[b, s, a] = \sum_{s'} P[b, s, a, s'] v[b, s']` for ``v`` of shape (B, S)."""
        return torch.bmm(self._rows, v.unsqueeze(-1)).view(v.shape[0], self.S, self.A)

    def select(self, idx: torch.Tensor) -> DenseKernel:
        """The sub-batch ``idx`` (a copy)."""
        return DenseKernel(self.P.index_select(0, idx))

    def chain(self, pol: torch.Tensor) -> torch.Tensor:
        """Dense ``P_pi[b, s, :] = P[b, s, pol[b, s], :]``, shape (B, S, S)."""
        B, S = pol.shape
        return self.P.gather(2, pol.view(B, S, 1, 1).expand(B, S, 1, self.S)).squeeze(2)

    def chain_stochastic(self, pi: torch.Tensor) -> torch.Tensor:
        r"""Dense :math:`P_\pi[b, s, s'] = \sum_a \pi[b, s, a] P[b, s, a, s']` for ``pi`` (B, S, A)."""
        return torch.einsum("bsa,bsat->bst", pi, self.P)

    def chain_operator(self, pol: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """``u -> P_pi u`` (batched), the matrix gathered once."""
        Ppi = self.chain(pol)
        return lambda u: torch.bmm(Ppi, u.unsqueeze(-1)).squeeze(-1)


class CsrKernel:
    """One sparse kernel, a torch CSR matrix of shape (S*A, S), shared by every model of the batch."""

    sparse = True

    def __init__(self, P: torch.Tensor, A: int) -> None:
        if P.layout != torch.sparse_csr:
            raise InvalidArgumentError(f"CsrKernel needs a torch.sparse_csr tensor, got layout {P.layout}")
        self.P = P
        self.S = int(P.shape[1])
        self.A = int(A)
        self.B = None  # broadcast over any batch
        self.crow = P.crow_indices()
        self.col = P.col_indices()
        self.val = P.values()
        counts = self.crow[1:] - self.crow[:-1]
        self.row_len = int(counts.max()) if counts.numel() else 0  # longest row (for the rounding floor)
        #: row id (s*A + a) of every stored entry
        self.rid = torch.repeat_interleave(torch.arange(self.S * self.A, device=P.device), counts)

    def expect(self, v: torch.Tensor) -> torch.Tensor:
        r""":math:`(P v)[b, s, a] = \sum_{s'} P[s, a, s'] v[b, s']` for ``v`` of shape (B, S).

        Small products on the CPU (``B * nnz <=`` :data:`CSR_SMALL`) use a gather and a scatter-add, which
        avoids the fixed cost of the sparse matrix product (hundreds of microseconds on a busy CPU).
        """
        B = v.shape[0]
        if v.device.type == "cpu" and B * self.val.numel() <= CSR_SMALL:
            out = torch.zeros(B, self.S * self.A, dtype=v.dtype, device=v.device)
            return out.index_add_(1, self.rid, v[:, self.col] * self.val).view(B, self.S, self.A)
        out = self.P @ v.T.contiguous()  # (S*A, B)
        return out.T.reshape(B, self.S, self.A)

    def select(self, idx: torch.Tensor) -> CsrKernel:
        return self

    def _gather(self, pol: torch.Tensor):
        """Stored entries of the rows ``s*A + pol[b, s]``: (row in 0..B*S-1, column s', value)."""
        B, S = pol.shape
        rows = (torch.arange(S, device=pol.device) * self.A + pol).reshape(-1)  # (B*S,)
        start = self.crow[rows]
        cnt = self.crow[rows + 1] - start
        total = int(cnt.sum())
        out_row = torch.repeat_interleave(torch.arange(B * S, device=pol.device), cnt, output_size=total)
        offs = torch.cumsum(cnt, 0) - cnt  # first position of each row in the output
        src = start[out_row] + torch.arange(total, device=pol.device) - offs[out_row]
        return out_row, self.col[src], self.val[src], cnt

    def chain(self, pol: torch.Tensor) -> torch.Tensor:
        """Dense ``P_pi`` of shape (B, S, S) (for the exact solve)."""
        B, S = pol.shape
        _check_dense_chain(B, S, self.val.dtype)
        r, c, x, _ = self._gather(pol)
        out = torch.zeros(B * S, S, dtype=self.val.dtype, device=self.val.device)
        out.index_put_((r, c), x, accumulate=True)
        return out.view(B, S, S)

    def chain_stochastic(self, pi: torch.Tensor) -> torch.Tensor:
        r"""Dense :math:`P_\pi[b, s, s'] = \sum_a \pi[b, s, a] P[s, a, s']`, shape (B, S, S)."""
        B = pi.shape[0]
        S = self.S
        _check_dense_chain(B, S, self.val.dtype)
        s_of = torch.div(self.rid, self.A, rounding_mode="floor")
        w = pi.reshape(B, S * self.A)[:, self.rid] * self.val  # (B, nnz)
        out = torch.zeros(B, S, S, dtype=self.val.dtype, device=self.val.device)
        b_idx = torch.arange(B, device=pi.device).repeat_interleave(self.rid.numel())
        out.index_put_((b_idx, s_of.repeat(B), self.col.repeat(B)), w.reshape(-1), accumulate=True)
        return out

    def chain_operator(self, pol: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """``u -> P_pi u`` through a block-diagonal CSR of shape (B*S, B*S) (never densified)."""
        B, S = pol.shape
        r, c, x, cnt = self._gather(pol)
        cols = c + torch.div(r, S, rounding_mode="floor") * S  # column in the flattened (B*S,) vector
        if pol.device.type == "cpu" and x.numel() <= CSR_SMALL:

            def apply(u: torch.Tensor) -> torch.Tensor:
                out = torch.zeros(B * S, dtype=u.dtype, device=u.device)
                return out.index_add_(0, r, u.reshape(-1)[cols] * x).view(B, S)

            return apply
        crow = torch.zeros(B * S + 1, dtype=torch.int64, device=pol.device)
        crow[1:] = torch.cumsum(cnt, 0)
        M = _csr_tensor(crow, cols, x, (B * S, B * S), self.val.dtype, self.val.device)
        return lambda u: (M @ u.reshape(B * S, 1)).view(B, S)


Kernel = DenseKernel | CsrKernel


def _check_dense_chain(B: int, S: int, dtype: torch.dtype) -> None:
    need = B * S * S * torch.finfo(dtype).bits // 8
    if need > DENSE_CHAIN_MAX_BYTES:
        raise InvalidArgumentError(
            f"exact evaluation of a sparse model densifies P_pi: B*S*S = {B}*{S}*{S} entries "
            f"({need / 2**30:.1f} GiB) exceed {DENSE_CHAIN_MAX_BYTES / 2**30:.0f} GiB; use value iteration, "
            "modified PI, or the numba backend (sparse LU / GMRES)"
        )


# --------------------------------------------------------------------------- Bellman operators
def q_values(kern: Kernel, R: torch.Tensor, gamma: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    r""":math:`Q[b, s, a] = R[b, s, a] + \gamma_b \sum_{s'} P[b, s, a, s'] v[b, s']`, shape (B, S, A).

    ``-inf`` stays at infeasible pairs (their ``P`` rows are finite).
    """
    return R + gamma.view(-1, 1, 1) * kern.expect(v)


def greedy(Q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(max_a Q, first argmax_a Q)`` over the last axis.

    ``torch.argmax`` returns the first maximal index; the values are gathered from it. (``Tensor.max(dim)``
    computes the same pair but is ~100x slower on small CPU tensors when intra-op threads contend.)
    """
    arg = Q.argmax(dim=-1)
    return Q.gather(-1, arg.unsqueeze(-1)).squeeze(-1), arg


def bellman(
    kern: Kernel, R: torch.Tensor, gamma: torch.Tensor, v: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""``(T v, greedy(v))``: :math:`(Tv)[b, s] = \max_a Q[b, s, a]`, the first maximiser as the policy."""
    return greedy(q_values(kern, R, gamma, v))


def improve(
    kern: Kernel, R: torch.Tensor, gamma: torch.Tensor, v: torch.Tensor, pol: torch.Tensor, tie: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Howard improvement: ``(T v, new policy, T_pol v)``.

    The new policy is greedy with respect to ``v`` (first maximiser) but keeps ``pol[b, s]`` unless another
    action beats it by more than ``tie[b]``; :math:`T_{\mathrm{pol}} v` is the backup of the current action.
    """
    Q = q_values(kern, R, gamma, v)
    best, arg = greedy(Q)
    cur = Q.gather(-1, pol.unsqueeze(-1)).squeeze(-1)
    keep = cur >= best - tie.unsqueeze(-1)
    return best, torch.where(keep, pol, arg), cur


def tie_tolerance(v: torch.Tensor) -> torch.Tensor:
    """Per-model tie tolerance ``64 eps (1 + max_s |v[b, s]|)`` (eps of ``v``'s dtype), shape (B,)."""
    eps = torch.finfo(v.dtype).eps
    return 64 * eps * (1.0 + v.abs().amax(dim=-1))


def _solve_chain(Ppi: torch.Tensor, rpi: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    r"""Batched exact solve :math:`(I - \gamma_b P_\pi) V = r_\pi` (LU with partial pivoting)."""
    M = -gamma.view(-1, 1, 1) * Ppi
    M.diagonal(dim1=-2, dim2=-1).add_(1.0)
    return torch.linalg.solve(M, rpi.unsqueeze(-1)).squeeze(-1)


def evaluate_policy(kern: Kernel, R: torch.Tensor, gamma: torch.Tensor, pol: torch.Tensor) -> torch.Tensor:
    r"""Exact value of deterministic policies ``pol`` (B, S): :math:`V = (I - \gamma P_\pi)^{-1} r_\pi`."""
    rpi = R.gather(-1, pol.unsqueeze(-1)).squeeze(-1)
    return _solve_chain(kern.chain(pol), rpi, gamma)


def evaluate_stochastic(kern: Kernel, R: torch.Tensor, gamma: torch.Tensor, pi: torch.Tensor) -> torch.Tensor:
    r"""Exact value of stochastic policies ``pi`` (B, S, A), :math:`r_\pi = \sum_a \pi(a|s) r(s, a)`.

    Infeasible pairs (``R = -inf``) must have ``pi = 0``; they contribute nothing.
    """
    Rf = torch.where(torch.isneginf(R), torch.zeros((), dtype=R.dtype, device=R.device), R)
    rpi = (pi * Rf).sum(-1)
    return _solve_chain(kern.chain_stochastic(pi), rpi, gamma)


# --------------------------------------------------------------------------- iterative solvers
@dataclass
class IterationResult:
    """Per-model results of a batched solver (tensors with a leading B axis)."""

    V: torch.Tensor
    policy: torch.Tensor
    iterations: torch.Tensor
    residual: torch.Tensor
    converged: torch.Tensor
    error_bound: torch.Tensor
    rounding: torch.Tensor


def max_abs_reward(R: torch.Tensor) -> torch.Tensor:
    """``max |r_b(s, a)|`` over the feasible pairs of each model, shape (B,)."""
    return torch.where(torch.isfinite(R), R.abs(), torch.zeros((), dtype=R.dtype, device=R.device)).amax(
        dim=(1, 2)
    )


def rounding_floor(rmax: torch.Tensor, gamma: torch.Tensor, v: torch.Tensor, row_len: int) -> torch.Tensor:
    r"""Per-model worst-case effect of rounding on the span certificate, shape (B,).

    As :func:`mdpkit.core.discounted.rounding_floor`: a computed backup errs by at most
    :math:`\delta = (n+2)\,u\,(\max|r| + \gamma\|v\|_\infty)` (``n`` the longest row of ``P``, ``u`` the unit
    roundoff of ``v``'s dtype; Higham 2002, Thm 3.1), which moves each end of the span bracket by
    :math:`\delta/(1-\gamma)`. Returns :math:`2\delta/(1-\gamma)`.
    """
    u = torch.finfo(v.dtype).eps / 2.0
    vmax = v.abs().amax(dim=-1)
    return 2.0 * (row_len + 2) * u * (rmax + gamma * vmax) / (1.0 - gamma)


class _Out:
    """Per-model output buffers, filled as models finish."""

    def __init__(self, B: int, S: int, dtype: torch.dtype, device: torch.device) -> None:
        self.v = torch.empty(B, S, dtype=dtype, device=device)
        self.tv = torch.empty(B, S, dtype=dtype, device=device)
        self.pol = torch.empty(B, S, dtype=torch.int64, device=device)
        self.k = torch.zeros(B, dtype=torch.int64, device=device)
        self.ok = torch.zeros(B, dtype=torch.bool, device=device)

    def put(self, ids, sel, v, tv, pol, k, ok) -> None:
        g = ids[sel]
        self.v[g] = v[sel]
        self.tv[g] = tv[sel]
        self.pol[g] = pol[sel]
        self.k[g] = k if isinstance(k, int) else k[sel]
        self.ok[g] = ok[sel]


def _finish_span(v, tv, pol, k, ok, gamma, rmax, row_len) -> IterationResult:
    """The span certificate: ``V`` moved to the middle of the bracket, bound plus the rounding floor."""
    d = tv - v
    lo, hi = d.amin(dim=-1), d.amax(dim=-1)
    c = (lo + hi) / (2.0 * (1.0 - gamma))
    floor = rounding_floor(rmax, gamma, v, row_len)
    return IterationResult(
        V=v + c.unsqueeze(-1),
        policy=pol,
        iterations=k,
        residual=(hi - lo) / 2.0,
        converged=ok,
        error_bound=(hi - lo) / (1.0 - gamma) + floor,
        rounding=floor,
    )


def _compact(live: torch.Tensor) -> torch.Tensor | None:
    """Indices to keep when at most half of the working batch is still live (else None)."""
    n = int(live.sum())
    return torch.nonzero(live).squeeze(1) if 2 * n <= live.numel() else None


def span_iteration(
    kern: Kernel,
    R: torch.Tensor,
    gamma: torch.Tensor,
    v0: torch.Tensor,
    tol: float,
    max_iter: int,
    m: int = 0,
    stall: int | None = None,
    callback: Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor], None] | None = None,
) -> IterationResult:
    r"""Value iteration (``m = 0``) or modified policy iteration (``m > 0``) with the per-model span rule.

    Sweep ``k`` computes :math:`Tv_k` and :math:`\pi_k = \mathrm{greedy}(v_k)`; model ``b`` stops when
    :math:`\mathrm{sp}(Tv_k - v_k) \le \mathrm{tol}(1-\gamma_b)`, otherwise
    :math:`v_{k+1} = T_{\pi_k}^{m}\, T v_k`. ``stall`` (sweeps without a new minimum of the span) ends a
    model with ``converged=False``; ``None`` disables it. A finished model's result is recorded at once; it
    keeps riding along (its later sweeps are ignored) until at most half of the working batch is live, when
    the batch is compacted, so the copies of ``P`` cost at most about two sweeps in all.
    ``callback(k, ids, Tv, pi)`` sees the live models (global indices ``ids``) after every sweep.
    """
    B, S, _ = R.shape
    out = _Out(B, S, v0.dtype, v0.device)
    rmax = max_abs_reward(R)
    ids = torch.arange(B, device=v0.device)
    live = torch.ones(B, dtype=torch.bool, device=v0.device)
    thresh = tol * (1.0 - gamma)
    K, Rw, gw, tw, v = kern, R, gamma, thresh, v0
    best = torch.full((B,), float("inf"), dtype=v0.dtype, device=v0.device)
    since = torch.zeros(B, dtype=torch.int64, device=v0.device)
    for k in range(1, max_iter + 1):
        tv, pol = bellman(K, Rw, gw, v)
        if callback is not None:
            callback(k, ids[live], tv[live], pol[live])
        d = tv - v
        span = d.amax(dim=-1) - d.amin(dim=-1)
        stop = span <= tw
        finished = stop
        if stall is not None:
            better = span < best
            best = torch.where(better, span, best)
            since = torch.where(better, torch.zeros_like(since), since + 1)
            finished = stop | (since >= stall)
        finished = finished & live
        if bool(finished.any()):
            out.put(ids, finished, v, tv, pol, k, stop)
            live = live & ~finished
            if not bool(live.any()):
                return _finish_span(out.v, out.tv, out.pol, out.k, out.ok, gamma, rmax, kern.row_len)
            keep = _compact(live)
            if keep is not None:
                ids, K, Rw, gw, tw, live = ids[keep], K.select(keep), Rw[keep], gw[keep], tw[keep], live[keep]
                best, since, v, tv, pol = best[keep], since[keep], v[keep], tv[keep], pol[keep]
        if m:
            step = K.chain_operator(pol)
            rpi = Rw.gather(-1, pol.unsqueeze(-1)).squeeze(-1)
            u = tv
            for _ in range(m):
                u = rpi + gw.unsqueeze(-1) * step(u)
            v = u
        else:
            v = tv
    # budget exhausted: one more backup from the last iterate (as the numba solvers do)
    tv, pol = bellman(K, Rw, gw, v)
    out.put(ids, live, v, tv, pol, max_iter, torch.zeros_like(live))
    return _finish_span(out.v, out.tv, out.pol, out.k, out.ok, gamma, rmax, kern.row_len)


def howard(
    kern: Kernel,
    R: torch.Tensor,
    gamma: torch.Tensor,
    pol0: torch.Tensor,
    max_iter: int,
    progress_check: bool = False,
    callback: Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor], None] | None = None,
) -> IterationResult:
    r"""Howard's policy iteration, batched (Puterman 1994, §6.4), as :func:`mdpkit.policy_iteration`.

    Iteration ``k`` evaluates :math:`V_k = (I - \gamma P_{\pi_k})^{-1} r_{\pi_k}` exactly and improves
    greedily, keeping :math:`\pi_k(s)` on ties within :func:`tie_tolerance`. Model ``b`` stops when its policy
    is unchanged (``converged``): ``V = V_k``, ``residual`` :math:`= \|TV_k - V_k\|_\infty` and
    ``error_bound`` :math:`= (\max(TV_k - V_k) - \min(T_{\pi_k}V_k - V_k))/(1-\gamma_b)` plus
    :func:`rounding_floor`. With ``progress_check`` (float32) it also stops, the same way, when the switch to
    :math:`\pi_k` raised the value by no more than the tie tolerance anywhere (rounding has taken over). If
    the budget runs out, the result is the span certificate of the last evaluation with its greedy policy
    (``converged=False``). Finished models are compacted away as in :func:`span_iteration`.
    ``callback(k, ids, V_k, pi_k)`` sees the live models.
    """
    B, S, _ = R.shape
    dtype, device = R.dtype, R.device
    rmax = max_abs_reward(R)
    outV = torch.empty(B, S, dtype=dtype, device=device)
    outpol = torch.empty(B, S, dtype=torch.int64, device=device)
    outk = torch.zeros(B, dtype=torch.int64, device=device)
    outres = torch.empty(B, dtype=dtype, device=device)
    outbound = torch.empty(B, dtype=dtype, device=device)
    outround = torch.empty(B, dtype=dtype, device=device)
    outok = torch.zeros(B, dtype=torch.bool, device=device)
    ids = torch.arange(B, device=device)
    live = torch.ones(B, dtype=torch.bool, device=device)
    K, Rw, gw, pol = kern, R, gamma, pol0
    prev_v: torch.Tensor | None = None
    v = pol0  # bound in the loop (max_iter >= 1)
    for k in range(1, max_iter + 1):
        v = evaluate_policy(K, Rw, gw, pol)
        tv, new, tpv = improve(K, Rw, gw, v, pol, tie_tolerance(v))
        if callback is not None:
            callback(k, ids[live], v[live], pol[live])
        done = live & (new == pol).all(dim=-1)
        if progress_check and prev_v is not None:
            done = done | (live & ~((v - prev_v) > tie_tolerance(prev_v).unsqueeze(-1)).any(dim=-1))
        if bool(done.any()):
            g = ids[done]
            d = tv[done] - v[done]
            lo = (tpv[done] - v[done]).amin(dim=-1)
            floor = rounding_floor(rmax[g], gw[done], v[done], K.row_len)
            outV[g], outpol[g], outk[g], outok[g] = v[done], pol[done], k, True
            outres[g], outround[g] = d.abs().amax(dim=-1), floor
            outbound[g] = (d.amax(dim=-1) - lo) / (1.0 - gw[done]) + floor
            live = live & ~done
            if not bool(live.any()):
                return IterationResult(outV, outpol, outk, outres, outok, outbound, outround)
            keep = _compact(live)
            if keep is not None:
                ids, K, Rw, gw, live = ids[keep], K.select(keep), Rw[keep], gw[keep], live[keep]
                v, new = v[keep], new[keep]
        prev_v = v
        pol = new
    # budget exhausted: span certificate of the last evaluation, with its greedy policy
    tv, gpol = bellman(K, Rw, gw, v)
    g = ids[live]
    rest = _finish_span(v[live], tv[live], gpol[live], max_iter, None, gw[live], rmax[g], K.row_len)
    outV[g], outpol[g], outk[g], outok[g] = rest.V, rest.policy, max_iter, False
    outres[g], outbound[g], outround[g] = rest.residual, rest.error_bound, rest.rounding
    return IterationResult(outV, outpol, outk, outres, outok, outbound, outround)


def backward(
    kernel_at: Callable[[int], Kernel], R: torch.Tensor, terminal: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Batched backward induction (Puterman 1994, §4.5).

    :math:`V_H = v_{\mathrm{term}}`, :math:`Q_h = r_h + P_h V_{h+1}`, :math:`V_h = \max_a Q_h`, policy the
    first maximiser. ``R`` is (B, H, S, A), ``terminal`` (B, S), ``kernel_at(h)`` the kernel of stage ``h``.
    Returns ``V`` (B, H+1, S), ``Q`` (B, H, S, A), ``policy`` (B, H, S).
    """
    B, H, S, A = R.shape
    Vs = torch.empty(B, H + 1, S, dtype=R.dtype, device=R.device)
    Q = torch.empty(B, H, S, A, dtype=R.dtype, device=R.device)
    pol = torch.empty(B, H, S, dtype=torch.int64, device=R.device)
    Vs[:, H] = terminal
    for h in range(H - 1, -1, -1):
        Q[:, h] = R[:, h] + kernel_at(h).expect(Vs[:, h + 1])
        Vs[:, h], pol[:, h] = greedy(Q[:, h])
    return Vs, Q, pol


# --------------------------------------------------------------------------- single-model entry points
def _model_kernel(P: np.ndarray | sp.csr_matrix, A: int, dtype: torch.dtype, device: torch.device) -> Kernel:
    if sp.issparse(P):
        return CsrKernel(csr_from_scipy(P, dtype, device), A)
    return DenseKernel(torch.tensor(np.asarray(P), dtype=dtype, device=device).unsqueeze(0))


_OPTIONS = {
    "vi": {"max_iter", "dtype", "v0", "callback", "stall"},
    "mpi": {"max_iter", "dtype", "v0", "callback", "m", "stall"},
    "pi": {"max_iter", "dtype", "policy0", "callback"},
}


def _is_int(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _max_iter(value: object, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise InvalidArgumentError(f"max_iter = {value!r} must be a positive integer")
    return int(value)


def _start_value(v0: object, S: int, dtype, device) -> torch.Tensor:
    arr = V.as_float_array(v0, "v0")
    V.check_shape(arr, (S,), "v0")
    V.check_finite(arr, "v0")
    return torch.tensor(arr, dtype=dtype, device=device).unsqueeze(0)


def _numpy_callback(cb: object):
    """Wrap a user ``callback(k, x, policy)`` (numpy arrays of model 0) as a kernel callback."""
    if cb is None:
        return None
    if not callable(cb):
        raise InvalidArgumentError(f"callback = {cb!r} is not callable")

    def tcb(k: int, ids: torch.Tensor, x: torch.Tensor, pol: torch.Tensor) -> None:
        cb(k, x[0].detach().cpu().numpy().astype(np.float64), pol[0].cpu().numpy())

    return tcb


def solve_discounted(
    mdp: TabularMDP, method: str, tol: float, device: str | torch.device | None, **options: object
) -> Solution:
    r"""Solve one discounted model with the torch kernels (``backend="torch"`` in :func:`mdpkit.solve`).

    Parameters
    ----------
    mdp : TabularMDP
        Dense or CSR model with ``0 <= gamma < 1``.
    method : {"vi", "pi", "mpi"}
        Value iteration, Howard policy iteration or modified PI, the same algorithms (and stopping rules) as
        :mod:`mdpkit.core.discounted`. ``"lp"`` is numba/HiGHS only.
    tol : float
        Certified sup-norm suboptimality of the greedy policy (see the module docstring).
    device : str, torch.device or None
        ``None``: CUDA when available, else CPU. A CUDA request without a GPU raises
        :class:`~mdpkit.errors.BackendUnavailableError`.
    **options
        ``max_iter``; ``dtype`` (``torch.float64`` default, or ``torch.float32``); ``v0`` (VI/MPI start);
        ``m`` (MPI, default 20); ``policy0`` (PI start, int (S,)); ``stall`` (VI/MPI float32 stall window,
        default :data:`STALL_SWEEPS_FLOAT32` in float32, off in float64); ``callback(k, v, policy)``
        with numpy arrays.

    Returns
    -------
    Solution
        numpy arrays (float64 ``V`` and ``Q``, int64 ``policy``), as the numba backend returns.
    """
    if method == "lp":
        raise InvalidArgumentError(
            "method='lp' is numba/HiGHS only (scipy.optimize.linprog on the CPU); use backend='numba' or "
            "method='vi' | 'pi' | 'mpi' with backend='torch'"
        )
    method = V.check_choice(method, "method", tuple(_OPTIONS))
    unknown = set(options) - _OPTIONS[method]
    if unknown:
        raise InvalidArgumentError(
            f"option(s) {', '.join(sorted(unknown))} not understood by torch method={method!r}; "
            f"accepted: {', '.join(sorted(_OPTIONS[method]))}"
        )
    what = {"vi": "value_iteration", "pi": "policy_iteration", "mpi": "modified_policy_iteration"}[method]
    gamma_f = V.require_discounted(mdp.gamma, what)
    tol = V.check_tol(tol)
    dev = resolve_device(device)
    dtype = resolve_dtype(options.get("dtype"))
    S, A = mdp.S, mdp.A
    kern = _model_kernel(mdp.P, A, dtype, dev)
    R = torch.tensor(mdp.R, dtype=dtype, device=dev).unsqueeze(0)
    gamma = torch.tensor([gamma_f], dtype=dtype, device=dev)
    tcb = _numpy_callback(options.get("callback"))
    if method == "pi":
        max_iter = _max_iter(options.get("max_iter"), 10_000)
        policy0 = options.get("policy0")
        if policy0 is None:
            _, pol0 = bellman(kern, R, torch.zeros_like(gamma), torch.zeros(1, S, dtype=dtype, device=dev))
        else:
            if np.ndim(policy0) != 1:
                raise InvalidPolicyError(
                    f"policy0 must be a deterministic policy, an int array of shape (S,) = ({S},); "
                    f"got shape {np.shape(policy0)}"
                )
            V.check_policy(policy0, mdp.mask, "policy0")
            pol0 = torch.tensor(np.asarray(policy0, dtype=np.int64), device=dev).unsqueeze(0)
        res = howard(kern, R, gamma, pol0, max_iter, progress_check=dtype == torch.float32, callback=tcb)
    else:
        max_iter = _max_iter(options.get("max_iter"), 1_000_000)
        m = 0
        if method == "mpi":
            m = options.get("m", 20)
            if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 0:
                raise InvalidArgumentError(f"m = {m!r} must be a non-negative integer")
            m = int(m)
        v0 = options.get("v0")
        if v0 is not None:
            v = _start_value(v0, S, dtype, dev)
        elif method == "mpi":
            v = torch.full((1, S), float(mdp.R[mdp.mask].min()) / (1.0 - gamma_f), dtype=dtype, device=dev)
        else:
            v = torch.zeros(1, S, dtype=dtype, device=dev)
        stall = options.get("stall", STALL_SWEEPS_FLOAT32 if dtype == torch.float32 else None)
        if stall is not None and (
            isinstance(stall, bool) or not isinstance(stall, numbers.Integral) or stall < 1
        ):
            raise InvalidArgumentError(f"stall = {stall!r} must be a positive integer or None")
        res = span_iteration(kern, R, gamma, v, tol, max_iter, m=m, stall=stall, callback=tcb)
    Vout = res.V[0]

    def q() -> np.ndarray:
        return q_values(kern, R, gamma, Vout.unsqueeze(0))[0].detach().cpu().numpy().astype(np.float64)

    return Solution(
        V=Vout.detach().cpu().numpy().astype(np.float64),
        policy=res.policy[0].cpu().numpy().astype(np.int64),
        iterations=int(res.iterations[0]),
        residual=float(res.residual[0]),
        converged=bool(res.converged[0]),
        method=method,
        error_bound=float(res.error_bound[0]),
        rounding=float(res.rounding[0]),
        _q=q,
    )


def backward_induction_model(
    mdp: FiniteHorizonMDP, device: str | torch.device | None = None, dtype: torch.dtype = torch.float64
) -> FiniteSolution:
    r"""Backward induction of one finite-horizon model with the torch kernels.

    :math:`V_H = v_{\mathrm{term}}`, :math:`Q_h = r_h + P_h V_{h+1}`, :math:`V_h = \max_a Q_h`
    (Puterman 1994, §4.5). Stationary kernels (dense or CSR) are built once; time-indexed ones are
    (H, S, A, S). Returns numpy arrays, as :func:`mdpkit.backward_induction` does with numba.
    """
    dev = resolve_device(device)
    dtype = resolve_dtype(dtype)
    if mdp.stationary:
        kern = _model_kernel(mdp.P, mdp.A, dtype, dev)

        def kernel_at(h: int) -> Kernel:
            return kern
    else:
        Pt = torch.tensor(np.asarray(mdp.P), dtype=dtype, device=dev)

        def kernel_at(h: int) -> Kernel:
            return DenseKernel(Pt[h].unsqueeze(0))

    R = torch.tensor(mdp.R, dtype=dtype, device=dev).unsqueeze(0)
    term = torch.tensor(mdp.terminal, dtype=dtype, device=dev).unsqueeze(0)
    Vs, Q, pol = backward(kernel_at, R, term)
    Vn = Vs[0].cpu().numpy().astype(np.float64)
    return FiniteSolution(
        V=Vn,
        Q=Q[0].cpu().numpy().astype(np.float64),
        policy=pol[0].cpu().numpy().astype(np.int64),
        value=float(mdp.initial @ Vn[0]),
    )
