"""The texts of :mod:`judge.texts` loaded into a second ABNF engine, the ``abnf`` package (its
own backtracking parser, every match of every rule; its Rust backend when ``abnf-rust`` is
installed), and SIP messages judged part by part.

Pitfall the design avoids: the whole-message rule lets a malformed known header field pass as
an ``extension-header``, so the judge never uses it. A message is cut by the judge itself
(RFC 3261 sections 7, 7.3.1: the start line, header fields with their folded lines, the empty
line) and each part is judged with its own rule: ``Request-Line`` or ``Status-Line`` (with its
CRLF), then every header field with the rule of its name, compact forms included (section
7.3.3, as each rule spells them: ``Via = ( "Via" / "v" ) HCOLON ...``), any other name with
``extension-header``. The octets are read as latin-1, so that the ABNF's octet ranges
(``UTF8-NONASCII`` ...) mean what they say. Verdicts are memoised by (rule, text): a mutant
re-judges only the part it touched.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from abnf import ParseError as AbnfParseError
from abnf import Rule
from abnf import parser as _abnf_parser

from judge import tree
from judge.texts import (
    Departure,
    RuleText,
    baseline_text,
    departed_text,
    departures,
    split_rules,
)

#: "rust" or "python": the engine's backend.
BACKEND: str = _abnf_parser._BACKEND
_HEADER_NAMES = re.compile(r'^(?:\( )?"([^"]+)"(?: / "([^"]+)")? (?:\) )?hcolon\b')
_names = itertools.count()


class Judge:
    """One ABNF text loaded into the ``abnf`` engine, with the exclusions of its rows."""

    def __init__(self, label: str, text: str, excludes: Iterable[RuleText] = ()) -> None:
        self.label = label
        self.cls: type[Rule] = type(f"Judge{next(_names)}", (Rule,), {})
        text, engine_excludes = compose(text, list(excludes))
        self.text = text
        self.cls.load_grammar(text)
        for i, ex in enumerate(engine_excludes):
            out = self.cls.create(f"judge-excluded-{i}-{ex.key} = {ex.body.strip()}")
            self.cls(ex.name).exclude_rule(out)
        self.headers = _header_rules(text)
        self._memo: dict[tuple[str, str], bool] = {}

    def accepts(self, rule: str, text: str) -> bool:
        """Whether ``text`` is a string of ``rule`` (the whole of it)."""
        key = (rule, text)
        got = self._memo.get(key)
        if got is None:
            try:
                self.cls(rule).parse_all(text)
                got = True
            except AbnfParseError:
                got = False
            if len(self._memo) > 200_000:
                self._memo.clear()
            self._memo[key] = got
        return got

    def rule_body(self, rule: str) -> str:
        """The normalised body of ``rule`` in the judge's text."""
        return merged_rules(self.text)[rule.lower()].normal

    def header_rule(self, name: str) -> str:
        """The rule that judges a header field named ``name`` (any case, compact forms too)."""
        return self.headers.get(name.lower(), "extension-header")

    def parts(self, data: bytes) -> list[Part]:
        """The parts of a datagram, each judged with its own rule (see the module docstring)."""
        return [
            Part(p.line, p.rule, p.text, p.rule != "" and self.accepts(p.rule, p.text))
            for p in cut(data, self.header_rule)
        ]

    def first_bad(self, data: bytes) -> Part | None:
        """The first part of ``data`` its rule rejects (None: the message is well-formed)."""
        for p in cut(data, self.header_rule):
            if p.rule == "" or not self.accepts(p.rule, p.text):
                return Part(p.line, p.rule, p.text, False)
        return None


@dataclass(frozen=True)
class Part:
    """A part of a message: its first line (1-based, as in the datagram), the rule that judges
    it ("" when it is not even a part: no empty line, a header line without a colon), its
    text, and the verdict."""

    line: int
    rule: str
    text: str
    ok: bool = True


def cut(data: bytes, header_rule: object) -> list[Part]:
    """Cut a datagram into its parts (unjudged): CRLFs before the start line skipped (section
    7.5), the header section up to the first empty line (section 7), folded lines kept with
    their field (section 7.3.1). The body is ``*OCTET``: not a part."""
    assert callable(header_rule)
    text = data.decode("latin-1")
    skipped = 0
    while text.startswith("\r\n", skipped * 2):
        skipped += 1
    end = text.find("\r\n\r\n", skipped * 2)
    if end < 0:
        return [Part(skipped + 1, "", text, False)]
    lines = text[skipped * 2 : end].split("\r\n")
    line0 = lines[0]
    start_rule = "Status-Line" if line0[:4].upper() == "SIP/" else "Request-Line"
    out = [Part(skipped + 1, start_rule, line0 + "\r\n")]
    i = 1
    while i < len(lines):
        first = i
        i += 1
        while i < len(lines) and lines[i][:1] in (" ", "\t"):
            i += 1
        field = "\r\n".join(lines[first:i])
        colon = field.find(":")
        if (first == 1 and field[:1] in (" ", "\t")) or colon < 0:
            out.append(Part(skipped + first + 1, "", field, False))
            continue
        out.append(Part(skipped + first + 1, header_rule(field[:colon].rstrip(" \t")), field))
    return out


