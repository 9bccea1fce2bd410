r"""Sampled learning on trees: tabular ROVER against tabular REINFORCE and GRPO, with exact diversity curves.

**ROVER** (He et al. 2025, Algorithm 1, with a Q table instead of the LLM's relative log-probabilities):
each iteration samples ``n_rollouts`` trajectories from the behaviour policy
:math:`\pi(a|s) \propto \exp(Q(s,a)/\rho)`, centres their rewards,
:math:`\tilde r_i = r_i - \frac1n \sum_j r_j` (Eq. 4), and for every visited :math:`(s_t, a_t)` forms the
target of the mean (uniform-policy) operator

.. math:: \hat Q(s_t, a_t) = \tilde r_i + \frac{1}{|A(s_{t+1})|} \sum_{a'} Q(s_{t+1}, a')

(:math:`\tilde r_i` broadcast to every step as in Algorithm 1 line 8, or only at the last step with
``broadcast=False``; the bootstrap term is 0 at a leaf). Each visited entry then moves a fraction ``lr`` of
the way to the mean of its targets in the batch (the tabular form of the squared loss of line 9).

**Policy gradient** baselines on a softmax policy with logits :math:`\theta(s, a)`, from the same samples:
REINFORCE (:math:`A_i = r_i`), REINFORCE with the batch-mean baseline (:math:`A_i = r_i - \bar r`), and GRPO
(:math:`A_i = (r_i - \bar r)/\mathrm{std}(r)`, per-token :math:`1/|y_i|`, Shao et al. 2024; on-policy with one
step per batch, so the clipped ratio is 1 and no KL term is used). The step is
:math:`\theta \leftarrow \theta + \eta \frac1n \sum_i A_i \sum_t (e_{a_t} - \pi(\cdot|s_t))` at the visited
states.

Every ``log_every`` iterations the current policy is analysed **exactly** (one forward pass): value,
success probability, entropy over solutions, expected distinct solutions among ``n_eval`` samples, solutions
with positive probability; plus the number of distinct solutions sampled so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mdpkit.core.validate import check_choice
from mdpkit.envs._common import as_rng, check_int, check_real
from mdpkit.errors import InvalidArgumentError
from mdpkit.rover import _numba
from mdpkit.rover.token import TokenTree
from mdpkit.rover.tree import Tree
from mdpkit.rover.valuation import softmax_policy

__all__ = ["TrainingCurve", "train", "train_rover", "train_grpo", "train_reinforce", "ALGORITHMS"]

#: Algorithm names accepted by :func:`train`.
ALGORITHMS: tuple[str, ...] = ("rover", "grpo", "reinforce", "reinforce_baseline")

_PG_CODES = {
    "reinforce": _numba.ALG_REINFORCE,
    "reinforce_baseline": _numba.ALG_REINFORCE_BASELINE,
    "grpo": _numba.ALG_GRPO,
}


@dataclass(frozen=True)
class TrainingCurve:
    r"""One training run, with exact measures of the policy at the logged iterations.

    Attributes
    ----------
    algorithm : str
    config : dict
        The hyper-parameters and the seed.
    steps : ndarray (K,)
        Iterations at which the policy was analysed (0 = before any update, last = after the last one).
    value, success, entropy, distinct, covered : ndarray (K,)
        Exact :math:`V^\pi(s_0)`, success probability, entropy over solutions (nats), expected distinct
        solutions among ``config["n_eval"]`` samples, solutions with positive probability.
    discovered : ndarray (K,)
        Distinct solutions sampled during training so far.
    batch_success : ndarray (iterations,)
        Mean reward of each training batch.
    params : ndarray (E,)
        Final Q table (ROVER) or logits (policy gradient).
    n_solutions : int
        Successful leaves of the tree.
    """

    algorithm: str
    config: dict[str, Any]
    steps: np.ndarray
    value: np.ndarray
    success: np.ndarray
    entropy: np.ndarray
    distinct: np.ndarray
    covered: np.ndarray
    discovered: np.ndarray
    batch_success: np.ndarray = field(repr=False)
    params: np.ndarray = field(repr=False)
    n_solutions: int = 0

    def policy(self, tree: Tree) -> np.ndarray:
        """The final policy (E,): softmax(Q/rho) for ROVER, softmax(theta) otherwise."""
        rho = self.config["rho"] if self.algorithm == "rover" else 1.0
        return softmax_policy(tree, self.params, rho)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per logged iteration (for CSV files)."""
        return [
            {
                "algorithm": self.algorithm,
                "seed": self.config["seed"],
                "step": int(s),
                "value": float(v),
                "success": float(p),
                "entropy": float(h),
                "distinct": float(d),
                "covered": int(c),
                "discovered": int(f),
            }
            for s, v, p, h, d, c, f in zip(
                self.steps,
                self.value,
                self.success,
                self.entropy,
                self.distinct,
                self.covered,
                self.discovered,
                strict=True,
            )
        ]


