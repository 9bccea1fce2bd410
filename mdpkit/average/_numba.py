r"""numba kernel of MLE-LOOP's lazy-update statistic.

Private: :mod:`mdpkit.average.loop` validates and documents. Extended value iteration (plain and
span-truncated) and the optimistic backup that returns the maximising kernel are not repeated here: they live
in :mod:`mdpkit.experiments._numba` (:func:`~mdpkit.experiments._numba.extended_value_iteration`,
:func:`~mdpkit.experiments._numba.span_truncated_evi`, :func:`~mdpkit.experiments._numba.optimistic_backup`),
which :mod:`mdpkit.average.evi`, :mod:`mdpkit.average.loop` and :mod:`mdpkit.average.baselines` call. No
``fastmath``/``parallel``: a learner must give the same bits everywhere.
"""

from __future__ import annotations

import numba as nb

_JIT = dict(cache=True, nogil=True)


@nb.njit(**_JIT)
def lazy_statistic(counts, n, p_tilde, r_sum, r_tilde):
    r"""Per-pair lazy-update statistics of MLE-LOOP (Pinsker surrogates of the log-likelihood gap).

    For one pair with ``n`` visits, transition counts ``counts`` (S,) and summed rewards ``r_sum``, against
    the pair's optimistic kernel ``p_tilde`` (S,) and reward ``r_tilde``: returns
    :math:`(\tfrac n2 \|\tilde p - \hat p_n\|_1^2,\; 2n(\tilde r - \hat r_n)^2)` with
    :math:`\hat p_n = \text{counts}/n`, :math:`\hat r_n = r_\text{sum}/n` (zeros when ``n == 0``).
    """
    if n == 0:
        return 0.0, 0.0
    nf = float(n)
    l1 = 0.0
    for j in range(counts.shape[0]):
        l1 += abs(p_tilde[j] - counts[j] / nf)
    dr = r_tilde - r_sum / nf
    return 0.5 * nf * l1 * l1, 2.0 * nf * dr * dr
