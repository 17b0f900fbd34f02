"""The registrar of RFC 3261 10.3, checked from the RFC's steps (not from models/registrar.toml).

Each test sends REGISTER requests as bytes to a :class:`~sipfsm.proxy.registrar.Registrar`
and reads the responses back, strictly parsed: step 2 (Require, 420), step 5 (the
address-of-record of the domain, 404), step 6 (Contact ``*``), step 7 (Min-Expires, 423; the
Call-ID/CSeq ordering of updates; removal with expires 0), step 8 (the 200 lists every
current binding with its expires).
"""

from __future__ import annotations

from sipfsm import Response, parse
from sipfsm.message.build import build_request
from sipfsm.proxy.location import LocationService
from sipfsm.proxy.registrar import Registrar

AOR = "sip:bob@biloxi.com"


def _registrar(min_expires: int = 60) -> Registrar:
    return Registrar("reg", "registrar.biloxi.com", ["biloxi.com"], min_expires=min_expires)


def _register(
    reg: Registrar,
    contacts: tuple[str, ...],
    now: float,
    *,
    expires: int | None = None,
    call_id: str = "843817637684230@998sdasdh09",
    cseq: int = 1,
    to: str = AOR,
    extra: tuple[tuple[str, str], ...] = (),
) -> Response:
    """Send one REGISTER (as in RFC 3261 24.1) and return the registrar's final response."""
    headers = [("Contact", c) for c in contacts] + list(extra)
    if expires is not None:
        headers.append(("Expires", str(expires)))
    req = build_request(
        "REGISTER",
        "sip:registrar.biloxi.com",
        from_=f"<{to}>;tag=456248",
        to=f"<{to}>",
        call_id=call_id,
        cseq=cseq,
        sent_by="bobspc.biloxi.com:5060",
        branch=f"z9hG4bKnashds7{cseq}{call_id[:3]}{now}".replace(".", ""),
        headers=headers,
    )
    reg.receive(req.raw, now)
    out = [parse(d, strict=True) for d in reg.drain()]
    finals = [m for m in out if isinstance(m, Response) and m.status >= 200]
    assert len(finals) == 1, out
    return finals[0]


def _bound(resp: Response) -> dict[str, int | None]:
    """The 200's Contacts: URI -> expires parameter."""
    out: dict[str, int | None] = {}
    for c in resp.contact:
        assert not isinstance(c, str)
        out[str(c.uri)] = c.expires  # type: ignore[union-attr]
    return out


def test_bob_registers_and_the_200_lists_his_binding_with_its_expires() -> None:
    """24.1 / 10.3 step 8: 200 OK with the Contact and its expires."""
    reg = _registrar()
    resp = _register(reg, ("<sip:bob@192.0.2.4>",), 0.0, expires=7200)
    assert resp.status == 200
    assert _bound(resp) == {"sip:bob@192.0.2.4": 7200}
    assert resp.to is not None and resp.to.tag  # 8.2.6.2
    assert [str(b.contact) for b in reg.location.bindings(AOR, 1.0)] == ["sip:bob@192.0.2.4"]


def test_the_200_lists_all_current_bindings_and_their_remaining_time() -> None:
    """10.3 step 8: 'a list of all current bindings', each with its expires; an expired one
    is no longer current."""
    reg = _registrar()
    _register(reg, ("<sip:bob@192.0.2.4>",), 0.0, expires=3600, call_id="a1")
    resp = _register(reg, ("<sip:bob@198.51.100.7>",), 1000.0, expires=120, call_id="b2")
    assert _bound(resp) == {"sip:bob@192.0.2.4": 2600, "sip:bob@198.51.100.7": 120}
    later = _register(reg, ("<sip:bob@203.0.113.9>",), 1200.0, expires=600, call_id="c3")
    assert _bound(later) == {"sip:bob@192.0.2.4": 2400, "sip:bob@203.0.113.9": 600}


