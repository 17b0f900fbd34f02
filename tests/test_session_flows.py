"""End to end over the virtual clock: a sipfsm UAC and UAS (each a session model over a
transaction layer) exchange BYTES; every message is checked by ``sipfsm.parse(strict=True)``.

The flows of RFC 3261 Figure 1 (the call), 24.1 (registration) and 24.2 (session setup), and
CANCEL (9), re-INVITE and glare (14), forking (12.1.2, 13.2.2.4), 2xx retransmission (13.3.1.4)
and the UAS checks of 12.2.2. Sequences are asserted exactly; the oracle
(``tests/session_oracle.py``, written from the RFC text) checks every log.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict, Unpack

import pytest

from sipfsm import Request, Response, Timers, parse
from sipfsm.message.build import build_in_dialog
from sipfsm.sim.wire import Wire
from sipfsm.ua.core import UA, InviteSession

sys.path.insert(0, str(Path(__file__).resolve().parent))

import session_oracle as oracle
from session_calls import BOB, answered_call, forking_proxy, stray_2xx

#: One step of a flow: ``(t, action, *args)`` calls ``action(*args, t)``.
Step = tuple[float, Callable[..., object], *tuple[object, ...]]


def _uas(profile: str = "rfc6026", transport: str = "udp") -> tuple[UA, UA]:
    alice = UA(
        "alice", "atlanta.example.com", profile=profile, transport=transport, random=lambda: 0.5
    )
    bob = UA("bob", "biloxi.example.com", profile=profile, transport=transport, random=lambda: 0.25)
    return alice, bob


class _WireOptions(TypedDict, total=False):
    """What a test may set on the :class:`Wire` between the two UAs."""

    drop: Callable[[float, str, bytes], bool]
    mangle: Callable[[str, bytes], bytes]


def _pair(
    profile: str = "rfc6026", transport: str = "udp", **wire: Unpack[_WireOptions]
) -> tuple[UA, UA, Wire]:
    alice, bob = _uas(profile, transport)
    return alice, bob, Wire(alice, bob, **wire)


def _check(w: Wire, *, t1: float = 0.5, t2: float = 4.0) -> list[oracle.Datagram]:
    grams = oracle.read(w.log)
    oracle.check_call(grams, profile=w.a.profile, t1=t1, t2=t2, until=w.clock)
    assert w.a.errors == [] and w.b.errors == []
    return grams


def _call(w: Wire, alice: UA, bob: UA) -> tuple[InviteSession, InviteSession]:
    s = alice.invite(BOB, 0.0)
    w.flush(0.0)
    return s, bob.sessions[-1]


def _play(w: Wire, *steps: Step, until: float) -> list[oracle.Datagram]:
    """Run a flow: the clock runs to each step's ``t`` (timers fire, messages are delivered),
    the step is taken and what it sent delivered; then the clock runs to ``until`` and the
    oracle checks the whole log."""
    now = w.clock
    for t, action, *args in steps:
        now = w.run_until(t, now)
        action(*args, t)
        w.flush(t)
    w.run_until(until, now)
    return _check(w)


def _msgs(grams: list[oracle.Datagram], sender: str, what: str) -> list[Request | Response]:
    return [
        d.msg
        for d in grams
        if d.sender == sender
        and d.delivered
        and (
            (isinstance(d.msg, Request) and d.msg.method == what)
            or (isinstance(d.msg, Response) and str(d.msg.status) == what)
        )
    ]


def _requests(grams: list[oracle.Datagram], sender: str, method: str) -> list[Request]:
    """:func:`_msgs` of a method: requests only."""
    return [m for m in _msgs(grams, sender, method) if isinstance(m, Request)]


def _responses(grams: list[oracle.Datagram], sender: str, status: str) -> list[Response]:
    """:func:`_msgs` of a status code: responses only."""
    return [m for m in _msgs(grams, sender, status) if isinstance(m, Response)]


# --- RFC 3261 Figure 1, 24.2, 24.1 ----------------------------------------------------------


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_figure_1_call(profile: str, transport: str) -> None:
    """Figure 1: INVITE, 100, 180, 200, ACK, (media), BYE, 200."""
    alice, bob, w = _pair(profile, transport)
    s, b = _call(w, alice, bob)
    grams = _play(w, (0.1, b.answer, 180), (0.2, b.answer, 200), (10.0, s.bye), until=60.0)
    assert oracle.sequence(grams) == [
        "alice:INVITE",
        "bob:100",
        "bob:180",
        "bob:200",
        "alice:ACK",
        "alice:BYE",
        "bob:200",
    ]
    invite, ack, bye = (_msgs(grams, "alice", m)[0] for m in ("INVITE", "ACK", "BYE"))
    ringing, ok = _msgs(grams, "bob", "180")[0], _msgs(grams, "bob", "200")[0]
    trying = _msgs(grams, "bob", "100")[0]
    assert isinstance(invite, Request) and isinstance(ack, Request) and isinstance(bye, Request)
    assert trying.to is not None and trying.to.tag is None  # 17.2.1: no To tag on the 100
    assert ringing.to and ok.to and ringing.to.tag == ok.to.tag  # one dialog (12.1.1)
    assert ack.to and bye.to and ack.to.tag == bye.to.tag == ok.to.tag
    assert invite.cseq and ack.cseq and bye.cseq
    assert (ack.cseq.seq, ack.cseq.method) == (invite.cseq.seq, "ACK")  # 13.2.2.4
    assert bye.cseq.seq == invite.cseq.seq + 1  # 12.2.1.1
    assert ack.via[0].branch != invite.via[0].branch  # 13.2.2.4: a new transaction
    assert ack.uri == bye.uri == "sip:bob@biloxi.example.com"  # remote target = Contact
    assert s.state == b.state == "Terminated"
    assert s.dialog is not None and b.dialog is not None
    assert s.dialog.terminated and b.dialog.terminated
    assert [e.what for e in alice.tu] == ["response", "response", "response", "session over"]


def test_24_2_session_setup_bob_hangs_up() -> None:
    """24.2 (F1-F17 between the UAs): INVITE, 100, 180, 200, ACK; then Bob sends the BYE."""
    alice, bob, w = _pair()
    s, b = _call(w, alice, bob)
    grams = _play(w, (0.0, b.answer, 180), (1.0, b.answer, 200), (5.0, b.bye), until=60.0)
    assert oracle.sequence(grams) == [
        "alice:INVITE",
        "bob:100",
        "bob:180",
        "bob:200",
        "alice:ACK",
        "bob:BYE",
        "alice:200",
    ]
    bye = _msgs(grams, "bob", "BYE")[0]
    invite = _msgs(grams, "alice", "INVITE")[0]
    assert isinstance(bye, Request) and isinstance(invite, Request)
    # F13: Bob's BYE goes to Alice's Contact, From = Bob with his tag, To = Alice with hers.
    assert bye.uri == "sip:alice@atlanta.example.com"
    assert bye.from_ and bye.to and invite.from_
    assert bye.to.tag == invite.from_.tag and bye.call_id == invite.call_id
    assert bye.cseq and bye.cseq.seq == 1  # the callee's first request: a fresh local CSeq
    assert s.state == b.state == "Terminated"


def test_24_1_registration() -> None:
    """24.1: REGISTER, 200 OK (the registrar answers with the binding)."""
    bob = UA("bob", "biloxi.example.com")
    registrar = UA("registrar", "registrar.biloxi.example.com")
    w = Wire(bob, registrar)
    reg = bob.request(
        "REGISTER",
        "sip:registrar.biloxi.example.com",
        0.0,
        to=bob.aor,
        headers=(("Expires", "7200"),),
    )
    w.flush(0.0)
    req, _tx = registrar.requests[0]
    registrar.respond(
        req, 200, 0.0, headers=(("Contact", req.get("Contact") or ""), ("Expires", "7200"))
    )
    w.run_until(40.0, 0.0)
    grams = oracle.read(w.log)
    assert oracle.sequence(grams) == ["bob:REGISTER", "registrar:200"]
    ok = grams[1].msg
    assert isinstance(ok, Response) and ok.to and ok.to.tag
    assert ok.call_id == reg.call_id and ok.cseq and ok.cseq.method == "REGISTER"
    assert ok.get("Contact") == "<sip:bob@biloxi.example.com>"
    assert [e.status for e in bob.tu] == [200]
    assert len(bob.layer) == 0 and len(registrar.layer) == 0  # Timers J, K ended them


# --- route sets (12.1.1, 12.1.2, 12.2.1.1) ---------------------------------------------------


def _record_route(lr: bool) -> Callable[[str, bytes], bytes]:
    rr = (
        "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>"
        if lr
        else "Record-Route: <sip:p1.example.com>, <sip:p2.example.com>"
    )

    def mangle(who: str, data: bytes) -> bytes:
        if (
            who == "alice"
            and data.startswith(b"INVITE")
            and b"Record-Route" not in data
            and b";tag=" not in data.split(b"\r\nTo:")[1].split(b"\r\n")[0]
        ):
            head, _, rest = data.partition(b"\r\n")
            return head + b"\r\n" + rr.encode() + b"\r\n" + rest
        return data

    return mangle


@pytest.mark.parametrize("lr", [True, False])
def test_route_set_from_record_route(lr: bool) -> None:
    """12.1.1: the UAS copies Record-Route into its responses and keeps it in order; 12.1.2:
    the UAC keeps it reversed. 12.2.1.1: loose routing (lr): Request-URI = remote target,
    Route = route set; strict routing: Request-URI = first route, remote target last."""
    alice, bob, w = _pair(mangle=_record_route(lr))
    s, b = _call(w, alice, bob)
    grams = _play(
        w, (0.0, b.answer, 200), (1.0, s.reinvite), (1.0, b.answer, 200), (2.0, b.bye), until=40.0
    )
    assert s.dialog and b.dialog
    assert [str(u) for u in s.dialog.route_set] == [
        f"sip:p2.example.com{';lr' if lr else ''}",
        f"sip:p1.example.com{';lr' if lr else ''}",
    ]
    assert [str(u) for u in b.dialog.route_set] == [
        f"sip:p1.example.com{';lr' if lr else ''}",
        f"sip:p2.example.com{';lr' if lr else ''}",
    ]
    ack, reinvite = _requests(grams, "alice", "ACK")[0], _requests(grams, "alice", "INVITE")[1]
    bye = _requests(grams, "bob", "BYE")[0]
    if lr:
        assert ack.uri == reinvite.uri == "sip:bob@biloxi.example.com"
        assert [str(r.uri) for r in ack.route] == ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]
        assert [str(r.uri) for r in bye.route] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    else:
        assert ack.uri == "sip:p2.example.com"
        assert [str(r.uri) for r in ack.route] == [
            "sip:p1.example.com",
            "sip:bob@biloxi.example.com",
        ]
        assert bye.uri == "sip:p1.example.com"
    assert s.state == b.state == "Terminated"


# --- CANCEL (9) -----------------------------------------------------------------------------


def test_cancel_after_180() -> None:
    """9.1/9.2: CANCEL after a provisional: 200 to the CANCEL, 487 to the INVITE, whose ACK
    (17.1.1.3) reuses the INVITE's branch; the early dialog ends (12.3)."""
    alice, bob, w = _pair()
    s, b = _call(w, alice, bob)
    grams = _play(w, (0.0, b.answer, 180), (1.0, s.cancel), until=60.0)
    assert oracle.sequence(grams) == [
        "alice:INVITE",
        "bob:100",
        "bob:180",
        "alice:CANCEL",
        "bob:200",
        "bob:487",
        "alice:ACK",
    ]
    invite, cancel, ack = (_msgs(grams, "alice", m)[0] for m in ("INVITE", "CANCEL", "ACK"))
    assert cancel.via[0].branch == invite.via[0].branch == ack.via[0].branch  # 9.1, 17.1.1.3
    assert cancel.cseq and invite.cseq and cancel.cseq.seq == invite.cseq.seq
    assert s.state == b.state == "Terminated"
    assert all(d.terminated for d in s.dialogs.values())
    assert all(d.terminated for d in b.dialogs.values())


