"""IR to Python regular expressions that match in linear time (:mod:`sipfsm.abnf.compile`
says how): every repetition, option and alternation that is LL(1) in its context is emitted
possessive or atomic (``*+``, ``(?>...)``), white-space runs before white-space absorbing
text are taken whole, items that cannot hold what follows them are atomic up to it, and the
shapes of hostname and of comma lists get forms that need no backtracking. The language is
unchanged throughout (``atomic=False`` emits the plain regexes, for the tests to compare).

:class:`RegexEmitter` is the half of :class:`sipfsm.abnf.compiler.Compiler` that writes
regexes; the other half turns the ABNF into IR.
"""

from __future__ import annotations

from sipfsm.abnf.construct import mk_rep, mk_seq
from sipfsm.abnf.ir import ALL, END, IR, WS_MASK, octets_of, required_octets, seq_items

#: Alternatives an alternation has at least for a fail-fast lookahead (:meth:`RegexEmitter._guard`).
GUARD_MIN = 6

__all__ = ["RegexEmitter"]


class RegexEmitter:
    """Regexes from IR nodes: :meth:`emit` (and the :meth:`det` and :meth:`absorbs` tests it
    decides with)."""

    def __init__(self, *, atomic: bool = True) -> None:
        #: False emits plain regexes (no possessive or atomic constructs): the same language,
        #: used by the tests to check the optimisation changes nothing.
        self.atomic = atomic
        self._det: dict[tuple[int, int], bool] = {}
        self._absorb: dict[tuple[int, bool], bool] = {}
        self._keep: list[IR] = []
        #: List elements holding no top-level separator (id -> (element, separator octets)):
        #: taken atomically in a list (:meth:`_list_form`).
        self.top_free: dict[int, tuple[IR, int]] = {}

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
            if self.atomic and not lalr:
                n = _loop_absorbs_run(n)
                if n.kind != "seq":
                    return self._emit(n, follow, lalr, ws)
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
            guard = self._guard(n) if self.atomic and not lalr else ""
            if guard:
                if optional:
                    return f"(?:{guard}(?:{inner}))" + ("?+" if det else "?")
                return f"{guard}(?>{inner})" if det else f"{guard}(?:{inner})"
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

    def _guard(self, n: IR) -> str:
        """A lookahead that fails fast where a large alternation cannot match: when every
        string of ``n`` (an alternation of :data:`GUARD_MIN` or more) holds an octet ``c``
        (one that none starts with, if there is one), ``(?=[S]*+c)``, S being every other
        octet ``n`` can hold. It
        holds wherever ``n`` matches (the octets before the first ``c`` of a match are in
        S, so the run stops at that ``c``): the language is unchanged. IPv6address (RFC 3261
        section 25.1, 9 forms) gets ``(?=[.0-9A-Fa-f]*+:)``, so ``received=192.0.2.3`` is not
        read 9 times as an IPv6address before it is read as a generic-param."""
        if len(n.items) < GUARD_MIN or n.nullable:
            return ""
        req = required_octets(n) & ALL
        if not req:
            return ""
        late = req & ~n.first  # an octet no string starts with, if there is one
        req = late or req
        c = (req & -req).bit_length() - 1
        return f"(?={_cls(octets_of(n) & ~(1 << c))}*+{_esc(chr(c))})"

    def _emit_copy(self, n: IR, lalr: bool) -> str:
        """One copy of an unrolled recursive rule (:meth:`unrolled`): ``OPEN *(A / copy)
        CLOSE`` as an atomic group whose repetitions are all possessive and whose
        alternation is atomic. Same language: A reads a text one way only, white space is
        read by A as well as by the white space around OPEN and CLOSE (so each run of it
        taken whole leaves what follows matched the same), and the loop stops only at an
        octet that neither A nor a copy starts with (CLOSE's, or one that fails)."""
        parts: list[str] = []
        for it in seq_items(n):
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
        if n.nullable or n.kind in ("cls", "str") or octets_of(n) & follow & ALL:
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
        if p.nullable or t.nullable or (octets_of(p) | octets_of(t)) & sep.mask:
            return None
        if (starts | octets_of(p)) & after or (j == len(items) and sep.mask & after):
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
        if top is not None and top[0] is x and not octets_of(sep) & ~WS_MASK & ~top[1]:
            # Section 20.10 (see top_level_list): every reading of x followed by a separator
            # ends before the same separator, so the first one found is taken for good.
            xs = f"(?>{xs}(?={ss}|\\Z))"
        return f"(?:{xs}(?:{ss}(?!\\Z)|\\Z))+"


def _loop_absorbs_run(n: IR) -> IR:
    """``m*X *(N X)`` (N nullable) as ``m X *(N X)``: the same language, since ``*X`` is
    within ``*(N X)``. RFC 3261 section 25's ``TEXT-UTF8-TRIM = 1*TEXT-UTF8char *(*LWS
    TEXT-UTF8char)`` is this shape: emitted as written, every octet the ``1*`` run gives
    back to a value that fails late is read again by the loop (quadratic time: a Subject
    of 8,000 octets ending in an incomplete UTF-8 sequence took 1.6 s); emitted as ``X
    *(N X)``, the loop is the only repetition of X and is possessive (LL(1))."""
    items = list(n.items)
    changed = False
    for i in range(len(items) - 1):
        run, loop = items[i], items[i + 1]
        if run.kind != "rep" or run.max is not None or run.min < 1 or run.item is None:
            continue
        if loop.kind != "rep" or loop.min != 0 or loop.max is not None or loop.item is None:
            continue
        body = seq_items(loop.item)
        if body[-1] is not run.item or not all(b.nullable for b in body[:-1]):
            continue
        items[i] = mk_rep(run.min, run.min, run.item)
        changed = True
    return mk_seq(items) if changed else n


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
