"""sipfsm against the judge: every disagreement in exactly one class, or it is unclassified.

The judges (:mod:`judge.engine`): *verbatim* is RFC 3261 section 25 as printed with RFC 5954;
*departed* is that with every row of the departures table applied; *done* leaves out the rows
not done yet (``issue N``). For one input, with sipfsm's verdict ``s``:

* ``agree``: sipfsm, departed and verbatim say the same;
* ``departure``: sipfsm and departed agree, verbatim does not: a row explains it (named);
* ``semantic``: sipfsm rejects with a code of :data:`SEMANTIC` what departed accepts: a rule
  the ABNF cannot say, checked after the syntax;
* ``limit``: sipfsm rejects with a code of :data:`LIMITS` (a bound of ``Limits``);
* ``bug-N``: sipfsm disagrees with departed, agrees with done: a row not done yet (issue N)
  explains it;
* ``unclassified``: none of these; the tests fail on any.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import sipfsm
from judge import engine
from judge.engine import Judge
from judge.texts import departures
from sipfsm import ParseError

#: Semantic checks after the syntax: code -> (the text its reason holds, what it checks).
SEMANTIC: dict[str, tuple[str, str]] = {
    "value-out-of-range": (
        "",
        "a number out of its range: status code 100-699 (RFC 3261 section 21), Max-Forwards "
        "0-255 (20.22), CSeq below 2**31 (8.1.1.5), delta-seconds below 2**32 (20.19, 20.33), "
        "the expires parameter (20.10), RSeq/RAck (RFC 3262 7.1, 7.2), a port at most 65535 "
        "(18, 19.1.1, 20.42)",
    ),
    "cseq-method-mismatch": ("", "the CSeq method is the request's (RFC 3261 section 8.1.1.5)"),
    "content-length-mismatch": ("", "Content-Length octets of body follow (section 18.3)"),
    "bad-version": ("is not SIP/2.0", "a SIP-Version other than SIP/2.0 (section 7.1)"),
    "bad-request-uri": ("19.1.1", "no headers in a SIP or SIPS Request-URI (19.1.1, table 1)"),
}
#: Limits (``sipfsm.Limits``): code -> the bound.
LIMITS: dict[str, str] = {
    "message-too-large": "Limits.max_message_size",
    "too-many-headers": "Limits.max_headers",
    "header-line-too-long": "Limits.max_header_line",
    "nesting-too-deep": "Limits.max_nesting",
}
CLASSES = ("agree", "departure", "semantic", "limit", "bug", "unclassified")


@dataclass(frozen=True)
class Verdict:
    """The class of one comparison, and what names it (a row, a code, an issue)."""

    cls: str
    detail: str = ""

    @property
    def family(self) -> str:
        """The class without its issue number (``bug-11`` is a ``bug``)."""
        return "bug" if self.cls.startswith("bug-") else self.cls


def classify(
    s_ok: bool,
    err: ParseError | None,
    verbatim_ok: Callable[[], bool],
    ref_ok: bool,
    done_ok: Callable[[], bool],
    attribute: Callable[[], str],
) -> Verdict:
    """The class of sipfsm's verdict ``s_ok`` (``err`` when it rejected) against the judges'."""
    if s_ok == ref_ok:
        if s_ok == verbatim_ok():
            return Verdict("agree")
        return Verdict("departure", attribute())
    if not s_ok and err is not None:
        sem = SEMANTIC.get(err.code)
        if sem is not None and sem[0] in err.reason:
            return Verdict("semantic", err.code)
        if err.code in LIMITS:
            return Verdict("limit", err.code)
    if s_ok == done_ok():
        issues = sorted({r.issue for r in departures() if r.issue is not None})
        rows = [r.id for r in departures() if r.issue is not None]
        return Verdict(f"bug-{issues[0]}", "row " + ", ".join(rows) + " not done yet")
    why = f"sipfsm {'accepts' if s_ok else 'rejects'}"
    if err is not None:
        why += f" ({err.code}: {err.reason})"
    return Verdict("unclassified", why + f"; the judge {'accepts' if ref_ok else 'rejects'}")


def strict(data: bytes) -> ParseError | None:
    """sipfsm's strict parse of a datagram: None when it accepts."""
    try:
        sipfsm.parse(data, strict=True)
    except ParseError as exc:
        return exc
    return None


