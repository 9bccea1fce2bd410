r"""Natural policy gradient / KL policy mirror descent improves every state's value, for every step size.

Papers
------
Agarwal, Kakade, Lee, Mahajan, "On the theory of policy gradient methods: optimality, approximation, and
distribution shift", JMLR 22(98), 2021 — natural policy gradient for tabular softmax policies, update
:math:`\theta^{(t+1)} = \theta^{(t)} + \frac{\eta}{1-\gamma} A^{(t)}`, whose "improvement lower bound" lemma
states that for every starting distribution :math:`\mu`,
:math:`V^{(t+1)}(\mu) - V^{(t)}(\mu) \ge \frac{1-\gamma}{\eta}\, \mathbb E_{s \sim \mu} \log Z_t(s) \ge 0`
with :math:`Z_t(s) = \sum_a \pi^{(t)}(a|s) \exp(\eta A^{(t)}(s,a)/(1-\gamma))`.
Xiao, "On the convergence rates of policy gradient methods", JMLR 23(282), 2022 — the same monotonicity
for policy mirror descent with any step sizes. (The stored copies of these papers available to us hold
their abstracts only; the lemma is restated from the papers' NPG analysis, not quoted, and its number is
not given.)

In the mirror-descent parametrisation of :mod:`mdpkit.policy_gradient.mirror`,
:math:`\pi_{k+1} \propto \pi_k e^{\eta A_k}` (:math:`\eta = \eta_{\mathrm{NPG}}/(1-\gamma)`), the lemma
with :math:`\mu = \delta_s` reads

.. math:: V^{\pi_{k+1}}(s) - V^{\pi_k}(s) \ge \frac{1}{\eta} \log \sum_a \pi_k(a|s) e^{\eta A_k(s, a)} \ge 0
          \qquad \forall s,\ \forall \eta > 0,

(proof: :math:`\sum_a \pi_{k+1}(a|s) A_k(s,a) = \frac1\eta[\mathrm{KL}(\pi_{k+1}\|\pi_k)(s) + \log Z_k(s)]
\ge \frac1\eta \log Z_k(s) \ge 0` by Jensen, then the performance-difference lemma with
:math:`d^{\pi_{k+1}}_s(s) \ge 1-\gamma`). The check verifies the per-state inequality with the lower bound,
and monotonicity for :math:`\eta = \infty` (policy iteration), on random GARNET MDPs and on a hypothesis
search over small rational MDPs.
"""

from __future__ import annotations

import numpy as np

from mdpkit.claims.base import Budget, Claim, Verdict
from mdpkit.claims.search import rational_mdps, search_counterexample
from mdpkit.core.model import TabularMDP
from mdpkit.envs import garnet
from mdpkit.policy_gradient.mirror import mirror_descent_step, policy_values

ID = "npg.monotone-improvement-any-step"
ETAS = (1e-3, 1e-1, 1.0, 10.0, 1e3, np.inf)


def _worst_violation(mdp: TabularMDP, eta: float, iters: int) -> tuple[float, float]:
    """(worst of V_{k+1}(s) - V_k(s) - bound_k(s), worst of V_{k+1}(s) - V_k(s)), relative to max(1, |V|)."""
    pi = mdp.mask / mdp.mask.sum(axis=1, keepdims=True)
    V, adv = policy_values(mdp, pi)
    scale = max(1.0, float(np.max(np.abs(V))))
    worst_bound = np.inf
    worst_step = np.inf
    for _ in range(iters):
        a = np.where(mdp.mask, adv, -np.inf)
        if np.isfinite(eta):
            m = np.max(np.where(pi > 0, a, -np.inf), axis=1, keepdims=True)
            Z = np.sum(np.where(pi > 0, pi * np.exp(eta * (a - m)), 0.0), axis=1)
            bound = (np.log(Z) + eta * m[:, 0]) / eta  # (1/eta) log sum pi e^{eta A}, computed stably
        else:
            bound = np.zeros(mdp.S)
        pi = mirror_descent_step(pi, a, eta)
        V_new, adv = policy_values(mdp, pi)
        scale = max(scale, float(np.max(np.abs(V_new))))
        worst_bound = min(worst_bound, float(np.min(V_new - V - bound)) / scale)
        worst_step = min(worst_step, float(np.min(V_new - V)) / scale)
        V = V_new
    return worst_bound, worst_step


