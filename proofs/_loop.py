"""Private helper of the ``loop_*`` claims: where their regret records come from.

Not a claim (the registry skips ``_*.py`` files). :func:`loop_records` picks, for a reduced sweep of
:data:`mdpkit.average.experiments.REDUCED`, the stored records of the full sweep under the ``full`` budget
when its results file exists (the first file, in order, that holds matching records), otherwise runs the
reduced sweep here (10 seeds, :math:`T = 10^5` under ``full``; its defaults, 5 seeds and
:math:`T = 2\\cdot 10^4`, under ``quick``). It returns the records with a one-line description of their
source, which the claims put in their evidence.
"""

from __future__ import annotations

from mdpkit.average.experiments import SWEEP_RESULTS, load_records, reduced_records
from mdpkit.claims import Budget

#: the paper behind the MLE-LOOP claims
PAPER = (
    "He, Zhong & Yang, Sample-efficient Learning of Infinite-horizon Average-reward MDPs with General "
    "Function Approximation, ICLR 2024 (arXiv:2404.12648)"
)

#: reduced sweep -> stored results files tried under the full budget, in order:
#: (file name under SWEEP_RESULTS, required ``instance_params`` or None for all records, description)
STORED: dict[str, tuple[tuple[str, dict | None, str], ...]] = {
    "chain": (
        (
            "loop_riverswim_long.sqlite",
            None,
            "stored records of examples/sweeps/loop_riverswim_long.toml (RiverSwim 6, T=1e6)",
        ),
        (
            "loop_span.sqlite",
            {"p": 0.8},
            "stored records of examples/sweeps/loop_span.toml (slow chain S=5, p=0.8)",
        ),
    ),
    "span": (
        (
            "loop_span.sqlite",
            None,
            "stored records of examples/sweeps/loop_span.toml (slow chain S=5, T=1e5)",
        ),
    ),
}

#: reduced sweep -> description of its quick run
QUICK: dict[str, str] = {
    "chain": "reduced sweep 'chain' (slow chain S=3, p=0.8, 5 seeds, T=2e4; run here)",
    "span": "reduced sweep 'span' (slow chain S=3, 5 seeds, T=2e4; run here)",
}


def loop_records(budget: Budget, sweep: str) -> tuple[list, str]:
    """The records behind a ``loop_*`` claim and a description of their source.

    Parameters
    ----------
    budget : Budget
        ``full`` prefers stored records of the full sweeps; any other budget runs the reduced sweep.
    sweep : {"chain", "span"}
        The reduced sweep of :data:`mdpkit.average.experiments.REDUCED`.

    Returns
    -------
    (list, str)
        Records (:class:`~mdpkit.experiments.store.StoredRecord` or dicts, as the fits accept) and source.
    """
    if budget.name == "full":
        for file, params, source in STORED[sweep]:
            recs = load_records(SWEEP_RESULTS / file)
            if params is not None:
                recs = [r for r in recs if r.config.get("instance_params") == params]
            if recs:
                return recs, source
        return reduced_records(
            sweep, seeds=10, T=100_000
        ), f"reduced sweep '{sweep}', 10 seeds, T=1e5 (run here)"
    return reduced_records(sweep), QUICK[sweep]
