"""Griffe extension: render the reStructuredText roles of mdpkit's docstrings as Markdown.

mdpkit's docstrings are NumPy style with Sphinx roles (``:math:`x```, ``.. math::`` blocks,
``:func:`~mdpkit.solve```); mkdocstrings renders Markdown. This extension rewrites each docstring before it is
parsed: inline math becomes ``$x$`` and ``.. math::`` blocks ``$$ ... $$`` (MathJax through
``pymdownx.arithmatex``), cross-reference roles become code spans (the short name for ``~``-prefixed targets).
"""

from __future__ import annotations

import re
import textwrap

import griffe

_MATH = re.compile(r":math:`([^`]+)`")
_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc|ref):`(~?)([^`]+)`")


def _role(m: re.Match) -> str:
    target = m.group(2)
    if m.group(1):
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _blocks(text: str) -> str:
    """Turn every ``.. math::`` directive (one-line or indented block) into a ``$$`` display block."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)\.\. math::\s*(.*)$", lines[i])
        i += 1
        if not m:
            out.append(lines[i - 1])
            continue
        indent, first = m.group(1), m.group(2).strip()
        block: list[str] = []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            block.append(lines[i])
            i += 1
        body = ([first] if first else []) + textwrap.dedent("\n".join(block)).strip().split("\n")
        out.append(f"{indent}$$")
        out.extend(f"{indent}{b}" if b.strip() else "" for b in body)
        out.append(f"{indent}$$")
        out.append("")
    return "\n".join(out)


def rst_to_markdown(text: str) -> str:
    """The Markdown rendering of one docstring (see the module docstring)."""
    text = _blocks(text)
    text = _MATH.sub(lambda m: f"${m.group(1)}$", text)
    return _ROLE.sub(_role, text)


class RstToMarkdown(griffe.Extension):
    """Rewrite each object's docstring from Sphinx roles to Markdown before mkdocstrings parses it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: object) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
