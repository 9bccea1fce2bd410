"""Discovery of claim files: every ``proofs/*.py`` that defines ``CLAIM`` or ``CLAIMS``.

Rules
-----
* The proofs directory is ``Path(mdpkit.__file__).resolve().parents[1] / "proofs"`` (the repository's
  ``proofs/``), or the directory passed as ``--proofs``.
* Every ``*.py`` file there whose name does not start with ``_`` is a claim file; ``_name.py`` files are
  private helpers and are not loaded as claims. A claim file defines ``CLAIM = Claim(...)`` and/or
  ``CLAIMS = [Claim(...), ...]``.
* Files are loaded by path, in sorted order, each as its own module (``mdpkit_proofs_<stem>_<hash>``,
  registered in ``sys.modules`` so that dataclasses and pickling work); the proofs directory is on
  ``sys.path`` while a file loads, so claim files may import ``_helpers`` next to them.
* A file that fails to import, or defines neither ``CLAIM`` nor ``CLAIMS``, or defines something that is not
  a :class:`~mdpkit.claims.base.Claim`, becomes a :class:`LoadError`: ``mdpkit verify`` reports it as an
  ``error`` row (a mismatch) and goes on with the other files.
* Claim ids are unique across the directory: a duplicate raises :class:`DuplicateClaimError` naming both
  files (the report would otherwise be ambiguous).
"""

from __future__ import annotations

import fnmatch
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mdpkit._modload import ModuleLoadError, load_module
from mdpkit.claims.base import Claim
from mdpkit.errors import InvalidArgumentError, MdpkitError

__all__ = [
    "ClaimRegistryError",
    "DuplicateClaimError",
    "LoadedClaim",
    "LoadError",
    "Registry",
    "default_proofs_dir",
    "load_claim_file",
    "discover",
]


class ClaimRegistryError(MdpkitError):
    """The proofs directory cannot be used (missing, not a directory, holds no claim file)."""


class DuplicateClaimError(ClaimRegistryError):
    """Two claims share an id."""


@dataclass(frozen=True)
class LoadedClaim:
    """A claim and the file that defines it."""

    claim: Claim
    path: Path

    @property
    def id(self) -> str:
        """The claim's id."""
        return self.claim.id


@dataclass(frozen=True)
class LoadError:
    """A claim file that could not be loaded.

    Attributes
    ----------
    path : Path
    message : str
        One line: the exception type and message (or what the file lacks).
    traceback : str
        The formatted traceback ("" when there was no exception).
    """

    path: Path
    message: str
    traceback: str = ""

    @property
    def id(self) -> str:
        """The id of its error row: ``"<file name>"``, e.g. ``"<seeupo_grae.py>"``."""
        return f"<{self.path.name}>"


@dataclass
class Registry:
    """The claims of one proofs directory (sorted by file, then by order in the file)."""

    proofs_dir: Path
    claims: list[LoadedClaim] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)

    def ids(self) -> list[str]:
        """The ids of the loaded claims, in file order."""
        return [c.id for c in self.claims]

    def select(self, patterns: Sequence[str] | None) -> tuple[list[LoadedClaim], list[LoadError]]:
        """The claims (and load errors) matching any of ``patterns``.

        A pattern is an exact id or a shell glob (``fnmatch``) matched against the claim id *or* the file
        stem (``pdl.*``, ``core_*``, ``seeupo.ppo-grae-not-monotone``). No pattern selects everything.
        A load error is selected when its file stem matches (or no pattern is given).

        Raises
        ------
        InvalidArgumentError
            If a pattern matches nothing (the message lists the known ids).
        """
        if not patterns:
            return list(self.claims), list(self.errors)
        chosen: list[LoadedClaim] = []
        errs: list[LoadError] = []
        for pat in patterns:
            hit = False
            for c in self.claims:
                if fnmatch.fnmatchcase(c.id, pat) or fnmatch.fnmatchcase(c.path.stem, pat):
                    hit = True
                    if c not in chosen:
                        chosen.append(c)
            for e in self.errors:
                if fnmatch.fnmatchcase(e.path.stem, pat) or fnmatch.fnmatchcase(e.id, pat):
                    hit = True
                    if e not in errs:
                        errs.append(e)
            if not hit:
                known = ", ".join(self.ids()) or "(none)"
                raise InvalidArgumentError(
                    f"no claim matches {pat!r} in {self.proofs_dir}; known ids: {known}"
                )
        order = {c.id: i for i, c in enumerate(self.claims)}
        chosen.sort(key=lambda c: order[c.id])
        return chosen, errs


