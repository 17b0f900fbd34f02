"""Calls between two sipfsm UAs over a virtual wire, shared by the session tests (flows,
properties, meta-tests); ``tests/session_oracle.py`` judges what the wire logged."""

from __future__ import annotations

from collections.abc import Callable

from sipfsm.sim.wire import Wire
from sipfsm.ua.core import UA

BOB = "sip:bob@biloxi.example.com"


def lose_acks(n: int) -> Callable[[float, str, bytes], bool]:
    """A network that loses the first ``n`` ACKs (``10**6``: every one), as ``Wire.drop``."""
    lost = [0]

    def drop(t: float, who: str, data: bytes) -> bool:
        if data.startswith(b"ACK") and lost[0] < n:
            lost[0] += 1
            return True
        return False

    return drop


def answered_call(alice: UA, bob: UA, *, acks_lost: int, until: float, status: int = 200) -> Wire:
    """Alice calls Bob, who answers ``status`` (200) at once; the first ``acks_lost`` ACKs are
    lost; the clock runs to ``until``."""
    w = Wire(alice, bob, drop=lose_acks(acks_lost))
    alice.invite(BOB, 0.0)
    w.flush(0.0)
    bob.sessions[0].answer(status, 0.0)
    w.run_until(until, 0.0)
    return w


def drop_nth(method: bytes, n: int) -> Callable[[float, str, bytes], bool]:
    """A network that loses every copy of the ``n``-th distinct request ``method`` (by
    branch) it sees."""
    seen: list[bytes] = []

    def drop(t: float, who: str, data: bytes) -> bool:
        if not data.startswith(method + b" "):
            return False
        branch = data.split(b";branch=", 1)[1].split(b"\r\n", 1)[0]
        if branch not in seen:
            seen.append(branch)
        return seen.index(branch) == n - 1

    return drop


def established(alice: UA, bob: UA) -> Wire:
    """Alice calls Bob, who answers 200 at once; the ACK arrives."""
    w = Wire(alice, bob)
    alice.invite(BOB, 0.0)
    w.flush(0.0)
    bob.sessions[0].answer(200, 0.0)
    w.flush(0.0)
    return w


def bye_during_reinvite(alice: UA, bob: UA, *, until: float = 60.0) -> Wire:
    """15.1.2: Alice's re-INVITE is lost at first (she is ReInviting) when Bob hangs up at
    1.1 s; from then on the network loses nothing; the clock runs to ``until``."""
    w = established(alice, bob)
    w.drop = drop_nth(b"INVITE", 1)
    alice.sessions[0].reinvite(1.0)
    w.flush(1.0)
    bob.sessions[0].bye(1.1)
    w.flush(1.1)
    w.drop = lambda t, who, d: False
    w.run_until(until, 1.1)
    return w


def reinvite_on_early_dialog(alice: UA, bob: UA, *, sender: str, until: float = 60.0) -> Wire:
    """14.2: Bob answers 180 (an early dialog), then ``sender`` (``alice`` or ``bob``) sends
    an INVITE within that early dialog, built per 12.2.1.1 from its own dialog (a TU of
    sipfsm may not: no re-INVITE before the initial INVITE is done, 14.1) and passed to an INVITE
    client transaction of its own (its final response goes to the TU); at 1 s Bob answers
    the initial INVITE 200, and the clock runs to ``until``."""
    w = Wire(alice, bob)
    s = alice.invite(BOB, 0.0)
    w.flush(0.0)
    b = bob.sessions[0]
    b.answer(180, 0.0)
    w.flush(0.0)
    ua, session = (alice, s) if sender == "alice" else (bob, b)
    (dialog,) = session.dialogs.values()
    contact = f"<sip:{ua.user}@{ua.host}>"
    invite = dialog.request("INVITE", **ua._ids.via(), contact=contact)
    ua._send_request(invite, None, "request", 0.5)  # its own INVITE client transaction (17.1)
    w.flush(0.5)
    b.answer(200, 1.0)
    w.run_until(until, 1.0)
    return w