def test_cancel_waits_for_a_provisional() -> None:
    """9.1: no CANCEL before a provisional response: the 100 is lost, the CANCEL goes when
    the retransmitted INVITE (Timer A) brings a 100 again."""
    alice, bob, w = _pair(drop=lambda t, who, d: t == 0.0 and d.startswith(b"SIP/2.0 100"))
    s, _b = _call(w, alice, bob)
    s.cancel(0.1)
    assert s.state == "CancelPending" and not alice.outbox
    w.run_until(60.0, 0.1)
    grams = _check(w)
    cancel = [d for d in grams if isinstance(d.msg, Request) and d.msg.method == "CANCEL"]
    assert cancel and cancel[0].t == 0.5
    assert s.state == "Terminated"


def test_cancel_race_lost_to_the_2xx() -> None:
    """9.1, 15: the 2xx crossed the CANCEL: the CANCEL has no effect (200), the 2xx is ACKed
    and the call ended with BYE."""
    alice, bob, w = _pair()
    s, b = _call(w, alice, bob)
    b.answer(180, 0.0)
    w.flush(0.0)
    s.cancel(1.0)  # the CANCEL is on its way...
    b.answer(200, 1.0)  # ...and so is the 200
    w.run_until(60.0, 1.0)
    grams = _check(w)
    assert oracle.sequence(grams) == [
        "alice:INVITE",
        "bob:100",
        "bob:180",
        "alice:CANCEL",
        "bob:200",
        "bob:200",
        "alice:ACK",
        "alice:BYE",
        "bob:200",
    ]
    assert s.state == b.state == "Terminated"


