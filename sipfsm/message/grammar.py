"""The compiled SIP grammar at run time: ``_generated/sip.lark`` and what it says.

* :data:`HEADERS` maps every header name (long and compact, lower-cased) to its
  :class:`HeaderRule` (RFC 3261 section 7.3.3 and section 20; the names come from the ABNF).
* :func:`regex` gives a terminal of the file compiled: every terminal, and the start-line and
  list regexes built from them, is compiled at import from a cache of the regex engine's code
  (:mod:`sipfsm.message.precompiled`), so that no first use pays for compiling (issue 11).
* :func:`lalr_parse` parses a value of a non-regular header field (Server, User-Agent,
  Retry-After: they nest ``comment``) with Lark's LALR parser. Tokens are cut by the
  terminals that the parser can accept *in its current state*, longest match first, so the
  RFC's optional white space around ``(`` and ``)`` never confuses the lexer.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sipfsm.message.constants import SIP_VERSION
from sipfsm.message.precompiled import cache_folder, compile_all

if TYPE_CHECKING:  # pragma: no cover
    from lark import Lark, Token, Tree

#: A bound ``re.fullmatch`` (or ``re.match``) of a compiled terminal.
Matcher = Callable[[str], "re.Match[str] | None"]

GRAMMAR_FILE = Path(__file__).resolve().parent / "_generated" / "sip.lark"

_TERMINAL_LINE = re.compile(r"^([A-Z][A-Z0-9_]*): /(.*)/$")


@dataclass(frozen=True)
class HeaderRule:
    """How one header field is parsed: its ABNF rule and Lark names."""

    rule: str
    """The ABNF rule (``Via``)."""
    long_name: str
    """The canonical name (``Via``)."""
    compact: str | None
    """The compact form (``v``), RFC 3261 section 7.3.3."""
    lark_rule: str
    """The Lark rule of the value (``via``)."""
    kind: str
    """``regex`` (one terminal) or ``lalr`` (Lark's LALR parser)."""
    item: str | None
    """For comma lists, the terminal of one element (``VIA_PARM``)."""
    terminal: str
    """The terminal of the whole value (``VIA``)."""
    angle: bool = False
    """A field with a bare addr-spec (``@angle`` in sip.lark): RFC 3261 section 20.10 is in
    its terminals (a bare URI holds no comma or semicolon)."""
    comma_split: bool = False
    """A comma list whose element could, in the plain ABNF, hold a comma outside quoted
    strings and ``<...>`` (a bare absoluteURI: Contact, P-Asserted-Identity, ...): RFC 3261
    section 20.10 makes every such comma a separator (``@comma-split`` in sip.lark); split
    with :func:`top_commas`."""
    unrolled: str | None = None
    """For a ``lalr`` field, the terminal validating its value (``@unrolled``): a REGULAR
    APPROXIMATION, EXACT UP TO DEPTH :attr:`unrolled_depth` of its comments' nesting (the
    recursive rule unrolled that many times; nested deeper, the value does not match)."""
    unrolled_depth: int = 0
    """The nesting depth up to which :attr:`unrolled` is exact."""


def _load() -> tuple[str, dict[str, str], dict[str, HeaderRule], dict[str, str]]:
    text = GRAMMAR_FILE.read_text(encoding="utf-8")
    terminals: dict[str, str] = {}
    headers: dict[str, HeaderRule] = {}
    start: dict[str, str] = {}
    split: set[str] = set()
    angle: set[str] = set()
    unrolled: dict[str, tuple[str, int]] = {}
    for line in text.splitlines():
        if line.startswith("//@header "):
            _, rule, lark_rule, kind, item, *names = line.split()
            spec = HeaderRule(
                rule,
                names[0],
                names[1] if len(names) > 1 else None,
                lark_rule,
                kind,
                None if item == "-" else item,
                lark_rule.upper(),
            )
            for n in names:
                headers[n.lower()] = spec
        elif line.startswith("//@angle"):
            angle.update(line.split()[1:])
        elif line.startswith("//@comma-split"):
            split.update(line.split()[1:])
        elif line.startswith("//@unrolled "):
            _, rule, term, depth = line.split()
            unrolled[rule] = (term, int(depth))
        elif line.startswith("//@rule "):
            _, rule, term = line.split()
            start[rule] = term
        else:
            m = _TERMINAL_LINE.match(line)
            if m:
                terminals[m.group(1)] = m.group(2)
    for n, spec in headers.items():
        if spec.rule in split or spec.rule in angle:
            headers[n] = replace(spec, comma_split=spec.rule in split, angle=spec.rule in angle)
        if spec.rule in unrolled:
            uterm, udepth = unrolled[spec.rule]
            headers[n] = replace(headers[n], unrolled=uterm, unrolled_depth=udepth)
    return text, terminals, headers, start


GRAMMAR_TEXT, TERMINALS, HEADERS, START_TERMINALS = _load()
#: Header rules by canonical (long) name, lower-cased.
BY_RULE: dict[str, HeaderRule] = {h.long_name.lower(): h for h in HEADERS.values()}

# What the grammar says about the header fields, derived here once (every user imports it):

#: Compact form -> long name: RFC 3261 section 7.3.3 and the extension RFCs, as each header
#: rule of the ABNF spells them (``Via = ( "Via" / "v" ) HCOLON ...``).
COMPACT_FORMS: dict[str, str] = {h.compact: h.long_name for h in BY_RULE.values() if h.compact}
#: Long name -> compact form (``Via`` -> ``v``).
COMPACT_OF: dict[str, str] = {h.long_name: h.compact for h in BY_RULE.values() if h.compact}


def names_of(long_name: str) -> tuple[str, ...]:
    """A header field's names: its long name, then its compact form when it has one (7.3.3).

    >>> names_of("Call-ID"), names_of("CSeq")
    (('Call-ID', 'i'), ('CSeq',))
    """
    compact = COMPACT_OF.get(long_name)
    return (long_name, compact) if compact else (long_name,)


#: Long names, lower-cased, of the fields whose value is a comma list ``x *(COMMA x)`` in the
#: ABNF: the fields that section 7.3.1 lets be split into several lines or joined into one.
LIST_HEADERS: frozenset[str] = frozenset(k for k, h in BY_RULE.items() if h.item is not None)
#: Long names, lower-cased, of the fields whose value may be a bare ``addr-spec``, outside
#: ``<...>`` (``@angle``): section 20.10 (and 20.20, 20.39) says that such a URI MUST be
#: written in angle brackets when it holds a comma, semicolon or question mark.
ADDR_SPEC_HEADERS: frozenset[str] = frozenset(k for k, h in BY_RULE.items() if h.angle)


def _request_line_text() -> str:
    method, uri = TERMINALS["METHOD_SP"], TERMINALS["REQUEST_URI_SP"]
    return f"(?:{method}) (?:{uri}) {re.escape(SIP_VERSION)}"


def _status_line_text() -> str:
    version = re.escape(SIP_VERSION)
    code, phrase = TERMINALS["STATUS_CODE"], TERMINALS["REASON_PHRASE"]
    return f"{version} ({code}) ({phrase})"


def _list_splitter_text(item: str) -> str:
    return f"({TERMINALS[item]})(?:{TERMINALS['COMMA']}|\\Z)"


def _all_patterns() -> dict[str, str]:
    """Every regex the parser and the views use: each terminal by its name, the start lines
    and the list splitters of the comma-list fields under names no terminal has."""
    texts = dict(TERMINALS)
    texts["request-line"] = _request_line_text()
    texts["status-line"] = _status_line_text()
    for item in sorted({h.item for h in HEADERS.values() if h.item is not None}):
        texts[f"list {item}"] = _list_splitter_text(item)
    return texts


#: Every pattern of :func:`_all_patterns`, compiled at import (issue 11, defect 7).
_COMPILED: dict[str, re.Pattern[str]] = compile_all(_all_patterns())


@cache
def regex(terminal: str) -> re.Pattern[str]:
    """The compiled regular expression of ``terminal`` (e.g. ``VIA``)."""
    got = _COMPILED.get(terminal)
    return got if got is not None else re.compile(TERMINALS[terminal])


@cache
def fullmatcher(terminal: str) -> Matcher:
    """``re.fullmatch`` of ``terminal``, bound (a little faster in the hot path)."""
    return regex(terminal).fullmatch


@cache
def request_line() -> Matcher:
    """``Method SP Request-URI SP "SIP/2.0"`` in one regex: the fast path of section 7.1 (its
    parts are emitted for the SP that follows them: ``METHOD_SP``, ``REQUEST_URI_SP``)."""
    return _COMPILED["request-line"].fullmatch


@cache
def status_line() -> Matcher:
    """``"SIP/2.0" SP Status-Code SP Reason-Phrase`` in one regex (section 7.2 fast path);
    group 1 is the code, group 2 the phrase. Status-Code is the ABNF's (``3DIGIT``): the range
    100-699 (section 21) is the caller's check, ``value-out-of-range``."""
    return _COMPILED["status-line"].fullmatch


@cache
def list_splitter(item: str) -> re.Pattern[str]:
    """``(ITEM)(?:COMMA|end)``: cuts a comma list (RFC 3261 section 7.3.1) into elements."""
    got = _COMPILED.get(f"list {item}")
    return got if got is not None else re.compile(_list_splitter_text(item))


#: What decides where the top-level commas are: a quoted string (quoted-pairs inside), a
#: ``<...>`` (either running to the end when unclosed), or a comma. ``finditer`` skips every
#: other octet without a Python step; each alternative starts at its own octet, so the
#: search is linear. The constructs are those of ``sipfsm.abnf.compiler``'s
#: ``Compiler.restrict`` (section 20.10).
_TOP_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\Z)|<[^>]*+(?:>|\Z)|,', re.S)