def default_proofs_dir() -> Path:
    """The repository's ``proofs/`` directory, located from the installed package's path."""
    import mdpkit

    return Path(mdpkit.__file__).resolve().parents[1] / "proofs"


def load_claim_file(path: str | Path) -> list[Claim]:
    """Import one claim file by path and return its claims (``CLAIM`` first, then ``CLAIMS``).

    Raises
    ------
    Exception
        Whatever the file raises on import.
    ClaimRegistryError
        If the file defines neither ``CLAIM`` nor ``CLAIMS``, or one of them is not a Claim.
    """
    path = Path(path).resolve()
    try:
        module = load_module(path, "mdpkit_proofs")
    except ModuleLoadError as exc:
        raise ClaimRegistryError(str(exc)) from None
    claims: list[Claim] = []
    has_one, has_many = hasattr(module, "CLAIM"), hasattr(module, "CLAIMS")
    if not (has_one or has_many):
        raise ClaimRegistryError(
            f"{path.name} defines neither CLAIM nor CLAIMS (rename it to _{path.name} if it is a helper)"
        )
    if has_one:
        if not isinstance(module.CLAIM, Claim):
            raise ClaimRegistryError(f"{path.name}: CLAIM is a {type(module.CLAIM).__name__}, not a Claim")
        claims.append(module.CLAIM)
    if has_many:
        many = module.CLAIMS
        if not isinstance(many, list | tuple):
            raise ClaimRegistryError(f"{path.name}: CLAIMS is a {type(many).__name__}, not a list of Claims")
        for i, c in enumerate(many):
            if not isinstance(c, Claim):
                raise ClaimRegistryError(f"{path.name}: CLAIMS[{i}] is a {type(c).__name__}, not a Claim")
            if not any(c is d for d in claims):
                claims.append(c)
    return claims


def _claim_files(proofs_dir: Path) -> Iterable[Path]:
    return sorted(p for p in proofs_dir.glob("*.py") if not p.name.startswith("_") and p.is_file())


def discover(proofs_dir: str | Path | None = None) -> Registry:
    """Load every claim file of ``proofs_dir`` (default :func:`default_proofs_dir`).

    Returns
    -------
    Registry
        Its ``claims`` in file order and its ``errors`` (files that failed to load).

    Raises
    ------
    ClaimRegistryError
        If the directory does not exist.
    DuplicateClaimError
        If two claims share an id (the message names both files).
    """
    folder = default_proofs_dir() if proofs_dir is None else Path(proofs_dir)
    if not folder.is_dir():
        raise ClaimRegistryError(f"proofs directory {folder} does not exist or is not a directory")
    reg = Registry(folder.resolve())
    seen: dict[str, Path] = {}
    for path in _claim_files(folder):
        try:
            claims = load_claim_file(path)
        except (Exception, SystemExit) as exc:  # a broken file must not stop the others
            tb = traceback.format_exc()
            reg.errors.append(LoadError(path, f"{type(exc).__name__}: {exc}", tb))
            continue
        for c in claims:
            if c.id in seen:
                where = (
                    "twice in the same file"
                    if seen[c.id] == path
                    else f"in {seen[c.id].name} and {path.name}"
                )
                raise DuplicateClaimError(f"claim id {c.id!r} is defined {where} (ids must be unique)")
            seen[c.id] = path
            reg.claims.append(LoadedClaim(c, path))
    return reg