# --- 2xx retransmission (13.3.1.4): JsSIP's and sipml5's bugs --------------------------------


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_jssip_2xx_retransmits_go_on_until_64_t1_then_bye(transport: str) -> None:
    """JsSIP stopped retransmitting the 2xx at T2. 13.3.1.4: T1, 2T1, 4T1, then every T2,
    until 64*T1, on every transport; then the dialog is confirmed and BYE sent."""
    alice, bob = _uas(transport=transport)
    grams = _check(answered_call(alice, bob, acks_lost=10**6, until=100.0))
    b = bob.sessions[0]
    sent = [
        d.t
        for d in grams
        if d.sender == "bob"
        and isinstance(d.msg, Response)
        and d.msg.status == 200
        and d.msg.cseq
        and d.msg.cseq.method == "INVITE"
    ]
    assert sent == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    bye = [d.t for d in grams if isinstance(d.msg, Request) and d.msg.method == "BYE"]
    assert bye == [32.0]
    acks = [d for d in grams if isinstance(d.msg, Request) and d.msg.method == "ACK"]
    assert len(acks) == len(sent)  # one ACK for every 2xx received (13.2.2.4)
    assert b.state == "Terminated" and b.dialog is not None


def test_sipml5_2xx_retransmits_stop_at_the_ack() -> None:
    """sipml5 went on retransmitting the 200 after the ACK. The first two ACKs are lost; the
    third 200 is ACKed and nothing more is sent."""
    alice, bob = _uas()
    grams = _check(answered_call(alice, bob, acks_lost=2, until=100.0))
    s, b = alice.sessions[0], bob.sessions[0]
    sent = [
        d.t
        for d in grams
        if d.sender == "bob" and isinstance(d.msg, Response) and d.msg.status == 200
    ]
    assert sent == [0.0, 0.5, 1.5]
    assert s.state == b.state == "Confirmed" and not b.runner.timers