def test_an_interval_below_min_expires_is_rejected_with_423_and_min_expires() -> None:
    """10.3 step 7: 423 (Interval Too Brief) with a Min-Expires header; nothing is bound."""
    reg = _registrar(min_expires=60)
    resp = _register(reg, ("<sip:bob@192.0.2.4>",), 0.0, expires=30)
    assert resp.status == 423
    assert resp.min_expires == 60
    assert reg.location.bindings(AOR, 0.0) == []


def test_an_expires_parameter_overrides_the_expires_header() -> None:
    """10.2.1.1 / 10.3 step 7: the Contact's expires parameter, then the Expires header."""
    reg = _registrar(min_expires=60)
    resp = _register(reg, ("<sip:bob@192.0.2.4>;expires=90",), 0.0, expires=30)
    assert resp.status == 200 and _bound(resp) == {"sip:bob@192.0.2.4": 90}


def test_expires_zero_removes_one_binding_even_below_min_expires() -> None:
    """10.3 step 7: an expiration interval of 0 removes the binding (Min-Expires applies to
    intervals that are not zero)."""
    reg = _registrar(min_expires=60)
    _register(reg, ("<sip:bob@192.0.2.4>", "<sip:bob@198.51.100.7>"), 0.0, expires=3600)
    resp = _register(reg, ("<sip:bob@192.0.2.4>;expires=0",), 5.0, cseq=2)
    assert resp.status == 200
    assert _bound(resp) == {"sip:bob@198.51.100.7": 3595}


def test_star_with_expires_zero_removes_every_binding() -> None:
    """10.3 step 6 and 10.2.2: Contact * with Expires 0 removes all bindings of the AOR."""
    reg = _registrar()
    _register(reg, ("<sip:bob@192.0.2.4>", "<sip:bob@198.51.100.7>"), 0.0, expires=3600)
    resp = _register(reg, ("*",), 1.0, expires=0, cseq=2)
    assert resp.status == 200
    assert resp.contact == []
    assert reg.location.bindings(AOR, 1.0) == []


def test_star_with_a_nonzero_expires_or_another_contact_is_400() -> None:
    """10.3 step 6: '*' only with Expires 0 and no other Contact, else 400 (Bad Request)."""
    reg = _registrar()
    _register(reg, ("<sip:bob@192.0.2.4>",), 0.0, expires=3600)
    assert _register(reg, ("*",), 1.0, expires=3600, cseq=2).status == 400
    both = _register(reg, ("*", "<sip:bob@198.51.100.7>"), 1.0, expires=0, cseq=3)
    assert both.status == 400
    assert len(reg.location.bindings(AOR, 1.0)) == 1


def test_same_call_id_with_a_cseq_not_higher_fails_and_changes_nothing() -> None:
    """10.3 step 7: same Call-ID, CSeq not higher than the binding's: the update is aborted
    and the request fails; a higher CSeq updates."""
    reg = _registrar()
    _register(reg, ("<sip:bob@192.0.2.4>",), 0.0, expires=3600, cseq=5)
    for seq in (5, 4):
        stale = _register(reg, ("<sip:bob@192.0.2.4>",), 1.0, expires=0, cseq=seq)
        assert stale.status >= 400
        assert len(reg.location.bindings(AOR, 1.0)) == 1
    fresh = _register(reg, ("<sip:bob@192.0.2.4>",), 2.0, expires=600, cseq=6)
    assert fresh.status == 200 and _bound(fresh) == {"sip:bob@192.0.2.4": 600}


def test_another_call_id_updates_whatever_its_cseq() -> None:
    """10.3 step 7: 'If the Call-ID value in the existing binding differs from the Call-ID
    value in the request, the binding MUST be removed if the expiration time is zero and
    updated otherwise.'"""
    reg = _registrar()
    _register(reg, ("<sip:bob@192.0.2.4>",), 0.0, expires=3600, cseq=9, call_id="first")
    resp = _register(reg, ("<sip:bob@192.0.2.4>",), 1.0, expires=300, cseq=1, call_id="other")
    assert resp.status == 200 and _bound(resp) == {"sip:bob@192.0.2.4": 300}
    gone = _register(reg, ("<sip:bob@192.0.2.4>",), 2.0, expires=0, cseq=1, call_id="third")
    assert gone.status == 200 and gone.contact == []


