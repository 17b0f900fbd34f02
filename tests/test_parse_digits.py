"""Long digit strings (issue 11, defect 2): a number of any length, in any field, gives a message
or a named ParseError, in time linear in its length; never ``internal-error`` (Python's int()
refuses more than 4,300 digits), on a datagram or a stream.

RFC 3261 bounds the scalars: CSeq below 2**31 (section 8.1.1.5), Max-Forwards 0-255 (20.22),
delta-seconds 0 to 2**32-1 (20.19, 20.23, 20.33); leading zeros are allowed (``1*DIGIT``; RFC
4475 section 3.1.1.1 has them).
"""

from __future__ import annotations

import pytest

import sipfsm
from sipfsm import ParseError, StreamFramer
from sipfsm.testing.views import read_every_view

HUGE = b"1" * 5000
ZEROS = b"0" * 5000

HEAD = (
    b"REGISTER sip:registrar.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
    b"To: <sip:a@example.com>\r\n"
    b"From: <sip:a@example.com>;tag=1\r\n"
    b"Call-ID: digits@example.com\r\n"
)


def request(field: bytes, value: bytes, cseq: bool = True) -> bytes:
    head = HEAD + (b"CSeq: 1 REGISTER\r\n" if cseq else b"")
    return head + field + b": " + value + b"\r\nContent-Length: 0\r\n\r\n"


#: (field, value with a 5,000-digit number, the rule named in the error)
SCALARS = [
    (b"Expires", HUGE, "Expires"),
    (b"Max-Forwards", HUGE, "Max-Forwards"),
    (b"Min-Expires", HUGE, "Min-Expires"),
    (b"Retry-After", HUGE, "Retry-After"),
    (b"Retry-After", HUGE + b" (later)", "Retry-After"),
    (b"Session-Expires", HUGE, "Session-Expires"),
    (b"Min-SE", HUGE, "Min-SE"),
    (b"RSeq", HUGE, "RSeq"),
    (b"RAck", b"1 " + HUGE + b" INVITE", "RAck"),
    (b"RAck", HUGE + b" 1 INVITE", "RAck"),
    (b"Contact", b"<sip:a@example.com>;expires=" + HUGE, "c-p-expires"),
]


@pytest.mark.parametrize(("field", "value", "rule"), SCALARS)
def test_a_huge_scalar_is_out_of_range_in_strict_mode(
    field: bytes, value: bytes, rule: str
) -> None:
    with pytest.raises(ParseError) as err:
        sipfsm.parse(request(field, value), strict=True)
    assert (err.value.code, err.value.rule) == ("value-out-of-range", rule), err.value
    assert err.value.line == 7


def test_a_huge_cseq_is_out_of_range_in_strict_mode() -> None:
    with pytest.raises(ParseError) as err:
        sipfsm.parse(request(b"CSeq", HUGE + b" REGISTER", cseq=False), strict=True)
    assert (err.value.code, err.value.rule) == ("value-out-of-range", "CSeq"), err.value


@pytest.mark.parametrize(("field", "value", "rule"), [*SCALARS, (b"CSeq", HUGE + b" X", "")])
def test_a_huge_scalar_read_lazily_is_a_named_error(field: bytes, value: bytes, rule: str) -> None:
    """Lazy parsing takes the message; reading the number is a ParseError, not a ValueError
    (a parameter too long to read as a number reads as None)."""
    msg = sipfsm.parse(request(field, value, cseq=field != b"CSeq"))
    views = ["expires", "max_forwards", "min_expires", "retry_after", "session_expires"]
    views += ["min_se", "rseq", "rack", "contact", "cseq"]
    for view in views:
        try:
            got = getattr(msg, view)
        except ParseError as exc:
            assert exc.code == "bad-header-value", exc
            continue
        if view == "contact" and field == b"Contact":
            assert got[0].expires is None  # not a number it reads


def test_a_huge_content_length_is_a_named_error_on_a_datagram() -> None:
    """Lazily: more octets than follow. Strictly: more digits than a number is read with."""
    for strict, code in ((False, "content-length-mismatch"), (True, "value-out-of-range")):
        with pytest.raises(ParseError) as err:
            sipfsm.parse(
                HEAD + b"CSeq: 1 REGISTER\r\nContent-Length: " + HUGE + b"\r\n\r\n", strict=strict
            )
        assert err.value.code == code, err.value


