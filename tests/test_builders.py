"""Builders: requests (8.1.1), responses (8.2.6), ACK of non-2xx (17.1.1.3), CANCEL (9.1)."""

from __future__ import annotations

import random
from typing import TypedDict

import pytest

import sipfsm
from sipfsm import build_ack, build_cancel, build_request, build_response
from sipfsm.message.build import build_in_dialog


def invite(seed: int = 1) -> sipfsm.Request:
    return build_request(
        "INVITE",
        "sip:bob@biloxi.example.com",
        from_='"Alice" <sip:alice@atlanta.example.com>',
        sent_by="pc33.atlanta.example.com",
        route=["<sip:p1.example.com;lr>"],
        body=b"v=0\r\n",
        content_type="application/sdp",
        rng=random.Random(seed),
    )


def test_request_8_1_1() -> None:
    """8.1.1: To = Request-URI, From with tag, Call-ID, CSeq, Max-Forwards 70, Via with a
    z9hG4bK branch, Contact for INVITE, Content-Length of the body."""
    r = invite()
    assert r.method == "INVITE" and r.uri == "sip:bob@biloxi.example.com"
    assert r.to is not None and str(r.to.uri) == r.uri and r.to.tag is None
    assert r.from_ is not None and r.from_.tag and r.from_.display_name == "Alice"
    assert r.call_id and r.cseq == sipfsm.message.headers.CSeq(1, "INVITE")
    assert r.max_forwards == 70
    assert len(r.via) == 1 and r.via[0].is_rfc3261_branch and len(r.via[0].branch or "") > 7
    assert r.via[0].host == "pc33.atlanta.example.com" and r.via[0].transport == "UDP"
    assert r.contact and str(r.contact[0]) != "*"
    assert [str(x.uri) for x in r.route] == ["sip:p1.example.com;lr"]
    assert r.content_length == 5 and sipfsm.validate(r) == []


def test_randomness_is_injectable() -> None:
    """Same seed, same message; different seeds, different branch/tag/Call-ID."""
    assert invite(1).raw == invite(1).raw
    a, b = invite(1), invite(2)
    assert a.via[0].branch != b.via[0].branch and a.call_id != b.call_id
    assert a.from_ is not None and b.from_ is not None and a.from_.tag != b.from_.tag


def test_response_8_2_6() -> None:
    """8.2.6.2: Via, From, Call-ID, CSeq copied; To copied plus a tag (not for 100)."""
    r = invite()
    ok = build_response(r, 200, rng=random.Random(5), contact="sip:bob@192.0.2.4")
    assert ok.status == 200 and ok.reason == "OK"
    assert ok.get_all("Via") == r.get_all("Via") and ok.call_id == r.call_id
    assert ok.cseq == r.cseq and ok.from_ == r.from_
    assert ok.to is not None and ok.to.tag and ok.to.uri == r.to.uri  # type: ignore[union-attr]  # r is built with a To
    trying = build_response(r, 100)
    assert trying.to is not None and trying.to.tag is None
    ringing = build_response(r, 180, to_tag="xyz")
    assert ringing.to is not None and ringing.to.tag == "xyz"
    assert [str(x.uri) for x in ringing.record_route] == []


def test_a_status_without_a_known_reason_gets_an_empty_phrase() -> None:
    """25.1: Reason-Phrase = *(reserved / unreserved / ...) may be empty; a code that 21
    does not name gets none unless one is given, and a given one is used as it is."""
    unnamed = build_response(invite(), 499)
    assert unnamed.status == 499 and unnamed.reason == ""
    assert unnamed.raw.startswith(b"SIP/2.0 499 \r\n")
    assert build_response(invite(), 499, reason="Mine").reason == "Mine"


@pytest.mark.parametrize("status", [99, 700, 0, -1, 1000])
def test_response_refuses_bad_status(status: int) -> None:
    """7.2 / 21: status codes are 100-699."""
    with pytest.raises(ValueError):
        build_response(invite(), status)


def test_no_response_to_ack() -> None:
    """ACK is never answered (17.1.1.3)."""
    ack = build_ack(invite(), build_response(invite(), 486))
    with pytest.raises(ValueError):
        build_response(ack, 200)


