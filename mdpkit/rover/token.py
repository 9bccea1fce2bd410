r"""Token trees: complete :math:`V`-ary trees of depth :math:`H` with sparse successful leaves, in torch.

A :class:`TokenTree` is the tree of all token sequences of length :math:`H` over a vocabulary of size
:math:`V` (the ROVER paper's MDP for LLM reasoning, §2, with a fixed response length), stored implicitly:
only the :math:`V^H` leaf rewards are kept, as one tensor on any device, so trees with :math:`10^7` leaves fit
in memory. Q-functions and policies on it are lists of per-level tensors of shape :math:`(V^h, V)`,
:math:`h = 0..H-1`, row :math:`i` of level :math:`h` being the node whose token prefix is the base-:math:`V`
expansion of :math:`i`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from mdpkit.envs._common import as_rng, check_int, check_real
from mdpkit.errors import InvalidArgumentError, InvalidMDPError
from mdpkit.rover._torch import DTYPE, resolve_device
from mdpkit.rover.tree import Tree, complete_tree

__all__ = ["TokenTree", "token_tree"]

#: The largest token tree :meth:`TokenTree.to_tree` converts to the explicit CSR form.
MAX_EXPLICIT_LEAVES = 2_000_000


@dataclass(frozen=True, eq=False)
class TokenTree:
    r"""The complete ``V``-ary tree of depth ``H`` with terminal rewards ``leaf_reward`` (a torch tensor).

    Attributes
    ----------
    V, H : int
        Vocabulary size and response length.
    leaf_reward : torch.Tensor (V**H,), float64
        Terminal reward of each token sequence, in base-``V`` order (most significant token first).
    vocab : tuple of str
        Token names.
    """

    V: int
    H: int
    leaf_reward: torch.Tensor
    vocab: tuple[str, ...]

    def __post_init__(self) -> None:
        check_int(self.V, "V", 1)
        check_int(self.H, "H", 1)
        if not isinstance(self.leaf_reward, torch.Tensor) or self.leaf_reward.shape != (self.V**self.H,):
            raise InvalidMDPError(f"leaf_reward must be a tensor of shape (V**H,) = ({self.V**self.H},)")
        if not bool(torch.isfinite(self.leaf_reward).all()):
            raise InvalidMDPError("leaf_reward has non-finite entries")
        if len(self.vocab) != self.V:
            raise InvalidMDPError(f"vocab has {len(self.vocab)} tokens, expected V = {self.V}")

    @property
    def n_leaves(self) -> int:
        """:math:`V^H`."""
        return self.V**self.H

    @property
    def device(self) -> torch.device:
        """The device holding ``leaf_reward`` (and every Q / policy computed on this tree)."""
        return self.leaf_reward.device

    @property
    def R(self) -> float:
        """The largest terminal reward."""
        return float(self.leaf_reward.max())

    @property
    def success_leaves(self) -> torch.Tensor:
        """Leaf indices with a positive reward."""
        return torch.nonzero(self.leaf_reward > 0).flatten()

    @property
    def is_binary(self) -> bool:
        """True when the leaf rewards lie in {0, R} for one R > 0."""
        vals = torch.unique(self.leaf_reward)
        return bool((vals >= 0).all()) and int((vals > 0).sum()) <= 1

    def leaf_path(self, index: int) -> str:
        """Token sequence of leaf ``index`` (joined without separator when tokens are single characters)."""
        if not 0 <= int(index) < self.n_leaves:
            raise InvalidArgumentError(f"leaf index {index} is not in [0, {self.n_leaves})")
        digits = []
        i = int(index)
        for _ in range(self.H):
            digits.append(self.vocab[i % self.V])
            i //= self.V
        sep = "" if all(len(v) == 1 for v in self.vocab) else " "
        return sep.join(reversed(digits))

    def to_tree(self) -> Tree:
        """The explicit :class:`Tree` (breadth-first numbering; its edge order is the concatenation of the
        flattened levels, so ``torch.cat([q.flatten() for q in levels])`` is its (E,) array)."""
        if self.n_leaves > MAX_EXPLICIT_LEAVES:
            raise InvalidArgumentError(
                f"V**H = {self.n_leaves} leaves exceeds {MAX_EXPLICIT_LEAVES}; keep it as a TokenTree"
            )
        return complete_tree(self.V, self.H, self.leaf_reward.cpu().numpy(), vocab=self.vocab)

    def __repr__(self) -> str:
        return (
            f"TokenTree(V={self.V}, H={self.H}, leaves={self.n_leaves}, "
            f"solutions={int((self.leaf_reward > 0).sum())}, device={self.device})"
        )


def token_tree(
    V: int,
    H: int,
    n_success: int = 4,
    seed: int | np.random.Generator = 0,
    R: float = 1.0,
    clusters: int | None = None,
    cluster_depth: int = 1,
    vocab: Sequence[str] | None = None,
    device: str | torch.device | None = None,
) -> TokenTree:
    r"""A token tree with ``n_success`` successful leaves (reward ``R``), all others 0.

    Parameters
    ----------
    V, H : int
        Vocabulary size and depth (:math:`V^H` leaves; up to about :math:`10^7` fit comfortably).
    n_success : int
        Number of distinct successful sequences ("solutions"), drawn without replacement.
    seed : int or Generator
    R : float
        Success reward (> 0).
    clusters : int, optional
        When given, the solutions are drawn inside ``clusters`` random subtrees rooted at depth
        ``cluster_depth`` (shared reasoning prefixes); otherwise uniformly among all leaves.
    vocab : sequence of str, optional
        Token names (default ``"0".."V-1"``).
    device : str or torch.device, optional
        Default: CUDA when available, else CPU.
    """
    V = check_int(V, "V", 1)
    H = check_int(H, "H", 1)
    L = V**H
    k = check_int(n_success, "n_success", 0, L)
    R = check_real(R, "R")
    if R <= 0:
        raise InvalidArgumentError(f"R = {R} must be positive")
    rng = as_rng(seed)
    if clusters is None:
        idx = rng.choice(L, size=k, replace=False) if k else np.zeros(0, dtype=np.int64)
    else:
        cd = check_int(cluster_depth, "cluster_depth", 0, H)
        c = check_int(clusters, "clusters", 1, V**cd)
        sub = V ** (H - cd)
        if k > c * sub:
            raise InvalidArgumentError(f"n_success = {k} exceeds the {c * sub} leaves of {c} clusters")
        roots = rng.choice(V**cd, size=c, replace=False)
        flat = rng.choice(c * sub, size=k, replace=False)
        idx = roots[flat // sub] * sub + flat % sub
    dev = resolve_device(device)
    leaf = torch.zeros(L, dtype=DTYPE, device=dev)
    if k:
        leaf[torch.as_tensor(np.asarray(idx, dtype=np.int64), device=dev)] = R
    names = tuple(str(v) for v in vocab) if vocab is not None else tuple(str(i) for i in range(V))
    return TokenTree(V, H, leaf, names)
