r"""MLE-LOOP switches its policy :math:`O(d\log T)` times — switches per decade of :math:`T` do not grow.

He, Zhong & Yang (ICLR 2024): the lazy update of LOOP (recompute the optimistic hypothesis only when the one
in force has an in-sample loss gap above :math:`3\beta`) gives a switching cost :math:`O(d \log T)`. With
:math:`n(T)` the mean number of policy switches (counted by the runner,
:func:`mdpkit.experiments.run_continuing`) the check computes :math:`q = [n(T) - n(T/10)] / [n(T/10) -
n(T/100)]` (:func:`mdpkit.average.experiments.decade_ratio`): :math:`q = 1` for logarithmic growth,
:math:`q = 10^{\alpha}` for :math:`n \propto T^\alpha`.

Verdict: ``holds`` if the bootstrap interval of :math:`q` lies below :math:`\sqrt{10}` (slower than
:math:`\sqrt T`, the growth an update rule tied to the regret scale would give), ``refuted`` if it lies above,
``inconclusive`` otherwise. The evidence also reports the log-linear fit :math:`n(T) \approx a + b\log T`
(:func:`mdpkit.average.experiments.switch_fit`) and UCRL2's switch count on the same runs.

Data as in ``proofs/loop_regret_slope.py`` (quick: reduced sweep run here; full: stored records if present).
"""

from __future__ import annotations

import math

from _loop import PAPER, loop_records

from mdpkit.average.experiments import decade_ratio, switch_fit
from mdpkit.claims import Budget, Claim, Verdict

ID = "loop.switches-log-T"
LIMIT = math.sqrt(10.0)


def check(budget: Budget) -> Verdict:
    recs, source = loop_records(budget, "chain")
    q = {r["algorithm"]: r for r in decade_ratio(recs)}["LOOP c=1"]
    fits = {r["algorithm"]: r for r in switch_fit(recs)}
    f = fits["LOOP c=1"]
    ev = (
        f"{source}: mean switches of MLE-LOOP (c=1) at t = {[int(x) for x in q['t']]}: "
        f"{[round(x, 2) for x in q['n']]}; decade ratio q = {q['ratio']:.2f} [{q['lo']:.2f}, {q['hi']:.2f}] "
        f"(95% bootstrap, {q['seeds']} seeds); fit n = a + b log T: b = {f['b']:.2f} [{f['b_lo']:.2f}, "
        f"{f['b_hi']:.2f}], R^2 = {f['r2']:.3f}"
    )
    if "UCRL2" in fits:
        ev += f"; UCRL2 switches at T: {fits['UCRL2']['final']:.1f}"
    data = {"ratio": q["ratio"], "lo": q["lo"], "hi": q["hi"], "n": q["n"], "source": source}
    if math.isnan(q["ratio"]):
        return Verdict("inconclusive", ev + "; no switch in the previous decade", data=data)
    if q["hi"] < LIMIT:
        return Verdict("holds", ev + f"; interval below sqrt(10) = {LIMIT:.2f}", data=data)
    if q["lo"] > LIMIT:
        return Verdict("refuted", ev + f"; interval above sqrt(10) = {LIMIT:.2f}", data=data)
    return Verdict("inconclusive", ev + f"; interval contains sqrt(10) = {LIMIT:.2f}", data=data)


CLAIM = Claim(
    id=ID,
    paper=f"{PAPER}, low-switching lemma (switching cost O(d log T))",
    statement="The number of policy switches of MLE-LOOP grows logarithmically in T: switches in the last "
    "decade "
    "of T over switches in the previous decade is below sqrt(10) (slower than sqrt T; 1 for log T).",
    assumptions="Tabular communicating AMDP; MLE-LOOP with the paper's 3 beta lazy test applied pair by pair "
    "(mdpkit.average.loop), beta = log(T/delta) + SA(S+1) log(1+2T), delta = 0.05.",
    check=check,
    expected="holds",
)
