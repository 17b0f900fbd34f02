"""A small reader of ABNF rule bodies (RFC 5234 section 4) into trees, and back to text: what
the judge needs to draw strings from a rule (:mod:`judge.generate`) and to take octets out of
a rule's language (:func:`without_octets`). It reads the normalised token stream of
:func:`judge.texts.normalise`; it shares nothing with sipfsm's reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from judge.texts import RuleText, normalise, split_rules

#: RFC 5234 appendix B.1, the core rules (the ``abnf`` engine defines them itself).
CORE = """\
ALPHA = %x41-5A / %x61-7A
BIT = "0" / "1"
CHAR = %x01-7F
CR = %x0D
CRLF = CR LF
CTL = %x00-1F / %x7F
DIGIT = %x30-39
DQUOTE = %x22
HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F"
HTAB = %x09
LF = %x0A
LWSP = *(WSP / CRLF WSP)
OCTET = %x00-FF
SP = %x20
VCHAR = %x21-7E
WSP = SP / HTAB
"""


@dataclass(frozen=True)
class Alt:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Rep:
    min: int
    max: int | None
    item: Node


@dataclass(frozen=True)
class Ref:
    key: str


@dataclass(frozen=True)
class Lit:
    """A quoted string: case-insensitive unless ``%s`` (RFC 7405)."""

    text: str
    sensitive: bool = False


@dataclass(frozen=True)
class Range:
    """One octet from ``lo`` to ``hi``."""

    lo: int
    hi: int


Node = Alt | Seq | Rep | Ref | Lit | Range
#: A tree that matches nothing (an alternation of no alternative).
FAIL = Alt(())


def parse_body(body: str) -> Node:
    """The tree of a rule body (comments and white space allowed)."""
    toks = normalise(body).split(" ")
    node, pos = _alternation(toks, 0)
    if pos != len(toks):
        raise ValueError(f"unexpected {toks[pos]!r} in {body!r}")
    return node


def _alternation(t: list[str], i: int) -> tuple[Node, int]:
    items = []
    node, i = _concatenation(t, i)
    items.append(node)
    while i < len(t) and t[i] == "/":
        node, i = _concatenation(t, i + 1)
        items.append(node)
    return (items[0] if len(items) == 1 else Alt(tuple(items))), i


def _concatenation(t: list[str], i: int) -> tuple[Node, int]:
    items = []
    while i < len(t) and t[i] not in ("/", ")", "]"):
        node, i = _repetition(t, i)
        items.append(node)
    if not items:
        raise ValueError("empty concatenation")
    return (items[0] if len(items) == 1 else Seq(tuple(items))), i


def _repetition(t: list[str], i: int) -> tuple[Node, int]:
    m = re.fullmatch(r"(\d*)\*(\d*)|(\d+)", t[i])
    if m is None:
        return _element(t, i)
    hi: int | None
    if m.group(3) is not None:
        lo = hi = int(m.group(3))
    else:
        lo = int(m.group(1) or 0)
        hi = int(m.group(2)) if m.group(2) else None
    node, i = _element(t, i + 1)
    return Rep(lo, hi, node), i


def _element(t: list[str], i: int) -> tuple[Node, int]:
    tok = t[i]
    if tok in ("(", "["):
        node, j = _alternation(t, i + 1)
        close = ")" if tok == "(" else "]"
        if t[j] != close:
            raise ValueError(f"expected {close!r}")
        return (node if tok == "(" else Rep(0, 1, node)), j + 1
    if tok.startswith(('"', '%s"', '%i"')):
        sensitive = tok.startswith("%s")
        return Lit(tok[tok.index('"') + 1 : -1], sensitive), i + 1
    if tok.startswith("%"):
        return _num_val(tok), i + 1
    if re.fullmatch(r"[a-z][a-z0-9-]*", tok):
        return Ref(tok), i + 1
    raise ValueError(f"unexpected {tok!r}")


def _num_val(tok: str) -> Node:
    base = {"x": 16, "d": 10, "b": 2}[tok[1].lower()]
    body = tok[2:]
    if "-" in body:
        lo, hi = body.split("-")
        return Range(int(lo, base), int(hi, base))
    vals = [int(v, base) for v in body.split(".")]
    return Range(vals[0], vals[0]) if len(vals) == 1 else Seq(tuple(Range(v, v) for v in vals))


@cache
def core_rules() -> dict[str, Node]:
    return {r.key: parse_body(r.body) for r in split_rules(CORE)}


def trees(rules: dict[str, RuleText]) -> dict[str, Node]:
    """Every rule's tree, the core rules included."""
    out = dict(core_rules())
    out.update({k: parse_body(r.body) for k, r in rules.items()})
    return out


# -- back to text -----------------------------------------------------------------------------