def test_a_second_huge_content_length_is_out_of_range_in_strict_mode() -> None:
    """Found by scripts/fuzz (issue 11): on a datagram, conflicting Content-Lengths are not
    used for framing (RFC 4475 3.3.9, mcl01), so strict parsing accepted a second one of
    4,301 digits, which the Content-Length view cannot read. It is value-out-of-range now;
    a long one with leading zeros stays a number (and the message reads)."""
    head = HEAD + b"CSeq: 1 REGISTER\r\nContent-Length: 2\r\n"
    data = head + b"l: " + HUGE + b"\r\n\r\nhi"
    with pytest.raises(ParseError) as err:
        sipfsm.parse(data, strict=True)
    assert (err.value.code, err.value.rule, err.value.line) == (
        "value-out-of-range",
        "Content-Length",
        8,
    ), err.value
    lazy = sipfsm.parse(data)  # lazily taken; its view says the value cannot be read
    with pytest.raises(ParseError):
        read_every_view(lazy)
    ok = sipfsm.parse(head + b"l: " + ZEROS + b"12\r\n\r\nhi", strict=True)
    read_every_view(ok)
    assert ok.typed("Content-Length") == [2, 12]


def test_a_huge_content_length_is_a_named_error_on_a_stream() -> None:
    framer = StreamFramer()
    with pytest.raises(ParseError) as err:
        framer.feed(HEAD + b"CSeq: 1 REGISTER\r\nContent-Length: " + HUGE + b"\r\n\r\n")
    assert err.value.code == "message-too-large", err.value


def test_conflicting_huge_content_lengths_are_told_apart() -> None:
    data = HEAD + b"l: " + HUGE + b"\r\nContent-Length: " + HUGE + b"2\r\n\r\n"
    with pytest.raises(ParseError) as err:
        StreamFramer().feed(data)
    assert err.value.code == "content-length-conflict", err.value


@pytest.mark.parametrize(
    ("field", "value", "view", "expected"),
    [
        (b"Max-Forwards", ZEROS + b"70", "max_forwards", 70),
        (b"Expires", ZEROS + b"3600", "expires", 3600),
        (b"Min-Expires", ZEROS, "min_expires", 0),
        (b"RSeq", ZEROS + b"1", "rseq", 1),
    ],
)
def test_leading_zeros_of_any_length_read_as_the_number(
    field: bytes, value: bytes, view: str, expected: int
) -> None:
    for strict in (False, True):
        assert getattr(sipfsm.parse(request(field, value), strict=strict), view) == expected


def test_leading_zeros_in_cseq_content_length_and_contact_expires() -> None:
    data = (
        HEAD
        + b"CSeq: "
        + ZEROS
        + b"7 REGISTER\r\nContact: <sip:a@example.com>;expires="
        + ZEROS
        + b"60\r\nContent-Length: "
        + ZEROS
        + b"2\r\n\r\nhi"
    )
    for strict in (False, True):
        msg = sipfsm.parse(data, strict=strict)
        assert msg.cseq is not None and msg.cseq.seq == 7
        assert msg.body == b"hi" and msg.content_length == 2
        assert msg.contact[0].expires == 60  # type: ignore[union-attr]
    got = StreamFramer().feed(data)
    assert len(got) == 1 and got[0].body == b"hi"


def test_huge_ports_and_parameters_read_as_a_named_error() -> None:
    """Numbers the grammar does not bound (a URI or Via port, rport): reading them is a
    ParseError (or a value), never a ValueError or internal-error."""
    for line in (
        b"Via: SIP/2.0/UDP h.example.com:" + HUGE + b";branch=z9hG4bK2",
        b"Via: SIP/2.0/UDP h.example.com;rport=" + HUGE + b";branch=z9hG4bK2",
        b"Contact: <sip:a@example.com:" + HUGE + b">",
    ):
        data = HEAD + b"CSeq: 1 REGISTER\r\n" + line + b"\r\nContent-Length: 0\r\n\r\n"
        for strict in (False, True):
            try:
                msg = sipfsm.parse(data, strict=strict)
            except ParseError as exc:
                assert exc.code != "internal-error", exc
                continue
            for view in ("via", "contact"):
                try:
                    items = getattr(msg, view)
                    for item in items:
                        for attr in ("port", "rport", "uri"):
                            getattr(item, attr, None)
                except ParseError as exc:
                    assert exc.code == "bad-header-value", exc


