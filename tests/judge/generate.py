"""Inputs for the judge: strings drawn from a rule of the verbatim text (a random walk of its
tree, bounded in depth and length), and near-miss mutants (one octet deleted, inserted,
replaced or doubled, drawn from the separators and their friends).
"""

from __future__ import annotations

import random
from functools import cache

from judge.texts import baseline_text, rule_map
from judge.tree import Alt, Lit, Node, Range, Ref, Rep, Seq, trees

#: What a near-miss octet is drawn from: the separators of section 25 (issue 21's list) and
#: friends (white space, CR, LF, the other punctuation, NUL, DEL, octets above 0x7F).
SEPARATORS = '@:;<>"\\ ,=%[]?/&+'
FRIENDS = "\t\r\n()*#'`{}~!.-_$09aZ\x00\x7f\x80\xbf\xc3\xff"
NEAR_MISS = SEPARATORS + FRIENDS
#: Deeper than this, every choice takes its cheapest way out.
MAX_DEPTH = 14


@cache
def baseline_trees() -> dict[str, Node]:
    """The trees of the verbatim text with RFC 5954, and of the core rules."""
    return trees(rule_map(baseline_text()))


class Generator:
    """Draws strings of rules from ``rules`` (trees by lower-cased name)."""

    def __init__(
        self, rules: dict[str, Node], rng: random.Random, fixed: dict[str, str] | None = None
    ) -> None:
        self.rules = rules
        self.rng = rng
        self.cost = _min_lengths(rules)
        #: Rules drawn as a fixed string most of the time (``sip-version``: ``SIP/2.0``), so
        #: that the semantic checks behind them do not reject nearly every input.
        self.fixed = {k.lower(): v for k, v in (fixed or {}).items()}

    def draw(self, key: str, *, fold: bool = False) -> str:
        """A string of rule ``key``; without ``fold``, a line break of LWS (``CRLF 1*WSP``)
        is dropped (the string stays one of the rule's: ``*WSP 1*WSP`` is LWS too)."""
        out: list[str] = []
        self._draw(Ref(key.lower()), 0, out)
        text = "".join(out)
        if not fold:
            text = text.replace("\r\n ", " ").replace("\r\n\t", "\t")
        return text

    def _draw(self, n: Node, depth: int, out: list[str]) -> None:
        rng = self.rng
        if isinstance(n, Ref):
            if n.key in self.fixed and rng.random() < 0.8:
                out.append(self.fixed[n.key])
                return
            self._draw(self.rules[n.key], depth + 1, out)
        elif isinstance(n, Seq):
            for i in n.items:
                self._draw(i, depth, out)
        elif isinstance(n, Alt):
            if depth > MAX_DEPTH:
                choice = min(n.items, key=lambda i: self._cost(i))
            else:
                choice = rng.choice(n.items)
            self._draw(choice, depth, out)
        elif isinstance(n, Rep):
            count = n.min
            if depth <= MAX_DEPTH:
                while rng.random() < 0.55 and count < n.min + 6:
                    count += 1
            if n.max is not None:
                count = min(count, n.max)
            for _ in range(count):
                self._draw(n.item, depth + 1, out)
        elif isinstance(n, Lit):
            text = n.text
            if not n.sensitive and rng.random() < 0.05:
                text = "".join(c.swapcase() if rng.random() < 0.5 else c for c in text)
            out.append(text)
        elif isinstance(n, Range):
            out.append(chr(rng.randint(n.lo, n.hi)))

    def _cost(self, n: Node) -> int:
        return _length(n, self.cost)


def _length(n: Node, cost: dict[str, int]) -> int:
    if isinstance(n, Ref):
        return cost.get(n.key, 10**6)
    if isinstance(n, Seq):
        return sum(_length(i, cost) for i in n.items)
    if isinstance(n, Alt):
        return min((_length(i, cost) for i in n.items), default=10**6)
    if isinstance(n, Rep):
        return n.min * _length(n.item, cost)
    if isinstance(n, Lit):
        return len(n.text)
    return 1


def _min_lengths(rules: dict[str, Node]) -> dict[str, int]:
    """The length of each rule's shortest string (a fixed point)."""
    cost: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for k, n in rules.items():
            c = min(_length(n, cost), 10**6)
            if c < cost.get(k, 10**6 + 1):
                cost[k] = c
                changed = True
    return cost


def mutate(text: str, rng: random.Random, lo: int = 0, hi: int | None = None) -> str:
    """``text`` with one near miss between offsets ``lo`` and ``hi``: an octet deleted,
    inserted, replaced or doubled."""
    hi = len(text) if hi is None else hi
    at = rng.randint(lo, max(lo, hi - 1)) if hi > lo else lo
    op = rng.choice(("delete", "insert", "replace", "double")) if hi > lo else "insert"
    octet = rng.choice(NEAR_MISS)
    if op == "delete":
        return text[:at] + text[at + 1 :]
    if op == "insert":
        return text[:at] + octet + text[at:]
    if op == "replace":
        return text[:at] + octet + text[at + 1 :]
    return text[:at] + text[at : at + 1] * 2 + text[at + 1 :]