def iter_top_commas(text: str) -> Iterator[int]:
    """Offsets of the commas of ``text`` outside quoted strings and ``<...>``: in a
    ``comma_split`` header field, the separators of its elements (RFC 3261 sections 7.3.1,
    20.10). Linear time."""
    if '"' not in text and "<" not in text:
        i = text.find(",")
        while i >= 0:
            yield i
            i = text.find(",", i + 1)
        return
    for m in _TOP_TOKEN.finditer(text):
        if m.group() == ",":
            yield m.start()


def top_commas(text: str) -> list[int]:
    """:func:`iter_top_commas` as a list.

    >>> top_commas('"a,b" <sip:c,d>;q=1, sip:e, <f>')
    [19, 26]
    """
    return list(iter_top_commas(text))


def top_pieces(text: str) -> Iterator[tuple[int, str]]:
    """``text`` cut at its top-level commas (:func:`iter_top_commas`), lazily: (offset,
    piece) with the white space around the commas (COMMA's SWS) stripped."""
    start = 0
    for c in itertools.chain(iter_top_commas(text), (len(text),)):
        raw = text[start:c]
        piece = raw.strip(" \t")
        yield start + len(raw) - len(raw.lstrip(" \t")), piece
        start = c + 1


def list_elements(text: str, rule: HeaderRule) -> list[str]:
    """The elements of a comma-list value of ``rule`` (``rule.item`` is set; RFC 3261 section
    7.3.1); the whole value when it does not match its rule."""
    assert rule.item is not None
    if rule.comma_split:  # section 20.10: every top-level comma separates elements
        return [p for _, p in top_pieces(text)]
    pat = list_splitter(rule.item)
    pos, n = 0, len(text)
    out: list[str] = []
    while pos < n:
        m = pat.match(text, pos)
        if m is None or m.end() == pos:
            return [text]
        out.append(m.group(1))
        pos = m.end()
    return out or [text]