#: Every place a port is (RFC 3261 section 25: hostport, sent-by): the line with ``{}`` for it.
PORT_LINES = [
    "Via: SIP/2.0/UDP 192.0.2.21:{};branch=z9hG4bKx",
    "Via: SIP/2.0/TCP h.example.com : {} ;branch=z9hG4bKy",
    "Contact: <sip:a@example.com:{}>",
    "Contact: sip:a@example.com:{}",
    "Route: <sip:proxy.example.com:{};lr>",
    "Record-Route: <sip:proxy.example.com:{};lr>",
    "Reply-To: <sips:a@[2001:db8::1]:{}>",
    "Call-Info: <sip:info.example.com:{}>;purpose=info",
    "P-Asserted-Identity: <sip:a@example.com:{}>",
    "Refer-To: <sip:b@example.com:{}>",
    "REQUEST-URI sip:registrar.example.com:{}",
]


def with_port(line: str, port: str) -> bytes:
    text = line.format(port).encode()
    if line.startswith("REQUEST-URI "):
        uri = text.split(b" ", 1)[1]
        return request(b"Expires", b"60").replace(b"sip:registrar.example.com", uri, 1)
    head = HEAD + b"CSeq: 1 REGISTER\r\n"
    return head + text + b"\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize("line", PORT_LINES)
@pytest.mark.parametrize("port", ["65536", "99999999999999999999", "9" * 5000])
def test_a_port_above_65535_is_out_of_range_in_every_place(line: str, port: str) -> None:
    """``port = 1*DIGIT`` has no bound, but a port is a UDP, TCP or SCTP port number (sections
    18, 19.1.1): strict parsing refuses one above 65535 wherever a port is, with the code of the
    other ranges (before, it accepted it and the Via view could not read one of 5,000 digits:
    what strict parsing accepts, every typed view must read). Lazily parsed, the views give
    the number or a named ParseError."""
    data = with_port(line, port)
    with pytest.raises(ParseError) as err:
        sipfsm.parse(data, strict=True)
    assert err.value.code == "value-out-of-range", err.value
    assert err.value.rule == "port", err.value
    msg = sipfsm.parse(data)
    try:
        read_every_view(msg)
    except ParseError as exc:
        assert exc.code == "bad-header-value", exc


@pytest.mark.parametrize("line", PORT_LINES)
def test_ports_up_to_65535_are_accepted_and_read(line: str) -> None:
    """The bound is 65535, leading zeros of any length allowed; digits that are not a port
    (a user part) are not bounded."""
    for port in ("65535", "0" * 5000 + "5060", "0"):
        msg = sipfsm.parse(with_port(line, port), strict=True)
        read_every_view(msg)
    user = HEAD + b"CSeq: 1 REGISTER\r\nContact: <sip:123456789012@example.com:5060>\r\n"
    msg = sipfsm.parse(user + b"Content-Length: 0\r\n\r\n", strict=True)
    assert msg.contact[0].uri.port == 5060  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("lengths", "code"),
    [((HUGE,), "message-too-large"), ((b"2", HUGE), "content-length-conflict")],
)
def test_a_huge_content_length_ends_a_strict_stream(lengths: tuple[bytes, ...], code: str) -> None:
    """On a stream, a Content-Length too long to read is a framing error (the stream cannot
    be cut), strict or not: never value-out-of-range, which would leave the framer meeting
    the same header section at every feed."""
    head = HEAD + b"CSeq: 1 REGISTER\r\n" + b"".join(b"l: " + n + b"\r\n" for n in lengths)
    for strict in (False, True):
        framer = StreamFramer(strict=strict)
        with pytest.raises(ParseError) as err:
            framer.feed(head + b"\r\nhi")
        assert err.value.code == code and framer.broken is err.value, err.value
