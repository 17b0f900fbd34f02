"""Values at the edge of an ABNF rule of the extensions (and one of RFC 3261's), parsed
strictly: each row is a value that ``scripts/mutation``'s data mutants of ``grammar/`` showed
no other test parsed (a repetition widened or narrowed, an alternative dropped, and every
test still passed)."""

from __future__ import annotations

import pytest

import sipfsm
from sipfsm import ParseError

HEAD = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
)

#: (header field line, the rule and RFC it is at the edge of)
VALID = [
    (b"Min-SE: 90", "Min-SE = ... delta-seconds *(SEMI generic-param): no parameter (RFC 4028)"),
    (b"Session-Expires: 1800;refresher=uac;x=1", "se-params / generic-param (RFC 4028)"),
    (b"Event: presence", "Event = ... event-type *( SEMI event-param ): none (RFC 6665)"),
    (b"Reason: SIP;cause=200", "cause = 1*DIGIT (RFC 3326)"),
    (b"Subscription-State: active", "substate-value *( SEMI subexp-params ): none (RFC 6665)"),
    (b"P-Asserted-Identity: sip:alice@atlanta.example.com", "PAssertedID-value / addr-spec"),
]
INVALID = [
    (b"Reason: SIP;cause=", "cause = 1*DIGIT: not empty (RFC 3326)"),
    (b'Warning: 3999 atlanta.example.com "x"', "warn-code = 3DIGIT (RFC 3261 25.1)"),
]
VIA_INVALID = [
    (b";rport=;branch=", "response-port = rport [EQUAL 1*DIGIT]: not empty (RFC 3581)"),
]


def _message(line: bytes) -> bytes:
    return HEAD + line + b"\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize(("line", "rule"), VALID, ids=[r for _, r in VALID])
def test_values_at_the_edge_parse(line: bytes, rule: str) -> None:
    sipfsm.parse(_message(line), strict=True)


@pytest.mark.parametrize(("line", "rule"), INVALID, ids=[r for _, r in INVALID])
def test_values_past_the_edge_are_refused(line: bytes, rule: str) -> None:
    with pytest.raises(ParseError, match="bad-header-value"):
        sipfsm.parse(_message(line), strict=True)


@pytest.mark.parametrize(("params", "rule"), VIA_INVALID, ids=[r for _, r in VIA_INVALID])
def test_via_parameters_past_the_edge_are_refused(params: bytes, rule: str) -> None:
    data = _message(b"Subject: x").replace(b";branch=", params, 1)
    with pytest.raises(ParseError, match="bad-header-value"):
        sipfsm.parse(data, strict=True)


def test_via_rport_without_a_value_parses() -> None:
    """RFC 3581 3: a client puts ``rport`` without a value in its request."""
    sipfsm.parse(_message(b"Subject: x").replace(b";branch=", b";rport;branch=", 1), strict=True)