# --- re-INVITE and glare (14) ---------------------------------------------------------------


def _established(
    **wire: Unpack[_WireOptions],
) -> tuple[UA, UA, Wire, InviteSession, InviteSession]:
    alice, bob, w = _pair(**wire)
    s, b = _call(w, alice, bob)
    b.answer(200, 0.0)
    w.flush(0.0)
    assert s.state == b.state == "Confirmed"
    return alice, bob, w, s, b


def test_reinvite_accepted_and_failed() -> None:
    """14.1/14.2: a re-INVITE answered 200 is ACKed; one answered 488 leaves the session as
    it was (the dialog and its route set unchanged)."""
    _alice, _bob, w, s, b = _established()
    s.reinvite(1.0)
    w.flush(1.0)
    assert b.state == "ReInvited"
    b.answer(200, 1.0)
    w.flush(1.0)
    assert s.state == b.state == "Confirmed"
    s.reinvite(2.0)
    w.flush(2.0)
    b.answer(488, 2.0)
    w.run_until(50.0, 2.0)
    grams = _check(w)
    assert oracle.sequence(grams)[4:] == [
        "alice:INVITE",
        "bob:100",
        "bob:200",
        "alice:ACK",
        "alice:INVITE",
        "bob:100",
        "bob:488",
        "alice:ACK",
    ]
    invites = _msgs(grams, "alice", "INVITE")
    assert [m.cseq.seq for m in invites if m.cseq] == [1, 2, 3]
    assert s.state == b.state == "Confirmed"
    assert s.dialog and s.dialog.confirmed and s.dialog.local_seq == 3


