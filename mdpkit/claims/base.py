"""The claim data model: a checkable statement from a paper and the verdict a computation returns.

A claim file in ``proofs/`` defines ``CLAIM = Claim(...)`` (or a list ``CLAIMS = [Claim(...), ...]``);
``mdpkit verify`` runs ``claim.check(budget)`` and compares the verdict's status with ``claim.expected``
(see :mod:`mdpkit.claims.registry` and :mod:`mdpkit.claims.runner`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np

from mdpkit.errors import InvalidArgumentError

Status = Literal["holds", "refuted", "inconclusive"]
STATUSES: tuple[str, ...] = ("holds", "refuted", "inconclusive")
T = TypeVar("T")


@dataclass(frozen=True)
class Budget:
    """How much computation a check may spend.

    ``quick`` (the default of ``mdpkit verify``) keeps the whole suite to a few minutes on 2 cores;
    ``full`` is for thorough runs. ``max_examples`` bounds hypothesis searches, ``seed`` fixes every random
    draw so that a verdict is reproducible bit for bit.
    """

    name: Literal["quick", "full"] = "quick"
    max_examples: int = 50
    seed: int = 0

    @classmethod
    def named(cls, name: str, seed: int = 0) -> Budget:
        """The ``quick`` (50 hypothesis examples) or ``full`` (500) budget with a given seed."""
        if name == "quick":
            return cls("quick", 50, seed)
        if name == "full":
            return cls("full", 500, seed)
        raise InvalidArgumentError(f"budget {name!r} is not 'quick' or 'full'")

    def pick(self, quick: T, full: T) -> T:
        """``quick`` under the quick budget, ``full`` under the full one (e.g. a number of instances)."""
        return quick if self.name == "quick" else full

    def rng(self, key: str = "") -> np.random.Generator:
        """A generator determined by ``(seed, key)`` only: each check draws its own independent stream.

        ``key`` (usually the claim id) is hashed with CRC-32, not Python's salted ``hash``, so the stream is
        the same in every process and every run.
        """
        return np.random.default_rng([self.seed, zlib.crc32(key.encode("utf-8"))])


@dataclass(frozen=True)
class Verdict:
    """Outcome of a claim's check.

    Attributes
    ----------
    status : "holds" | "refuted" | "inconclusive"
    evidence : str
        What was computed, with the numbers (instances tried, worst gap, fitted slope and interval, ...).
    counterexample : dict, optional
        For a refutation: a small JSON-serialisable instance (exact numbers as strings of fractions where a
        certificate exists), enough to re-check the refutation by hand.
    data : dict
        Further JSON-serialisable numbers for the report.
    """

    status: Status
    evidence: str
    counterexample: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InvalidArgumentError(f"Verdict status {self.status!r} is not one of {STATUSES}")


@dataclass(frozen=True)
class Claim:
    """A checkable claim of a paper.

    Attributes
    ----------
    id : str
        Stable identifier, e.g. ``"seeupo.ppo-grae-not-monotone"``.
    paper : str
        Citation (authors, title, year, section/theorem number).
    statement : str
        The claim, quoted or paraphrased precisely from the paper.
    assumptions : str
        The assumptions under which the paper states it (and any the check adds).
    check : callable(Budget) -> Verdict
    expected : "holds" | "refuted" | "inconclusive"
        The verdict the check is expected to return; ``mdpkit verify`` fails when they differ.
    """

    id: str
    paper: str
    statement: str
    assumptions: str
    check: Callable[[Budget], Verdict]
    expected: Status

    def __post_init__(self) -> None:
        if self.expected not in STATUSES:
            raise InvalidArgumentError(
                f"Claim {self.id}: expected {self.expected!r} is not one of {STATUSES}"
            )
