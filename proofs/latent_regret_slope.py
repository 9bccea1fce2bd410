r"""Latent MDPs: the optimistic algorithms' regret grows like :math:`\sqrt K` — log-log slope of the regret.

Zhou, Wang & Du (ICML 2023, main theorem): with probability :math:`1 - \delta` both the model-optimistic and
the value-optimistic algorithm have
:math:`\mathrm{Regret}(K) = \tilde O(\sqrt{\mathrm{Var}^* M \Gamma S A K})`.
On a fixed LMDP the check fits the slope of :math:`\log \overline{\mathrm{Regret}}(K)` on :math:`\log K` over
the last decade :math:`[K/10, K]` (:func:`mdpkit.experiments.analysis.loglog_slope`, 95% bootstrap over seeds)
of the exact regret :math:`\sum_k V^\star - V^{\pi_k}` (:mod:`mdpkit.latent.learning`, paper constants
:math:`c = 1`, :math:`\delta = 0.05`).

Verdict: ``holds`` if every algorithm's interval has its upper end :math:`\le 0.5`; ``inconclusive``
otherwise (a finite horizon still in its burn-in phase cannot refute an asymptotic bound; the evidence gives
the intervals).

Data: quick budget — the reduced sweep ``regret_k`` of :data:`mdpkit.latent.experiments.REDUCED` (random LMDP
S = 3, A = 2, M = 2, H = 5, Gamma = 2, rewards unobserved; value-optimistic; K = 6000, 3 seeds), run here;
full budget — the stored records of ``examples/sweeps/latent_regret_k.toml`` (both algorithms and the
value-optimistic one with c = 0.2; K = 20000, 10 seeds) when complete, else the reduced sweep with 10 seeds.
"""

from __future__ import annotations

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.latent.experiments import load_records, reduced_records, slope_rows

ID = "latent.regret-sqrt-K"
LIMIT = 0.5


def _data(budget: Budget) -> tuple[list, str]:
    if budget.name == "full":
        recs = load_records("regret_k")
        if recs:
            return recs, "stored records of examples/sweeps/latent_regret_k.toml (K=20000, 10 seeds)"
        return reduced_records("regret_k", seeds=10), "reduced sweep 'regret_k', 10 seeds (run here)"
    return reduced_records("regret_k", seeds=3), "reduced sweep 'regret_k' (K=6000, 3 seeds; run here)"


def check(budget: Budget) -> Verdict:
    recs, source = _data(budget)
    rows = slope_rows(recs)
    paper = [r for r in rows if "c=" not in r["algorithm"]]
    ev = f"{source}: slope of the mean exact regret over K in [K/10, K]: " + "; ".join(
        f"{r['algorithm']} {r['slope']:.3f} [{r['lo']:.3f}, {r['hi']:.3f}] (regret(K={r['K']}) = "
        f"{r['regret_K']:.1f}, optimism violations {r['violations']})"
        for r in rows
    )
    data = {"rows": rows, "source": source}
    if all(r["hi"] <= LIMIT for r in paper):
        return Verdict("holds", ev + f"; every paper-constant interval ends <= {LIMIT}", data=data)
    return Verdict(
        "inconclusive", ev + f"; an interval ends above {LIMIT}: still in burn-in at this K", data=data
    )


CLAIM = Claim(
    id=ID,
    paper="Zhou, Wang & Du, Horizon-Free and Variance-Dependent Reinforcement Learning for Latent Markov "
    "Decision Processes, ICML 2023 (arXiv:2210.11604), main upper bound",
    statement="The model-optimistic and value-optimistic algorithms have regret "
    "O~(sqrt(Var* M Gamma S A K)): on a fixed LMDP the fitted log-log slope of the regret against K is "
    "at most 1/2.",
    assumptions="LMDP with context revealed at the end of each episode, deterministic rewards with total "
    "<= 1, weights, initial laws and rewards known to the agent; algorithms as re-implemented in "
    "mdpkit.latent.learning (paper log term iota = 2 ln(2MSAHK/delta), bonus factor c = 1, delta = 0.05, "
    "doubling updates, exact optimistic planning over (step, state, belief) nodes).",
    check=check,
    expected="holds",
)
