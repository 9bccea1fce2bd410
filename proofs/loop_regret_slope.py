r"""MLE-LOOP's regret grows like :math:`\sqrt T` (up to logarithmic factors) — log-log slope of the regret.

He, Zhong & Yang (ICLR 2024, Theorem on LOOP's regret): with probability :math:`1-\delta`,
:math:`\mathrm{Regret}(T) = \tilde O(\mathrm{sp}(v^*)\, d\sqrt{T\beta})`. On a fixed instance the check fits
the slope of :math:`\log \overline{\mathrm{Regret}}(T)` on :math:`\log T` over the last decade
(:func:`mdpkit.experiments.analysis.loglog_slope`, bootstrap over seeds) for MLE-LOOP with the paper's
confidence level (:func:`mdpkit.average.loop_beta`, :math:`c = 1`), using the pseudo-regret
:math:`\sum_t \rho^* - g^{\pi_t}(s_t)` (exact gains).

Verdict: ``holds`` if the interval's upper end is :math:`\le 0.6` (:math:`\sqrt T` times logarithmic factors:
:math:`\frac{d \log(\sqrt T \log T)}{d \log T} = 0.5 + 1/\log T \approx 0.6` at :math:`T \approx 10^4`);
``inconclusive`` otherwise (a finite horizon still in its burn-in phase cannot refute an asymptotic bound).
The evidence also gives the LOOP/UCRL2 ratio of final regrets on the same runs.

Data: quick budget — the reduced sweep ``chain`` of :data:`mdpkit.average.experiments.REDUCED` (slow chain
:math:`S = 3`, :math:`p = 0.8`, 5 seeds, :math:`T = 2\cdot 10^4`), run here; full budget — the stored records
of ``examples/sweeps/loop_riverswim_long.toml`` (RiverSwim 6, 10 seeds, :math:`T = 10^6`) when the results
file exists, else those of ``loop_span.toml`` (:math:`S = 5`, :math:`p = 0.8`, :math:`T = 10^5`), else the
reduced sweep with 10 seeds and :math:`T = 10^5`.
"""

from __future__ import annotations

from _loop import PAPER, loop_records

from mdpkit.average.experiments import regret_ratio, regret_slopes
from mdpkit.claims import Budget, Claim, Verdict

ID = "loop.regret-sqrt-T"
LIMIT = 0.6


def check(budget: Budget) -> Verdict:
    recs, source = loop_records(budget, "chain")
    rows = {r["algorithm"]: r for r in regret_slopes(recs, y="pseudo_regret")}
    loop = rows["LOOP c=1"]
    ratio = [r for r in regret_ratio(recs, "LOOP c=1", "UCRL2", y="pseudo_regret")]
    ev = (
        f"{source}: pseudo-regret slope of MLE-LOOP (c=1) over T in [{loop['t_min']:g}, {loop['t_max']:g}] = "
        f"{loop['slope']:.3f} [{loop['lo']:.3f}, {loop['hi']:.3f}] (95% bootstrap, {loop['seeds']} seeds), "
        f"final mean {loop['final']:.1f}"
    )
    if "UCRL2" in rows:
        u = rows["UCRL2"]
        ev += f"; UCRL2 slope {u['slope']:.3f} [{u['lo']:.3f}, {u['hi']:.3f}], final {u['final']:.1f}"
    if ratio:
        q = ratio[0]
        ev += f"; LOOP/UCRL2 final regret ratio {q['ratio']:.2f} [{q['lo']:.2f}, {q['hi']:.2f}]"
    data = {"slope": loop["slope"], "lo": loop["lo"], "hi": loop["hi"], "source": source}
    if loop["hi"] <= LIMIT:
        return Verdict("holds", ev + f"; upper end <= {LIMIT}", data=data)
    return Verdict("inconclusive", ev + f"; upper end > {LIMIT}: still in burn-in at this horizon", data=data)


CLAIM = Claim(
    id=ID,
    paper=f"{PAPER}, main regret theorem (LOOP)",
    statement="MLE-LOOP's regret is O~(sp(v*) d sqrt(T beta)): on a fixed instance the fitted log-log slope "
    "of "
    "the regret against T is at most 1/2 up to logarithmic factors (upper end of the interval <= 0.6).",
    assumptions="Tabular communicating AMDP, rewards in [0, 1]; MLE-LOOP with the rectangular L1 relaxation "
    "of "
    "the MLE confidence set (mdpkit.average.loop), beta = log(T/delta) + SA(S+1) log(1+2T), delta = 0.05.",
    check=check,
    expected="holds",
)
