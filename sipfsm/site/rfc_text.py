"""The text of one section of RFC 3261, cut by its number from the copy shipped as package data
(``sipfsm/data/rfc3261/``, with its Full Copyright Statement in ``NOTICE``).

A section starts at its heading (the number at the start of a line, then its title: ``17.1.1.2
Formal Description``) and runs to the next heading that is not one of its subsections, so
``17.1.1`` holds 17.1.1.1-17.1.1.3 and Figure 5. The page headers and footers of the RFC's
paginated text (``RFC 3261  SIP: Session Initiation Protocol  June 2002``, ``Rosenberg, et.
al. ... [Page N]``, form feeds) are left out. The table of contents is skipped: its lines end
in leader dots and page numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from sipfsm.data import RFC3261_TEXT

#: A section heading of the RFC's body: ``17.1.1.2 Formal Description``, at column 0.
_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\.? {1,3}(\S.*)$")
#: The running header and footer of every page of the paginated text (RFC 7322 4.x layout).
_PAGE_LINES = re.compile(r"^(RFC 3261 +SIP: Session Initiation Protocol|Rosenberg, et\. al\. )")


@dataclass(frozen=True, slots=True)
class Section:
    """One section of RFC 3261: its number, title and text (subsections included)."""

    number: str
    title: str
    text: str


@cache
def _lines() -> tuple[str, ...]:
    """The RFC's lines without page breaks: header, footer and the blank lines around them."""
    raw = RFC3261_TEXT.read_text(encoding="utf-8").replace("\f", "").splitlines()
    out: list[str] = []
    for line in raw:
        if _PAGE_LINES.match(line):
            while out and not out[-1].strip():
                out.pop()
            out.append("")
            continue
        out.append(line.rstrip())
    # A page break inside a paragraph leaves one blank line where the text runs on: it stays,
    # as in the RFC's own HTML rendering.
    return tuple(out)


@cache
def _headings() -> tuple[tuple[int, str, str], ...]:
    """(line index, number, title) of every heading of the body, in order."""
    found: list[tuple[int, str, str]] = []
    for i, line in enumerate(_lines()):
        m = _HEADING.match(line)
        if m is None or re.search(r"\.{3,}\s*\d+$", line):
            continue  # not a heading, or a line of the table of contents
        number, title = m.group(1), m.group(2).strip()
        if found and not _follows(found[-1][1], number):
            continue  # a numbered line inside the text (a list item, a figure row)
        found.append((i, number, title))
    return tuple(found)


def _key(number: str) -> tuple[int, ...]:
    return tuple(int(p) for p in number.split("."))


def _follows(previous: str, number: str) -> bool:
    """Whether ``number`` can be the heading after ``previous`` in document order: its first
    child, the next sibling of it or of one of its ancestors (``17.1.1.3`` -> ``17.1.2``)."""
    prev, new = _key(previous), _key(number)
    if new == (*prev, 1):
        return True
    return any(new == (*prev[: d - 1], prev[d - 1] + 1) for d in range(len(prev), 0, -1))


def section(number: str) -> Section | None:
    """The section of RFC 3261 numbered ``number`` (``17.1.1.2``, ``12``), or ``None`` when
    the RFC has no such heading (a section of another RFC: ``RFC 6026 8.4``)."""
    number = number.strip().removeprefix("RFC 3261").strip()
    heads = _headings()
    for pos, (line, num, title) in enumerate(heads):
        if num != number:
            continue
        end = len(_lines())
        for later_line, later_num, _ in heads[pos + 1 :]:
            if not later_num.startswith(number + "."):
                end = later_line
                break
        body = "\n".join(_lines()[line:end]).strip("\n")
        return Section(num, title, body)
    return None


def numbers() -> list[str]:
    """Every section number of the RFC's body, in order."""
    return [num for _, num, _ in _headings()]
