"""Compile the ABNF in ``grammar/`` into the Lark grammar ``sipfsm/message/_generated/sip.lark``.

Run ``python -m sipfsm.abnf.compile`` to regenerate it (``--check`` fails when the committed
file differs from what the ABNF gives). How the ABNF becomes a parser:

* A rule is *regular* when it does not reach itself through other rules (no recursion);
  RFC 3261's only recursive rule is ``comment`` (section 25.1), so only the header fields
  that use it (Server, User-Agent, Retry-After) are not regular.
* Every regular header-field value becomes one Lark terminal: a single regular expression
  with every rule it uses inlined, matched with ``re.fullmatch``. Header values are unfolded
  before they are matched (RFC 3261 section 7.3.1), so CR and LF cannot occur in them and
  every alternative needing one is pruned (``LWS`` becomes ``1*WSP``).
* To keep matching linear-time, every repetition, option and alternation that is LL(1) in
  its context (its choices are decided by the next character, given the characters that
  can follow it) is emitted possessive or atomic (``*+``, ``(?>...)``): the regex engine
  never backtracks into it, and the language is unchanged.
* Some shapes that are not LL(1) get the same treatment, each keeping the language (each
  made a value of a few hundred octets take seconds: quadratic or exponential time):
  an alternative within another one is dropped (``"q" EQUAL qvalue`` is a generic-param;
  a hostname is a token), ``[x]`` of a nullable x is x, a white-space run before text that
  absorbs white space is possessive, an item that cannot contain what follows it is atomic
  up to that octet (``addr-spec`` before ``">"``), and hostname's labels are taken without
  backtracking (:meth:`Compiler._run_form`).
* RFC 3261 section 20.10 (and 20.20, 20.39): "if the URI contains a comma, question mark or
  semicolon, the URI MUST be enclosed in angle brackets". The plain ABNF lets a bare
  ``addr-spec`` (outside ``<...>``) be an ``absoluteURI`` holding commas and semicolons, so
  in ``contact-param *(COMMA contact-param)`` every comma of a bare URI could end an element
  or not, and every ``;`` after one could be a uri-parameter or a header parameter: a value
  of n elements (or parameters) that fails took 2**n (or n**2) tries. The terminals take the
  rule as written (:meth:`Compiler.restrict`): a bare addr-spec holds no comma and no
  semicolon (the question mark is checked after the match, by ``sipfsm.message.parse``; the header
  fields are listed in ``@angle``). Then a list element (Contact's, P-Asserted-Identity's,
  Via's, ...) holds no comma outside quoted strings and ``<...>``, so every reading of it
  that is followed by COMMA ends before the same comma (a prefix that matches leaves every
  quoted string and ``<...>`` closed, so the comma after it is at top level), and each
  element is taken atomically, ``(?>x(?=COMMA|\\Z))`` (:meth:`Compiler._list_form`,
  :meth:`Compiler.list_element`). The lists whose plain element could hold such a comma are
  listed in ``@comma-split``: at run time they are cut at the top-level commas
  (``sipfsm.message.grammar.top_commas``).
* The rules that are not regular become Lark rules for its LALR parser; maximal regular
  runs inside them become terminals named after their rule.
* REGULAR APPROXIMATION, EXACT UP TO DEPTH D (:data:`UNROLL_DEPTH`, 32, the default
  ``Limits.max_nesting``): each non-regular header field also gets one validation terminal,
  ``<RULE>_UNROLLED`` (``@unrolled`` in the file), in which the recursive rule (``comment``)
  is unrolled D times (:meth:`Compiler.unrolled`): it matches exactly the values whose
  comments nest at most D deep (a value nested deeper does not match), in linear time.
  ``sipfsm.message.parse`` validates with it and keeps the LALR parser for trees and for the
  position of an error. (At the very end of a value it rejects white space after a comment,
  as the LALR parser does; header values are stripped before they are matched.)
* Rule names keep the RFC's spelling, lower-cased with ``-`` as ``_`` (terminals upper-cased).

The header table (canonical name, compact form, value rule, list item) comes from the ABNF
too: every alternative of ``message-header`` (RFC 3261 section 25, extended with ``=/``) is a
rule ``Name = ( "Name" / "c" ) HCOLON value``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sipfsm.abnf.reader import Alt, Grammar, Lit, Node, Range, Ref, Rep, Seq, check, read_abnf

ROOT = Path(__file__).resolve().parents[2]
GRAMMAR_DIR = ROOT / "grammar"
OUTPUT = Path(__file__).resolve().parents[1] / "message" / "_generated" / "sip.lark"
#: Reading order: core rules, RFC 3261, then the extensions (which add with ``=/``).
SOURCES = (
    "core.abnf",
    "rfc3261.abnf",
    "rfc3262.abnf",
    "rfc3581.abnf",
    "rfc3326.abnf",
    "rfc3515.abnf",
    "rfc6665.abnf",
    "rfc4028.abnf",
    "rfc3325.abnf",
)
ROOT_RULE = "SIP-message"
#: Rules the framer matches by themselves: the parts of the start line (RFC 3261 sections
#: 7.1, 7.2), the name and value of an extension header (section 25), and COMMA (lists).
FRAMER_RULES = (
    "Method",
    "Request-URI",
    "SIP-Version",
    "Status-Code",
    "Reason-Phrase",
    "header-name",
    "header-value",
    "COMMA",
)

#: Section 7.3.1 / 20.10: inside a quoted-string (quoted-pairs included) and between LAQUOT
#: and RAQUOT, a comma does not separate the elements of a list (``grammar.top_commas``
#: is the run-time scanner of the same constructs).
NESTED_RULE = "quoted-string"
NESTED_OPEN, NESTED_CLOSE = "laquot", "raquot"
#: Section 20.10, 20.20, 20.39: a URI holding a comma, question mark or semicolon MUST be in
#: angle brackets, so a bare ``addr-spec`` holds no comma or semicolon. (The question mark is
#: checked after the match, by ``sipfsm.message.parse``: ParseError ``uri-needs-angle-brackets``.)
ANGLE_RULE = "addr-spec"
ANGLE_OCTETS = (1 << ord(",")) | (1 << ord(";"))

#: Depth to which the recursive rule is unrolled in the ``@unrolled`` terminals (a regular
#: approximation, exact up to this depth): ``sipfsm.message.parse.Limits.max_nesting``'s default.
UNROLL_DEPTH = 32
#: The recursive rule of RFC 3261 (section 25.1).
RECURSIVE_RULE = "comment"

END = 1 << 256
ALL = (1 << 256) - 1
CR, LF, SP, HT = 0x0D, 0x0A, 0x20, 0x09
WS_MASK = (1 << SP) | (1 << HT)
#: Octets that cannot occur in an unfolded header value or a start line.
PRUNED = (1 << CR) | (1 << LF)


class CompileError(Exception):
    """The ABNF cannot be compiled as asked."""


# ---------------------------------------------------------------------------------------------
# Regular-expression IR: nodes with identity hashing and their FIRST set and nullability.


class IR:
    """A node of the regex IR: ``cls``, ``str``, ``seq``, ``alt``, ``rep``, ``eps``, ``fail``
    or ``atom`` (an atomic group, made only by :meth:`Compiler.unrolled`)."""

    __slots__ = ("ci", "first", "item", "items", "kind", "mask", "max", "min", "nullable", "text")

    def __init__(
        self,
        kind: str,
        *,
        mask: int = 0,
        text: str = "",
        ci: bool = False,
        items: tuple[IR, ...] = (),
        item: IR | None = None,
        lo: int = 0,
        hi: int | None = None,
    ) -> None:
        self.kind = kind
        self.mask = mask
        self.text = text
        self.ci = ci
        self.items = items
        self.item = item
        self.min = lo
        self.max = hi
        if kind == "cls":
            self.first, self.nullable = mask, False
        elif kind == "str":
            self.first, self.nullable = _char_mask(text[0], ci), False
        elif kind == "eps":
            self.first, self.nullable = 0, True
        elif kind == "fail":
            self.first, self.nullable = 0, False
        elif kind == "seq":
            first, nullable = 0, True
            for it in items:
                first |= it.first
                if not it.nullable:
                    nullable = False
                    break
            self.first, self.nullable = first, nullable
        elif kind == "alt":
            self.first = 0
            for it in items:
                self.first |= it.first
            self.nullable = any(it.nullable for it in items)
        elif kind == "rep":
            assert item is not None
            self.first = item.first
            self.nullable = lo == 0 or item.nullable
        elif kind == "atom":  # (?>item): only made by Compiler.unrolled
            assert item is not None
            self.first, self.nullable = item.first, item.nullable
        else:  # pragma: no cover
            raise ValueError(kind)


def _char_mask(ch: str, ci: bool) -> int:
    m = 1 << ord(ch)
    if ci and ch.isascii() and ch.isalpha():
        m |= (1 << ord(ch.lower())) | (1 << ord(ch.upper()))
    return m


EPS = IR("eps")
FAIL = IR("fail")
#: Hash-consing: structurally equal nodes are one object, so sharing is found by identity.
_INTERN: dict[tuple[object, ...], IR] = {}


def _mk(
    kind: str,
    *,
    mask: int = 0,
    text: str = "",
    ci: bool = False,
    items: tuple[IR, ...] = (),
    item: IR | None = None,
    lo: int = 0,
    hi: int | None = None,
) -> IR:
    key = (kind, mask, text, ci, tuple(id(i) for i in items), id(item), lo, hi)
    got = _INTERN.get(key)
    if got is None:
        got = IR(kind, mask=mask, text=text, ci=ci, items=items, item=item, lo=lo, hi=hi)
        _INTERN[key] = got
    return got


def mk_cls(mask: int) -> IR:
    mask &= ALL & ~PRUNED
    return _mk("cls", mask=mask) if mask else FAIL


def mk_str(text: str, ci: bool) -> IR:
    if any((1 << ord(c)) & PRUNED for c in text):
        return FAIL
    if not text:
        return EPS
    if len(text) == 1:
        return mk_cls(_char_mask(text, ci))
    if ci and not any(c.isascii() and c.isalpha() for c in text):
        ci = False
    return _mk("str", text=text, ci=ci)


def mk_seq(items: Iterable[IR]) -> IR:
    out: list[IR] = []
    for it in items:
        if it.kind == "fail":
            return FAIL
        if it.kind == "eps":
            continue
        if it.kind == "seq":
            out.extend(it.items)
        else:
            out.append(it)
    if not out:
        return EPS
    if len(out) == 1:
        return out[0]
    return _mk("seq", items=tuple(out))


def _single_mask(it: IR) -> int | None:
    return it.mask if it.kind == "cls" else None


def mk_alt(items: Iterable[IR]) -> IR:
    flat: list[IR] = []
    for it in items:
        if it.kind == "fail":
            continue
        if it.kind == "alt":
            flat.extend(it.items)
        else:
            flat.append(it)
    # Merge all single-octet alternatives into one class (same language).
    mask = 0
    out: list[IR] = []
    cls_at = -1
    has_eps = False
    for it in flat:
        m = _single_mask(it)
        if m is not None:
            if cls_at < 0:
                cls_at = len(out)
                out.append(FAIL)  # placeholder
            mask |= m
        elif it.kind == "eps":
            has_eps = True
        elif not any(o is it for o in out):
            out.append(it)
    if cls_at >= 0:
        out[cls_at] = mk_cls(mask)
    if has_eps and not any(o.nullable for o in out):  # else one more way to be empty
        out.append(EPS)
    out = [o for o in out if o.kind != "fail"]
    # Drop an alternative that another one, a run of one class, already covers: ``"SIP" /
    # token`` (protocol-name) is token, ``token / host / quoted-string`` (gen-value) is
    # ``token / IPv6reference / quoted-string`` (a hostname or IPv4address is a token). Same
    # language, and the engine no longer tries the same octets both ways when what follows
    # fails: with ``*(SEMI generic-param)``, that was 2**n ways for n parameters.
    runs = [o for o in out if o.kind == "rep" and o.max is None and o.item.kind == "cls"]  # type: ignore[union-attr]
    if runs:
        out = [o for o in out if not _covered(o, runs)]
    if len(out) > 1:
        # The same for any alternative inside another one (``c-p-q = "q" EQUAL qvalue`` is a
        # generic-param): decided on automata, for small alternatives only.
        kept: list[IR] = []
        for i, o in enumerate(out):
            others = kept + out[i + 1 :]
            if any(_included(o, r) for r in others):
                continue
            # ``"received" EQUAL (IPv4address / IPv6address)``: the IPv4 half is a
            # generic-param; keep only the other half.
            if o.kind == "seq" and o.items[-1].kind == "alt":
                halves = [mk_seq([*o.items[:-1], a]) for a in o.items[-1].items]
                rest = [h for h in halves if not any(_included(h, r) for r in others)]
                if len(rest) < len(halves):
                    kept.extend(rest)
                    continue
            kept.append(o)
        out = kept
    if not out:
        return FAIL
    if len(out) == 1:
        return out[0]
    factored = _factor(out)
    if factored is not None:
        return factored
    return _mk("alt", items=tuple(out))


def _covered(o: IR, runs: list[IR]) -> bool:
    """True when the language of ``o`` is within that of one of ``runs`` (``rep(cls C, m,
    None)``): every octet of ``o`` is in C and ``o`` is never shorter than m (m <= 1)."""
    chars = _chars(o)
    return any(
        r is not o
        and not chars & ~r.item.mask  # type: ignore[union-attr]
        and (r.min == 0 or (r.min == 1 and not o.nullable))
        for r in runs
    )


#: Automata bigger than this are not compared (the check is then "not included").
_NFA_LIMIT = 5000
_INCLUDED: dict[tuple[int, int], tuple[IR, IR, bool]] = {}


def _included(a: IR, b: IR) -> bool:
    """True when L(a) is within L(b), decided on their automata (False when they are too big
    to compare, or the exploration too long: keeping an alternative is always correct)."""
    if a is b or a.kind == "eps" or b.kind in ("eps", "cls", "str"):
        return False
    if _chars(a) & ~_chars(b) or a.first & ~b.first or (a.nullable and not b.nullable):
        return False
    key = (id(a), id(b))
    got = _INCLUDED.get(key)
    if got is not None and got[0] is a and got[1] is b:
        return got[2]
    result = _nfa_included(a, b)
    _INCLUDED[key] = (a, b, result)
    return result


class _NFA:
    """Thompson automaton of an IR node: per state, (mask, target) edges and epsilon edges."""

    def __init__(self) -> None:
        self.edges: list[list[tuple[int, int]]] = []
        self.eps: list[list[int]] = []

    def state(self) -> int:
        if len(self.edges) > _NFA_LIMIT:
            raise OverflowError
        self.edges.append([])
        self.eps.append([])
        return len(self.edges) - 1

    def build(self, n: IR, start: int) -> int:
        """Add ``n`` from ``start``; return its end state."""
        k = n.kind
        if k == "cls":
            end = self.state()
            self.edges[start].append((n.mask, end))
            return end
        if k == "str":
            cur = start
            for c in n.text:
                nxt = self.state()
                self.edges[cur].append((_char_mask(c, n.ci), nxt))
                cur = nxt
            return cur
        if k == "eps":
            return start
        if k == "atom":
            assert n.item is not None
            return self.build(n.item, start)
        if k == "fail":
            return self.state()  # unreachable end
        if k == "seq":
            cur = start
            for it in n.items:
                cur = self.build(it, cur)
            return cur
        if k == "alt":
            end = self.state()
            for it in n.items:
                s = self.state()
                self.eps[start].append(s)
                self.eps[self.build(it, s)].append(end)
            return end
        if k == "rep":
            assert n.item is not None
            cur = start
            for _ in range(n.min):
                cur = self.build(n.item, cur)
            if n.max is None:
                loop = self.state()
                self.eps[cur].append(loop)
                self.eps[self.build(n.item, loop)].append(loop)
                return loop
            end = self.state()
            self.eps[cur].append(end)
            for _ in range(n.max - n.min):
                cur = self.build(n.item, cur)
                self.eps[cur].append(end)
            return end
        raise AssertionError(k)  # pragma: no cover

    def closure(self, states: frozenset[int]) -> frozenset[int]:
        out = set(states)
        stack = list(states)
        while stack:
            for t in self.eps[stack.pop()]:
                if t not in out:
                    out.add(t)
                    stack.append(t)
        return frozenset(out)

    def step(self, states: frozenset[int], c: int) -> frozenset[int]:
        bit = 1 << c
        return self.closure(frozenset(t for s in states for m, t in self.edges[s] if m & bit))


_NFAS: dict[int, tuple[IR, _NFA | None, int]] = {}


def _nfa(n: IR) -> tuple[_NFA, int] | None:
    """The automaton of ``n`` (start state 0) and its accepting state; None if too big."""
    got = _NFAS.get(id(n))
    if got is None or got[0] is not n:
        nfa: _NFA | None = _NFA()
        assert nfa is not None
        try:
            end = nfa.build(n, nfa.state())
        except OverflowError:
            nfa, end = None, -1
        got = _NFAS[id(n)] = (n, nfa, end)
    return None if got[1] is None else (got[1], got[2])


def _nfa_included(a: IR, b: IR) -> bool:
    got_a, got_b = _nfa(a), _nfa(b)
    if got_a is None or got_b is None:
        return False
    (na, ea), (nb, eb) = got_a, got_b
    sa = sb = 0
    # Octets that no edge tells apart are one class: one representative each.
    masks = {m for es in na.edges + nb.edges for m, _ in es}
    reps: dict[tuple[bool, ...], int] = {}
    for c in range(256):
        reps.setdefault(tuple(bool(m >> c & 1) for m in masks), c)
    chars = list(reps.values())
    start = (na.closure(frozenset([sa])), nb.closure(frozenset([sb])))
    seen = {start}
    todo = [start]
    while todo:
        xa, xb = todo.pop()
        if ea in xa and eb not in xb:
            return False
        for c in chars:
            ya = na.step(xa, c)
            if not ya:
                continue
            pair = (ya, nb.step(xb, c))
            if pair not in seen:
                if len(seen) > 4000:
                    return False
                seen.add(pair)
                todo.append(pair)
    return True


def _parts_alt(n: IR) -> tuple[IR, ...]:
    return n.items if n.kind == "alt" else (n,)


def _parts(n: IR) -> tuple[IR, ...]:
    return n.items if n.kind == "seq" else (n,)


def _factor(alts: list[IR]) -> IR | None:
    """Factor a common first (or last) element out of alternatives: same language, smaller
    and more often LL(1) (``a / a b`` becomes ``a [b]``)."""
    for end in (0, -1):
        for i, a in enumerate(alts):
            pa = _parts(a)
            if a.kind == "eps":
                continue
            same = [
                j
                for j in range(i + 1, len(alts))
                if alts[j].kind != "eps" and _parts(alts[j])[end] is pa[end]
            ]
            if not same:
                continue
            group = [a] + [alts[j] for j in same]
            if end == 0:
                rest = mk_alt(mk_seq(_parts(g)[1:]) for g in group)
                merged = mk_seq([pa[0], rest])
            else:
                rest = mk_alt(mk_seq(_parts(g)[:-1]) for g in group)
                merged = mk_seq([rest, pa[-1]])
            others = [alts[k] for k in range(len(alts)) if k != i and k not in same]
            return mk_alt([merged, *others]) if others else merged
    return None


def mk_rep(lo: int, hi: int | None, item: IR) -> IR:
    if hi is not None and hi == 0:
        return EPS
    if item.kind == "fail":
        return EPS if lo == 0 else FAIL
    if item.kind == "eps":
        return EPS
    if lo == 1 and hi == 1:
        return item
    if lo == 0 and hi == 1 and item.nullable:
        # [x] is x when x matches the empty string (``[ display-name ]``): one way to be
        # empty, not two (with a list of n such items, 2**n ways to fail).
        return item
    if hi is None and item.kind == "alt":
        # Inside an unbounded loop, an alternative "1*x" (or "*x") is the same as "x".
        changed = False
        new: list[IR] = []
        for a in item.items:
            if a.kind == "rep" and a.max is None and a.min <= 1 and a.item is not None:
                new.append(a.item)
                changed = True
            elif a.kind == "eps":
                changed = True
            else:
                new.append(a)
        if changed:
            return mk_rep(lo, hi, mk_alt(new))
    if item.kind == "rep" and item.item is not None:
        inner = item.item
        # [1*x] and *(1*x) and *(*x) are *x; 1*(1*x) is 1*x.
        if item.max is None and item.min <= 1 and lo <= 1 and (hi is None or hi == 1):
            if lo == 0 or (item.min == 1 and hi is None):
                return mk_rep(min(lo, item.min) if hi is None else 0, None, inner)
            if lo == 1 and hi == 1:
                return item
    return _mk("rep", item=item, lo=lo, hi=hi)


# ---------------------------------------------------------------------------------------------
# Regularity and AST -> IR.


def nonregular_rules(grammar: Grammar) -> set[str]:
    """Rules that are recursive or use a recursive rule (lower-cased names)."""
    from sipfsm.abnf.reader import refs

    graph = {k: refs(r.body) & grammar.rules.keys() for k, r in grammar.rules.items()}
    # Rules on a cycle: k reaches itself.
    cyclic: set[str] = set()
    for k in graph:
        seen: set[str] = set()
        stack = list(graph[k])
        while stack:
            n = stack.pop()
            if n == k:
                cyclic.add(k)
                break
            if n in seen:
                continue
            seen.add(n)
            stack.extend(graph[n])
    out = set(cyclic)
    changed = True
    while changed:
        changed = False
        for k, deps in graph.items():
            if k not in out and deps & out:
                out.add(k)
                changed = True
    return out


class Compiler:
    """Turns a checked :class:`Grammar` into regexes and Lark text."""

    def __init__(self, grammar: Grammar, *, atomic: bool = True) -> None:
        check(grammar)
        self.g = grammar
        #: False emits plain regexes (no possessive or atomic constructs): the same language,
        #: used by the tests to check the optimisation changes nothing.
        self.atomic = atomic
        self.nonregular = nonregular_rules(grammar)
        self._ir: dict[str, IR] = {}
        self._det: dict[tuple[int, int], bool] = {}
        self._absorb: dict[tuple[int, bool], bool] = {}
        self._keep: list[IR] = []
        self._top: dict[tuple[str, int, bool], IR] = {}
        #: List elements holding no top-level separator (id -> (element, separator octets)):
        #: taken atomically in a list (:meth:`_list_form`).
        self.top_free: dict[int, tuple[IR, int]] = {}

    # -- AST to IR ------------------------------------------------------------------------
    def ir(self, node: Node) -> IR:
        if isinstance(node, Ref):
            return self.rule_ir(node.key)
        if isinstance(node, Lit):
            return mk_str(node.text, not node.case_sensitive)
        if isinstance(node, Range):
            if node.hi > 255:
                raise CompileError(f"%x{node.hi:X} is beyond one octet")
            mask = ((1 << (node.hi + 1)) - 1) & ~((1 << node.lo) - 1)
            return mk_cls(mask)
        if isinstance(node, Seq):
            return mk_seq(self.ir(i) for i in node.items)
        if isinstance(node, Alt):
            return mk_alt(self.ir(i) for i in node.items)
        if isinstance(node, Rep):
            return mk_rep(node.min, node.max, self.ir(node.item))
        raise CompileError(f"cannot compile {node!r}")  # pragma: no cover

    def rule_ir(self, key: str) -> IR:
        key = key.lower()
        if key in self.nonregular:
            raise CompileError(f"rule {self.g.rules[key].name} is not regular")
        if key not in self._ir:
            self._ir[key] = self.ir(self.g.rules[key].body)
        return self._ir[key]

    # -- section 20.10: bare URIs, and no comma outside quoted strings and <...> -----------
    def restrict(self, node: Node, octets: int = 0, angle: bool = True) -> IR:
        """The IR of ``node`` with its strings restricted as follows; hash-consing makes the
        result the very node of ``node`` when nothing changed.

        * ``octets``: no octet of them at *top level*, outside every ``quoted-string`` and
          every ``LAQUOT ... RAQUOT`` (they are removed from each class and literal met
          elsewhere).
        * ``angle``: RFC 3261 section 20.10 (and 20.20, 20.39): an ``addr-spec`` outside
          ``LAQUOT ... RAQUOT`` (a *bare* URI) holds none of :data:`ANGLE_OCTETS`; "if the
          URI contains a comma, question mark or semicolon, the URI MUST be enclosed in
          angle brackets". So a semicolon after a bare URI starts a header parameter and a
          comma separates list elements: one reading of each, where the plain ABNF has
          several (a quadratic or exponential number of tries on a value that fails).
        """
        if isinstance(node, Ref):
            key = node.key
            if key == NESTED_RULE:
                return self.ir(node)
            if key in self.nonregular:
                raise CompileError(f"rule {self.g.rules[key].name} is not regular")
            if angle and key == ANGLE_RULE:
                octets |= ANGLE_OCTETS
                angle = False
            got = self._top.get((key, octets, angle))
            if got is None:
                body = self.g.rules[key].body
                got = self._top[(key, octets, angle)] = self.restrict(body, octets, angle)
            return got
        if isinstance(node, Lit):
            if any(_char_mask(c, not node.case_sensitive) & octets for c in node.text):
                return FAIL
            return self.ir(node)
        if isinstance(node, Range):
            plain = self.ir(node)
            return mk_cls(plain.mask & ~octets) if plain.kind == "cls" else plain
        if isinstance(node, Seq):
            out: list[IR] = []
            inside = False
            for it in node.items:
                if isinstance(it, Ref) and it.key in (NESTED_OPEN, NESTED_CLOSE):
                    inside = it.key == NESTED_OPEN
                    out.append(self.ir(it))
                else:
                    out.append(self.ir(it) if inside else self.restrict(it, octets, angle))
            return mk_seq(out)
        if isinstance(node, Alt):
            return mk_alt(self.restrict(i, octets, angle) for i in node.items)
        if isinstance(node, Rep):
            return mk_rep(node.min, node.max, self.restrict(node.item, octets, angle))
        raise CompileError(f"cannot compile {node!r}")  # pragma: no cover

    def list_element(self, item: str, sep: IR) -> tuple[IR, bool]:
        """The element of a list ``item *(sep item)`` under section 20.10, and whether the
        plain ABNF let it hold a separator octet at top level (a bare absoluteURI with a
        comma: then the run-time scanner ``_grammar.top_commas`` cuts the list).

        An element that holds no separator octet at top level, and no octet that opens or
        closes a nested construct there (the run-time scanner's and the proof's notion of
        top level agree), is registered to be taken atomically in the list
        (:meth:`_list_form`). Raises CompileError when the plain element could hold a top-level
        separator yet is not registrable."""
        octets = _chars(sep) & ~WS_MASK & ALL
        delims = (1 << ord('"')) | (1 << ord("<")) | (1 << ord(">"))
        element = self.restrict(Ref(item))
        split = self.restrict(Ref(item), octets, False) is not self.rule_ir(item)
        ok = self.restrict(Ref(item), octets | delims) is element and not element.nullable
        inner = self.rule_ir(ANGLE_RULE) if ANGLE_RULE in self.g.rules else EPS
        ok = ok and not _chars(inner) & (1 << ord(">"))  # the scanner skips to the first ">"
        if ok:
            self.top_free[id(element)] = (element, octets)
        elif split:
            raise CompileError(f"{item}: a top-level comma, and quotes or <> the scanner misreads")
        return element, split

    def unrolled(self, node: Node, key: str, depth: int) -> IR:
        """REGULAR APPROXIMATION of the non-regular ``node``: the IR of ``node`` with the
        recursive rule ``key`` (``comment``) unrolled ``depth`` times, i.e. exact for nesting
        up to ``depth`` (a ``comment`` nested deeper does not match). Every copy of ``key`` is
        an atomic group ``(?>...)`` tried before the other alternatives around it, without the
        trailing white space of its body (``RPAREN``'s last ``SWS``), which is checked here
        to be what the rule looks like:

        * ``key = OPEN *(A / key) CLOSE-WS`` where OPEN ends with an opening octet and CLOSE
          with a closing one, with which no string of A starts, ``*A`` is LL(1) before them
          (so A reads a text one way only: a quoted-pair ``\\(`` is never a parenthesis), A
          takes any white space octet (``ctext`` holds ``LWS``) and ``key`` starts with
          white space or the opening octet.
        * A copy (without trailing white space) has one end wherever it matches: after the
          closing octet that balances its opening one (A reads neither), so taking its
          first match for good loses nothing. Where it starts with white space, A could read the
          white space instead, but then the next octet is the opening one, which only a copy
          can read, to the same end.
        * The trailing white space dropped is read by what follows a copy: A (inside a
          copy), ``LWS`` (between Server and User-Agent's server-vals) or ``SEMI``
          (Retry-After's retry-params). At the very end of a value (and only there) the
          approximation rejects white space after a comment, as the LALR parser does;
          header values are stripped of their surrounding white space before they are
          matched (RFC 3261 section 7.3.1), so it never sees one.

        Each octet is then read a bounded number of times per nesting level: matching is
        linear for a fixed ``depth``.
        """
        key = key.lower()
        body = self.g.rules[key].body
        cur = FAIL
        for _ in range(depth):
            cur = _mk("atom", item=self._unroll_step(body, key, cur))
        return self._subst(node, key, cur)

    def _unroll_step(self, body: Node, key: str, inner: IR) -> IR:
        step = self._subst(body, key, inner)
        if step.kind != "seq" or len(step.items) < 3:
            raise CompileError(f"{key}: cannot unroll {step.kind}")
        last = step.items[-1]
        ws_tail = last.kind == "rep" and last.min == 0 and last.item is not None
        if ws_tail and last.item.kind == "cls" and not last.item.mask & ~WS_MASK:  # type: ignore[union-attr]
            step = mk_seq(step.items[:-1])
        loops = [
            it
            for it in step.items
            if it.kind == "rep"
            and it.item is not None
            and not (it.item.kind == "cls" and not it.item.mask & ~WS_MASK)
        ]
        if len(loops) != 1 or loops[0].max is not None or loops[0].item is None:
            raise CompileError(f"{key}: expected OPEN *(A / {key}) CLOSE")
        loop = loops[0].item
        i = step.items.index(loops[0])
        opens = [it.mask for it in step.items[:i] if it.kind == "cls" and it.mask & ~WS_MASK]
        open_oct = opens[-1] if opens else 0
        close = mk_seq(step.items[i + 1 :])
        close_oct = close.items[-1].mask if close.kind == "seq" else close.mask
        others = mk_alt(a for a in _parts_alt(loop) if a is not inner)
        if (
            not open_oct
            or not close_oct
            or others.first & (open_oct | close_oct)
            or not self.det(mk_rep(0, None, others), open_oct | close_oct)
            or WS_MASK & ~others.first
            or (inner.kind != "fail" and inner.first & ~(WS_MASK | open_oct))
        ):
            raise CompileError(f"{key}: not of the shape Compiler.unrolled expects")
        return step

    def _subst(self, node: Node, key: str, repl: IR) -> IR:
        """The IR of ``node`` with rule ``key`` read as ``repl``, through the other
        non-regular rules (``server-val``) too."""
        if isinstance(node, Ref):
            if node.key == key:
                return repl
            if node.key in self.nonregular:
                return self._subst(self.g.rules[node.key].body, key, repl)
            return self.ir(node)
        if isinstance(node, Seq):
            return mk_seq(self._subst(i, key, repl) for i in node.items)
        if isinstance(node, Alt):
            return mk_alt(self._subst(i, key, repl) for i in node.items)
        if isinstance(node, Rep):
            return mk_rep(node.min, node.max, self._subst(node.item, key, repl))
        return self.ir(node)

    def ir_with(self, node: Node, key: str, repl: IR) -> IR:
        """The IR of ``node`` with every reference to rule ``key`` read as ``repl``."""
        if isinstance(node, Ref):
            return repl if node.key == key.lower() else self.ir(node)
        if isinstance(node, Seq):
            return mk_seq(self.ir_with(i, key, repl) for i in node.items)
        if isinstance(node, Alt):
            return mk_alt(self.ir_with(i, key, repl) for i in node.items)
        if isinstance(node, Rep):
            return mk_rep(node.min, node.max, self.ir_with(node.item, key, repl))
        return self.ir(node)

    # -- determinism (LL(1) in context) -----------------------------------------------------
    def det(self, n: IR, follow: int) -> bool:
        key = (id(n), follow)
        got = self._det.get(key)
        if got is not None:
            return got
        self._keep.append(n)
        result = self._det_uncached(n, follow)
        self._det[key] = result
        return result

    def _det_uncached(self, n: IR, follow: int) -> bool:
        k = n.kind
        if k in ("cls", "str", "eps", "fail"):
            return True
        if k == "atom":
            assert n.item is not None
            return self.det(n.item, follow)
        if k == "seq":
            items = n.items
            return all(self.det(it, _follow_of(items, i, follow)) for i, it in enumerate(items))
        if k == "alt":
            seen = 0
            for it in n.items:
                predict = it.first | (follow if it.nullable else 0)
                if predict & seen:
                    return False
                seen |= predict
                if not self.det(it, follow):
                    return False
            return True
        if k == "rep":
            item = n.item
            assert item is not None
            if item.nullable:
                return False
            more = n.max is None or n.max > 1
            inner_follow = follow | (item.first if more else 0)
            if (n.max is None or n.max > n.min) and item.first & follow:
                return False
            return self.det(item, inner_follow)
        raise AssertionError(k)  # pragma: no cover

    # -- emission ---------------------------------------------------------------------------
    def emit(self, n: IR, follow: int = END, lalr: bool = False, ws: bool | None = None) -> str:
        """The regex for ``n`` when ``follow`` (a mask, END for end of input) may follow it;
        ``ws``: what follows is white-space absorbing (:meth:`absorbs`; true at the end)."""
        return self._emit(n, follow, lalr, follow == END if ws is None else ws)

    # -- white space --------------------------------------------------------------------------
    def absorbs(self, n: IR, cont: bool) -> bool:
        """Whether ``L(n)`` followed by a language K is *white-space absorbing*, given whether
        K is (``cont``): every string of it that starts with SP or HTAB, stripped of its
        leading SP and HTAB, is still one of its strings (``SWS ";" ...`` is; ``1*WSP x`` is
        not). Where what follows a run of white space absorbs white space, taking the run
        whole (possessively) is the same language: this is what keeps ``">" SWS`` followed
        by ``*(SEMI param)`` from retrying every split of a long run of spaces (quadratic
        time). Conservative: False when unsure."""
        key = (id(n), cont)
        got = self._absorb.get(key)
        if got is None:
            self._keep.append(n)
            got = self._absorb[key] = self._absorbs(n, cont)
        return got

    def _absorbs(self, n: IR, cont: bool) -> bool:
        if not n.first & WS_MASK:  # no string starts with white space
            return cont if n.nullable else True
        k = n.kind
        if k == "atom":  # the same language as its item
            assert n.item is not None
            return self.absorbs(n.item, cont)
        if k == "seq":
            c = cont
            for it in reversed(n.items):
                c = self.absorbs(it, c)
            return c
        if k == "alt":
            return all(self.absorbs(a, cont) for a in n.items)
        if k == "rep":
            item = n.item
            assert item is not None
            if item.kind == "cls" and not item.mask & ~WS_MASK:
                return n.min == 0 and cont
            if item.nullable:
                return False
            # Each string is K or starts with an item; after an item come more items, then K
            # (assumed absorbing while deciding: an item cannot be all white space here).
            return cont and self.absorbs(item, True)
        return False  # a class or literal starting with white space

    def _emit(self, n: IR, follow: int, lalr: bool, ws: bool = False) -> str:
        k = n.kind
        if k == "cls":
            return _cls(n.mask)
        if k == "str":
            text = "".join(_esc(c) for c in n.text)
            return f"(?i:{text})" if n.ci else text
        if k == "eps":
            return ""
        if k == "fail":
            return "(?!)"
        if k == "seq":
            lst = self._list_form(n, follow, lalr)
            if lst is not None:
                return lst
            parts = []
            items = n.items
            i = 0
            after_ws = [ws] * (len(items) + 1)  # after_ws[i]: what follows items[i] absorbs
            for j in range(len(items) - 1, 0, -1):
                after_ws[j - 1] = self.absorbs(items[j], after_ws[j])
            while i < len(items):
                run = None if lalr or not self.atomic else self._run_form(items, i, follow)
                if run is not None:
                    parts.append(run[0])
                    i += run[1]
                    continue
                it = items[i]
                fol = _follow_of(items, i, follow)
                s = self._emit(it, fol, lalr, after_ws[i])
                if it.kind == "alt" and not s.startswith("(?"):
                    s = f"(?:{s})"
                if not lalr and self.atomic:
                    s = self._delimited(it, fol, s)
                parts.append(s)
                i += 1
            return "".join(parts)
        if k == "atom":
            assert n.item is not None
            if not self.atomic:
                return self._emit(n.item, follow, lalr, ws)
            return self._emit_copy(n.item, lalr)
        if k == "alt":
            det = self.atomic and self.det(n, follow)
            alts = [a for a in n.items if not a.nullable] + [a for a in n.items if a.nullable]
            if self.atomic and not lalr and any(a.kind == "atom" for a in alts):
                # An unrolled recursive rule (Compiler.unrolled) is tried last, and the
                # choice is made for good: where a copy matches it has one end, and reading
                # its leading white space otherwise leads to the same end (see unrolled).
                alts = [a for a in alts if a.kind != "atom"] + [a for a in alts if a.kind == "atom"]
                det = True
            optional = False
            body = []
            for a in alts:
                if a.kind == "eps":
                    optional = True
                    continue
                body.append(self._emit(a, follow, lalr, ws))
            inner = "|".join(body)
            if optional:
                return f"(?:{inner})" + ("?+" if det and not lalr else "?")
            return f"(?>{inner})" if det and not lalr else f"(?:{inner})"
        if k == "rep":
            item = n.item
            assert item is not None
            more = n.max is None or n.max > 1
            inner_follow = follow | (item.first if more else 0)
            inner_ws = ws and (not more or self.absorbs(item, True))
            s = self._emit(item, inner_follow, lalr, inner_ws)
            if not (item.kind == "cls" or (item.kind == "str" and len(item.text) == 1)):
                s = s if _is_group(s) else f"(?:{s})"
            q = _quant(n.min, n.max)
            if lalr:
                if n.min == 0 and item.kind == "cls" and not item.mask & ~WS_MASK:
                    return s + q + "?"
                return s + q
            if self.atomic and n.max != n.min and self.det(n, follow):
                return s + q + "+"
            ws_run = item.kind == "cls" and not item.mask & ~WS_MASK
            if self.atomic and n.max != n.min and ws and ws_run:  # before absorbing text
                return s + q + "+"
            return s + q
        raise AssertionError(k)  # pragma: no cover

    def _emit_copy(self, n: IR, lalr: bool) -> str:
        """One copy of an unrolled recursive rule (:meth:`unrolled`): ``OPEN *(A / copy)
        CLOSE`` as an atomic group whose repetitions are all possessive and whose
        alternation is atomic. Same language: A reads a text one way only, white space is
        read by A as well as by the white space around OPEN and CLOSE (so each run of it
        taken whole leaves what follows matched the same), and the loop stops only at an
        octet that neither A nor a copy starts with (CLOSE's, or one that fails)."""
        parts: list[str] = []
        for it in _parts(n):
            if it.kind == "rep" and it.item is not None and it.max is None:
                body = it.item
                if body.kind == "cls":
                    inner = _cls(body.mask)
                else:
                    inner = self._emit(body, ALL, lalr)
                    inner = inner if inner.startswith("(?>") else f"(?>{inner})"
                parts.append(inner + _quant(it.min, it.max) + "+")
            else:
                parts.append(self._emit(it, ALL, lalr))
        return "(?>" + "".join(parts) + ")"

    def _delimited(self, n: IR, follow: int, s: str) -> str:
        """``(?>s(?=F|\\Z))`` for an item that is not LL(1) but cannot contain any octet F
        that may follow it (``addr-spec`` before ``">"``): every reading of it that is
        followed by F (or the end) ends at the same place, the first octet of F, so the
        first one found is as good as any and the engine need not try the others when what
        follows fails (with a list of n such items, 2**n readings)."""
        if n.nullable or n.kind in ("cls", "str") or _chars(n) & follow & ALL:
            return s
        if self.det(n, follow):
            return s
        ahead = _cls(follow & ALL) if follow & ALL else ""
        if follow & END:
            ahead = f"{ahead}|\\Z" if ahead else "\\Z"
        if not ahead:
            return s
        return f"(?>{s}(?={ahead}))"

    def _run_form(self, items: tuple[IR, ...], i: int, follow: int) -> tuple[str, int] | None:
        """Two shapes that are not LL(1) but need no backtracking, emitted at ``items[i]``;
        returns (regex, items used) or None. Both are hostname's (RFC 3261 section 25:
        ``*( domainlabel "." ) toplabel [ "." ]``, a label ending in ``alphanum``), where
        backtracking costs time in proportion to the length of the name for every position
        the engine retries (tens of milliseconds on a 60 KiB value).

        * ``*Y Z`` (classes, Z within Y) followed by something that cannot be in Y: a run of
          Y ending in Z, i.e. ``Y++(?<=Z)``. The run must be maximal (what follows is not in
          Y), so taking it whole and checking its last octet is the same language.
        * ``*(P S) T [S]`` with S one class that neither P nor T can contain, and the octets
          that may follow it not in P or able to start P or T: ``(?:P S(?=[P T]))*+ T [S]``,
          i.e. an element and its separator are taken when another element starts after it.
          P stops at the S after it (P cannot hold S or any octet of what follows), so the
          elements are the same as any match of the original would take.
        """
        it = items[i]
        if it.kind != "rep" or it.min != 0 or it.max is not None or it.item is None:
            return None
        body = it.item
        if body.kind == "cls":
            if i + 1 >= len(items) or items[i + 1].kind != "cls":
                return None
            z = items[i + 1]
            if z.mask & ~body.mask or _follow_of(items, i + 1, follow) & body.mask:
                return None
            return f"{_cls(body.mask)}++(?<={_cls(z.mask)})", 2
        if body.kind != "seq" or i + 1 >= len(items) or body.items[-1].kind != "cls":
            return None
        sep = body.items[-1]
        p = mk_seq(body.items[:-1])
        # T runs to an optional S, or to the end (sequences are flattened: T is several items).
        j = i + 1
        while j < len(items) and not (
            items[j].kind == "rep"
            and items[j].min == 0
            and items[j].max == 1
            and items[j].item is sep
        ):
            j += 1
        t = mk_seq(items[i + 1 : j])
        used = j - i + (1 if j < len(items) else 0)
        after = _follow_of(items, i + used - 1, follow)
        starts = p.first | t.first
        if p.nullable or t.nullable or (_chars(p) | _chars(t)) & sep.mask:
            return None
        if (starts | _chars(p)) & after or (j == len(items) and sep.mask & after):
            return None
        ps = self._emit(p, sep.mask, False)
        if not _is_group(ps):
            ps = f"(?:{ps})"
        out = f"(?:{ps}{_cls(sep.mask)}(?={_cls(starts)}))*+"
        out += self._emit(mk_seq(items[i + 1 : i + used]), after, False)
        return out, used

    def _list_form(self, n: IR, follow: int, lalr: bool) -> str | None:
        """``x *(SEP x)`` at the end of the input is ``(?:x(?:SEP(?!\\Z)|\\Z))+``: the same
        language with one copy of ``x`` instead of two."""
        if lalr or not self.atomic or follow != END or len(n.items) < 2:
            return None
        rep = n.items[-1]
        if rep.kind != "rep" or rep.min != 0 or rep.max is not None or rep.item is None:
            return None
        body = rep.item
        # Sequences are flattened: when x is itself a sequence (``contact-param`` is
        # ``(name-addr / addr-spec) *(SEMI contact-params)``), its items end both n's prefix
        # and the loop's body.
        head = n.items[:-1]
        k = len(head)
        if body.kind != "seq" or len(body.items) <= k:
            return None
        if any(a is not b for a, b in zip(body.items[-k:], head, strict=True)):
            return None
        x = mk_seq(head)
        if x.nullable:
            return None
        sep = mk_seq(body.items[:-k])
        if sep.nullable:
            return None
        xs = self._emit(x, sep.first | END, lalr, self.absorbs(sep, True))
        ss = self._emit(sep, x.first, lalr, self.absorbs(x, True))
        top = self.top_free.get(id(x))
        if top is not None and top[0] is x and not _chars(sep) & ~WS_MASK & ~top[1]:
            # Section 20.10 (see top_level_list): every reading of x followed by a separator
            # ends before the same separator, so the first one found is taken for good.
            xs = f"(?>{xs}(?={ss}|\\Z))"
        return f"(?:{xs}(?:{ss}(?!\\Z)|\\Z))+"

    def rule_regex(
        self, name: str, follow: int = END, lalr: bool = False, ws: bool | None = None
    ) -> str:
        return self.emit(self.rule_ir(name), follow, lalr, ws)


_CHARS: dict[int, tuple[IR, int]] = {}


def _chars(n: IR) -> int:
    """Every octet that can occur in a string of ``n``."""
    got = _CHARS.get(id(n))
    if got is not None and got[0] is n:
        return got[1]
    k = n.kind
    if k == "cls":
        mask = n.mask
    elif k == "str":
        mask = 0
        for c in n.text:
            mask |= _char_mask(c, n.ci)
    elif k in ("seq", "alt"):
        mask = 0
        for it in n.items:
            mask |= _chars(it)
    elif k in ("rep", "atom"):
        assert n.item is not None
        mask = _chars(n.item)
    else:
        mask = 0
    _CHARS[id(n)] = (n, mask)
    return mask


def _follow_of(items: tuple[IR, ...], i: int, follow: int) -> int:
    f = 0
    for it in items[i + 1 :]:
        f |= it.first
        if not it.nullable:
            return f
    return f | follow


def _is_group(s: str) -> bool:
    """True when ``s`` is one parenthesised group (so a quantifier applies to all of it)."""
    if not s.startswith("(") or not s.endswith(")"):
        return False
    depth = 0
    i = 0
    in_class = False
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0 and i != len(s) - 1:
                return False
        i += 1
    return True


def _quant(lo: int, hi: int | None) -> str:
    if hi is None:
        return "*" if lo == 0 else "+" if lo == 1 else f"{{{lo},}}"
    if lo == 0 and hi == 1:
        return "?"
    if lo == hi:
        return f"{{{lo}}}"
    return f"{{{lo},{hi}}}"


_PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _esc(c: str) -> str:
    """One octet, escaped so that the text means the same to ``re`` inside and outside a
    class, and inside a Lark ``/.../`` (Lark evaluates ``\\xNN`` escapes itself, so
    punctuation is escaped with a backslash and never as ``\\xNN``)."""
    if c in _PLAIN:
        return c
    o = ord(c)
    if 0x20 <= o < 0x7F:
        return "\\" + c
    return f"\\x{o:02x}"


def _cls(mask: int) -> str:
    ranges: list[tuple[int, int]] = []
    i = 0
    while i < 256:
        if mask >> i & 1:
            j = i
            while j + 1 < 256 and mask >> (j + 1) & 1:
                j += 1
            ranges.append((i, j))
            i = j + 1
        else:
            i += 1
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _esc(chr(ranges[0][0]))
    parts = []
    for lo, hi in ranges:
        if lo == hi:
            parts.append(_esc(chr(lo)))
        elif hi == lo + 1:
            parts.append(_esc(chr(lo)) + _esc(chr(hi)))
        else:
            parts.append(f"{_esc(chr(lo))}-{_esc(chr(hi))}")
    return "[" + "".join(parts) + "]"


# ---------------------------------------------------------------------------------------------
# Header table.


@dataclass
class HeaderSpec:
    """One header field: its rule, names, and how its value is compiled."""

    rule: str
    """The ABNF rule as written (``Via``)."""
    names: tuple[str, ...]
    """Long name first, then the compact form if any (RFC 3261 section 7.3.3)."""
    value: Node
    """What follows ``HCOLON``."""
    item: str | None
    """For ``x *(COMMA x)`` lists, the rule of one element."""


def lark_name(rule: str) -> str:
    return rule.lower().replace("-", "_")


def _names(node: Node) -> tuple[str, ...] | None:
    if isinstance(node, Lit):
        return (node.text,)
    if isinstance(node, Alt):
        out: list[str] = []
        for it in node.items:
            got = _names(it)
            if got is None:
                return None
            out.extend(got)
        return tuple(out)
    return None


def _list_item(value: Node) -> str | None:
    """``x *(COMMA x)`` or ``[ x *(COMMA x) ]`` (or one alternative of that) -> x's rule."""
    if isinstance(value, Alt):
        for alt in value.items:
            got = _list_item(alt)
            if got is not None:
                return got
        return None
    if isinstance(value, Rep) and value.min == 0 and value.max == 1:
        value = value.item
    if (
        isinstance(value, Seq)
        and len(value.items) == 2
        and isinstance(value.items[0], Ref)
        and isinstance(value.items[1], Rep)
    ):
        first, rest = value.items
        assert isinstance(first, Ref) and isinstance(rest, Rep)
        body = rest.item
        if (
            rest.min == 0
            and rest.max is None
            and isinstance(body, Seq)
            and len(body.items) == 2
            and isinstance(body.items[0], Ref)
            and body.items[0].key == "comma"
            and isinstance(body.items[1], Ref)
            and body.items[1].key == first.key
        ):
            return first.name
    return None


def header_specs(grammar: Grammar) -> list[HeaderSpec]:
    """Every header field of ``message-header``, with its names and value rule."""
    mh = grammar.rules["message-header"].body
    found: list[str] = []

    def walk(n: Node) -> None:
        if isinstance(n, Ref):
            if n.key not in ("crlf", "extension-header"):
                found.append(n.name)
        elif isinstance(n, Alt | Seq):
            for it in n.items:
                walk(it)
        else:
            raise CompileError(f"message-header: unexpected {n!r}")

    walk(mh)
    specs: list[HeaderSpec] = []
    for name in found:
        rule = grammar.rules[name.lower()]
        body = rule.body
        if not (isinstance(body, Seq) and len(body.items) >= 3):
            raise CompileError(f"{rule.name}: expected  Name HCOLON value")
        names = _names(body.items[0])
        hcolon = body.items[1]
        if names is None or not (isinstance(hcolon, Ref) and hcolon.key == "hcolon"):
            raise CompileError(f"{rule.name}: expected  Name HCOLON value")
        rest = body.items[2:]
        value: Node = rest[0] if len(rest) == 1 else Seq(tuple(rest))
        specs.append(HeaderSpec(rule.name, names, value, _list_item(value)))
    return specs


# ---------------------------------------------------------------------------------------------
# Lark text.


class LarkEmitter:
    """Builds the text of ``sip.lark``."""

    def __init__(self, comp: Compiler) -> None:
        self.c = comp
        self.terminals: dict[str, str] = {}
        self.rules: dict[str, str] = {}
        self._pending: list[str] = []
        self._anon = 0

    def terminal(self, name: str, regex: str) -> str:
        tname = name.upper().replace("-", "_")
        old = self.terminals.get(tname)
        if old is not None and old != regex:
            raise CompileError(f"terminal {tname} would have two definitions")
        self.terminals[tname] = regex
        return tname

    def _regular(self, node: Node) -> bool:
        from sipfsm.abnf.reader import refs

        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, Ref):
                if n.key in self.c.nonregular:
                    return False
            elif isinstance(n, Alt | Seq):
                stack.extend(n.items)
            elif isinstance(n, Rep):
                stack.append(n.item)
        del refs
        return True

    def _term_for(self, node: Node, owner: str) -> str:
        ir = self.c.ir(node)
        regex = self.c.emit(ir, ALL | END, lalr=True)
        if isinstance(node, Ref):
            return self.terminal(node.name, regex)
        self._anon += 1
        return self.terminal(f"{owner}_T{self._anon}", regex)

    def conv(self, node: Node, owner: str) -> str:
        """Lark EBNF for ``node`` inside the non-regular rule ``owner``."""
        if self._regular(node):
            if not self.c.ir(node).nullable:
                return self._term_for(node, owner)
            return self._conv_nullable(node, owner)
        if isinstance(node, Ref):
            key = node.key
            rname = lark_name(self.c.g.rules[key].name)
            if rname not in self.rules and rname not in self._pending:
                self._pending.append(key)
                self.rules[rname] = ""  # reserve
            return rname
        if isinstance(node, Seq):
            out: list[str] = []
            run: list[Node] = []

            def flush() -> None:
                if not run:
                    return
                seq = run[0] if len(run) == 1 else Seq(tuple(run))
                out.append(self.conv(seq, owner))
                run.clear()

            for it in node.items:
                if self._regular(it):
                    run.append(it)
                else:
                    flush()
                    out.append(self.conv(it, owner))
            flush()
            return " ".join(out)
        if isinstance(node, Alt):
            return "(" + " | ".join(self.conv(i, owner) for i in node.items) + ")"
        if isinstance(node, Rep):
            item = node.item
            if node.max is None and isinstance(item, Alt):
                # *( a / b / nonregular ): the regular alternatives lex as one run, 1*( a / b ),
                # rather than one token per octet.
                regular = [a for a in item.items if self._regular(a)]
                if regular and all(isinstance(a, Ref) for a in regular):
                    names = "_".join(a.name for a in regular if isinstance(a, Ref))
                    run_re = self.c.emit(
                        mk_rep(1, None, mk_alt(self.c.ir(a) for a in regular)), ALL | END, True
                    )
                    parts = [self.terminal(f"{names}_RUN", run_re)] + [
                        self.conv(a, owner) for a in item.items if not self._regular(a)
                    ]
                    inner = "(" + " | ".join(parts) + ")"
                    return inner + ("*" if node.min == 0 else "+" if node.min == 1 else "")
            inner = self.conv(node.item, owner)
            inner = f"({inner})"
            if node.min == 0 and node.max == 1:
                return inner + "?"
            if node.min == 0 and node.max is None:
                return inner + "*"
            if node.min == 1 and node.max is None:
                return inner + "+"
            if node.max is None:
                return f"{inner} ~ {node.min} {inner}*"
            return f"{inner} ~ {node.min}..{node.max}"
        raise CompileError(f"cannot convert {node!r}")  # pragma: no cover

    def _conv_nullable(self, node: Node, owner: str) -> str:
        if isinstance(node, Ref):
            return self._conv_nullable(self.c.g.rules[node.key].body, owner)
        if isinstance(node, Rep) and not self.c.ir(node.item).nullable:
            inner = self._term_for(node.item, owner)
            if node.max == 1:
                return f"{inner}?"
            if node.max is None:
                return f"{inner}*"
            return f"{inner} ~ 0..{node.max}"
        if isinstance(node, Seq):
            return " ".join(
                self._conv_nullable(i, owner) if self.c.ir(i).nullable else self._term_for(i, owner)
                for i in node.items
            )
        raise CompileError(f"{owner}: cannot express {node!r} for the LALR parser")

    def add_rule(self, rname: str, node: Node, owner: str) -> None:
        self.rules[rname] = self.conv(node, owner)
        while self._pending:
            key = self._pending.pop(0)
            rule = self.c.g.rules[key]
            name = lark_name(rule.name)
            self.rules[name] = self.conv(rule.body, rule.name)


def _default_sources() -> list[Path]:
    return [GRAMMAR_DIR / s for s in SOURCES]


def compile_grammar(sources: Sequence[Path] | None = None) -> str:
    """The text of ``sip.lark`` for the ABNF ``sources`` (default: ``grammar/``)."""
    files = list(sources) if sources is not None else _default_sources()
    grammar = read_abnf(files)
    comp = Compiler(grammar)
    em = LarkEmitter(comp)
    lines: list[str] = [
        "// GENERATED by `python -m sipfsm.abnf.compile` from the ABNF in grammar/:",
        "// do not edit; a test fails when this file and the ABNF disagree.",
        "// Sources: " + " ".join(f.name for f in files),
        "//",
        "// Directives read by sipfsm.message.grammar (Lark ignores them as comments):",
        "//   @header RULE LARK-RULE KIND ITEM NAME... : a header field, its value rule (regex:",
        "//     one terminal matched with re.fullmatch; lalr: Lark's LALR parser) and, for",
        "//     comma lists, the terminal of one element (or -).",
        "//   @rule RULE TERMINAL : a rule the framer matches by itself (start line, ...).",
        "//   @angle RULE... : header fields with a bare addr-spec: RFC 3261 section 20.10 (a URI",
        "//     with a comma, semicolon or question mark MUST be in <>) is in their terminals",
        "//     for the comma and the semicolon; sipfsm.message.parse checks the question mark.",
        "//   @comma-split RULE... : comma lists whose element could, in the plain ABNF, hold a",
        "//     comma outside quoted strings and <...> (a bare absoluteURI). RFC 3261 section",
        "//     20.10: such a URI MUST be in <>, so every top-level comma separates elements;",
        "//     the value terminal says so, ITEM stays the plain element (for one piece cut at",
        "//     those commas, the two agree).",
        "//   @unused RULE... : rules no header field or start line uses (for review).",
        "//   @unrolled RULE TERMINAL DEPTH : REGULAR APPROXIMATION, EXACT UP TO DEPTH DEPTH",
        f"//     ({UNROLL_DEPTH}), of a non-regular (lalr) header field: its value with the",
        f"//     recursive rule {RECURSIVE_RULE} unrolled DEPTH times (nested deeper, it does",
        "//     not match). Validation matches it with re.fullmatch; the LALR rules give trees",
        "//     and error positions. It rejects white space after a comment at the very end",
        "//     of a value, as the LALR parser does (values are stripped before matching).",
        "",
    ]
    unused = [u for u in grammar.unused([ROOT_RULE]) if u.lower() not in _core_names(files)]
    specs = header_specs(grammar)
    directives: list[str] = []
    lalr_rules: list[str] = []
    comma_split: list[str] = []
    angle: list[str] = []
    unrolled: list[str] = []
    for spec in specs:
        rname = lark_name(spec.rule)
        value_ir_regular = em._regular(spec.value)
        item_term = "-"
        if value_ir_regular:
            value_ir = comp.restrict(spec.value)  # section 20.10 (Compiler.restrict)
            if value_ir is not comp.ir(spec.value):
                angle.append(spec.rule)
            element: IR | None = None
            if spec.item is not None:
                comma = comp.rule_ir("COMMA")
                element, split = comp.list_element(spec.item, comma)
                if split:
                    comma_split.append(spec.rule)
            regex = comp.emit(value_ir, END)
            tname = em.terminal(spec.rule, regex)
            em.rules[rname] = tname
            kind = "regex"
            if spec.item is not None and element is not None:
                item_term = em.terminal(
                    spec.item,
                    comp.emit(element, comma.first | END, ws=comp.absorbs(comma, True)),
                )
        else:
            kind = "lalr"
            em.add_rule(rname, spec.value, spec.rule)
            lalr_rules.append(rname)
            ir = comp.unrolled(spec.value, RECURSIVE_RULE, UNROLL_DEPTH)
            uname = em.terminal(f"{spec.rule}_UNROLLED", comp.emit(ir, END))
            unrolled.append(f"//@unrolled {spec.rule} {uname} {UNROLL_DEPTH}")
        directives.append(
            f"//@header {spec.rule} {rname} {kind} {item_term} " + " ".join(spec.names)
        )
    for rule in FRAMER_RULES:
        key = rule.lower()
        tname = em.terminal(grammar.rules[key].name, comp.rule_regex(rule, END))
        em.rules.setdefault(lark_name(rule), tname)
        directives.append(f"//@rule {grammar.rules[key].name} {tname}")
    directives.append("//@angle " + " ".join(angle))
    directives.append("//@comma-split " + " ".join(comma_split))
    directives.append("//@unused " + " ".join(unused))
    directives += unrolled
    lines += directives
    lines.append("")
    lines.append("// ---- Rules that are not regular (recursive): Lark's LALR parser ----")
    for name in lalr_rules:
        lines.append(f"{name}: {em.rules[name]}")
    for name, body in em.rules.items():
        if name in lalr_rules or name.upper() == body or body == "":
            continue
        if name.upper() != body:
            lines.append(f"{name}: {body}")
    lines.append("")
    lines.append("// ---- Regular header values and start-line parts: one terminal each ----")
    for name, body in em.rules.items():
        if name.upper() == body:
            lines.append(f"{name}: {body}")
    lines.append("")
    lines.append("// ---- Terminals (regular rules, every rule they use inlined) ----")
    for tname, regex in em.terminals.items():
        lines.append(f"{tname}: /{regex}/")
    return "\n".join(lines) + "\n"


def _core_names(files: Sequence[Path]) -> set[str]:
    core = [f for f in files if f.name == "core.abnf"]
    if not core:
        return set()
    return set(read_abnf(core).rules)


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate ``sip.lark`` (or, with ``--check``, fail if it is stale)."""
    ap = argparse.ArgumentParser(prog="python -m sipfsm.abnf.compile", description=__doc__)
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    ap.add_argument("--output", type=Path, default=OUTPUT)
    args = ap.parse_args(argv)
    text = compile_grammar()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python -m sipfsm.abnf.compile", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text)} characters)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