def _as_tree(tree: Tree | TokenTree) -> Tree:
    if isinstance(tree, TokenTree):
        return tree.to_tree()
    if not isinstance(tree, Tree):
        raise InvalidArgumentError(f"expected a rover Tree or TokenTree, got {type(tree).__name__}")
    return tree


def train(
    tree: Tree | TokenTree,
    algorithm: str,
    *,
    iterations: int = 300,
    n_rollouts: int = 8,
    lr: float | None = None,
    rho: float = 1.0,
    broadcast: bool = True,
    log_every: int = 10,
    n_eval: int = 64,
    seed: int | np.random.Generator = 0,
) -> TrainingCurve:
    r"""Train one algorithm of :data:`ALGORITHMS` on ``tree`` (see the module docstring).

    Parameters
    ----------
    tree : Tree or TokenTree (small enough for :meth:`TokenTree.to_tree`)
    algorithm : "rover" | "grpo" | "reinforce" | "reinforce_baseline"
    iterations : int
        Number of batches (updates).
    n_rollouts : int
        Trajectories per batch (the group size :math:`n` of GRPO / ROVER).
    lr : float, optional
        Step size: fraction of the way to the target for ROVER (default 0.5, in (0, 1]); logit step
        :math:`\eta` for the policy gradients (default 1.0).
    rho : float
        ROVER's temperature :math:`\rho` of the behaviour policy softmax(Q/rho).
    broadcast : bool
        ROVER: add the centred reward at every step (Algorithm 1) or only at the last one.
    log_every : int
        Analyse the policy every ``log_every`` iterations (and after the last one).
    n_eval : int
        Sample size of the expected-distinct-solutions measure.
    seed : int or Generator

    Returns
    -------
    TrainingCurve
    """
    t = _as_tree(tree)
    alg = check_choice(algorithm, "algorithm", ALGORITHMS)
    iterations = check_int(iterations, "iterations", 0)
    n_rollouts = check_int(n_rollouts, "n_rollouts", 1)
    log_every = check_int(log_every, "log_every", 1)
    n_eval = check_int(n_eval, "n_eval", 1)
    rho = check_real(rho, "rho")
    if rho <= 0:
        raise InvalidArgumentError(f"rho = {rho} must be > 0")
    if lr is None:
        lr = 0.5 if alg == "rover" else 1.0
    lr = check_real(lr, "lr")
    if lr <= 0 or (alg == "rover" and lr > 1):
        raise InvalidArgumentError(f"lr = {lr} must be in (0, 1] for ROVER and > 0 otherwise")
    if t.is_leaf[0]:
        raise InvalidArgumentError("the root is a leaf: nothing to learn")
    config = {
        "iterations": iterations,
        "n_rollouts": n_rollouts,
        "lr": lr,
        "rho": rho,
        "broadcast": bool(broadcast),
        "log_every": log_every,
        "n_eval": n_eval,
        "seed": seed if isinstance(seed, int) else None,
    }
    rng = as_rng(seed)
    n_logs = iterations // log_every + 2
    out = np.zeros((n_logs, 6))
    batch = np.zeros(iterations)
    params = np.zeros(t.n_edges)
    args = (t.action_ptr, t.outcome_ptr, t.child, t.prob, t.reward, params)
    if alg == "rover":
        k = _numba.train_rover(
            *args,
            1.0 / rho,
            lr,
            n_rollouts,
            iterations,
            bool(broadcast),
            log_every,
            n_eval,
            max(1, t.horizon),
            rng,
            out,
            batch,
        )
    else:
        k = _numba.train_pg(
            *args,
            lr,
            n_rollouts,
            iterations,
            _PG_CODES[alg],
            log_every,
            n_eval,
            max(1, t.horizon),
            rng,
            out,
            batch,
        )
    steps = np.arange(0, iterations + 1, log_every)
    if steps[-1] != iterations:
        steps = np.append(steps, iterations)
    out = out[:k]
    return TrainingCurve(
        algorithm=alg,
        config=config,
        steps=steps,
        value=out[:, 0].copy(),
        success=out[:, 1].copy(),
        entropy=out[:, 2].copy(),
        distinct=out[:, 3].copy(),
        covered=out[:, 4].astype(np.int64),
        discovered=out[:, 5].astype(np.int64),
        batch_success=batch,
        params=params,
        n_solutions=int(t.success_leaves.size),
    )


def train_rover(tree: Tree | TokenTree, rho: float = 1.0, **kwargs: Any) -> TrainingCurve:
    """:func:`train` with ``algorithm="rover"``."""
    return train(tree, "rover", rho=rho, **kwargs)


def train_grpo(tree: Tree | TokenTree, **kwargs: Any) -> TrainingCurve:
    """:func:`train` with ``algorithm="grpo"``."""
    return train(tree, "grpo", **kwargs)


def train_reinforce(tree: Tree | TokenTree, baseline: bool = True, **kwargs: Any) -> TrainingCurve:
    """:func:`train` with ``algorithm="reinforce_baseline"`` (or ``"reinforce"`` without baseline)."""
    return train(tree, "reinforce_baseline" if baseline else "reinforce", **kwargs)
