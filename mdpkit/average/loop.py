r"""MLE-LOOP: the tabular model-based incarnation of LOOP (He, Zhong & Yang, *Sample-efficient Learning of
Infinite-horizon Average-reward MDPs with General Function Approximation*, ICLR 2024, arXiv:2404.12648,
Algorithm 1 "Local-fitted Optimization with OPtimism" with the maximum-likelihood confidence set of its
model-based section).

Source note. Only the paper's abstract could be retrieved with this project's search tools; the algorithm
below is written from the paper as we know it (its Algorithm 1 and the MLE instantiation) and every place
where we had to fix a detail is stated. The structure of LOOP is:

1. **Confidence set** (model-based, MLE): with :math:`\mathcal L_t(f) = -\sum_{i<t} \log P_f(r_i, s_{i+1}|s_i,
   a_i)` the negative log-likelihood of the data under hypothesis :math:`f`,
   :math:`\mathcal B_t = \{f \in \mathcal H : \mathcal L_t(f) - \min_{g \in \mathcal H} \mathcal L_t(g) \le
   \beta\}`, :math:`\beta = c \log(T\, \mathcal N_{\mathcal H}(1/T)/\delta)` (log-covering number at scale
   :math:`1/T`, :math:`c` an absolute constant).
2. **Optimistic planning**: :math:`f^t = \arg\max_{f \in \mathcal B_t} J^*(f)` (the optimal gain of model
   :math:`f`) and :math:`\pi_t` its optimal policy.
3. **Low switching (lazy update)**: steps 1-2 are redone only when the hypothesis in force has become
   implausible: its in-sample loss gap exceeds :math:`3\beta`; otherwise :math:`(f^t, \pi_t) = (f^{t-1},
   \pi_{t-1})`. This gives :math:`O(d \log T)` updates (:math:`d` the eluder-type dimension) and regret
   :math:`\tilde O(\mathrm{sp}(v^*)\, d \sqrt{T\beta})`.

**Tabular hypothesis class and what is computed.** :math:`\mathcal H` = all pairs (kernel :math:`P`, mean
reward :math:`r \in [0,1]^{S \times A}`) with Bernoulli rewards. The MLE is :math:`(\hat p, \hat r)`
(empirical
frequencies) and the log-likelihood gap factorises over pairs:
:math:`\mathcal L_t(f) - \mathcal L_t(\hat f) = \sum_{s,a} N_t(s,a)\,[\mathrm{KL}(\hat p_{sa} \| P_{sa}) +
\mathrm{kl}(\hat r_{sa} \| r_{sa})]`. Planning over this joint set exactly is a non-convex (non-rectangular)
problem; we plan over a superset, so optimism and the containment of the true model are kept:

* (R1) *rectangularisation*: each pair gets the whole budget, :math:`N\,\mathrm{KL}(\hat p_{sa}\|P_{sa}) \le
  \beta` and :math:`N\,\mathrm{kl}(\hat r_{sa}\|r_{sa}) \le \beta` separately;
* (R2) *Pinsker*: :math:`\mathrm{KL}(\hat p\|p) \ge \frac12\|\hat p - p\|_1^2` and
  :math:`\mathrm{kl}(\hat r\|r) \ge 2(\hat r - r)^2`, so
  :math:`\|P_{sa} - \hat p_{sa}\|_1 \le \sqrt{2\beta/N(s,a)}` and
  :math:`r_{sa} \le \min\{1, \hat r_{sa} + \sqrt{\beta / (2 N(s,a))}\}`.

The maximum of :math:`J^*` over this rectangular L1 set is exactly the extended MDP of UCRL2 with these radii,
solved by extended value iteration (:func:`mdpkit.experiments._numba.extended_value_iteration`) to accuracy
:math:`1/\sqrt{t_k}` (as UCRL2; LOOP assumes exact planning). The optimistic hypothesis :math:`f^k` is the
maximising kernel :math:`\tilde P_k` of every pair (:func:`mdpkit.experiments._numba.optimistic_backup`) and
:math:`\tilde r_k`. The lazy test uses the same surrogates on the data so far: an update happens before step
:math:`t` when, for some pair,

.. math:: \tfrac{N_t(s,a)}{2}\,\|\tilde P_k(\cdot|s,a) - \hat p_t(\cdot|s,a)\|_1^2 > 3\beta
          \quad\text{or}\quad 2N_t(s,a)\,(\tilde r_k(s,a) - \hat r_t(s,a))^2 > 3\beta .

At :math:`t_k` both statistics are :math:`\le \beta` by construction; only the pairs played since change, so
testing the pair just observed suffices. (Without the factorisation the paper tests the sum over all data;
here the per-factor test is the factor-wise version of the same rule.)

**Parameters.** :math:`\log \mathcal N_{\mathcal H}(1/T) \le SA\,S \log(1+2T) + SA \log(1+T)` (an
:math:`\ell_1`-cover of each simplex and of :math:`[0,1]`), hence the default
:math:`\beta = c\,[\log(T/\delta) + SA(S+1)\log(1+2T)]` with ``beta_scale`` :math:`= c = 1` (the paper leaves
:math:`c` unspecified). Values of :math:`c` below 1 void the guarantee (as ``conf_scale`` of
:class:`~mdpkit.experiments.UCRL2`); they measure the rate separately from the constant.
"""

