"""Executable claims of papers: the data model, the registry of ``proofs/``, the runner and the reports.

``mdpkit verify`` (:mod:`mdpkit.claims.cli`) discovers every claim file in ``proofs/``
(:mod:`mdpkit.claims.registry`), runs each ``claim.check(budget)`` (:mod:`mdpkit.claims.runner`) and writes
``results/verify/report.{md,json}`` (:mod:`mdpkit.claims.report`). Checks build their instances with
:mod:`mdpkit.claims.instances`, certify refutations in exact arithmetic with :mod:`mdpkit.claims.exact` and
search for minimal counterexamples with :mod:`mdpkit.claims.search` (hypothesis).

Writing a claim file ``proofs/<family>_<name>.py``::

    from mdpkit.claims import Budget, Claim, Verdict

    def check(budget: Budget) -> Verdict:
        rng = budget.rng("family.name")
        ...
        return Verdict("holds", "checked 40 instances; worst gap 3e-16", data={"worst_gap": 3e-16})

    CLAIM = Claim(id="family.name", paper="Author et al. 2024, Thm 2", statement="...",
                  assumptions="...", check=check, expected="holds")
"""

from mdpkit.claims.base import STATUSES, Budget, Claim, Status, Verdict

__all__ = ["Budget", "Claim", "Verdict", "Status", "STATUSES"]
