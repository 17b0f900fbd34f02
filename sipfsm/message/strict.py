"""Strict mode: every header value checked while the fields are cut (RFC 3261 sections 7.3,
20, 25, and the message-level rules of :mod:`sipfsm.message.rules`).

Cutting a field also matches its value against its rule's regex and runs the cheap form of
its message-level rule. Errors must still come in the order of the lazy path (framing, then
the start line, then the fields in order), so nothing is raised there: a field that does
not pass (or needs a closer look: the non-regular rules, rare scalar fields) is *doubtful*,
and :func:`validate_fields` runs the full checks of the doubtful fields, in order, once the
start line is known to be good. A field that passed the cheap checks passes the full ones.

The values of the non-regular fields (Server, User-Agent, Retry-After) are validated with
their ``@unrolled`` terminal (:func:`validate_unrolled`).
"""

from __future__ import annotations

from sipfsm.message import grammar as _grammar
from sipfsm.message.fields import (
    WSP,
    Field,
    bad_shape,
    check_shape,
    cut_fields,
    fields_of,
    name_info,
)
from sipfsm.message.grammar import HeaderRule, Matcher
from sipfsm.message.header import header_of
from sipfsm.message.limits import Limits
from sipfsm.message.rules import (
    ADDR_FIELDS,
    LONG_PORT,
    SCALARS,
    check_field_rules,
    check_ports,
    may_hold_long_port,
    rule_kind,
    surely_passes,
)
from sipfsm.message.values import (
    check_header,
    fail_value,
    lalr_error,
    nesting,
    open_parens,
    too_deep,
    value_error,
)

__all__ = ["LALR_ERROR_MAX", "cut_strict", "validate_fields", "validate_unrolled"]

#: Longest value of a non-regular field whose error position the LALR parser finds (it
#: reads a token per Python step: about 6 ms per KiB); beyond, the position is where the
#: ``@unrolled`` terminal stops matching.
LALR_ERROR_MAX = 4096

#: Field names seen before in strict mode (as written) -> (name, rule, key, the bound
#: fullmatch of the value's terminal or None for a non-regular rule, message-level rule).
_StrictName = tuple[str, "HeaderRule | None", str, "Matcher | None", int]
_STRICT_NAMES: dict[str, _StrictName] = {}


def _strict_name(raw_name: str) -> _StrictName | None:
    info = name_info(raw_name)
    if info is None:
        return None
    name, rule, key = info
    fm: Matcher | None
    if rule is None:  # an extension-header: header-value (section 25)
        fm = _grammar.fullmatcher("HEADER_VALUE")
    else:
        fm = _grammar.fullmatcher(rule.terminal) if rule.kind == "regex" else None
    check = rule_kind(key)
    if len(_STRICT_NAMES) >= 4096:
        _STRICT_NAMES.clear()
    got = _STRICT_NAMES[raw_name] = (name, rule, key, fm, check)
    return got


def cut_strict(
    head: str, line0: int, limits: Limits, method: str | None
) -> tuple[list[str], list[Field], list[Field]]:
    """:func:`cut_fields`, matching every value on the way: (lines, fields, doubtful
    fields). ``method`` is the request's method as the start line gives it (None for a
    response); if the start line is bad, that is raised before the doubtful fields are
    looked at.

    A CR or LF that is not part of a CRLF (section 7) is looked for only when a field is
    doubtful: it would be in a line, so in a name (a token, or the line raises) or a value,
    and no regex of a header value matches a CR or LF outside CRLF, which a value (cut at
    CRLFs) never holds (``tests/test_framing.py`` checks every regex for it)."""
    lines = head.split("\r\n")
    n = len(lines) - 1
    if len(head) > limits.max_header_line:  # a line may be too long: the regex says
        check_shape(head, line0, limits)
        fields = fields_of(lines)
        return lines, fields, fields
    if n > limits.max_headers:  # likely too many fields (raised next): match nothing yet
        lines, fields = cut_fields(head, line0, limits)
        return lines, fields, fields
    fields, doubtful = _cut_lines(head, lines, line0, limits, method)
    if doubtful and (head.count("\r") != n or head.count("\n") != n):
        check_shape(head, line0, limits)  # raises bad-line-ending (section 7)
    return lines, fields, doubtful


def _cut_lines(
    head: str, lines: list[str], line0: int, limits: Limits, method: str | None
) -> tuple[list[Field], list[Field]]:
    """(fields, doubtful fields), one field per line until a continuation line (section
    7.3.1: it starts with SP or HTAB, so it is not ``token *WSP ":"``, and no name known
    starts so): from the field before it, :func:`_cut_folded` goes on. The header section
    is not searched for folds beforehand."""
    out: list[Field] = []
    append = out.append
    doubtful: list[Field] = []
    long_port = LONG_PORT.search
    names = _STRICT_NAMES
    for li in range(1, len(lines)):
        raw_name, sep, rest = lines[li].partition(":")
        ent = names.get(raw_name)
        if ent is None or not sep:
            if li > 1 and raw_name[:1] in _WSP_END:  # the field before goes on here
                last = out.pop()
                if doubtful and doubtful[-1] is last:
                    doubtful.pop()
                return _cut_folded(head, lines, line0, limits, method, last[0], out, doubtful)
            ent = _strict_name(raw_name) if sep else None
            if ent is None:
                bad_shape(head, line0, limits)
                raise AssertionError  # pragma: no cover - bad_shape raises
        text = rest.strip(WSP)
        field = (li, 1, len(raw_name), ent[0], ent[1], ent[2], text)
        append(field)
        fm = ent[3]
        if (
            fm is None
            or fm(text) is None
            or (ent[4] and not surely_passes(ent[4], text, method))
            or rest[-1:] in _WSP_END
            or (":" in text and long_port(text) is not None)  # may_hold_long_port, inlined
        ):
            doubtful.append(field)
    return out, doubtful