def test_glare_491_and_retry_windows() -> None:
    """14.1/14.2: both re-INVITE at once; each answers the other 491 and retries after a
    random time: Alice owns the Call-ID (2.1-4 s), Bob does not (0-2 s); 10 ms units."""
    _alice, _bob, w, s, b = _established()
    s.reinvite(1.0)
    b.reinvite(1.0)
    w.flush(1.0)
    assert s.state == b.state == "RetryWait"
    # 2.1 + 0.5 * 1.9; and the caller's 64*T1 after the first 2xx (13.2.2.4)
    assert s.runner.timers == {"glare": pytest.approx(1.0 + 3.05), "early": pytest.approx(32.0)}
    assert b.runner.timers == {"glare": pytest.approx(1.0 + 0.5)}  # 0 + 0.25 * 2.0
    w.run_until(1.5, 1.0)
    assert b.state == "ReInviting" and s.state == "ReInvited"  # Alice drops her retry
    s.answer(200, 1.6)
    w.run_until(40.0, 1.6)
    grams = _check(w)
    oracle.check_glare_retry(grams, "alice", owner=True)
    oracle.check_glare_retry(grams, "bob", owner=False)
    assert [m.status for m in _responses(grams, "alice", "491")] == [491]
    assert [m.status for m in _responses(grams, "bob", "491")] == [491]
    assert s.state == b.state == "Confirmed"


def test_glare_retry_goes_out_when_the_peer_is_quiet() -> None:
    """14.1: the UAC whose re-INVITE got 491 retries once its timer fires."""
    _alice, _bob, w, s, b = _established()
    s.reinvite(1.0)
    b.reinvite(1.0)

    def drop_bobs_retry(t: float, who: str, d: bytes) -> bool:
        return who == "bob" and d.startswith(b"INVITE") and t > 1.0

    w.drop = drop_bobs_retry
    w.run_until(5.0, 1.0)
    grams = oracle.read(w.log)
    oracle.check_glare_retry(grams, "alice", owner=True)
    oracle.check_glare_retry(grams, "bob", owner=False)
    alice_invites = [
        d.t
        for d in grams
        if d.sender == "alice" and isinstance(d.msg, Request) and d.msg.method == "INVITE"
    ]
    assert alice_invites == [0.0, 1.0, pytest.approx(4.05)]