def test_an_unsupported_require_is_420_with_unsupported() -> None:
    """10.3 step 2 / 8.2.2.3: 420 (Bad Extension) listing the option-tags in Unsupported."""
    reg = _registrar()
    resp = _register(reg, ("<sip:bob@192.0.2.4>",), 0.0, expires=3600, extra=(("Require", "foo"),))
    assert resp.status == 420
    assert resp.unsupported == ["foo"]
    assert reg.location.bindings(AOR, 0.0) == []


def test_an_address_of_record_of_another_domain_is_404() -> None:
    """10.3 step 5: an address-of-record not valid for the domain: 404 (Not Found)."""
    reg = _registrar()
    resp = _register(reg, ("<sip:bob@192.0.2.4>",), 0.0, expires=3600, to="sip:bob@atlanta.com")
    assert resp.status == 404


def test_the_location_service_lists_highest_q_first() -> None:
    """16.5 / 20.10: targets are tried by q-value, highest first."""
    reg = _registrar()
    contacts = ("<sip:bob@192.0.2.4>;q=0.1", "<sip:bob@198.51.100.7>;q=0.9")
    _register(reg, contacts, 0.0, expires=3600)
    order = [str(b.contact) for b in reg.location.bindings(AOR, 0.0)]
    assert order == ["sip:bob@198.51.100.7", "sip:bob@192.0.2.4"]


def test_a_location_service_can_be_shared_with_a_proxy() -> None:
    """10 / 16.5: the registrar writes the location service that the proxy consults."""
    location = LocationService()
    reg = Registrar("reg", "registrar.biloxi.com", ["biloxi.com"], location)
    _register(reg, ("<sip:bob@192.0.2.4>",), 0.0, expires=3600)
    assert [str(b.contact) for b in location.bindings(AOR, 10.0)] == ["sip:bob@192.0.2.4"]


def test_a_one_second_binding_is_kept_and_listed() -> None:
    """10.3 step 7: only an interval of zero removes; any other (here 1 s, with Min-Expires
    1) adds the binding, and the 200 lists it with that interval."""
    reg = _registrar(min_expires=1)
    resp = _register(reg, ("<sip:bob@192.0.2.4>",), 0.0, expires=1)
    assert resp.status == 200 and _bound(resp) == {"sip:bob@192.0.2.4": 1}


def test_star_for_an_address_of_record_with_no_binding_is_200_with_none() -> None:
    """10.3 step 6: Contact * with Expires 0 removes all bindings, also when there are none."""
    reg = _registrar()
    resp = _register(reg, ("*",), 0.0, expires=0)
    assert resp.status == 200 and resp.contact == []


def test_a_request_other_than_register_is_405_allowing_register() -> None:
    """8.2.1: a registrar given a method it does not support answers 405 and lists what it
    allows in Allow (10.3: a registrar handles REGISTER)."""
    reg = _registrar()
    req = build_request(
        "OPTIONS",
        "sip:registrar.biloxi.com",
        from_=f"<{AOR}>;tag=456248",
        to=f"<{AOR}>",
        call_id="opt-1@bobspc",
        cseq=1,
        sent_by="bobspc.biloxi.com:5060",
        branch="z9hG4bKopt1",
    )
    reg.receive(req.raw, 0.0)
    out = [parse(d, strict=True) for d in reg.drain()]
    finals = [m for m in out if isinstance(m, Response) and m.status >= 200]
    assert [m.status for m in finals] == [405]
    assert [v.strip() for v in finals[0].get_all("Allow")] == ["REGISTER"]
