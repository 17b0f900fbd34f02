"""Stream framing (RFC 3261 section 18.3) and datagram framing."""

from __future__ import annotations

import pytest
from conftest import CORPUS
from hypothesis import given
from hypothesis import strategies as st

import sipfsm
from sipfsm import Limits, ParseError, Request, Response, StreamFramer


def msg(n: int, body: bytes = b"") -> bytes:
    return (
        f"OPTIONS sip:u{n}@example.com SIP/2.0\r\n"
        f"Via: SIP/2.0/TCP h.example.com;branch=z9hG4bK{n}\r\n"
        f"CSeq: {n} OPTIONS\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


STREAM = msg(1) + msg(2, b"hello") + b"\r\n\r\n" + msg(3, b"\x00\r\n\r\n\x01")


def uris(messages: list[Request | Response]) -> list[str]:
    return [m.uri for m in messages if isinstance(m, Request)]


def test_several_messages_in_one_buffer() -> None:
    got = StreamFramer(strict=True).feed(STREAM)
    assert uris(got) == [f"sip:u{i}@example.com" for i in (1, 2, 3)]
    assert [m.body for m in got] == [b"", b"hello", b"\x00\r\n\r\n\x01"]


def test_byte_by_byte() -> None:
    framer = StreamFramer()
    out: list[Request | Response] = []
    for i in range(len(STREAM)):
        out += framer.feed(STREAM[i : i + 1])
    assert uris(out) == [f"sip:u{i}@example.com" for i in (1, 2, 3)]
    assert framer.buffered == 0


@given(st.lists(st.integers(0, len(STREAM)), max_size=8))
def test_any_split_gives_the_same_messages(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    framer = StreamFramer()
    out: list[Request | Response] = []
    prev = 0
    for p in [*points, len(STREAM)]:
        out += framer.feed(STREAM[prev:p])
        prev = p
    assert [m.raw for m in out] == [m.raw for m in StreamFramer().feed(STREAM)]


def test_partial_body_waits() -> None:
    framer = StreamFramer()
    data = msg(7, b"0123456789")
    assert framer.feed(data[:-3]) == []
    assert framer.buffered == len(data) - 3
    (m,) = framer.feed(data[-3:])
    assert m.body == b"0123456789"


def test_content_length_is_mandatory_on_streams() -> None:
    framer = StreamFramer()
    with pytest.raises(ParseError) as err:
        framer.feed(b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n")
    assert err.value.code == "missing-content-length"
    with pytest.raises(ParseError):  # the stream cannot be framed any more
        framer.feed(msg(1))


def test_conflicting_content_lengths_break_the_stream() -> None:
    data = (CORPUS / "mcl01.dat").read_bytes()
    with pytest.raises(ParseError) as err:
        StreamFramer().feed(data)
    assert err.value.code == "content-length-conflict"
    # On a datagram the same message parses: the rest of the datagram is its body.
    assert sipfsm.parse(data, strict=True).body.startswith(b"There's")


def test_a_malformed_but_framed_message_does_not_break_the_stream() -> None:
    framer = StreamFramer(strict=True)
    bad = msg(2).replace(b"CSeq: 2 OPTIONS", b"CSeq: 2 BYE")
    with pytest.raises(ParseError) as err:
        framer.feed(msg(1) + bad + msg(3))
    assert err.value.code == "cseq-method-mismatch"
    assert uris(framer.feed(b"")) == ["sip:u1@example.com", "sip:u3@example.com"]


def test_stream_limits() -> None:
    framer = StreamFramer(limits=Limits(max_message_size=200))
    with pytest.raises(ParseError) as err:
        framer.feed(b"OPTIONS sip:a@b SIP/2.0\r\nX: " + b"a" * 300)
    assert err.value.code == "message-too-large"
    framer = StreamFramer(limits=Limits(max_message_size=200))
    with pytest.raises(ParseError) as err:
        framer.feed(b"OPTIONS sip:a@b SIP/2.0\r\nl: 500\r\n\r\n")
    assert err.value.code == "message-too-large"


def test_keepalive_crlf_between_messages_is_skipped() -> None:
    got = StreamFramer().feed(b"\r\n\r\n" + msg(1) + b"\r\n" + msg(2))
    assert len(got) == 2


def test_datagram_trailing_octets_are_discarded_and_no_length_means_to_the_end() -> None:
    m = sipfsm.parse(msg(1, b"abc") + b"garbage")
    assert m.body == b"abc" and not m.raw.endswith(b"garbage")
    no_cl = b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\nbody to the end"
    assert sipfsm.parse(no_cl, strict=True).body == b"body to the end"


def test_folded_header_lines_unfold() -> None:
    data = b"OPTIONS sip:a@b SIP/2.0\r\nSubject: one\r\n two\r\n\tthree\r\nl: 0\r\n\r\n"
    m = sipfsm.parse(data, strict=True)
    assert m.get("s") == "one two\tthree"
    bad = b"OPTIONS sip:a@b SIP/2.0\r\n folded-first: x\r\n\r\n"
    with pytest.raises(ParseError) as err:
        sipfsm.parse(bad, strict=True)
    assert err.value.code == "bad-folding"