@pytest.mark.parametrize("status", [481, 408])
def test_reinvite_481_or_408_ends_the_dialog(status: int) -> None:
    """12.2.1.2, 14.1: a 481 or 408 to a re-INVITE terminates the dialog."""
    _alice, _bob, w, s, b = _established()
    s.reinvite(1.0)
    w.flush(1.0)
    b.answer(status, 1.0)
    w.run_until(40.0, 1.0)
    _check(w)
    assert s.state == "Terminated" and s.dialog is not None and s.dialog.terminated


def test_reinvite_timeout_ends_the_dialog() -> None:
    """12.2.1.2: no response at all to a re-INVITE (Timer B) terminates the dialog."""
    alice, _bob, w, s, _b = _established()
    w.drop = lambda t, who, d: t >= 1.0 and who == "alice" and d.startswith(b"INVITE")
    s.reinvite(1.0)
    w.run_until(40.0, 1.0)
    assert s.state == "Terminated" and s.dialog is not None and s.dialog.terminated
    assert [e.what for e in alice.tu][-1] == "session over"


# --- UAS checks of 12.2.2 --------------------------------------------------------------------


def _in_dialog(s: InviteSession, method: str, cseq: int, to_tag: str | None = None) -> bytes:
    d = s.dialog
    assert d is not None and d.id is not None
    parts = d.request_parts(method, cseq)
    to = parts.to if to_tag is None else parts.to.split(";tag=")[0] + f";tag={to_tag}"
    return build_in_dialog(
        method,
        parts.request_uri,
        to=to,
        from_=parts.from_,
        call_id=parts.call_id,
        cseq=cseq,
        sent_by="atlanta.example.com",
        branch=f"z9hG4bKforged{cseq}",
    ).raw


def test_unknown_dialog_gets_481_and_lower_cseq_gets_500() -> None:
    """12.2.2: a request for no dialog: 481; a CSeq lower than the remote one: 500."""
    _alice, bob, _w, s, b = _established()
    bob.receive(_in_dialog(s, "BYE", 5, to_tag="nosuchtag"), 1.0)
    bob.receive(_in_dialog(s, "INFO", 7), 1.0)  # accepted: remote CSeq := 7
    bob.receive(_in_dialog(s, "BYE", 6), 1.0)  # lower than 7: out of order
    out = [parse(x) for x in bob.drain()]
    assert [m.status for m in out if isinstance(m, Response)] == [481, 200, 500]
    assert b.state == "Confirmed" and b.dialog and b.dialog.remote_seq == 7


