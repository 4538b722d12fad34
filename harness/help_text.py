"""Docstrings as plain ``--help`` text: the reStructuredText markup of the module docstrings (double back-quotes,
``:mod:`x``` / ``:class:`x``` / ``:func:`x``` roles, ``~`` abbreviations) removed, so a help screen reads as plain
text while the docstring stays the single source."""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:mod|class|func|meth|attr|data|obj|ref|doc):`~?([^`]+)`")


def plain(text: str) -> str:
    """``text`` without reST roles and literal markup: ``:mod:`a.b``` -> ``a.b``, double back-quotes -> none."""
    text = _ROLE.sub(r"\1", text)
    return text.replace("``", "")


def first_paragraph(doc: str) -> str:
    """The first paragraph of a docstring, as plain text (complete sentences: a paragraph ends at a blank line)."""
    return plain(doc.strip().split("\n\n")[0].strip())