def to_text(n: Node) -> str:
    """ABNF text of a tree (case-sensitive strings written as octets)."""
    if isinstance(n, Alt):
        if not n.items:
            raise ValueError("FAIL has no ABNF text")
        return "( " + " / ".join(to_text(i) for i in n.items) + " )"
    if isinstance(n, Seq):
        if not n.items:
            return '""'
        return "( " + " ".join(to_text(i) for i in n.items) + " )"
    if isinstance(n, Rep):
        if (n.min, n.max) == (0, 1):
            return "[ " + to_text(n.item) + " ]"
        rep = (
            str(n.min) if n.min == n.max else f"{n.min or ''}*{n.max if n.max is not None else ''}"
        )
        return rep + "( " + to_text(n.item) + " )"
    if isinstance(n, Ref):
        return n.key
    if isinstance(n, Lit):
        if n.sensitive or '"' in n.text:
            return "%x" + ".".join(f"{ord(c):02X}" for c in n.text)
        return f'"{n.text}"'
    return f"%x{n.lo:02X}" if n.lo == n.hi else f"%x{n.lo:02X}-{n.hi:02X}"


# -- octets taken out of a language -----------------------------------------------------------


def without_octets(
    rules: dict[str, Node], key: str, octets: frozenset[int], suffix: str
) -> dict[str, Node]:
    """New rules ``<rule><suffix>`` for ``key`` and every rule it reaches: the same language less
    every string holding one of ``octets`` (each such octet taken out of every terminal).
    Rules left unable to match anything are left out, and so are references to them."""
    out: dict[str, Node] = {}
    pending = [key]
    made: set[str] = set()
    while pending:
        k = pending.pop()
        if k in made:
            continue
        made.add(k)
        out[k + suffix] = _strip(rules[k], octets, suffix, pending)
    # Rules that match nothing: propagate until nothing changes.
    dead = {k for k, n in out.items() if n == FAIL}
    while True:
        new = {k: _prune(n, dead) for k, n in out.items()}
        now = {k for k, n in new.items() if n == FAIL}
        out = new
        if now == dead:
            break
        dead = now
    return {k: n for k, n in out.items() if n != FAIL}


def _strip(n: Node, octets: frozenset[int], suffix: str, pending: list[str]) -> Node:
    if isinstance(n, Alt):
        return Alt(tuple(_strip(i, octets, suffix, pending) for i in n.items))
    if isinstance(n, Seq):
        return Seq(tuple(_strip(i, octets, suffix, pending) for i in n.items))
    if isinstance(n, Rep):
        return Rep(n.min, n.max, _strip(n.item, octets, suffix, pending))
    if isinstance(n, Ref):
        pending.append(n.key)
        return Ref(n.key + suffix)
    if isinstance(n, Lit):
        chars = {ord(c) for c in n.text} | {ord(c.swapcase()) for c in n.text}
        if n.sensitive:
            chars = {ord(c) for c in n.text}
        return FAIL if chars & octets else n
    pieces: list[Node] = []
    lo = n.lo
    for o in sorted(x for x in octets if n.lo <= x <= n.hi):
        if lo < o:
            pieces.append(Range(lo, o - 1))
        lo = o + 1
    if lo <= n.hi:
        pieces.append(Range(lo, n.hi))
    return pieces[0] if len(pieces) == 1 else Alt(tuple(pieces))


def _prune(n: Node, dead: set[str]) -> Node:
    if isinstance(n, Alt):
        items = tuple(x for x in (_prune(i, dead) for i in n.items) if x != FAIL)
        return items[0] if len(items) == 1 else Alt(items)
    if isinstance(n, Seq):
        items = tuple(_prune(i, dead) for i in n.items)
        if FAIL in items:
            return FAIL
        items = tuple(i for i in items if i != Seq(()))
        return items[0] if len(items) == 1 else Seq(items)
    if isinstance(n, Rep):
        item = _prune(n.item, dead)
        if item == FAIL:
            return Seq(()) if n.min == 0 else FAIL
        return Rep(n.min, n.max, item)
    if isinstance(n, Ref) and n.key in dead:
        return FAIL
    return n


def octet_set(n: Node) -> frozenset[int] | None:
    """The octets of an exclusion ``*OCTET ( "," / ";" / ... ) *OCTET`` (a value holding any
    of them), or None when ``n`` is not of that shape."""
    if not (isinstance(n, Seq) and len(n.items) == 3):
        return None
    head, mid, tail = n.items
    any_octet = Rep(0, None, Ref("octet"))
    if head != any_octet or tail != any_octet:
        return None
    items = mid.items if isinstance(mid, Alt) else (mid,)
    out: set[int] = set()
    for i in items:
        if isinstance(i, Lit) and len(i.text) == 1 and not i.text.isalpha():
            out.add(ord(i.text))
        elif isinstance(i, Range):
            out.update(range(i.lo, i.hi + 1))
        else:
            return None
    return frozenset(out)
