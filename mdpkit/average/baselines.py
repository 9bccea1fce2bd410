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

from mdpkit.average import _numba as AK
from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments.agents import UCRL2
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
        if (
            isinstance(span_bound, bool)
            or not isinstance(span_bound, (int, float))
            or not (0.0 <= float(span_bound) < math.inf)
        ):
            raise InvalidArgumentError(f"span_bound = {span_bound!r} must be a finite number >= 0")
        self.span_bound = float(span_bound)

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
        if spec.episodic:
            raise InvalidArgumentError("SpanUCRL is an average-reward algorithm; use setting = 'continuing'")
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

    def _new_episode(self) -> None:
        """UCRL2's episode start (Figure 1, steps 1-5) with the span-truncated planner."""
        self.N += np.asarray(self._v_list, dtype=np.int64)
        self._v_list = [[0] * self.A for _ in range(self.S)]
        S, A, tk, delta = self.S, self.A, self.t, self.delta
        n1 = np.maximum(1, self.N)
        c = self.conf_scale
        r_tilde = self.r_sum / n1 + c * np.sqrt(7.0 * math.log(2.0 * S * A * tk / delta) / (2.0 * n1))
        d = c * np.sqrt(14.0 * S * math.log(2.0 * A * tk / delta) / n1)
        u0 = self.u if self.warm_start else np.zeros(S)
        tie_u = self.rng.random(S) if self.tie_break == "random" else np.full(S, -1.0)
        u, pol, sweeps, _, _ = AK.span_truncated_evi(
            self.n_sas / n1[:, :, None],
            r_tilde,
            d,
            self.mask,
            self.span_bound,
            1.0 / math.sqrt(tk),
            self.max_iter,
            u0,
            tie_u,
        )
        self.u = u
        self.episode_starts.append(tk)
        self.stats["episodes"] += 1
        self.stats["evi_sweeps"] += int(sweeps)
        self.stats["evi_damped"] += int(sweeps > self.max_iter)
        pol.setflags(write=False)
        self._pi = pol
        self._pi_list = pol.tolist()
        N = self.N
        self._limit = [[max(1, int(N[s, a])) for a in range(A)] for s in range(S)]
