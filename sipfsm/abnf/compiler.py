"""The ABNF compiler proper: a checked :class:`~sipfsm.abnf.reader.Grammar` to the regex IR
(:mod:`sipfsm.abnf.ir`), with RFC 3261 section 20.10 taken as written (:meth:`Compiler.restrict`,
:meth:`Compiler.list_element`) and the recursive rule unrolled into a regular approximation
(:meth:`Compiler.unrolled`); :class:`Compiler` writes the regexes too, as a
:class:`~sipfsm.abnf.regex.RegexEmitter`. :mod:`sipfsm.abnf.compile` explains the whole.
"""

from __future__ import annotations

from sipfsm.abnf.construct import mk_alt, mk_cls, mk_rep, mk_seq, mk_str
from sipfsm.abnf.ir import ALL, END, EPS, FAIL, IR, WS_MASK, alt_items, char_mask, mk, octets_of
from sipfsm.abnf.reader import Alt, Grammar, Lit, Node, Range, Ref, Rep, Seq, check, refs
from sipfsm.abnf.regex import RegexEmitter

__all__ = [
    "ANGLE_OCTETS",
    "ANGLE_RULE",
    "CompileError",
    "Compiler",
    "nonregular_rules",
    "own_schemes",
]

#: Section 7.3.1 / 20.10: inside a quoted-string (quoted-pairs included) and between LAQUOT
#: and RAQUOT, a comma does not separate the elements of a list
#: (``sipfsm.message.grammar.top_commas`` is the run-time scanner of the same constructs).
NESTED_RULE = "quoted-string"
NESTED_OPEN, NESTED_CLOSE = "laquot", "raquot"
#: Section 20.10, 20.20, 20.39: a URI holding a comma, question mark or semicolon MUST be in
#: angle brackets, so a bare ``addr-spec`` holds no comma or semicolon. (The question mark is
#: checked after the match, by ``sipfsm.message.rules``: ParseError ``uri-needs-angle-brackets``.)
ANGLE_RULE = "addr-spec"
ANGLE_OCTETS = (1 << ord(",")) | (1 << ord(";"))


#: RFC 3261 section 19.1.1, RFC 5118 section 4.2: a ``sip:`` or ``sips:`` URI is a SIP-URI or
#: SIPS-URI. ``grammar/rfc3261.abnf`` writes ``absoluteURI = SIP-URI / SIPS-URI / scheme ":"
#: ...``; the generic alternative takes every ``scheme`` but those its other alternatives spell
#: (their leading literal ``"sip:"``, ``"sips:"``): :meth:`Compiler.generic_scheme`.
GENERIC_URI_RULE = "absoluteuri"
SCHEME_RULE = "scheme"


class CompileError(Exception):
    """The ABNF cannot be compiled as asked."""


def own_schemes(grammar: Grammar) -> list[str]:
    """The schemes that have their own rule among the alternatives of absoluteURI (the
    leading literal ``"sip:"`` of SIP-URI, ...): empty when absoluteURI is the printed
    ``scheme ":" ...``. ``scheme`` must then be used by absoluteURI alone."""
    rule = grammar.rules.get(GENERIC_URI_RULE)
    if rule is None or not isinstance(rule.body, Alt):
        return []
    words: list[str] = []
    for alt in rule.body.items:
        if isinstance(alt, Ref) and alt.key in grammar.rules:
            body = grammar.rules[alt.key].body
            head = body.items[0] if isinstance(body, Seq) else body
            if isinstance(head, Lit) and head.text.endswith(":") and not head.case_sensitive:
                words.append(head.text[:-1])
    users = [k for k, r in grammar.rules.items() if SCHEME_RULE in refs(r.body)]
    if words and users != [GENERIC_URI_RULE]:
        raise CompileError(f"scheme is used by {users}, not by absoluteURI alone")
    return words


def nonregular_rules(grammar: Grammar) -> set[str]:
    """Rules that are recursive or use a recursive rule (lower-cased names)."""
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