# --- forking (12.1.2, 13.2.2.4) --------------------------------------------------------------


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_forked_invite_two_early_dialogs_two_2xx(profile: str) -> None:
    """An INVITE forked by a proxy reaches two UASs: two early dialogs (one per To tag); both
    answer 200; each 2xx is ACKed on its own dialog with its own To tag, and the second
    dialog is ended with BYE (13.2.2.4)."""
    alice = UA("alice", "atlanta.example.com", profile=profile)
    bob1 = UA("bob", "bob1.biloxi.example.com", profile=profile, name="bob1")
    bob2 = UA("bob", "bob2.biloxi.example.com", profile=profile, name="bob2")
    log: list[tuple[float, str, bytes, bool]] = []

    pump = forking_proxy(alice, (bob1, bob2), log)

    s = alice.invite(BOB, 0.0)
    pump(0.0)
    b1, b2 = bob1.sessions[0], bob2.sessions[0]
    b1.answer(180, 0.1)
    b2.answer(180, 0.1)
    pump(0.1)
    assert len(s.dialogs) == 2 and all(d.early for d in s.dialogs.values())
    b1.answer(200, 0.2)
    pump(0.2)
    b2.answer(200, 0.3)
    pump(0.3)
    now = 0.3
    while now < 40:
        now += 0.25
        for ua in (alice, bob1, bob2):
            ua.handle_timer(now)
        pump(now)
    grams = oracle.read(log)
    oracle.check_acks(grams, "alice", profile=alice.profile)
    oracle.check_no_request_after_bye(grams, "alice")
    acks = [d.msg for d in grams if isinstance(d.msg, Request) and d.msg.method == "ACK"]
    oks = [
        d.msg
        for d in grams
        if isinstance(d.msg, Response)
        and d.msg.status == 200
        and d.msg.cseq
        and d.msg.cseq.method == "INVITE"
    ]
    assert sorted(a.to.tag for a in acks if a.to) == sorted(r.to.tag for r in oks if r.to)  # type: ignore[type-var]  # tagged (12.1.1)
    assert {a.uri for a in acks} == {
        "sip:bob@bob1.biloxi.example.com",
        "sip:bob@bob2.biloxi.example.com",
    }
    byes = [d.msg for d in grams if isinstance(d.msg, Request) and d.msg.method == "BYE"]
    assert [b.uri for b in byes] == ["sip:bob@bob2.biloxi.example.com"]
    assert s.state == "Confirmed" and s.dialog is not None and s.dialog.confirmed
    assert b1.state == "Confirmed" and b2.state == "Terminated"
    assert alice.errors == bob1.errors == bob2.errors == []


def test_t1_is_configurable() -> None:
    """17.1.1.1: T1 may be chosen larger; the 2xx schedule and the BYE scale with it."""
    alice = UA("alice", "atlanta.example.com", timers=Timers(t1=1.0, t2=4.0))
    bob = UA("bob", "biloxi.example.com", timers=Timers(t1=1.0, t2=4.0))
    w = answered_call(alice, bob, acks_lost=10**6, until=100.0)
    _check(w, t1=1.0, t2=4.0)
    bye = [t for t, who, d, _ in w.log if d.startswith(b"BYE")]
    assert bye == [64.0]


# --- sipfsm trace for the session models ------------------------------------------------------


def test_trace_cli_runs_a_session(capsys: pytest.CaptureFixture[str]) -> None:
    from sipfsm.cli import main as cli

    code = cli.main(
        ["trace", "invite_session_server", "tu=180", "tu=200", "+2", "recv=ACK", "recv=BYE"]
    )
    out = capsys.readouterr().out
    assert code == 0
    lines = [line.split(maxsplit=1)[1] for line in out.splitlines()[1:]]
    assert [x.split("  ")[0] for x in lines if x.startswith(("send", "resend", "recv"))] == [
        "recv INVITE",
        "send 100",
        "send 180",
        "send 200",
        "resend 200",
        "resend 200",
        "recv ACK",
        "recv BYE",
        "send 200 (BYE)",
    ]
    assert out.rstrip().endswith("Terminated")
    code = cli.main(["trace", "invite_session_client", "tu=bye"])
    assert code == 1 and "refused" in capsys.readouterr().err


def _trace(capsys: pytest.CaptureFixture[str], *argv: str) -> list[tuple[float, str, str]]:
    from sipfsm.cli import main as cli

    assert cli.main(["trace", *argv]) == 0
    rows = [line.split("  ") for line in capsys.readouterr().out.splitlines()[1:]]
    return [
        (float(r[0]), r[1].strip(), r[-1].strip()) for r in ([x for x in row if x] for row in rows)
    ]


def test_trace_shows_the_2xx_schedule_and_the_bye_at_64_t1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """13.3.1.4 in ``sipfsm trace``: the 2xx again at 0.5, 1.5, 3.5, then every T2 (7.5,
    11.5 ... 31.5), and the BYE at 64*T1 = 32 s."""
    steps = _trace(capsys, "invite_session_server", "tu=180", "tu=200", "+40")
    assert [t for t, what, _ in steps if what == "resend 200"] == [
        0.5,
        1.5,
        3.5,
        7.5,
        11.5,
        15.5,
        19.5,
        23.5,
        27.5,
        31.5,
    ]
    assert [t for t, what, _ in steps if what == "send BYE"] == [32.0]
    intervals = [w.split()[-1] for _, w, _ in steps if w.startswith("start 2xx")]
    assert intervals[:4] == ["0.5", "1.0", "2.0", "4.0"] and set(intervals[4:]) == {"4.0"}