def _cut_folded(
    head: str,
    lines: list[str],
    line0: int,
    limits: Limits,
    method: str | None,
    li: int,
    out: list[Field],
    doubtful: list[Field],
) -> tuple[list[Field], list[Field]]:
    """:func:`_cut_lines` from line ``li`` on, onto ``out`` and ``doubtful``, where lines may
    be folded (section 7.3.1): a field's value is its lines joined. The checks are those of
    :func:`_cut_lines`."""
    append = out.append
    long_port = LONG_PORT.search
    names = _STRICT_NAMES
    n = len(lines) - 1
    while li <= n:
        raw_name, sep, rest = lines[li].partition(":")
        ent = names.get(raw_name)
        if ent is None or not sep:
            ent = _strict_name(raw_name) if sep else None
            if ent is None:
                bad_shape(head, line0, limits)
                raise AssertionError  # pragma: no cover - bad_shape raises
        nl = 1
        while li + nl <= n and lines[li + nl][:1] in (" ", "\t"):
            nl += 1
        if nl > 1:
            rest = "".join([rest, *lines[li + 1 : li + nl]])
        text = rest.strip(WSP)
        field = (li, nl, len(raw_name), ent[0], ent[1], ent[2], text)
        append(field)
        fm = ent[3]
        if (
            fm is None
            or fm(text) is None
            or (ent[4] and not surely_passes(ent[4], text, method))
            or rest[-1:] in _WSP_END
            or (":" in text and long_port(text) is not None)  # may_hold_long_port, inlined
        ):
            doubtful.append(field)
        li += nl
    return out, doubtful


def validate_fields(
    lines: list[str], line0: int, fields: list[Field], method: str | None, limits: Limits
) -> None:
    """Every value of ``fields`` by its rule, then its message-level rules; raises the first
    error."""
    for field in fields:
        rule = field[4]
        if rule is not None and rule.kind == "lalr":
            validate_unrolled(lines, line0, field, rule, limits)
        elif rule is None or rule.kind != "regex":
            check_header(header_of(field, lines, line0), limits)
        elif _grammar.fullmatcher(rule.terminal)(field[6]) is None:
            raise fail_value(header_of(field, lines, line0), rule.rule)
        if rule is not None and field[6]:
            _check_trailing_space(lines, line0, field, rule)
        if field[5] in SCALARS or field[5] in ADDR_FIELDS:
            check_field_rules(lines, line0, field, method)
        if may_hold_long_port(field[6]):
            check_ports(lines, line0, field)


_WSP_END = (" ", "\t")


def _check_trailing_space(lines: list[str], line0: int, field: Field, rule: HeaderRule) -> None:
    """White space after a value is the value's own: section 25 ends a header field where its
    rule ends (``message-header = ( ... ) CRLF``), so only a rule ending in white space takes
    it (``RAQUOT = ">" SWS``, ``RPAREN = SWS ")" SWS``, ...; ``CSeq: 1 INVITE<HTAB>`` is
    malformed). The values are matched stripped; this matches one that had such white space
    with it. (For the non-regular rules, only a closing comment's ``RPAREN`` ends in it.)"""
    last = lines[field[0] + field[1] - 1]
    tail = last[len(last.rstrip(WSP)) :]
    if not tail:
        return
    text = field[6]
    if rule.kind == "lalr":
        ok = text.endswith(")")
    else:
        ok = _grammar.fullmatcher(rule.terminal)(text + tail) is not None
    if not ok:
        raise value_error(
            header_of(field, lines, line0),
            "bad-header-value",
            f"{rule.long_name}: white space after the value, where its rule ends "
            "(section 25: the field ends with its rule, then CRLF)",
            len(text),
            rule.rule,
        )


def validate_unrolled(
    lines: list[str], line0: int, field: Field, rule: HeaderRule, lim: Limits
) -> None:
    """Validate a value of a non-regular field (Server, User-Agent, Retry-After) with its
    ``@unrolled`` terminal, a regular approximation exact for comments nested up to
    ``rule.unrolled_depth`` (linear time), with the same verdicts as :func:`check_header`:

    * it matches: the value is valid unless its comments nest deeper than the limit (the
      same linear scan as check_header: ``nesting-too-deep``);
    * it does not match: too deep, ``nesting-too-deep``; else, when the limit is within the
      terminal's depth, the value is invalid, and the error's position comes from the LALR
      parser (short values) or from where the terminal stops matching (long ones);
    * a limit beyond the terminal's depth: what it does not match goes to check_header
      (the LALR parser: exact, and linear, but slower).
    """
    text = field[6]
    term = rule.unrolled
    limit = lim.max_nesting
    if term is not None and _grammar.fullmatcher(term)(text) is not None:
        if nesting(text, limit):
            raise too_deep(header_of(field, lines, line0), limit)
        return
    h = header_of(field, lines, line0)
    if nesting(text, limit):
        raise too_deep(h, limit)
    if term is None or limit > rule.unrolled_depth or len(text) <= LALR_ERROR_MAX:
        check_header(h, lim)  # raises (unless nested deeper than the terminal's depth)
        return
    m = _grammar.regex(term).match(text)
    pos = m.end() if m is not None else 0
    if open_parens(text):  # a comment never closed: where the LALR parser stops too
        pos = len(text)
    raise lalr_error(h, pos)
