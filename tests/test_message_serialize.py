"""Lossless serializer, canonical form and editing API (RFC 3261 sections 7, 7.3.1, 20.14)."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS
from hypothesis import given, settings

import sipfsm
from sipfsm.testing import strategies as sips

CLASSES = json.loads((CORPUS / "classes.json").read_text())["messages"]
ACCEPTED = sorted(n for n, c in CLASSES.items() if c["class"] in ("valid", "semantic"))


@pytest.mark.parametrize("name", ACCEPTED)
def test_untouched_corpus_message_serializes_to_its_bytes(name: str) -> None:
    """serialize(parse(b)) == b for every RFC 4475 message sipfsm accepts. dblreq (3.1.1.8)
    carries trailing datagram noise that is not part of the message (18.3): it serializes to
    the framed message, a prefix of the datagram."""
    data = (CORPUS / name).read_bytes()
    m = sipfsm.parse(data)
    out = sipfsm.serialize(m)
    if name == "dblreq.dat":
        assert data.startswith(out) and len(out) < len(data)
        assert b"INVITE" not in out, "RFC 4475 3.1.1.8: the INVITE octets must not appear"
    else:
        assert out == data
    assert not m.edited


@pytest.mark.parametrize("name", ACCEPTED)
def test_canonical_corpus_message_reads_the_same(name: str) -> None:
    """The canonical form of every accepted corpus message parses to the same message."""
    m = sipfsm.parse((CORPUS / name).read_bytes())
    c = sipfsm.canonical(m)
    again = sipfsm.parse(c)
    assert sipfsm.same_message(m, again), c.decode("utf-8", "replace")
    assert sipfsm.canonical(again) == c, "canonical form is a fixed point"


@settings(max_examples=min(settings().max_examples, 100))
@given(sips.messages())
def test_roundtrip_generated(m: sipfsm.Message) -> None:
    """parse(serialize(m)) reads the same as m, and so does parse(canonical(m)), for every
    generated (tortuous) message; serialize of an untouched message is its bytes."""
    assert sipfsm.serialize(m) == m.raw
    assert sipfsm.same_message(sipfsm.parse(sipfsm.serialize(m), strict=True), m)
    canon = sipfsm.parse(sipfsm.canonical(m), strict=True)
    assert sipfsm.same_message(canon, m)
    assert canon.content_length == len(m.body)


def test_canonical_form() -> None:
    """Long names (7.3.3), one value per line (7.3.1), one correct Content-Length (20.14)."""
    m = sipfsm.parse(
        b"OPTIONS sip:b@b.example.com SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1,\r\n"
        b" SIP/2.0/UDP g;branch=z9hG4bK2\r\ni: abc\r\nl: 0\r\n\r\n"
    )
    assert sipfsm.canonical(m) == (
        b"OPTIONS sip:b@b.example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        b"Via: SIP/2.0/UDP g;branch=z9hG4bK2\r\nCall-ID: abc\r\nContent-Length: 0\r\n\r\n"
    )


def test_editing_api() -> None:
    """Edits return new, edited messages in canonical form; the original is unchanged."""
    data = (CORPUS / "wsinv.dat").read_bytes()
    m = sipfsm.parse(data)
    e = m.with_header("Via", "SIP/2.0/UDP p.example.com;branch=z9hG4bKnew", first=True)
    assert e.edited and not m.edited and sipfsm.serialize(m) == data
    assert e.via[0].branch == "z9hG4bKnew" and len(e.via) == 4
    assert sipfsm.serialize(e) == sipfsm.canonical(e)
    r = e.replace_header("Max-Forwards", "67")
    assert r.max_forwards == 67 and r.get_all("Max-Forwards") == ["67"]
    assert r.without_header("Subject").subject is None
    b = r.with_body(b"hello", "text/plain")
    assert b.body == b"hello" and b.content_length == 5 and b.content_type is not None
    assert b.content_type.mime == "text/plain"
    assert isinstance(b, sipfsm.Request) and b.method == "INVITE"
    moved = b.evolve(uri="sip:other@example.com")
    assert isinstance(moved, sipfsm.Request) and moved.uri == "sip:other@example.com"


def test_editing_refuses_invalid_results() -> None:
    """An edit that would make an invalid message raises (ParseError or ValueError)."""
    m = sipfsm.parse((CORPUS / "wsinv.dat").read_bytes())
    with pytest.raises(sipfsm.ParseError):
        m.replace_header("CSeq", "not-a-number INVITE")
    with pytest.raises(ValueError):
        m.evolve(status=200)
    resp = sipfsm.parse((CORPUS / "unreason.dat").read_bytes())
    with pytest.raises(ValueError):
        resp.evolve(status=700)