def _attribute_part(rule: str, text: str, want: bool, field: bool = False) -> str:
    """The rows that, alone on the verbatim text, give ``want`` for (rule, text); for a header
    ``field``, each judge takes the rule of its name."""
    found = []
    for r in departures():
        if r.where == "baseline":
            continue
        j = engine.with_row(r.id)
        name = text.split(":")[0].rstrip(" \t")
        if j.accepts(j.header_rule(name) if field else rule, text) == want:
            found.append(r.id)
    return ", ".join(found) or "several rows together"


def judge_message(data: bytes) -> Verdict:
    """sipfsm's strict parse of ``data`` against the judges, part by part."""
    err = strict(data)
    ver, dep = engine.verbatim(), engine.departed()
    d_bad = dep.first_bad(data)

    def attribute() -> str:
        for p_v, p_d in zip(ver.parts(data), dep.parts(data), strict=True):
            if p_v.ok != p_d.ok:
                field = p_d.rule not in ("Request-Line", "Status-Line", "")
                return _attribute_part(p_d.rule, p_d.text, p_d.ok, field)
        return "several parts"

    return classify(
        err is None,
        err,
        lambda: ver.first_bad(data) is None,
        d_bad is None,
        lambda: engine.departed_without_issues().first_bad(data) is None,
        attribute,
    )


def judge_rule(
    s_ok: bool,
    rule: str,
    text: str,
    ref: Judge,
    err: ParseError | None = None,
    done: Judge | None = None,
) -> Verdict:
    """One sipfsm path's verdict ``s_ok`` on ``text`` as a string of ``rule``, against the
    judge ``ref`` (the grammar files' language, or the departed one)."""
    ver = engine.verbatim()
    return classify(
        s_ok,
        err,
        lambda: ver.accepts(rule, text),
        ref.accepts(rule, text),
        lambda: (done or ref).accepts(rule, text),
        lambda: _attribute_part(rule, text, ref.accepts(rule, text)),
    )


# -- mutants of messages ----------------------------------------------------------------------


def message_mutant(data: bytes, rng: random.Random) -> bytes:
    """``data`` with one near miss (:func:`judge.generate.mutate`) in its start line or in one
    header field's value."""
    from judge.generate import mutate

    text = data.decode("latin-1")
    end = text.find("\r\n\r\n")
    head, rest = (text[:end], text[end:]) if end >= 0 else (text, "")
    lines = head.split("\r\n")
    fields: list[tuple[int, int]] = [(0, len(lines[0]))]  # (start, end) offsets in head
    pos = len(lines[0]) + 2
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and len(fields) > 1:
            fields[-1] = (fields[-1][0], pos + len(line))
        else:
            colon = line.find(":")
            fields.append((pos + (colon + 1 if colon >= 0 else 0), pos + len(line)))
        pos += len(line) + 2
    lo, hi = rng.choice(fields)
    return (mutate(head, rng, lo, hi) + rest).encode("latin-1")


class Table:
    """The agreement table: inputs by source, and their verdicts by class."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.details: Counter[tuple[str, str]] = Counter()
        self.unclassified: list[tuple[str, bytes | str, Verdict]] = []

    def add(self, source: str, item: bytes | str, v: Verdict) -> None:
        self.counts[(source, v.family)] += 1
        if v.cls != "agree":
            self.details[(v.cls, v.detail)] += 1
        if v.cls == "unclassified":
            self.unclassified.append((source, item, v))

    def render(self) -> str:
        sources = sorted({s for s, _ in self.counts})
        head = f"{'inputs':<22}{'total':>7}" + "".join(f"{c:>13}" for c in CLASSES)
        rows = [head]
        for s in sources:
            total = sum(n for (src, _), n in self.counts.items() if src == s)
            cells = "".join(f"{self.counts[(s, c)]:>13}" for c in CLASSES)
            rows.append(f"{s:<22}{total:>7}{cells}")
        rows.append(
            "classes: "
            + "; ".join(f"{c} {d or '-'}: {n}" for (c, d), n in sorted(self.details.items()))
        )
        return "\n".join(rows)
