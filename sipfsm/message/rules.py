"""The message-level rules of RFC 3261 that the ABNF cannot say, each citing its section:
scalar ranges (Max-Forwards 0-255, delta-seconds below 2**32, CSeq and RSeq below 2**31), the
CSeq method equal to the request's (8.1.1.5), a URI with ``?`` only inside ``<>`` (20.10), and
the Contact ``expires`` parameter's range (20.10).

:func:`surely_passes` is the cheap form that strict framing runs on every field while cutting
(:mod:`sipfsm.message.strict`); :func:`check_field_rules` is the full one.
"""

from __future__ import annotations

import re

from sipfsm.errors import ParseError
from sipfsm.message import grammar as _grammar
from sipfsm.message.fields import WSP, Field
from sipfsm.message.header import Header, header_of
from sipfsm.message.numbers import significant, within
from sipfsm.message.values import value_error

__all__ = [
    "ADDR_FIELDS",
    "SCALARS",
    "check_field_rules",
    "rule_kind",
    "surely_passes",
]

_DIGITS = re.compile(r"[0-9]+")

#: Scalar header fields: canonical name -> (largest value, the rule's section).
SCALARS: dict[str, tuple[int, str]] = {
    "max-forwards": (255, "RFC 3261 section 20.22: Max-Forwards is 0-255"),
    "expires": (2**32 - 1, "RFC 3261 section 20.19: Expires is at most 2**32-1"),
    "min-expires": (2**32 - 1, "RFC 3261 section 20.23: delta-seconds, at most 2**32-1"),
    "retry-after": (2**32 - 1, "RFC 3261 section 20.33: delta-seconds, at most 2**32-1"),
    "session-expires": (2**32 - 1, "RFC 4028 section 4: delta-seconds, at most 2**32-1"),
    "min-se": (2**32 - 1, "RFC 4028 section 5: delta-seconds, at most 2**32-1"),
    "rseq": (2**31 - 1, "RFC 3262 section 7.1: RSeq is 1 to 2**31-1"),
    "cseq": (2**31 - 1, "RFC 3261 section 8.1.1.5: the CSeq number is less than 2**31"),
    "rack": (2**31 - 1, "RFC 3262 section 7.2: response-num is 1 to 2**31-1"),
}
#: Header fields whose value may be a bare addr-spec (the ABNF's ``@angle`` fields): section
#: 20.10 says the name-addr form MUST be used when the URI contains a comma, semicolon or
#: question mark.
ADDR_FIELDS = _grammar.ADDR_SPEC_HEADERS
_EXPIRES_PARAM = re.compile(r";[ \t]*expires[ \t]*=[ \t]*([0-9]+)", re.IGNORECASE)
_BRACKETED = re.compile(r'<[^>]*>|"(?:[^"\\]|\\.)*"')


def _range_error(h: Header, digits: str, why: str, offset: int, rule: str) -> ParseError:
    sig = significant(digits)
    shown = sig if len(sig) <= 20 else f"of {len(sig)} digits"
    return value_error(h, "value-out-of-range", f"{h.canonical} {shown}: {why}", offset, rule)


def check_field_rules(lines: list[str], line0: int, field: Field, method: str | None) -> None:
    """The message-level rules of one field (scalar ranges, CSeq method, addr-spec ``?``) of
    the header section cut into ``lines`` (``line0`` lines skipped before the start line);
    ``method`` is the request's (None for a response)."""
    key, text = field[5], field[6]
    if key == "max-forwards":
        if len(text) <= 3 and int(text) <= 255:
            return
    elif key == "cseq" and method is not None:
        num, _, rest = text.partition(" ")
        if len(num) < 10 and rest.strip(" \t") == method:
            return
    if key in SCALARS:
        _scalar_rules(lines, line0, field, method)
    else:
        _addr_rules(lines, line0, field)


