"""The regular-expression IR of the ABNF compiler (:mod:`sipfsm.abnf.compile`): nodes with
identity hashing (structurally equal nodes are one object, so sharing is found by identity),
each knowing its FIRST set (the octets a string of it can start with, as a 257-bit mask: bit
256 is the end of input) and whether it matches the empty string.

Octet sets are ints, one bit per octet (:data:`ALL`); CR and LF are :data:`PRUNED`: header
values are unfolded before they are matched (RFC 3261 section 7.3.1), so no string holds one.
"""

from __future__ import annotations

__all__ = [
    "ALL",
    "END",
    "EPS",
    "FAIL",
    "IR",
    "PRUNED",
    "WS_MASK",
    "alt_items",
    "char_mask",
    "mk",
    "octets_of",
    "required_octets",
    "seq_items",
]

#: The end of input, as a member of an octet set (a FIRST set or what may follow a node).
END = 1 << 256
#: Every octet.
ALL = (1 << 256) - 1
CR, LF, SP, HT = 0x0D, 0x0A, 0x20, 0x09
#: SP and HTAB.
WS_MASK = (1 << SP) | (1 << HT)
#: Octets that cannot occur in an unfolded header value or a start line.
PRUNED = (1 << CR) | (1 << LF)


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
            self.first, self.nullable = char_mask(text[0], ci), False
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


def char_mask(ch: str, ci: bool) -> int:
    m = 1 << ord(ch)
    if ci and ch.isascii() and ch.isalpha():
        m |= (1 << ord(ch.lower())) | (1 << ord(ch.upper()))
    return m


EPS = IR("eps")
FAIL = IR("fail")
#: Hash-consing: structurally equal nodes are one object, so sharing is found by identity.
_INTERN: dict[tuple[object, ...], IR] = {}


def mk(
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


def alt_items(n: IR) -> tuple[IR, ...]:
    return n.items if n.kind == "alt" else (n,)


def seq_items(n: IR) -> tuple[IR, ...]:
    return n.items if n.kind == "seq" else (n,)


_CHARS: dict[int, tuple[IR, int]] = {}


def octets_of(n: IR) -> int:
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
            mask |= char_mask(c, n.ci)
    elif k in ("seq", "alt"):
        mask = 0
        for it in n.items:
            mask |= octets_of(it)
    elif k in ("rep", "atom"):
        assert n.item is not None
        mask = octets_of(n.item)
    else:
        mask = 0
    _CHARS[id(n)] = (n, mask)
    return mask


_REQUIRED: dict[int, tuple[IR, int]] = {}


def required_octets(n: IR) -> int:
    """Octets that every string of ``n`` holds (those of a single-octet class or a literal,
    where the literal is not a case-insensitive letter; a union over a sequence, the common
    ones of an alternation's choices)."""
    got = _REQUIRED.get(id(n))
    if got is not None and got[0] is n:
        return got[1]
    k = n.kind
    mask = 0
    if k == "cls":
        mask = n.mask if n.mask.bit_count() == 1 else 0
    elif k == "str":
        for c in n.text:
            m = char_mask(c, n.ci)
            mask |= m if m.bit_count() == 1 else 0
    elif k == "seq":
        for it in n.items:
            mask |= required_octets(it)
    elif k == "alt" and n.items:
        mask = ALL
        for it in n.items:
            mask &= required_octets(it)
    elif k in ("rep", "atom"):
        assert n.item is not None
        mask = required_octets(n.item) if n.min >= 1 or k == "atom" else 0
    _REQUIRED[id(n)] = (n, mask)
    return mask
