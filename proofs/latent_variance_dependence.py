r"""Latent MDPs: the regret is variance dependent — near-deterministic LMDPs (small Var*) cost less.

Zhou, Wang & Du (ICML 2023): the regret bound scales as :math:`\sqrt{\mathrm{Var}^*}`, so with the same
S, A, M an LMDP of smaller :math:`\mathrm{Var}^*` should incur less regret (a deterministic LMDP, with
:math:`\mathrm{Var}^* = 0`, only lower-order terms). The check runs the value-optimistic algorithm (paper
constants) on :func:`mdpkit.latent.instances.random_lmdp` (S = 3, A = 2, M = 2, H = 5, Gamma = 2, rewards
unobserved, instance seed 0: the same supports and rewards) with transition noise :math:`\epsilon` = 0
(deterministic), then larger, and compares the mean exact regret at K (95% t-intervals over seeds) with the
exact :math:`\mathrm{Var}^*` of each instance (:func:`mdpkit.latent.planning.var_star`).

Verdict: ``holds`` if the regret of the deterministic instance (smallest :math:`\mathrm{Var}^*`) lies below
that of the noisiest (largest :math:`\mathrm{Var}^*`) with disjoint intervals; ``refuted`` if it lies above
with disjoint intervals (counterexample: the two instances); else ``inconclusive``.

Data: quick budget — the reduced sweep ``variance`` of :data:`mdpkit.latent.experiments.REDUCED`
(:math:`\epsilon \in \{0, 0.5\}`, K = 3000, 3 seeds), run here; full budget — the stored records of
``examples/sweeps/latent_variance.toml`` (:math:`\epsilon \in \{0, 0.02, 0.1, 0.3, 0.5\}`, both algorithms,
K = 5000, 10 seeds) when complete, else the reduced sweep with 10 seeds.
"""

from __future__ import annotations

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.latent.experiments import load_records, reduced_records, variance_rows

ID = "latent.variance-dependent"


def _data(budget: Budget) -> tuple[list, str]:
    if budget.name == "full":
        recs = load_records("variance")
        if recs:
            return recs, "stored records of examples/sweeps/latent_variance.toml (K=5000, 10 seeds)"
        return reduced_records("variance", seeds=10), "reduced sweep 'variance', 10 seeds (run here)"
    return reduced_records("variance", seeds=3), "reduced sweep 'variance' (K=3000, 3 seeds; run here)"


def check(budget: Budget) -> Verdict:
    recs, source = _data(budget)
    rows = variance_rows(recs)
    ev = f"{source}: mean regret at K: " + "; ".join(
        f"{r['algorithm']} eps={r['noise']:g} (Var*={r['var_star']:.2e}): {r['regret_K']:.1f} "
        f"[{r['lo']:.1f}, {r['hi']:.1f}]"
        for r in rows
    )
    data = {"rows": rows, "source": source}
    vo = [r for r in rows if r["algorithm"] == "value-optimistic"]
    small = min(vo, key=lambda r: r["var_star"])
    large = max(vo, key=lambda r: r["var_star"])
    if small["hi"] < large["lo"]:
        return Verdict("holds", ev + "; smallest-Var* regret below the largest-Var* one", data=data)
    if small["lo"] > large["hi"]:
        return Verdict(
            "refuted",
            ev + "; the smallest-Var* instance has the LARGER regret",
            counterexample={"small": small, "large": large},
            data=data,
        )
    return Verdict("inconclusive", ev + "; the intervals overlap", data=data)


CLAIM = Claim(
    id=ID,
    paper="Zhou, Wang & Du, Horizon-Free and Variance-Dependent Reinforcement Learning for Latent Markov "
    "Decision Processes, ICML 2023 (arXiv:2210.11604), main upper bound (variance dependence)",
    statement="The regret scales with sqrt(Var*): with the same S, A, M, a near-deterministic LMDP (small "
    "Var*) incurs less regret than a noisy one.",
    assumptions="random_lmdp(S=3, A=2, M=2, H=5, support=2, reward_observed=False, seed=0) with transition "
    "noise eps (mass 1-eps on one next state); value-optimistic algorithm of mdpkit.latent.learning with "
    "c = 1, delta = 0.05.",
    check=check,
    expected="holds",
)
