"""Mutation operators for ``grammar/*.abnf`` (RFC 5234 with RFC 7405's %s and %i):

* ``drop-alt``: drop one alternative of an alternation (``a / b / c`` -> ``a / c``), or a
  whole incremental alternative (a ``name =/ ...`` definition);
* ``repetition``: widen or narrow one repetition: ``3DIGIT`` -> ``3*4DIGIT``, ``1*x`` -> ``*x``,
  ``*x`` -> ``1*x``, ``2*x`` -> ``1*x``, ``*3x`` / ``1*3x`` -> ``*4x`` / ``1*4x``, and an option
  ``[x]`` -> ``(x)`` (required).

A small lexer of its own reads the files (the project's reader, ``sipfsm.abnf.reader``, keeps
no text positions); each mutant is one text edit, so the rest of the file stays byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tools.mutation.edits import Context, Mutant, line_of, short

_TOKEN = re.compile(
    r"""(?P<ws>[ \t\r\n]+)
    |(?P<comment>;[^\n]*)
    |(?P<string>(?:%[sSiI])?"[^"]*")
    |(?P<numval>%[xXdDbB][0-9A-Fa-f]+(?:(?:\.[0-9A-Fa-f]+)+|-[0-9A-Fa-f]+)?)
    |(?P<prose><[^>]*>)
    |(?P<repeat>\d*\*\d*|\d+)
    |(?P<name>[A-Za-z][A-Za-z0-9-]*)
    |(?P<punct>[()\[\]/])""",
    re.VERBOSE,
)
_DEFINITION = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*(=/|=)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


@dataclass(slots=True)
class Definition:
    """``name = body`` or ``name =/ body``: its tokens and what the parse found in them."""

    name: str
    incremental: bool
    start: int
    end: int
    tokens: list[Token]
    #: Each alternation with two or more alternatives: (first, last) token index of each.
    alternations: list[list[tuple[int, int]]] = field(default_factory=list)
    #: Each repetition: (index of its repeat token, or of its "[", last token of the element).
    repetitions: list[tuple[int, int]] = field(default_factory=list)


def lex(text: str, start: int, end: int) -> list[Token]:
    """The tokens of ``text[start:end]`` (white space and comments left out)."""
    tokens: list[Token] = []
    pos = start
    while pos < end:
        m = _TOKEN.match(text, pos, end)
        if m is None or m.lastgroup is None:
            raise ValueError(
                f"ABNF not understood at line {line_of(text, pos)}: {text[pos : pos + 20]!r}"
            )
        if m.lastgroup not in ("ws", "comment"):
            tokens.append(Token(m.lastgroup, m.group(), m.start(), m.end()))
        pos = m.end()
    return tokens


class _Parser:
    """Recursive descent over one definition's tokens, recording alternations and repetitions."""

    def __init__(self, d: Definition) -> None:
        self.d, self.toks, self.i = d, d.tokens, 0

    def _peek(self) -> str | None:
        return self.toks[self.i].text if self.i < len(self.toks) else None

    def alternation(self) -> None:
        alts = [self.concatenation()]
        while self._peek() == "/":
            self.i += 1
            alts.append(self.concatenation())
        if len(alts) > 1:
            self.d.alternations.append(alts)

    def concatenation(self) -> tuple[int, int]:
        first = self.i
        while self.i < len(self.toks) and self._peek() not in ("/", ")", "]"):
            self.repetition()
        if self.i == first:
            raise ValueError(f"empty alternative in {self.d.name}")
        return first, self.i - 1

    def repetition(self) -> None:
        first = self.i
        if self.toks[self.i].kind == "repeat":
            self.i += 1
        self.element()
        if self.toks[first].kind == "repeat":
            self.d.repetitions.append((first, self.i - 1))

    def element(self) -> None:
        at = self.i
        tok = self.toks[at]
        self.i += 1
        if tok.text in ("(", "["):
            self.alternation()
            close = ")" if tok.text == "(" else "]"
            if self._peek() != close:
                raise ValueError(f"unbalanced {tok.text} in {self.d.name}")
            self.i += 1
            if tok.text == "[":
                self.d.repetitions.append((at, self.i - 1))


def definitions(text: str) -> list[Definition]:
    """Every definition of an ABNF file, in order, parsed."""
    starts = list(_DEFINITION.finditer(text))
    out: list[Definition] = []
    for n, m in enumerate(starts):
        end = starts[n + 1].start() if n + 1 < len(starts) else len(text)
        d = Definition(m.group(1), m.group(2) == "=/", m.start(), end, lex(text, m.end(), end))
        _Parser(d).alternation()
        out.append(d)
    return out


def _span(d: Definition, first: int, last: int, text: str) -> str:
    return short(text[d.tokens[first].start : d.tokens[last].end], 40)


def drop_alternatives(path: str, text: str, ctx: Context) -> Iterator[Mutant]:
    """``drop-alt``: each alternative of each alternation, and each ``=/`` definition."""
    for d in definitions(text):
        if d.incremental:
            line_end = text.find("\n", d.tokens[-1].end)
            end = len(text) if line_end < 0 else line_end + 1
            desc = f"{d.name}: drop `{d.name} =/ {_span(d, 0, len(d.tokens) - 1, text)}`"
            yield Mutant(path, "drop-alt", line_of(text, d.start), desc, d.start, end, "")
        for alts in d.alternations:
            for i, (first, last) in enumerate(alts):
                if i == 0:
                    start, end = d.tokens[first].start, d.tokens[alts[1][0]].start
                else:
                    start, end = d.tokens[alts[i - 1][1]].end, d.tokens[last].end
                desc = f"{d.name}: drop / {_span(d, first, last, text)}"
                line = line_of(text, d.tokens[first].start)
                yield Mutant(path, "drop-alt", line, desc, start, end, "")


def widen_or_narrow(repeat: str) -> str:
    """The mutated repeat prefix (RFC 5234 3.6 and 3.7): see the module docstring."""
    low, star, high = repeat.partition("*")
    if not star:
        return f"{low}*{int(low) + 1}"
    if high:
        return f"{low}*{int(high) + 1}"
    if low in ("", "0"):
        return "1*"
    return "*" if low == "1" else f"{int(low) - 1}*"


def repetitions(path: str, text: str, ctx: Context) -> Iterator[Mutant]:
    """``repetition``: each repeat prefix widened or narrowed, each option made required."""
    for d in definitions(text):
        for first, last in d.repetitions:
            tok, end_tok = d.tokens[first], d.tokens[last]
            before = text[tok.start : end_tok.end]
            if tok.text == "[":
                after = "(" + text[tok.end : end_tok.start] + ")"
            else:
                after = widen_or_narrow(tok.text) + text[tok.end : end_tok.end]
            desc = f"{d.name}: {short(before, 32)} -> {short(after, 32)}"
            yield Mutant(
                path, "repetition", line_of(text, tok.start), desc, tok.start, end_tok.end, after
            )


OPERATORS = {"drop-alt": drop_alternatives, "repetition": repetitions}
