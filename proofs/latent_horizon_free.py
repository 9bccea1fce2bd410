r"""Latent MDPs: the regret is (nearly) horizon-free — curves for H = 5, 10, 20, 40 nearly overlay.

Zhou, Wang & Du (ICML 2023): with the total reward of an episode at most 1, the regret bound
:math:`\tilde O(\sqrt{\mathrm{Var}^* M \Gamma S A K})` depends on the horizon :math:`H` only through
logarithms. The check runs the value-optimistic algorithm (paper constants) on
:func:`mdpkit.latent.experiments.revealing_lmdp` — the same kernels and base rewards :math:`u` for every
:math:`H`, rewards :math:`u/H` — and fits the slope of :math:`\log \overline{\mathrm{Regret}}(K)` against
:math:`\log H` at the last episode (95% bootstrap over seeds).

Verdict: ``holds`` if the interval's upper end is below 0.5 (growth slower than :math:`\sqrt H`; a
:math:`\log^2 H` factor between H = 5 and 40 gives a slope of about 0.8 at most, :math:`\log H` about 0.4, so
this separates logarithmic growth from the :math:`\sqrt H`/:math:`H` factors of horizon-dependent bounds
only roughly: the evidence gives the ratio of the largest to the smallest regret too); ``refuted`` if the
lower end is at least 0.5 (polynomial growth in H on this family); else ``inconclusive``.

Data: quick budget — the reduced sweep ``horizon`` of :data:`mdpkit.latent.experiments.REDUCED`
(K = 300, 2 seeds), run here; full budget — the stored records of ``examples/sweeps/latent_horizon.toml``
(K = 5000, 10 seeds) when complete, else the reduced sweep with 10 seeds.
"""

from __future__ import annotations

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.latent.experiments import horizon_rows, load_records, reduced_records

ID = "latent.horizon-free"
LIMIT = 0.5


def _data(budget: Budget) -> tuple[list, str]:
    if budget.name == "full":
        recs = load_records("horizon")
        if recs:
            return recs, "stored records of examples/sweeps/latent_horizon.toml (K=5000, 10 seeds)"
        return reduced_records("horizon", seeds=10), "reduced sweep 'horizon', 10 seeds (run here)"
    return reduced_records("horizon", seeds=2), "reduced sweep 'horizon' (K=300, 2 seeds; run here)"


def check(budget: Budget) -> Verdict:
    recs, source = _data(budget)
    rows, fit = horizon_rows(recs)
    ev = (
        f"{source}: mean regret at K={rows[0]['K']}: "
        + ", ".join(f"H={r['H']}: {r['regret_K']:.1f} [{r['lo']:.1f}, {r['hi']:.1f}]" for r in rows)
        + f"; largest/smallest = {fit['ratio']:.2f}; slope in log H {fit['slope']:.3f} "
        f"[{fit['lo']:.3f}, {fit['hi']:.3f}]"
    )
    data = {"rows": rows, "fit": fit, "source": source}
    if fit["hi"] < LIMIT:
        return Verdict("holds", ev + f"; upper end < {LIMIT}", data=data)
    if fit["lo"] >= LIMIT:
        return Verdict(
            "refuted",
            ev + f"; lower end >= {LIMIT}: the regret grows polynomially in H on this family",
            counterexample={"family": "revealing_lmdp(S=3, A=2, M=2, H, seed=0, support=2)", "rows": rows},
            data=data,
        )
    return Verdict("inconclusive", ev, data=data)


CLAIM = Claim(
    id=ID,
    paper="Zhou, Wang & Du, Horizon-Free and Variance-Dependent Reinforcement Learning for Latent Markov "
    "Decision Processes, ICML 2023 (arXiv:2210.11604), main upper bound (horizon-free)",
    statement="With total reward per episode at most 1, the regret depends on the horizon H only "
    "logarithmically: regret curves for H in {5, 10, 20, 40} nearly overlay.",
    assumptions="revealing_lmdp family (first transition reveals the context; 3 work states, Gamma = 2, "
    "A = 2, M = 2; same kernels and base rewards u for every H, rewards u/H); value-optimistic algorithm of "
    "mdpkit.latent.learning with c = 1, delta = 0.05.",
    check=check,
    expected="holds",
)
