r"""Latent MDPs: on the :math:`\Gamma = 2` hard family the regret scales like
:math:`\sqrt{\mathrm{Var}^* M S A K}`.

Zhou, Wang & Du (ICML 2023) prove the lower bound :math:`\Omega(\sqrt{\mathrm{Var}^* M S A K})` with
:math:`\Gamma = 2` instances, matching their upper bound
:math:`\tilde O(\sqrt{\mathrm{Var}^* M \Gamma S A K})` when :math:`\Gamma` is a constant. The check runs
the value-optimistic algorithm (paper constants) on
:func:`mdpkit.latent.instances.hard_instance` (M contexts, L leaves, A actions, gap 0.2, reward scale
:math:`\sigma`, :math:`\mathrm{Var}^* = \sigma^2/4` exactly) over several :math:`(M, L, A, \sigma)` and fits
the exponent of the mean regret at K in :math:`x = \sqrt{\mathrm{Var}^* M S A K}` across instances (95%
bootstrap over seeds); an exponent of 1 means the regret is proportional to :math:`x`.

Verdict: ``holds`` if the interval lies inside [0.8, 1.2]; ``refuted`` if it lies outside it (with the
instances as counterexample); else ``inconclusive``. The evidence gives regret / x per instance.

Data: quick budget — the reduced sweep ``hard`` of :data:`mdpkit.latent.experiments.REDUCED` (6 instances,
K = 1000, 2 seeds), run here; full budget — the stored records of ``examples/sweeps/latent_hard.toml``
(8 instances, K = 5000, 10 seeds) when complete, else the reduced sweep with 10 seeds.
"""

from __future__ import annotations

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.latent.experiments import hard_rows, load_records, reduced_records

ID = "latent.regret-hard-family"
BAND = (0.8, 1.2)


def _data(budget: Budget) -> tuple[list, str]:
    if budget.name == "full":
        recs = load_records("hard")
        if recs:
            return recs, "stored records of examples/sweeps/latent_hard.toml (K=5000, 10 seeds)"
        return reduced_records("hard", seeds=10), "reduced sweep 'hard', 10 seeds (run here)"
    return reduced_records("hard", seeds=2), "reduced sweep 'hard' (K=1000, 2 seeds; run here)"


def check(budget: Budget) -> Verdict:
    recs, source = _data(budget)
    rows, fit = hard_rows(recs)
    ev = (
        f"{source}: regret(K) / sqrt(Var* M S A K) = "
        + ", ".join(
            f"(M={r['M']}, L={r['L']}, A={r['A']}, sigma={r['scale_r']:g}) {r['ratio']:.2f}" for r in rows
        )
        + f"; exponent of regret in sqrt(Var* M S A K): {fit['slope']:.3f} [{fit['lo']:.3f}, {fit['hi']:.3f}]"
    )
    data = {"rows": rows, "fit": fit, "source": source}
    if BAND[0] <= fit["lo"] and fit["hi"] <= BAND[1]:
        return Verdict("holds", ev + f"; interval inside {list(BAND)}", data=data)
    if fit["hi"] < BAND[0] or fit["lo"] > BAND[1]:
        return Verdict(
            "refuted", ev + f"; interval outside {list(BAND)}", counterexample={"rows": rows}, data=data
        )
    return Verdict("inconclusive", ev, data=data)


CLAIM = Claim(
    id=ID,
    paper="Zhou, Wang & Du, Horizon-Free and Variance-Dependent Reinforcement Learning for Latent Markov "
    "Decision Processes, ICML 2023 (arXiv:2210.11604), lower bound Omega(sqrt(Var* M S A K)) with Gamma = 2 "
    "and the matching upper bound",
    statement="On Gamma = 2 hard instances the regret of the (value-optimistic) algorithm is of order "
    "sqrt(Var* M S A K): its exponent in that quantity is 1.",
    assumptions="hard_instance(M, L, A, eps=0.2, scale) of mdpkit.latent.instances (our reconstruction of "
    "the lower-bound family: Gamma = 2, context revealed by a bit chain, one hidden good arm per "
    "(context, leaf), Var* = scale^2/4); value-optimistic algorithm with c = 1, delta = 0.05.",
    check=check,
    expected="holds",
)
