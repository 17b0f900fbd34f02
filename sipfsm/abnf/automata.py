"""Language inclusion of two IR nodes, decided on their Thompson automata: what lets the
smart constructors (:mod:`sipfsm.abnf.construct`) drop an alternative that another one
already covers. Conservative: automata too big to compare, or an exploration too long, say
"not included" (keeping an alternative is always correct).
"""

from __future__ import annotations

from sipfsm.abnf.ir import IR, char_mask, octets_of

__all__ = ["included"]

#: Automata bigger than this are not compared (the check is then "not included").
_NFA_LIMIT = 5000
_INCLUDED: dict[tuple[int, int], tuple[IR, IR, bool]] = {}


def included(a: IR, b: IR) -> bool:
    """True when L(a) is within L(b), decided on their automata (False when they are too big
    to compare, or the exploration too long: keeping an alternative is always correct)."""
    if a is b or a.kind == "eps" or b.kind in ("eps", "cls", "str"):
        return False
    if octets_of(a) & ~octets_of(b) or a.first & ~b.first or (a.nullable and not b.nullable):
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
                self.edges[cur].append((char_mask(c, n.ci), nxt))
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
