"""Random robust-MDP instances shared by the robust tests."""

from __future__ import annotations

import numpy as np

import mdpkit
from mdpkit.claims.instances import random_mdp


def small_mdp(
    seed: int, S: int = 5, A: int = 3, gamma: float = 0.9, infeasible: bool = False
) -> mdpkit.TabularMDP:
    """A dense random model (sparse-ish rows, so worst cases hit the simplex boundary)."""
    return random_mdp(np.random.default_rng(seed), S, A, gamma, infeasible=infeasible)


def random_kernels(seed: int, K: int, S: int, A: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(K):
        P = rng.dirichlet(np.full(S, 0.4), size=(S, A))
        out.append(P)
    return out
