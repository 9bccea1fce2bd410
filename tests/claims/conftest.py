"""Fixtures of the claims-engine tests: throw-away proofs directories with tiny claim files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

#: A claim file whose check returns ``status`` and whose expected verdict is ``expected``.
CLAIM_TEMPLATE = """
from mdpkit.claims import Budget, Claim, Verdict


def check(budget: Budget) -> Verdict:
    return Verdict({status!r}, "computed with seed " + str(budget.seed), counterexample={counterexample},
                   data={{"max_examples": budget.max_examples}})


CLAIM = Claim(id={cid!r}, paper="Doe 2024, Thm 1", statement="a statement", assumptions="none",
              check=check, expected={expected!r})
"""


@pytest.fixture
def proofs(tmp_path: Path) -> Callable[..., Path]:
    """``proofs(name, status=, expected=, cid=, source=)`` writes a claim file and returns its folder."""
    folder = tmp_path / "proofs"
    folder.mkdir()

    def write(
        name: str,
        status: str = "holds",
        expected: str = "holds",
        cid: str | None = None,
        source: str | None = None,
        counterexample: str = "None",
    ) -> Path:
        text = (
            textwrap.dedent(source)
            if source is not None
            else CLAIM_TEMPLATE.format(
                status=status,
                expected=expected,
                cid=cid or name.replace("_", "."),
                counterexample=counterexample,
            )
        )
        (folder / f"{name}.py").write_text(text)
        return folder

    write.folder = folder  # type: ignore[attr-defined]
    return write
