"""Running claims: each check under a :class:`~mdpkit.claims.base.Budget`, timed, with failures contained.

A check that raises, or returns something other than a :class:`~mdpkit.claims.base.Verdict`, gives a row
with status ``"error"`` (never a match); a claim file that failed to load gives an ``"error"`` row too. The
process-wide numpy error and print settings are restored after every check, and the warnings a check emits
are recorded in its row instead of being printed.
"""

from __future__ import annotations

import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mdpkit.claims.base import Budget, Claim, Verdict
from mdpkit.claims.exact import to_jsonable
from mdpkit.claims.registry import LoadedClaim, LoadError

__all__ = ["ClaimResult", "run_claim", "run_claims", "error_row", "display_path", "json_safe", "ERROR"]

#: Status of a row whose check raised (or whose file did not load).
ERROR = "error"

#: At most this many distinct warning messages are kept per check.
MAX_WARNINGS = 10


def json_safe(x: object) -> object:
    """A JSON-serialisable copy of ``x`` that keeps finite floats as numbers.

    numpy scalars become Python numbers, arrays become lists, non-finite floats become the strings ``"inf"``,
    ``"-inf"``, ``"nan"``, fractions become ``"p/q"`` strings; dicts, lists and tuples are converted
    recursively and anything else becomes its ``str``.
    """
    if x is None or isinstance(x, bool | str | int):
        return x
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        xf = float(x)
        return xf if np.isfinite(xf) else repr(xf)
    if isinstance(x, np.ndarray):
        return [json_safe(v) for v in x.tolist()] if x.dtype != object else [json_safe(v) for v in x]
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_safe(v) for v in x]
    return to_jsonable(x)


@dataclass(frozen=True)
class ClaimResult:
    """One row of a verification report.

    Attributes
    ----------
    id, paper, statement, assumptions : str
        From the claim (for a load error: the file name, ``""``, and the error message).
    expected : str or None
        The claim's expected status (None for a file that did not load).
    status : str
        ``"holds" | "refuted" | "inconclusive"`` from the verdict, or ``"error"``.
    evidence : str
        The verdict's evidence, or the exception message.
    counterexample : dict or None
        JSON form of the verdict's counterexample.
    data : dict
        JSON-safe copy of the verdict's data.
    seconds : float
        Wall-clock time of the check.
    source : str
        Path of the claim file.
    error : str or None
        Traceback of the exception, if any.
    warnings : list of str
        Distinct warnings the check emitted (at most :data:`MAX_WARNINGS`).
    """

    id: str
    paper: str
    statement: str
    assumptions: str
    expected: str | None
    status: str
    evidence: str
    counterexample: dict[str, Any] | None
    data: dict[str, Any]
    seconds: float
    source: str
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def match(self) -> bool:
        """Whether the verdict equals the expected status (an error never matches)."""
        return self.status != ERROR and self.status == self.expected

    def to_json(self) -> dict[str, Any]:
        """The row as a JSON-serialisable dict (with ``match``)."""
        return {
            "id": self.id,
            "paper": self.paper,
            "statement": self.statement,
            "assumptions": self.assumptions,
            "expected": self.expected,
            "status": self.status,
            "match": self.match,
            "seconds": round(self.seconds, 4),
            "evidence": self.evidence,
            "counterexample": self.counterexample,
            "data": self.data,
            "source": self.source,
            "error": self.error,
            "warnings": self.warnings,
        }


def _short_tb(limit: int = 12) -> str:
    return "".join(traceback.format_exc(limit=-limit))


def run_claim(claim: Claim, budget: Budget, source: str | Path = "") -> ClaimResult:
    """Run ``claim.check(budget)``, timing it and turning any exception into an ``"error"`` row.

    ``KeyboardInterrupt`` and ``SystemExit`` are not caught.
    """
    np_err, np_print = np.geterr(), np.get_printoptions()
    seen: list[str] = []
    status, evidence, cx, data, err = ERROR, "", None, {}, None
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            verdict = claim.check(budget)
        for w in caught:
            msg = f"{w.category.__name__}: {w.message} ({Path(w.filename).name}:{w.lineno})"
            if msg not in seen and len(seen) < MAX_WARNINGS:
                seen.append(msg)
        if not isinstance(verdict, Verdict):
            evidence = f"check returned a {type(verdict).__name__}, not a Verdict"
        else:
            status, evidence = verdict.status, verdict.evidence
            cx = None if verdict.counterexample is None else to_jsonable(dict(verdict.counterexample))
            data = json_safe(dict(verdict.data))
    except Exception as exc:
        evidence = f"check raised {type(exc).__name__}: {exc}"
        err = _short_tb()
    finally:
        seconds = time.perf_counter() - t0
        np.seterr(**np_err)
        np.set_printoptions(**np_print)
    return ClaimResult(
        id=claim.id,
        paper=claim.paper,
        statement=claim.statement,
        assumptions=claim.assumptions,
        expected=claim.expected,
        status=status,
        evidence=evidence,
        counterexample=cx,  # type: ignore[arg-type]
        data=data,  # type: ignore[arg-type]
        seconds=seconds,
        source=str(source),
        error=err,
        warnings=seen,
    )


def display_path(path: str | Path) -> str:
    """``path`` relative to the working directory when it lies below it (``proofs/x.py``), else absolute."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def error_row(err: LoadError) -> ClaimResult:
    """The ``"error"`` row of a claim file that could not be loaded."""
    return ClaimResult(
        id=err.id,
        paper="",
        statement=f"claim file {err.path.name} could not be loaded",
        assumptions="",
        expected=None,
        status=ERROR,
        evidence=f"load failed: {err.message}",
        counterexample=None,
        data={},
        seconds=0.0,
        source=display_path(err.path),
        error=err.traceback or None,
    )


def run_claims(
    claims: Sequence[LoadedClaim],
    budget: Budget,
    errors: Sequence[LoadError] = (),
    progress: bool = True,
) -> list[ClaimResult]:
    """Run the checks of ``claims`` in order with a tqdm progress bar (on stderr); add ``errors`` as rows.

    Rows come in file order (load errors at the place of their file), claims of one file in their order.
    """
    from tqdm import tqdm

    items: list[tuple[str, int, LoadedClaim | LoadError]] = [
        (str(c.path), i, c) for i, c in enumerate(claims)
    ] + [(str(e.path), -1, e) for e in errors]
    items.sort(key=lambda t: (t[0], t[1]))
    rows: list[ClaimResult] = []
    bar = tqdm(items, desc="verify", unit="claim", file=sys.stderr, disable=not progress, dynamic_ncols=True)
    for _, _, item in bar:
        if isinstance(item, LoadError):
            rows.append(error_row(item))
            continue
        bar.set_postfix_str(item.id)
        rows.append(run_claim(item.claim, budget, display_path(item.path)))
    bar.close()
    return rows