def merged_rules(text: str) -> dict[str, RuleText]:
    """The rules of ``text`` by lower-cased name, each ``=/`` merged into its rule's body."""
    out: dict[str, RuleText] = {}
    for r in split_rules(text):
        if r.defined_as == "=/" and r.key in out:
            was = out[r.key]
            out[r.key] = RuleText(was.name, "=", f"( {was.body.strip()} ) / ( {r.body.strip()} )")
        else:
            out[r.key] = RuleText(r.name, "=", r.body)
    return out


def compose(text: str, excludes: list[RuleText]) -> tuple[str, list[RuleText]]:
    """The text the engine loads, and the exclusions left to the engine. An exclusion of the
    values holding one of some octets (``*OCTET ( "," / ";" ) *OCTET``) is applied here
    instead, exactly: the rule becomes a copy of itself, and of every rule it reaches, with
    those octets taken out of every terminal (the engine's exclusion tries every candidate
    match, which is quadratic on long values)."""
    rules = merged_rules(text)
    left: list[RuleText] = []
    extra: dict[str, str] = {}
    suffixes: list[str] = []
    for ex in excludes:
        octets = tree.octet_set(tree.parse_body(ex.body))
        if octets is None:
            left.append(ex)
            continue
        suffix = "-without-" + "".join(f"{o:02x}" for o in sorted(octets))
        suffixes.append(suffix)
        copies = tree.without_octets(tree.trees(rules), ex.key, octets, suffix)
        extra.update({k: tree.to_text(n) for k, n in copies.items()})
        name = rules[ex.key].name
        rules[ex.key] = RuleText(name, "=", ex.key + suffix)
    # The engine's exclusions hold for the copies too.
    left += [
        RuleText(ex.key + sfx, "=", ex.body)
        for ex in list(left)
        for sfx in suffixes
        if ex.key + sfx in extra
    ]
    lines = [f"{r.name} = {r.body.strip()}" for r in rules.values()]
    lines += [f"{k} = {body}" for k, body in extra.items()]
    return "\n".join(lines) + "\n", left


def _header_rules(text: str) -> dict[str, str]:
    """Header names (lower-cased, compact forms too) -> their rule, read from the rules of
    ``text`` that start ``( "Name" / "c" ) HCOLON`` or ``"Name" HCOLON``."""
    out: dict[str, str] = {}
    for r in split_rules(text):
        m = _HEADER_NAMES.match(r.normal)
        if m and r.defined_as == "=":
            for n in m.groups():
                if n is not None:
                    out[n.lower()] = r.name
    return out


# -- the judges -------------------------------------------------------------------------------


@cache
def verbatim() -> Judge:
    """RFC 3261 section 25 as printed, with RFC 5954 (the baseline)."""
    return Judge("verbatim", baseline_text())


def _rows(kinds: tuple[str, ...]) -> list[Departure]:
    return [
        r for r in departures() if r.where in kinds or (r.issue is not None and "issue" in kinds)
    ]


@cache
def grammar_judge() -> Judge:
    """The baseline with the rows sipfsm's grammar files make (``grammar`` and ``files``):
    the language of ``grammar/*.abnf`` as written, which ``Compiler.rule_regex`` compiles."""
    text, excl = departed_text(_rows(("grammar", "files")))
    return Judge("grammar", text, excl)


@cache
def departed() -> Judge:
    """The baseline with every row applied (the compiler's and the ones not done yet too): what
    strict parsing should accept."""
    text, excl = departed_text(_rows(("grammar", "files", "compiler", "issue")))
    return Judge("departed", text, excl)


@cache
def departed_without_issues() -> Judge:
    """:func:`departed` less the rows not done yet: what strict parsing accepts today."""
    text, excl = departed_text(_rows(("grammar", "files", "compiler")))
    return Judge("departed-done", text, excl)


@cache
def with_row(row_id: str) -> Judge:
    """The baseline with one row only (to say which row explains a departure)."""
    rows = [r for r in departures() if r.id == row_id]
    text, excl = departed_text(rows)
    return Judge(f"+{row_id}", text, excl)