def _lalr_text() -> tuple[str, list[str]]:
    """The part of sip.lark the LALR parser needs: non-regular rules and their terminals."""
    starts = sorted({h.lark_rule for h in HEADERS.values() if h.kind == "lalr"})
    lines = GRAMMAR_TEXT.splitlines()
    begin = lines.index("// ---- Rules that are not regular (recursive): Lark's LALR parser ----")
    rules: list[str] = []
    for line in lines[begin + 1 :]:
        if not line.strip():
            break
        rules.append(line)
    used = set(re.findall(r"\b[A-Z][A-Z0-9_]*\b", " ".join(rules)))
    terms = [f"{t}: /{TERMINALS[t]}/" for t in sorted(used) if t in TERMINALS]
    return "\n".join(rules + terms) + "\n", starts


def _cache_file(text: str) -> str | bool:
    """Where Lark keeps the built LALR tables between processes: the user's cache folder
    (:func:`sipfsm.message.precompiled.cache_folder`), keyed by the grammar and Lark's
    version. Without a writable folder (read-only installs, no home) Lark builds the
    tables in memory each time (tens of milliseconds)."""
    import hashlib
    import os

    import lark

    folder = cache_folder()
    if folder is None:
        return False
    digest = hashlib.sha256(f"{lark.__version__}\n{text}".encode()).hexdigest()[:16]
    return os.path.join(folder, f"lalr-{digest}.cache")