class Compiler(RegexEmitter):
    """Turns a checked :class:`Grammar` into IR and regexes (``atomic``: see
    :class:`~sipfsm.abnf.regex.RegexEmitter`)."""

    def __init__(self, grammar: Grammar, *, atomic: bool = True) -> None:
        super().__init__(atomic=atomic)
        check(grammar)
        self.g = grammar
        self.nonregular = nonregular_rules(grammar)
        self._ir: dict[str, IR] = {}
        self._top: dict[tuple[str, int, bool], IR] = {}
        #: Rules compiled otherwise than their body says (``scheme``: :meth:`generic_scheme`).
        self._override: dict[str, IR] = {}
        schemes = own_schemes(grammar)
        if schemes:
            self._override[SCHEME_RULE] = self.generic_scheme(schemes)

    # -- RFC 3261 section 19.1.1: the schemes with their own rules --------------------------
    def generic_scheme(self, words: list[str]) -> IR:
        """``scheme`` without the (case-insensitive) ``words``: every scheme but ``sip`` and
        ``sips`` in the generic alternative of absoluteURI. ``scheme`` must have the shape
        ``C0 *C1`` (one octet of class C0, then any of C1); the result is built on the trie
        of ``words``, so it stays LL(1): at each prefix of a word, the next octet either goes
        on along the trie or leaves it (then any C1 may follow), and the prefix itself ends a
        scheme unless it is one of ``words``."""
        plain = self.rule_ir(SCHEME_RULE)
        items = plain.items if plain.kind == "seq" else ()
        if (
            len(items) != 2
            or items[0].kind != "cls"
            or items[1].kind != "rep"
            or items[1].min != 0
            or items[1].max is not None
            or items[1].item is None
            or items[1].item.kind != "cls"
        ):
            raise CompileError("scheme: expected the shape C0 *C1")
        first, rest = items[0].mask, items[1].item.mask
        trie: dict[str, dict] = {}  # type: ignore[type-arg]
        for w in words:
            node = trie
            for c in w.lower():
                node = node.setdefault(c, {})
            node[""] = {}  # a word ends here
        tail = mk_rep(0, None, mk_cls(rest))

        def build(node: dict, cls: int, at_start: bool) -> IR:  # type: ignore[type-arg]
            alts: list[IR] = []
            taken = 0
            for c, child in node.items():
                if c:
                    m = char_mask(c, True) & cls
                    taken |= m
                    alts.append(mk_seq([mk_cls(m), build(child, rest, False)]))
            if cls & ~taken:
                alts.append(mk_seq([mk_cls(cls & ~taken), tail]))
            body = mk_alt(alts)
            return body if at_start or "" in node else mk_rep(0, 1, body)

        return build(trie, first, True)

    def _overridden(self, key: str, octets: int) -> IR:
        got = self._override[key]
        if octets_of(got) & octets:
            raise CompileError(f"{key}: section 20.10 would restrict a rule compiled otherwise")
        return got

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
        if key in self._override:
            return self._override[key]
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
            if key in self._override:
                return self._overridden(key, octets)
            if angle and key == ANGLE_RULE:
                octets |= ANGLE_OCTETS
                angle = False
            got = self._top.get((key, octets, angle))
            if got is None:
                body = self.g.rules[key].body
                got = self._top[(key, octets, angle)] = self.restrict(body, octets, angle)
            return got
        if isinstance(node, Lit):
            if any(char_mask(c, not node.case_sensitive) & octets for c in node.text):
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
        comma: then the run-time scanner ``sipfsm.message.grammar.top_commas`` cuts the list).

        An element that holds no separator octet at top level, and no octet that opens or
        closes a nested construct there (the run-time scanner's and the proof's notion of
        top level agree), is registered to be taken atomically in the list
        (:meth:`_list_form`). Raises CompileError when the plain element could hold a top-level
        separator yet is not registrable."""
        octets = octets_of(sep) & ~WS_MASK & ALL
        delims = (1 << ord('"')) | (1 << ord("<")) | (1 << ord(">"))
        element = self.restrict(Ref(item))
        split = self.restrict(Ref(item), octets, False) is not self.rule_ir(item)
        ok = self.restrict(Ref(item), octets | delims) is element and not element.nullable
        inner = self.rule_ir(ANGLE_RULE) if ANGLE_RULE in self.g.rules else EPS
        ok = ok and not octets_of(inner) & (1 << ord(">"))  # the scanner skips to the first ">"
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
            cur = mk("atom", item=self._unroll_step(body, key, cur))
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
        others = mk_alt(a for a in alt_items(loop) if a is not inner)
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

    def rule_regex(
        self, name: str, follow: int = END, lalr: bool = False, ws: bool | None = None
    ) -> str:
        """The regex of rule ``name`` when ``follow`` may follow it (see :meth:`emit`)."""
        return self.emit(self.rule_ir(name), follow, lalr, ws)
