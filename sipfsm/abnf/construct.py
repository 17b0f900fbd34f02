"""Smart constructors of the IR (:mod:`sipfsm.abnf.ir`): each builds a node of the same
language as asked, simplified so that the regex emitted from it is smaller and more often
LL(1) (:mod:`sipfsm.abnf.regex`): nested sequences and alternatives flattened, single-octet
alternatives merged into one class, an alternative that another covers dropped (decided on
automata, :mod:`sipfsm.abnf.automata`), common first or last elements factored out, and
repetitions of repetitions merged.
"""

from __future__ import annotations

from collections.abc import Iterable

from sipfsm.abnf.automata import included
from sipfsm.abnf.ir import ALL, EPS, FAIL, IR, PRUNED, char_mask, mk, octets_of, seq_items

__all__ = ["mk_alt", "mk_cls", "mk_rep", "mk_seq", "mk_str"]


def mk_cls(mask: int) -> IR:
    mask &= ALL & ~PRUNED
    return mk("cls", mask=mask) if mask else FAIL


def mk_str(text: str, ci: bool) -> IR:
    if any((1 << ord(c)) & PRUNED for c in text):
        return FAIL
    if not text:
        return EPS
    if len(text) == 1:
        return mk_cls(char_mask(text, ci))
    if ci and not any(c.isascii() and c.isalpha() for c in text):
        ci = False
    return mk("str", text=text, ci=ci)


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
    return mk("seq", items=tuple(out))


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
            if any(included(o, r) for r in others):
                continue
            # ``"received" EQUAL (IPv4address / IPv6address)``: the IPv4 half is a
            # generic-param; keep only the other half.
            if o.kind == "seq" and o.items[-1].kind == "alt":
                halves = [mk_seq([*o.items[:-1], a]) for a in o.items[-1].items]
                rest = [h for h in halves if not any(included(h, r) for r in others)]
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
    return mk("alt", items=tuple(out))


def _covered(o: IR, runs: list[IR]) -> bool:
    """True when the language of ``o`` is within that of one of ``runs`` (``rep(cls C, m,
    None)``): every octet of ``o`` is in C and ``o`` is never shorter than m (m <= 1)."""
    chars = octets_of(o)
    return any(
        r is not o
        and not chars & ~r.item.mask  # type: ignore[union-attr]
        and (r.min == 0 or (r.min == 1 and not o.nullable))
        for r in runs
    )


def _factor(alts: list[IR]) -> IR | None:
    """Factor a common first (or last) element out of alternatives: same language, smaller
    and more often LL(1) (``a / a b`` becomes ``a [b]``)."""
    for end in (0, -1):
        for i, a in enumerate(alts):
            pa = seq_items(a)
            if a.kind == "eps":
                continue
            same = [
                j
                for j in range(i + 1, len(alts))
                if alts[j].kind != "eps" and seq_items(alts[j])[end] is pa[end]
            ]
            if not same:
                continue
            group = [a] + [alts[j] for j in same]
            if end == 0:
                rest = mk_alt(mk_seq(seq_items(g)[1:]) for g in group)
                merged = mk_seq([pa[0], rest])
            else:
                rest = mk_alt(mk_seq(seq_items(g)[:-1]) for g in group)
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
    return mk("rep", item=item, lo=lo, hi=hi)
