"""Verification reports: the stdout table, ``report.md`` and ``report.json``.

Files
-----
``<out>/report.md`` and ``<out>/report.json`` always hold the latest run. They are written atomically (a
temporary file in the same directory, flushed and fsync'ed, then ``os.replace``), so a reader never sees a
half-written report. A previous report is never overwritten: before the new one replaces it, it is kept as
``<out>/history/report-<its finish time, UTC>.{md,json}`` (hard link, or copy where links are unsupported; a
numeric suffix avoids collisions). Concurrent runs writing into the same directory are serialised by an
advisory lock on ``<out>/.lock`` (POSIX). The report lists the claims whose verdict changed since the
previous report.

``report.json`` layout: ``{"schema": 1, "meta": {...}, "summary": {"claims", "matches", "mismatches",
"errors", "exit_code"}, "changes": [{"id", "before", "now"}], "results": [row, ...]}`` with rows as in
:meth:`mdpkit.claims.runner.ClaimResult.to_json`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mdpkit.claims.runner import ERROR, ClaimResult

__all__ = [
    "SCHEMA",
    "summarize",
    "format_table",
    "format_matrix",
    "format_counterexample",
    "render_markdown",
    "render_json",
    "write_report",
    "WrittenReport",
]

SCHEMA = 1


def summarize(results: Sequence[ClaimResult]) -> dict[str, int]:
    """Counts of a run and its exit code (0 iff every verdict matches its expected status)."""
    n = len(results)
    matches = sum(r.match for r in results)
    errors = sum(r.status == ERROR for r in results)
    return {
        "claims": n,
        "matches": matches,
        "mismatches": n - matches,
        "errors": errors,
        "exit_code": 0 if matches == n else 1,
    }


def _summary_line(s: Mapping[str, int]) -> str:
    return (
        f"{s['claims']} claims: {s['matches']} match, {s['mismatches']} mismatch "
        f"({s['errors']} error{'s' if s['errors'] != 1 else ''})"
    )


def format_table(results: Sequence[ClaimResult]) -> str:
    """A plain-text verdict table (id, expected, verdict, match, time) and a summary line, for stdout."""
    head = ("id", "expected", "verdict", "match", "time")
    rows = [
        (r.id, r.expected or "-", r.status, "yes" if r.match else "NO", f"{r.seconds:.2f}s") for r in results
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [head, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(_summary_line(summarize(results)))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- counterexamples
def format_matrix(rows: Sequence[Sequence[object]], indent: str = "    ") -> str:
    """A matrix of numbers/strings as right-aligned columns in brackets, one row per line."""
    cells = [[str(v) for v in row] for row in rows]
    if not cells:
        return indent + "[]"
    ncol = max(len(r) for r in cells)
    widths = [max((len(r[j]) for r in cells if j < len(r)), default=0) for j in range(ncol)]
    return "\n".join(
        indent + "[ " + "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=False)) + " ]" for r in cells
    )


def _is_matrix(v: object) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(r, list) for r in v)


def _is_flat(v: object) -> bool:
    return isinstance(v, list) and all(not isinstance(x, list | dict) for x in v)


def _is_model(d: object) -> bool:
    return isinstance(d, Mapping) and "P" in d and "R" in d and _is_matrix(d["P"])


def _format_model(d: Mapping[str, Any], indent: str = "") -> list[str]:
    P, R = d["P"], d["R"]
    S = len(P)
    A = len(P[0]) if S else 0
    out = [f"{indent}S = {d.get('S', S)}, A = {d.get('A', A)}, gamma = {d.get('gamma')}"]
    if d.get("initial") is not None:
        out.append(f"{indent}initial distribution mu = [{', '.join(map(str, d['initial']))}]")
    for a in range(A):
        out.append(f"{indent}P[s, a={a}, s']  (row s, column s'):")
        out.append(format_matrix([P[s][a] for s in range(S)], indent + "    "))
    out.append(f"{indent}R[s, a]  (row s, column a; -inf = infeasible):")
    out.append(format_matrix(R, indent + "    "))
    if "mask" in d:
        out.append(f"{indent}mask[s, a] (feasible pairs):")
        out.append(format_matrix([[int(bool(x)) for x in row] for row in d["mask"]], indent + "    "))
    if "exact" in d:
        out.append(f"{indent}exact (rational certificate): {'yes' if d['exact'] else 'no (float model)'}")
    return out


def _format_value(key: str, v: object, indent: str) -> list[str]:
    if _is_model(v):
        return [f"{indent}{key}:", *_format_model(v, indent + "    ")]  # type: ignore[arg-type]
    if _is_matrix(v) and all(_is_flat(r) for r in v):  # type: ignore[union-attr]
        return [f"{indent}{key} =", format_matrix(v, indent + "    ")]  # type: ignore[arg-type]
    if _is_flat(v):
        return [f"{indent}{key} = [{', '.join(map(str, v))}]"]  # type: ignore[arg-type]
    if isinstance(v, Mapping):
        lines = [f"{indent}{key}:"]
        for k, x in v.items():
            lines += _format_value(str(k), x, indent + "    ")
        return lines
    return [f"{indent}{key} = {json.dumps(v) if not isinstance(v, str) else v}"]


def format_counterexample(cx: Mapping[str, Any]) -> str:
    """A counterexample dict as readable text: the MDP as matrices of fractions, then the other items.

    A dict made by :func:`mdpkit.claims.exact.counterexample_dict` prints ``S, A, gamma``, the initial
    distribution, one matrix ``P[s, a, s']`` per action, the reward matrix ``R[s, a]`` and the mask; other
    keys (policies, parameters, gaps) follow, matrices as matrices. Models nested under a key are printed the
    same way.
    """
    lines: list[str] = []
    model_keys = {"S", "A", "gamma", "P", "R", "initial", "mask", "exact"}
    if _is_model(cx):
        lines += _format_model(cx)
        rest = {k: v for k, v in cx.items() if k not in model_keys}
    else:
        rest = dict(cx)
    for k, v in rest.items():
        lines += _format_value(str(k), v, "")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- rendering
def _cell(x: object) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def _fence(text: str, lang: str = "text") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _changes(
    results: Sequence[ClaimResult], previous: Mapping[str, Any] | None
) -> list[dict[str, str | None]]:
    if not previous:
        return []
    before = {r.get("id"): r.get("status") for r in previous.get("results", []) if isinstance(r, Mapping)}
    out: list[dict[str, str | None]] = []
    for r in results:
        if r.id in before and before[r.id] != r.status:
            out.append({"id": r.id, "before": before[r.id], "now": r.status})
        elif r.id not in before:
            out.append({"id": r.id, "before": None, "now": r.status})
    return out


def render_json(
    results: Sequence[ClaimResult], meta: Mapping[str, Any], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``report.json`` document (see the module docstring)."""
    return {
        "schema": SCHEMA,
        "meta": dict(meta),
        "summary": summarize(results),
        "changes": _changes(results, previous),
        "results": [r.to_json() for r in results],
    }


def render_markdown(
    results: Sequence[ClaimResult], meta: Mapping[str, Any], previous: Mapping[str, Any] | None = None
) -> str:
    """The ``report.md`` document: run metadata, the verdict table, changes, then one section per claim."""
    s = summarize(results)
    out = ["# mdpkit verify report", ""]
    for key in ("started", "finished", "budget", "seed", "max_examples", "selection", "proofs_dir"):
        if key in meta:
            out.append(f"- **{key}**: {meta[key] if meta[key] not in (None, []) else 'all'}")
    for key in ("mdpkit", "python", "platform", "git_commit"):
        if meta.get(key):
            out.append(f"- **{key}**: {meta[key]}")
    verdict = (
        "all verdicts match" if s["exit_code"] == 0 else "SOME VERDICTS DIFFER FROM THEIR EXPECTED STATUS"
    )
    out += ["", f"**{_summary_line(s)}** — {verdict} (exit code {s['exit_code']}).", ""]
    out += ["| id | paper | expected | verdict | match | time (s) |", "|---|---|---|---|---|---|"]
    for r in results:
        mark = "yes" if r.match else "**NO**"
        out.append(
            f"| [`{_cell(r.id)}`](#{_anchor(r.id)}) | {_cell(r.paper)} | {r.expected or '-'} | {r.status} "
            f"| {mark} | {r.seconds:.2f} |"
        )
    changes = _changes(results, previous)
    if previous is not None:
        out += ["", "## Changes since the previous report", ""]
        if not previous:
            out.append("The previous report.json could not be read (it is kept in history/).")
        elif changes:
            out += ["| id | before | now |", "|---|---|---|"]
            out += [f"| `{_cell(c['id'])}` | {c['before'] or '(new)'} | {c['now']} |" for c in changes]
        else:
            out.append("No verdict changed.")
    out += ["", "## Claims"]
    for r in results:
        out += [
            "",
            f'<a id="{_anchor(r.id)}"></a>',
            f"### `{r.id}` — {r.status} ({'match' if r.match else 'MISMATCH'})",
            "",
        ]
        if r.paper:
            out += [f"**Paper.** {r.paper}", ""]
        out += [f"**Statement.** {r.statement}", ""]
        if r.assumptions:
            out += [f"**Assumptions.** {r.assumptions}", ""]
        out += [
            f"**Expected:** {r.expected or '-'} · **verdict:** {r.status} · **time:** {r.seconds:.2f} s · "
            f"**source:** `{r.source}`",
            "",
            "**Evidence.**",
            "",
            _fence(r.evidence or "(none)"),
        ]
        if r.counterexample is not None:
            out += ["", "**Counterexample.**", "", _fence(format_counterexample(r.counterexample))]
        if r.data:
            text = json.dumps(r.data, indent=1, sort_keys=True)
            if len(text) > 4000:
                text = text[:4000] + "\n... (truncated; see report.json)"
            out += ["", "**Data.**", "", _fence(text, "json")]
        if r.warnings:
            out += ["", "**Warnings.**", ""] + [f"- {_cell(w)}" for w in r.warnings]
        if r.error:
            out += ["", "**Error.**", "", _fence(r.error)]
    return "\n".join(out) + "\n"


def _anchor(cid: str) -> str:
    return "claim-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in cid.lower())


# --------------------------------------------------------------------------------------------- writing
@dataclass(frozen=True)
class WrittenReport:
    """Paths of a written report and of the previous report it archived (if any)."""

    markdown: Path
    json: Path
    archived: tuple[Path, ...]
    summary: dict[str, int]


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(folder / ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_temp(folder: Path, name: str, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a report is meant to be read
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def _stamp(previous: Mapping[str, Any] | None, path: Path) -> str:
    finished = (previous or {}).get("meta", {}).get("finished") if isinstance(previous, Mapping) else None
    try:
        dt = datetime.fromisoformat(str(finished)) if finished else None
    except ValueError:
        dt = None
    if dt is None:
        dt = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _keep(src: Path, dst: Path) -> None:
    """Link (or copy) ``src`` to ``dst``, never replacing an existing ``dst``."""
    try:
        os.link(src, dst)
    except FileExistsError:
        raise
    except OSError:  # no hard links here
        with open(src, "rb") as fin, open(dst, "xb") as fout:
            shutil.copyfileobj(fin, fout)


def _archive(folder: Path, previous: Mapping[str, Any] | None) -> tuple[Path, ...]:
    olds = [folder / "report.md", folder / "report.json"]
    present = [p for p in olds if p.exists()]
    if not present:
        return ()
    hist = folder / "history"
    hist.mkdir(exist_ok=True)
    stamp = _stamp(previous, present[0])
    for k in range(10_000):
        base = f"report-{stamp}" + (f"-{k}" if k else "")
        targets = [hist / f"{base}{p.suffix}" for p in present]
        if any(t.exists() for t in targets):
            continue
        done: list[Path] = []
        try:
            for p, t in zip(present, targets, strict=True):
                _keep(p, t)
                done.append(t)
        except FileExistsError:  # lost a race with another writer: try the next suffix
            for t in done:
                t.unlink()
            continue
        return tuple(done)
    raise FileExistsError(f"could not find a free name for report-{stamp} in {hist}")


def _read_previous(folder: Path) -> dict[str, Any] | None:
    path = folder / "report.json"
    if not path.exists():
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        return doc if isinstance(doc, dict) else None
    except (OSError, ValueError):
        return {}


def write_report(
    results: Sequence[ClaimResult], out_dir: str | Path, meta: Mapping[str, Any]
) -> WrittenReport:
    """Write ``report.md`` and ``report.json`` into ``out_dir`` atomically, archiving the previous ones.

    See the module docstring for the file layout and the archiving rule.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        previous = _read_previous(folder)
        doc = render_json(results, meta, previous)
        md = render_markdown(results, meta, previous)
        tmp_json = _write_temp(folder, "report.json", json.dumps(doc, indent=1, allow_nan=False) + "\n")
        try:
            tmp_md = _write_temp(folder, "report.md", md)
        except BaseException:
            tmp_json.unlink()
            raise
        try:
            archived = _archive(folder, previous)
            os.replace(tmp_json, folder / "report.json")
            os.replace(tmp_md, folder / "report.md")
        finally:
            for t in (tmp_json, tmp_md):
                if t.exists():
                    t.unlink()
    return WrittenReport(folder / "report.md", folder / "report.json", archived, doc["summary"])