def test_ack_17_1_1_3() -> None:
    """ACK of a non-2xx: Request-URI, Call-ID, From, CSeq number of the INVITE; To of the
    response; one Via = the INVITE's top Via; the INVITE's Route."""
    r = invite()
    busy = build_response(r, 486, rng=random.Random(9))
    ack = build_ack(r, busy)
    assert ack.method == "ACK" and ack.uri == r.uri and ack.call_id == r.call_id
    assert ack.from_ == r.from_ and ack.to == busy.to
    assert ack.cseq == sipfsm.message.headers.CSeq(r.cseq.seq, "ACK")  # type: ignore[union-attr]  # r is built with a CSeq
    assert ack.get_all("Via") == r.get_all("Via")[:1]
    assert ack.get_all("Route") == r.get_all("Route")
    with pytest.raises(ValueError):
        build_ack(r, build_response(r, 200))
    with pytest.raises(ValueError):
        build_ack(
            build_request("OPTIONS", "sip:b@b.example.com", from_="sip:a@a.example.com"), busy
        )


def test_cancel_9_1() -> None:
    """CANCEL: same Request-URI, Call-ID, To, From, CSeq number; method CANCEL; top Via."""
    r = invite()
    c = build_cancel(r)
    assert c.method == "CANCEL" and c.uri == r.uri and c.to == r.to and c.from_ == r.from_
    assert c.call_id == r.call_id and c.cseq == sipfsm.message.headers.CSeq(1, "CANCEL")
    assert c.get_all("Via") == r.get_all("Via")[:1] and c.route == r.route
    with pytest.raises(ValueError):
        build_cancel(c)
    with pytest.raises(ValueError):
        build_cancel(build_ack(r, build_response(r, 404)))


def test_request_refusals() -> None:
    """ACK/CANCEL go through their builders; Max-Forwards 0-255; a body needs a type: each
    refusal says which rule, with its section."""
    for method in ("ACK", "CANCEL"):
        with pytest.raises(ValueError, match=rf"^build {method} with build_{method.lower()} "):
            build_request(method, "sip:b@b.example.com", from_="sip:a@a.example.com")
    with pytest.raises(ValueError, match=r"^Max-Forwards must be 0-255 \(20\.22\)$"):
        build_request(
            "OPTIONS", "sip:b@b.example.com", from_="sip:a@a.example.com", max_forwards=300
        )
    with pytest.raises(ValueError, match=r"^a body needs a Content-Type \(7\.4\.1\)$"):
        build_request("OPTIONS", "sip:b@b.example.com", from_="sip:a@a.example.com", body=b"x")
    with pytest.raises(ValueError, match=r"^a body needs a Content-Type \(7\.4\.1\)$"):
        build_response(invite(), 200, body=b"x")


class _DialogParts(TypedDict):
    """The dialog state a request within the dialog is built from (12.2.1.1)."""

    to: str
    from_: str
    call_id: str
    cseq: int


def test_in_dialog_12_2_1_1() -> None:
    """A request within a dialog from its parts: both tags, the given CSeq, Route, a new
    branch; ACK allowed (13.2.2.4), CANCEL not (9.1), To or From without tag not (12)."""
    parts: _DialogParts = {
        "to": "<sip:bob@biloxi.example.com>;tag=b1",
        "from_": "<sip:alice@a.example>;tag=a1",
        "call_id": "c1@a.example",
        "cseq": 7,
    }
    bye = build_in_dialog(
        "BYE",
        "sip:bob@192.0.2.4",
        route=["<sip:p1.example.com;lr>"],
        sent_by="a.example",
        rng=random.Random(4),
        **parts,
    )
    assert bye.method == "BYE" and bye.cseq == sipfsm.message.headers.CSeq(7, "BYE")
    assert bye.to and bye.to.tag == "b1" and bye.from_ and bye.from_.tag == "a1"
    assert [str(x.uri) for x in bye.route] == ["sip:p1.example.com;lr"] and not bye.contact
    assert bye.via[0].is_rfc3261_branch and sipfsm.validate(bye) == []
    ack = build_in_dialog("ACK", "sip:bob@192.0.2.4", branch="z9hG4bKx", **parts)
    assert ack.cseq == sipfsm.message.headers.CSeq(7, "ACK") and ack.via[0].branch == "z9hG4bKx"
    with pytest.raises(ValueError):
        build_in_dialog("CANCEL", "sip:bob@192.0.2.4", **parts)
    with pytest.raises(ValueError):
        build_in_dialog("BYE", "sip:bob@192.0.2.4", **(parts | {"to": "<sip:bob@b.example>"}))
    with pytest.raises(ValueError):
        build_in_dialog("BYE", "sip:bob@192.0.2.4", branch="1234", **parts)