from __future__ import annotations

import math

import numpy as np

from mdpkit.average import _numba as AK
from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments import _numba as EK
from mdpkit.experiments.agents import OptimisticAverageAgent, _check_delta, _check_scale, _check_sizes
from mdpkit.experiments.protocol import EnvSpec, Observation, Transition

__all__ = ["MLELoop", "loop_beta"]


def loop_beta(S: int, A: int, T: int, delta: float = 0.05, scale: float = 1.0) -> float:
    r"""LOOP's confidence level for the tabular class: :math:`\beta = c\,[\log(T/\delta) +
    SA(S+1)\log(1+2T)]`.

    Parameters
    ----------
    S, A : int
        Sizes.
    T : int
        Horizon (number of steps).
    delta : float
        Failure probability.
    scale : float
        The absolute constant :math:`c` (1 by default).

    Returns
    -------
    float
        :math:`\beta`.
    """
    S, A, _ = _check_sizes(S, A, None)
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise InvalidArgumentError(f"T = {T!r} must be a positive int")
    delta = _check_delta(delta)
    scale = _check_scale(scale, "beta_scale")
    return scale * (math.log(T / delta) + S * A * (S + 1) * math.log(1.0 + 2.0 * T))


class MLELoop(OptimisticAverageAgent):
    r"""MLE-LOOP for tabular average-reward MDPs (He, Zhong & Yang 2024, Algorithm 1, model-based version).

    See the module docstring for the confidence set, its relaxation (R1, R2), the optimistic planning step and
    the lazy-update rule. Rewards are assumed in :math:`[0, 1]`.

    Parameters
    ----------
    S, A : int
        Sizes.
    T : int
        Horizon; enters :math:`\beta` (as in the paper).
    delta : float
        Failure probability :math:`\delta`.
    beta : float, optional
        :math:`\beta` itself (overrides ``beta_scale``).
    beta_scale : float
        The constant :math:`c` of :func:`loop_beta`.
    threshold : float
        Factor of the lazy test (the paper's 3).
    mask : bool ndarray (S, A), optional
        Feasible actions.
    warm_start : bool
        Start extended value iteration from the previous solution (same certificate either way).
    max_iter : int
        Sweeps before extended value iteration turns to its aperiodicity transform.
    tie_break : {"random", "first"}
        Tie-breaking of the greedy step.
    seed : int or Generator
        Generator of the tie-breaking draws.

    Attributes
    ----------
    beta : float
        The confidence level in use.
    update_times : list of int
        :math:`t_k` (1-based) of every update (recomputation of the optimistic model).
    stats : dict
        ``updates``, ``evi_sweeps``, ``evi_damped``, ``beta``.
    """

    def __init__(
        self,
        S: int,
        A: int,
        T: int,
        delta: float = 0.05,
        beta: float | None = None,
        beta_scale: float = 1.0,
        threshold: float = 3.0,
        mask: np.ndarray | None = None,
        warm_start: bool = False,
        max_iter: int = 100_000,
        tie_break: str = "random",
        seed: int | np.random.Generator = 0,
    ) -> None:
        self._init_optimistic(S, A, delta, mask, warm_start, max_iter, tie_break, seed)
        if beta is None:
            self.beta = loop_beta(self.S, self.A, T, self.delta, beta_scale)
        else:
            self.beta = _check_scale(beta, "beta")
        if self.beta <= 0:
            raise InvalidArgumentError(f"beta = {self.beta!r} must be > 0")
        self.threshold = _check_scale(threshold, "threshold")
        if self.threshold < 1.0:
            raise InvalidArgumentError(f"threshold = {threshold!r} must be >= 1 (the paper uses 3)")
        S, A = self.S, self.A
        self.n_sa = [[0] * A for _ in range(S)]
        self.r_sum = [[0.0] * A for _ in range(S)]
        self.p_tilde = np.zeros((S, A, S))
        self.r_tilde = np.ones((S, A))
        self._limit = self.threshold * self.beta
        # a statistic is at most 2n: no test can fire before a pair has more than limit / 2 visits
        self._first_check = int(self._limit / 2.0)
        self._stale = True
        self.update_times: list[int] = []
        self.stats = {"updates": 0, "evi_sweeps": 0, "evi_damped": 0, "beta": self.beta}

    @classmethod
    def from_spec(
        cls,
        spec: EnvSpec,
        seed: int | np.random.Generator,
        delta: float = 0.05,
        beta: float | None = None,
        beta_scale: float = 1.0,
        threshold: float = 3.0,
        warm_start: bool = False,
        tie_break: str = "random",
    ) -> MLELoop:
        """The agent for a continuing environment (``T`` = ``spec.total_steps``; ``seed`` breaks ties)."""
        cls._require_continuing(spec, "MLE-LOOP")
        return cls(
            spec.S,
            spec.A,
            spec.total_steps,
            delta=delta,
            beta=beta,
            beta_scale=beta_scale,
            threshold=threshold,
            mask=spec.mask,
            warm_start=warm_start,
            tie_break=tie_break,
            seed=seed,
        )

    def confidence_radii(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        r"""``(p_hat, r_opt, d, N)`` of the relaxed confidence set at the current time.

        :math:`d = \sqrt{2\beta/N}` (:math:`2` for :math:`N = 0`: the whole simplex) and
        :math:`\tilde r = \min\{1, \hat r + \sqrt{\beta/(2N)}\}` (1 for :math:`N = 0`).
        """
        N = np.asarray(self.n_sa, dtype=np.int64)
        n1 = np.maximum(1, N).astype(np.float64)
        p_hat = self.n_sas / n1[:, :, None]
        r_hat = np.asarray(self.r_sum) / n1
        d = np.where(N > 0, np.sqrt(2.0 * self.beta / n1), 2.0)
        r_opt = np.where(N > 0, np.minimum(1.0, r_hat + np.sqrt(self.beta / (2.0 * n1))), 1.0)
        return p_hat, r_opt, d, N

    def _update(self) -> None:
        """Confidence set, optimistic planning (extended value iteration) and the new hypothesis."""
        p_hat, r_opt, d, _ = self.confidence_radii()
        tie_u = self._plan(p_hat, r_opt, d)
        S = self.S
        w = np.empty(S)
        pol2 = np.empty(S, dtype=np.int64)
        p_opt = np.empty((S, self.A, S))
        EK.optimistic_backup(p_hat, r_opt, d, self.mask, self.u, tie_u, w, pol2, p_opt)
        self.p_tilde = p_opt
        self.r_tilde = r_opt
        self.update_times.append(self.t)
        self.stats["updates"] += 1
        self._stale = False

    def act(self, obs: Observation) -> int:
        """:math:`\\pi_t(s_t)`, after an update if the lazy test fired (or at the first step)."""
        if self._stale:
            self._update()
        return self._pi_list[obs.state]

    def observe(self, transition: Transition) -> None:
        """Count the transition and run the lazy test on the pair just observed."""
        s, a, r, s2 = transition.state, transition.action, transition.reward, transition.next_state
        self.n_sas[s, a, s2] += 1
        self.r_sum[s][a] += r
        n = self.n_sa[s][a] + 1
        self.n_sa[s][a] = n
        self.t += 1
        if n > self._first_check:
            st_p, st_r = AK.lazy_statistic(
                self.n_sas[s, a], n, self.p_tilde[s, a], self.r_sum[s][a], self.r_tilde[s, a]
            )
            if st_p > self._limit or st_r > self._limit:
                self._stale = True
