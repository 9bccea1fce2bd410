r"""UCRL-style baselines for average reward: UCRL2 (Jaksch, Ortner & Auer 2010, re-exported from
:mod:`mdpkit.experiments`) and :class:`SpanUCRL`, UCRL2 told an upper bound :math:`c \ge \mathrm{sp}(h^*)`.

:class:`SpanUCRL` is the known-span variant in the spirit of SCAL (Fruit, Pirotta, Lazaric & Ortner 2018,
*Efficient Bias-Span-Constrained Exploration-Exploitation in Reinforcement Learning*, ICML): UCRL2's episodes,
confidence sets and doubling rule, with extended value iteration replaced by its span-truncated version
:math:`u \leftarrow \Gamma_c \tilde T u`, :math:`\Gamma_c v = \min\{v, \min v + c\}` (their operator ScOpt,
section 4). Simplification (stated): SCAL plays a *randomised* policy at the states where the truncation is
active; :class:`SpanUCRL` plays the greedy action of :math:`\tilde T u` there, so that every policy is
deterministic (as the runner's switch count assumes). SCAL's regret is :math:`\tilde O(c\sqrt{\Gamma S A T})`
(their Theorem 11; :math:`\Gamma` the maximal support size of the kernels), with :math:`c` in place of the
diameter :math:`D` of UCRL2.
"""

from __future__ import annotations

import math

import numpy as np

from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments import _numba as EK
from mdpkit.experiments.agents import UCRL2, _check_scale
from mdpkit.experiments.protocol import EnvSpec

__all__ = ["SpanUCRL", "UCRL2"]


class SpanUCRL(UCRL2):
    r"""UCRL2 with span-truncated extended value iteration (known bound :math:`c \ge \mathrm{sp}(h^*)`).

    Parameters
    ----------
    S, A : int
        Sizes.
    span_bound : float
        :math:`c \ge 0`, the known upper bound on :math:`\mathrm{sp}(h^*)`.
    delta, mask, warm_start, max_iter, conf_scale, tie_break, seed
        As in :class:`~mdpkit.experiments.UCRL2`.
    """

    def __init__(
        self,
        S: int,
        A: int,
        span_bound: float,
        delta: float = 0.05,
        mask: np.ndarray | None = None,
        warm_start: bool = False,
        max_iter: int = 100_000,
        conf_scale: float = 1.0,
        tie_break: str = "random",
        seed: int | np.random.Generator = 0,
    ) -> None:
        super().__init__(S, A, delta, mask, warm_start, max_iter, conf_scale, tie_break, seed)
        self.span_bound = _check_scale(span_bound, "span_bound")

    @classmethod
    def from_spec(
        cls,
        spec: EnvSpec,
        seed: int | np.random.Generator,
        span_bound: float = math.inf,
        delta: float = 0.05,
        warm_start: bool = False,
        conf_scale: float = 1.0,
        tie_break: str = "random",
    ) -> SpanUCRL:
        """The agent for a continuing environment; ``span_bound`` is required."""
        cls._require_continuing(spec, "SpanUCRL")
        if span_bound == math.inf:
            raise InvalidArgumentError("SpanUCRL needs span_bound = c >= sp(h*) (a finite number)")
        return cls(
            spec.S,
            spec.A,
            span_bound,
            delta=delta,
            mask=spec.mask,
            warm_start=warm_start,
            conf_scale=conf_scale,
            tie_break=tie_break,
            seed=seed,
        )

    def _evi(
        self,
        p_hat: np.ndarray,
        r_tilde: np.ndarray,
        d: np.ndarray,
        eps: float,
        u0: np.ndarray,
        tie_u: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """UCRL2's planning step (Figure 1, step 5) with the span-truncated planner
        (:func:`mdpkit.experiments._numba.span_truncated_evi`, :math:`c` = ``span_bound``)."""
        u, pol, sweeps, _, _ = EK.span_truncated_evi(
            p_hat, r_tilde, d, self.mask, self.span_bound, eps, self.max_iter, u0, tie_u
        )
        return u, pol, sweeps
