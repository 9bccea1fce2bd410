"""Discovery of claim files: CLAIM / CLAIMS, helpers, selection, duplicates and broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdpkit.claims.registry import (
    ClaimRegistryError,
    DuplicateClaimError,
    default_proofs_dir,
    discover,
    load_claim_file,
)
from mdpkit.errors import InvalidArgumentError, MdpkitError

MANY = """
from mdpkit.claims import Claim, Verdict

def _check(budget):
    return Verdict("holds", "ok")

CLAIMS = [
    Claim("multi.one", "p", "s", "a", _check, "holds"),
    Claim("multi.two", "p", "s", "a", _check, "refuted"),
]
"""


def test_discovers_claim_and_claims_lists_in_file_order(proofs):
    proofs("b_single")
    folder = proofs("a_multi", source=MANY)
    reg = discover(folder)
    assert reg.ids() == ["multi.one", "multi.two", "b.single"]
    assert reg.errors == []
    assert [c.path.name for c in reg.claims] == ["a_multi.py", "a_multi.py", "b_single.py"]
    assert reg.claims[1].claim.expected == "refuted"


def test_underscore_helpers_are_not_claims_but_can_be_imported(proofs):
    proofs("_helpers", source="VALUE = 'from helper'\n")
    folder = proofs(
        "uses_helper",
        source="""
        from _helpers import VALUE
        from mdpkit.claims import Claim, Verdict

        CLAIM = Claim("uses.helper", "p", "s", "a", lambda b: Verdict("holds", VALUE), "holds")
        """,
    )
    reg = discover(folder)
    assert reg.ids() == ["uses.helper"]
    assert reg.errors == []
    assert reg.claims[0].claim.check(None).evidence == "from helper"


def test_duplicate_ids_across_files_name_both_files(proofs):
    proofs("first", cid="same.id")
    folder = proofs("second", cid="same.id")
    with pytest.raises(DuplicateClaimError, match=r"'same.id'.*first\.py and second\.py"):
        discover(folder)


def test_duplicate_ids_within_one_file(proofs):
    folder = proofs("dup", source=MANY.replace("multi.two", "multi.one"))
    with pytest.raises(DuplicateClaimError, match="twice in the same file"):
        discover(folder)
    assert issubclass(DuplicateClaimError, MdpkitError)


def test_failing_import_is_a_load_error_and_others_still_load(proofs):
    proofs("good")
    proofs("broken", source="import no_such_module_for_mdpkit_tests\n")
    proofs("syntax", source="def (:\n")
    proofs("exits", source="raise SystemExit(3)\n")
    folder = proofs("empty", source="X = 1\n")
    reg = discover(folder)
    assert reg.ids() == ["good"]
    errors = {e.path.name: e for e in reg.errors}
    assert set(errors) == {"broken.py", "syntax.py", "exits.py", "empty.py"}
    assert "ModuleNotFoundError" in errors["broken.py"].message
    assert "no_such_module_for_mdpkit_tests" in errors["broken.py"].traceback
    assert "SyntaxError" in errors["syntax.py"].message
    assert "SystemExit" in errors["exits.py"].message
    assert "neither CLAIM nor CLAIMS" in errors["empty.py"].message
    assert errors["broken.py"].id == "<broken.py>"


def test_wrong_types_are_load_errors(proofs):
    proofs("notclaim", source="CLAIM = 'a string'\n")
    folder = proofs("notlist", source="CLAIMS = 3\n")
    reg = discover(folder)
    messages = sorted(e.message for e in reg.errors)
    assert "not a Claim" in messages[0] and "not a list of Claims" in messages[1]


def test_select_by_id_glob_and_file_stem(proofs):
    proofs("a_multi", source=MANY)
    proofs("b_single")
    folder = proofs("broken", source="raise RuntimeError('boom')\n")
    reg = discover(folder)
    claims, errors = reg.select(["multi.two"])
    assert [c.id for c in claims] == ["multi.two"] and errors == []
    claims, _ = reg.select(["multi.*"])
    assert [c.id for c in claims] == ["multi.one", "multi.two"]
    claims, _ = reg.select(["b_*", "multi.one"])  # file stem glob; result in registry order
    assert [c.id for c in claims] == ["multi.one", "b.single"]
    claims, errors = reg.select(["broken"])
    assert claims == [] and [e.path.name for e in errors] == ["broken.py"]
    claims, errors = reg.select([])
    assert len(claims) == 3 and len(errors) == 1
    with pytest.raises(InvalidArgumentError, match=r"no claim matches 'nothing\*'.*multi\.one"):
        reg.select(["nothing*"])


def test_missing_directory_raises(tmp_path):
    with pytest.raises(ClaimRegistryError, match="does not exist"):
        discover(tmp_path / "nope")


def test_default_proofs_dir_is_the_repository_proofs():
    folder = default_proofs_dir()
    assert folder == Path(__file__).resolve().parents[2] / "proofs"
    assert folder.is_dir()


@pytest.mark.parametrize(
    ("name", "cid"),
    [
        ("core_solvers_agree", "core.solvers-agree"),
        ("core_average_bellman", "core.average-bellman"),
        ("pdl_identity", "pdl.identity"),
        ("pgt_identity", "pgt.identity"),
    ],
)
def test_foundation_claim_files_load(name, cid):
    (claim,) = load_claim_file(default_proofs_dir() / f"{name}.py")
    assert claim.id == cid
    assert claim.expected == "holds"
    assert claim.paper and claim.statement and claim.assumptions
