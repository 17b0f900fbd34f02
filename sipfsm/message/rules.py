"""The message-level rules of RFC 3261 that the ABNF cannot say, each citing its section:
scalar ranges (Max-Forwards 0-255, delta-seconds below 2**32, CSeq and RSeq below 2**31), the
CSeq method equal to the request's (8.1.1.5), a URI with ``?`` only inside ``<>`` (20.10), the
Contact ``expires`` parameter's range (20.10), and ports (a URI's or Via's) at most 65535.

:func:`surely_passes` is the cheap form that strict framing runs on every field while cutting
(:mod:`sipfsm.message.strict`); :func:`check_field_rules` is the full one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from sipfsm.errors import ParseError
from sipfsm.message import grammar as _grammar
from sipfsm.message.fields import WSP, Field, parse_error
from sipfsm.message.header import Header, header_of
from sipfsm.message.headers import Via
from sipfsm.message.numbers import TooManyDigits, max_digits, significant, within
from sipfsm.message.uri import URI, URIError
from sipfsm.message.values import value_error

__all__ = [
    "ADDR_FIELDS",
    "LONG_PORT",
    "PORT_RANGE",
    "SCALARS",
    "check_field_rules",
    "check_ports",
    "check_request_uri_port",
    "may_hold_long_port",
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
#: ``port = 1*DIGIT`` (section 25) has no bound, but a port is a transport's (UDP, TCP, SCTP)
#: port number, 16 bits (RFC 768, RFC 793): (largest value, the rule).
PORT_RANGE = (
    65535,
    "RFC 3261 sections 18, 19.1.1, 20.42: a port (hostport, sent-by) is a UDP, TCP or SCTP "
    "port number, at most 65535",
)
#: A colon, then five digits or more: where a port above 65535 may be (COLON = SWS ":" SWS in
#: Via's sent-by); the cheap filter of :func:`check_ports`.
LONG_PORT = re.compile(r":[ \t]*([0-9]{5,})")
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


def may_hold_long_port(text: str) -> bool:
    """True when ``text`` may hold a port above 65535 (:data:`PORT_RANGE`): a colon, then
    five digits or more (a URI's user part may be one too: :func:`check_ports` tells)."""
    return ":" in text and LONG_PORT.search(text) is not None


def check_ports(lines: list[str], line0: int, field: Field) -> None:
    """Every port of a field that strict parsing accepted (Via's sent-by, the hostport of
    each SIP or SIPS URI, section 19.1.1) is at most 65535 (:data:`PORT_RANGE`); one
    above is value-out-of-range, so that every typed view reads what strict parsing accepts
    (a port of more digits than :func:`sipfsm.message.numbers.decimal` reads is above too).
    The ports are those the typed views read."""
    from sipfsm.message.views import typed_value  # the views are built on this package

    h = header_of(field, lines, line0)
    ports: list[int | None]
    try:
        ports = list(_ports(typed_value(h)))
    except ParseError as exc:
        if not _too_many_digits(exc):
            return  # not a port this rule is about
        ports = [None]
    for port in ports:
        if port is None or port > PORT_RANGE[0]:
            digits, offset = _port_text(field[6], port)
            raise _range_error(h, digits, PORT_RANGE[1], offset, "port")


def check_request_uri_port(uri: str, ln: int, column: int) -> None:
    """:func:`check_ports` for the Request-URI (section 19.1.1; ``column`` is its first
    octet's on line ``ln``)."""
    if not may_hold_long_port(uri):
        return
    port: int | None
    try:
        port = URI.parse(uri).port
        if port is None or port <= PORT_RANGE[0]:
            return
    except URIError as exc:
        if not _too_many_digits(exc):
            return  # not a port this rule is about
        port = None
    digits, offset = _port_text(uri, port)
    sig = significant(digits)
    shown = sig if len(sig) <= 20 else f"of {len(sig)} digits"
    reason = f"Request-URI port {shown}: {PORT_RANGE[1]}"
    raise parse_error("value-out-of-range", reason, ln, column + offset, "port")


def _too_many_digits(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by a number too long to read (a port, here)."""
    e: BaseException | None = exc
    while e is not None:
        if isinstance(e, TooManyDigits):
            return True
        e = e.__cause__
    return False


def _ports(value: object) -> Iterator[int]:
    """The ports of a typed view's value: a :class:`Via`'s and every :class:`URI`'s."""
    if isinstance(value, (Via, URI)):
        if value.port is not None:
            yield value.port
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _ports(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _ports(getattr(value, f.name))


def _port_text(text: str, port: int | None) -> tuple[str, int]:
    """(digits, offset) of the port ``port`` in ``text`` (None: one too long to read)."""
    for m in LONG_PORT.finditer(text):
        sig = significant(m.group(1))
        if (len(sig) > max_digits()) if port is None else sig == str(port):
            return m.group(1), m.start(1)
    return str(port), 0  # pragma: no cover - the view read it from the text


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