class _Lalr:
    """Lark's LALR parser of the non-regular rules, with a lexer that cuts each token by the
    terminals the parser takes in its current state (longest match first).

    Linear time and memory at any nesting depth: which terminals a state takes is read from
    the parse table, and whether the parser takes one (its reductions on that lookahead end
    in a shift) is found by running those reductions on a view of the state stack
    (:func:`_takes`), never on a copy of the stack or of the trees built so far."""

    def __init__(self) -> None:
        from lark import Lark  # imported by prepare_lalr(), with the views

        text, starts = _lalr_text()
        self.lark: Lark = Lark(text, parser="lalr", start=starts, cache=_cache_file(text))
        self.patterns = {t.name: _compiled(t.pattern.to_regexp()) for t in self.lark.terminals}
        #: Parser state -> the terminals of its row of the parse table that have a pattern:
        #: (name, pattern, whether the action is a shift: then the state surely takes it).
        self._rows: dict[int, list[tuple[str, re.Pattern[str], bool]]] = {}

    def _row(
        self, states: dict[int, dict[str, tuple[object, object]]], state: int
    ) -> list[tuple[str, re.Pattern[str], bool]]:
        row = self._rows.get(state)
        if row is None:
            from lark.parsers.lalr_analysis import Shift

            acts = states[state]
            row = [
                (t, self.patterns[t], acts[t][0] is Shift)
                for t in sorted(acts)
                if t in self.patterns
            ]
            self._rows[state] = row
        return row

    def parse(self, value: str, start: str) -> Tree[Token]:
        from lark import Token, Tree
        from lark.exceptions import LarkError

        ip = self.lark.parse_interactive(None, start=start)
        stack = ip.parser_state.state_stack
        states = ip.parser_state.parse_conf.states
        pos = 0
        n = len(value)
        while pos < n:
            best: tuple[int, str] | None = None
            for name, pat, shift in self._row(states, stack[-1]):
                m = pat.match(value, pos)
                if m is None or m.end() <= (pos if best is None else best[0]):
                    continue
                if shift or _takes(states, stack, name):
                    best = (m.end(), name)
            if best is None:
                row = self._row(states, stack[-1])
                raise _LalrError(pos, [t for t, _, _ in row if _takes(states, stack, t)])
            end, name = best
            ip.feed_token(Token(name, value[pos:end], start_pos=pos))
            pos = end
        try:
            result = ip.feed_eof()  # type: ignore[no-untyped-call]
        except LarkError:
            raise _LalrError(pos, ["end"]) from None
        assert isinstance(result, Tree)
        return result


def _takes(
    states: dict[int, dict[str, tuple[object, object]]], stack: list[int], term: str
) -> bool:
    """True when the LALR parser with state stack ``stack`` takes the terminal ``term``: the
    reductions it makes on that lookahead end in a shift (as ``ParserState.feed_token`` does
    them), run on a view of ``stack``: the states still in place below, and those pushed."""
    from lark.parsers.lalr_analysis import Shift

    depth = len(stack)  # stack[:depth] is what is left of the real stack
    pushed: list[int] = []  # the states pushed on it since
    while True:
        act = states[pushed[-1] if pushed else stack[depth - 1]].get(term)
        if act is None:
            return False
        action, rule = act
        if action is Shift:
            return True
        size = len(rule.expansion)  # type: ignore[attr-defined]
        gone = min(size, len(pushed))
        del pushed[len(pushed) - gone :]
        depth -= size - gone
        below = pushed[-1] if pushed else stack[depth - 1]
        pushed.append(states[below][rule.origin.name][1])  # type: ignore[attr-defined,arg-type]


def _compiled(text: str) -> re.Pattern[str]:
    """``text`` compiled: the precompiled terminal when it is one (Lark's terminals are ours)."""
    got = _COMPILED.get(_TERMINAL_OF.get(text, ""))
    return got if got is not None else re.compile(text)


_TERMINAL_OF: dict[str, str] = {text: name for name, text in TERMINALS.items()}


class _LalrError(Exception):
    def __init__(self, pos: int, expected: list[str]) -> None:
        self.pos = pos
        self.expected = expected
        super().__init__(f"at offset {pos}: expected {', '.join(expected)}")


@cache
def _lalr() -> _Lalr:
    return _Lalr()


def prepare_lalr() -> None:
    """Import Lark and build the LALR parser now (from its cached tables), so that the first
    value of a non-regular field read costs no more than the next ones (issue 11)."""
    _lalr()


def lalr_parse(value: str, start: str) -> Tree[Token]:
    """Parse ``value`` with Lark's LALR parser from rule ``start``.

    Raises :class:`LalrError` (with the offset) when it does not match.
    """
    from lark.exceptions import LarkError

    try:
        return _lalr().parse(value, start)
    except _LalrError as exc:
        raise LalrError(exc.pos, exc.expected) from None
    except LarkError as exc:
        raise LalrError(len(value), [str(exc).splitlines()[0]]) from None


class LalrError(Exception):
    """A value did not match its non-regular rule; ``pos`` is the offset in the value."""

    def __init__(self, pos: int, expected: list[str]) -> None:
        self.pos = pos
        self.expected = expected
        super().__init__(f"at offset {pos}: expected {', '.join(expected)}")