def _scalar_rules(lines: list[str], line0: int, field: Field, method: str | None) -> None:
    key, text = field[5], field[6]
    scalar = SCALARS[key]
    m = _DIGITS.match(text)
    if m is not None:
        digits = m.group()
        low = 1 if key in ("rseq", "rack") else 0
        if not within(digits, scalar[0]) or (low and significant(digits) == "0"):
            h = header_of(field, lines, line0)
            raise _range_error(h, digits, scalar[1], 0, h.rule.rule if h.rule else key)
    if key == "cseq" and method is not None:
        cseq_method = text[m.end() :].strip(" \t") if m is not None else text
        if cseq_method != method:
            raise value_error(
                header_of(field, lines, line0),
                "cseq-method-mismatch",
                f"CSeq method {cseq_method} differs from the request method {method} "
                "(RFC 3261 section 8.1.1.5)",
                len(text) - len(cseq_method),
                "CSeq",
            )
    elif key == "rack":
        parts = text.split()
        if len(parts) >= 2 and parts[1].isdigit() and not within(parts[1], 2**31 - 1):
            raise _range_error(
                header_of(field, lines, line0),
                parts[1],
                "RFC 3262 section 7.2: CSeq-num is below 2**31",
                0,
                "RAck",
            )


def _addr_rules(lines: list[str], line0: int, field: Field) -> None:
    """(name-addr / addr-spec) fields: only a "?" or an expires parameter needs a look."""
    key, text = field[5], field[6]
    has_q = "?" in text
    expires = key == "contact" and "xpires" in text.lower()
    if not has_q and not expires:
        return
    h = header_of(field, lines, line0)
    rule = h.rule
    items = _grammar.list_elements(text, rule) if rule is not None and rule.item else [text]
    offset = 0
    for item in items:
        at = text.find(item, offset)
        offset = max(at, 0)
        stripped = item.strip(WSP)
        if has_q and stripped != "*" and "<" not in stripped:
            uri = stripped.split(";", 1)[0]
            if "?" in uri:
                raise value_error(
                    h,
                    "uri-needs-angle-brackets",
                    f"{h.canonical}: a URI with '?' (URI headers) must be written in <> "
                    "(RFC 3261 section 20.10, 20.20, 20.39)",
                    offset + item.find("?"),
                    "name-addr",
                )
        if expires:
            _check_expires_param(h, item, offset)


def _check_expires_param(h: Header, item: str, offset: int) -> None:
    outside = _BRACKETED.sub(lambda m: " " * len(m.group()), item)
    for m in _EXPIRES_PARAM.finditer(outside):
        if not within(m.group(1), 2**32 - 1):
            raise _range_error(
                h,
                m.group(1),
                "RFC 3261 section 20.10: the expires parameter is at most 2**32-1",
                offset + m.start(1),
                "c-p-expires",
            )


# What message-level rule a header field has (see check_field_rules).
NO_RULE, MAX_FORWARDS, CSEQ, ADDR, CONTACT, SCALAR = range(6)


def rule_kind(key: str) -> int:
    """Which message-level rule the field named ``key`` (lower-case long name) has."""
    if key == "max-forwards":
        return MAX_FORWARDS
    if key == "cseq":
        return CSEQ
    if key == "contact":
        return CONTACT
    if key in ADDR_FIELDS:
        return ADDR
    if key in SCALARS:
        return SCALAR
    return NO_RULE


def surely_passes(check: int, text: str, method: str | None) -> bool:
    """The cheap form of a message-level rule: True when the value surely passes it."""
    if check == MAX_FORWARDS:  # the value matched 1*DIGIT
        return len(text) <= 3 and int(text) <= 255
    if check == CSEQ:  # the value matched 1*DIGIT LWS Method
        num, _, rest = text.partition(" ")
        if len(num) >= 10:
            return False
        return rest.strip(WSP) == method if method is not None else num.isdigit()
    if check == ADDR:
        return "?" not in text
    if check == CONTACT:
        return "?" not in text and "xpires" not in text.lower()
    return check == NO_RULE