def _tol(gamma: float) -> float:
    """Round-off allowance for a dense solve: 1e-12 / (1 - gamma) relative to max(1, |V|)."""
    return 1e-12 / max(1.0 - gamma, 1e-3)


def check(budget: Budget) -> Verdict:
    rng = budget.rng(ID)
    n = budget.pick(8, 40)
    iters = budget.pick(60, 200)
    worst_b, worst_s = np.inf, np.inf
    fails = []
    for i in range(n):
        S, A = int(rng.integers(3, 13)), int(rng.integers(2, 5))
        gamma = float((0.5, 0.9, 0.99)[i % 3])
        mdp = garnet(S, A, int(rng.integers(1, min(S, 3) + 1)), gamma=gamma, seed=int(rng.integers(2**31)))
        for eta in ETAS:
            wb, ws = _worst_violation(mdp, eta, iters)
            worst_b, worst_s = min(worst_b, wb), min(worst_s, ws)
            if wb < -_tol(gamma) or ws < -_tol(gamma):
                fails.append(
                    {"instance": i, "S": S, "A": A, "gamma": gamma, "eta": eta, "bound_gap": wb, "step": ws}
                )

    def violates(example) -> bool:
        model, eta = example
        P = np.array(model.P, dtype=float)
        R = np.array(model.R, dtype=float)
        mdp = TabularMDP(P, R, float(model.gamma), np.array(model.initial, dtype=float))
        wb, ws = _worst_violation(mdp, eta, 8)
        return min(wb, ws) < -_tol(float(model.gamma))

    from hypothesis import strategies as st

    res = search_counterexample(
        st.tuples(rational_mdps(max_S=4, max_A=3), st.sampled_from(ETAS)), violates, budget, key=ID
    )
    evidence = (
        f"{n} GARNET MDPs (S in 3..12, A in 2..4, gamma in {{0.5, 0.9, 0.99}}) x eta in {list(ETAS)}, "
        f"{iters} exact mirror-descent steps from the uniform policy: worst relative "
        f"min_s [V_(k+1)(s) - V_k(s) - (1/eta) log Z_k(s)] = {worst_b:.3g} and worst relative "
        f"min_s [V_(k+1)(s) - V_k(s)] = {worst_s:.3g} (round-off allowance 1e-12/(1-gamma)); "
        f"{res.summary()} over small rational MDPs (gamma in 0, 1/2, 9/10) and the same step sizes."
    )
    data = {
        "worst_bound_gap": float(worst_b),
        "worst_step": float(worst_s),
        "failures": fails,
        "search": res.summary(),
    }
    if fails or res.found:
        cex = {"failures": fails}
        if res.found:
            from mdpkit.claims.exact import counterexample_dict

            cex["search_example"] = counterexample_dict(res.example[0], eta=res.example[1])
        return Verdict("refuted", evidence, counterexample=cex, data=data)
    return Verdict("holds", evidence, data=data)


CLAIM = Claim(
    id=ID,
    paper=(
        "Agarwal, Kakade, Lee, Mahajan, JMLR 22(98) 2021 (NPG improvement lower bound); Xiao, JMLR 23(282) "
        "2022 (policy mirror descent)"
    ),
    statement=(
        "For tabular softmax NPG / KL mirror descent with exact advantages and any step size eta > 0, "
        "V^{k+1}(s) - V^k(s) >= (1/eta) log sum_a pi_k(a|s) exp(eta A_k(s,a)) >= 0 for every state s; in "
        "particular J(pi_{k+1}) >= J(pi_k) for every step size (eta = inf: policy iteration)."
    ),
    assumptions=(
        "Finite discounted MDP, gamma < 1, exact policy evaluation; pi_0 uniform on feasible actions; "
        "mirror-descent step eta = eta_NPG / (1 - gamma) in Agarwal et al.'s parametrisation."
    ),
    check=check,
    expected="holds",
)


if __name__ == "__main__":  # pragma: no cover - manual run
    print(check(Budget.named("quick")))
