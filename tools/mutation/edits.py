"""A data mutant: one text edit of one data file, named so that the name survives edits
elsewhere in the file (the line number is reported, never part of the name)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Context:
    """What an operator may need beyond the file: the seed, and every profile of the models."""

    seed: int
    profiles: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Mutant:
    """Replace ``text[start:end]`` of ``path`` by ``replacement``."""

    path: str
    operator: str
    line: int
    #: Where and what, e.g. ``Status-Code: 3DIGIT -> 3*4DIGIT``.
    description: str
    start: int
    end: int
    replacement: str
    #: Disambiguates mutants of one file with the same description.
    occurrence: int = 0

    @property
    def key(self) -> str:
        """The stable name: file, operator, description (and occurrence when repeated)."""
        tail = f" #{self.occurrence + 1}" if self.occurrence else ""
        return f"{self.path}: {self.operator}: {self.description}{tail}"

    def apply(self, text: str) -> str:
        """The mutated file text."""
        return text[: self.start] + self.replacement + text[self.end :]


def short(text: str, limit: int = 48) -> str:
    """``text`` on one line, white space collapsed, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def line_of(text: str, offset: int) -> int:
    """The 1-based line number of ``offset`` in ``text``."""
    return text.count("\n", 0, offset) + 1


def number(value: float) -> str:
    """A number as an interval expression writes it: ``5``, ``0.5``, ``32``."""
    return f"{value:g}"