def test_trace_runs_the_dialog_model_on_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    """The caller's dialog (12): created by a 1xx with To tag, confirmed by the 2xx, a request
    within it takes the next CSeq, an out-of-order one gets 500, a 481 ends it (12.2.1.2)."""
    steps = _trace(
        capsys,
        "dialog",
        "recv=100",
        "recv=180",
        "recv=200",
        "send=INFO",
        "recv=200",
        "recv=INFO/5",
        "recv=BYE/3",
        "send=OPTIONS",
        "recv=481",
    )
    states = {what: state for _, what, state in steps}
    assert states["recv 100"] == "Trying"
    assert states["dialog call@me.example.com;local=metag;remote=peertag"] == "Early"
    assert states["enter Confirmed"] == "Confirmed" and "local CSeq 2" in states
    assert "remote CSeq 5" in states and "send 500 (BYE): CSeq out of order" in states
    assert "local CSeq 3" in states and steps[-1][1:] == ("enter Terminated", "Terminated")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["recv=180", "recv=BYE", "recv=BYE"], 1, "refused"),
        (["recv=ACK"], 2, "receives no ACK"),
        (["send=BYE"], 1, "refused"),
        (["tu=200"], 2, "bad event"),
    ],
)
def test_trace_dialog_refusals(
    argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sipfsm.cli import main as cli

    assert cli.main(["trace", "dialog", *argv]) == code
    assert message in capsys.readouterr().err


# --- stray responses: RFC 6026 8.9 (replacing the last paragraph of 18.1.2) -----------------


def _late_2xx_call(profile: str, fork: bool) -> tuple[UA, list[tuple[float, str, bytes, bool]]]:
    """Alice calls Bob, Bob answers 200 at 0.1 s; at 40 s (past 64*T1 = 32 s after that 2xx)
    a copy of the 200 reaches Alice (:func:`session_calls.stray_2xx`): a late retransmission,
    or with ``fork`` the 2xx of another branch (another To tag)."""
    alice, bob = _uas(profile)
    return alice, stray_2xx(alice, bob, at=40.0, fork=fork).log


@pytest.mark.parametrize("fork", [False, True], ids=["retransmission", "other-fork"])
@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_rfc6026_8_9_stray_2xx_after_timer_m_is_discarded(profile: str, fork: bool) -> None:
    """RFC 6026 8.9 replaces the last paragraph of 18.1.2: a response that matches no client
    transaction is silently discarded by every element but a stateless proxy. After Timer M
    (64*T1 after the first 2xx, 17.1.1 as amended) the INVITE client transaction is gone, so a
    2xx retransmission gets no ACK and another fork's 2xx opens no dialog (no ACK, no BYE).
    Under rfc3261 the old paragraph stands: the response goes to the core, which ACKs it
    (13.2.2.4) and BYEs the other fork's dialog."""
    alice, log = _late_2xx_call(profile, fork)
    grams = oracle.read(log)
    late = grams[-1].t if not fork else max(d.t for d in grams if d.sender == "bob")
    after = [d.msg for d in grams if d.sender == "alice" and d.t >= late]
    methods = [m.method for m in after if isinstance(m, Request)]
    oracle.check_stray_2xx(grams, "alice", profile=profile, t1=0.5)
    if profile == "rfc6026":
        assert methods == [], methods
        assert len(alice.sessions[-1].dialogs) == 1
    else:
        assert methods == (["ACK", "BYE"] if fork else ["ACK"]), methods
    assert alice.errors == []
