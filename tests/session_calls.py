"""Calls between two sipfsm UAs over a virtual wire, shared by the session tests (flows,
properties, meta-tests); ``tests/session_oracle.py`` judges what the wire logged."""

from __future__ import annotations

from collections.abc import Callable

from sipfsm import Request, parse
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


Log = list[tuple[float, str, bytes, bool]]


def forking_proxy(alice: UA, bobs: tuple[UA, ...], log: Log) -> Callable[[float], None]:
    """Deliver until quiet: Alice's out-of-dialog INVITE goes to every UAS, her in-dialog
    requests to the UAS their Request-URI names, and the ACK of a 300-699 (the INVITE's
    Request-URI, 17.1.1.3) to the UAS whose To tag it carries; the UASs' messages go to
    Alice, in the order of ``bobs``. ``log`` gets ``(t, sender, bytes, True)`` as a
    :class:`Wire` logs."""
    tags: dict[str, UA] = {}  # the To tag of each UAS's responses

    def pump(now: float) -> None:
        for _ in range(50):
            moved = False
            for data in alice.drain():
                moved = True
                log.append((now, alice.name, data, True))
                msg = parse(data, strict=True)
                uri = msg.uri if isinstance(msg, Request) else ""
                tag = (msg.to.tag if msg.to else None) or ""
                for bob in bobs:
                    if (
                        (isinstance(msg, Request) and msg.method == "INVITE" and not tag)
                        or bob.host in uri
                        or (
                            not any(b.host in uri for b in bobs)
                            and isinstance(msg, Request)
                            and msg.method == "ACK"
                            and tags.get(tag) is bob
                        )
                    ):
                        bob.receive(data, now)
            for bob in bobs:
                for data in bob.drain():
                    moved = True
                    log.append((now, bob.name, data, True))
                    reply = parse(data, strict=True)
                    if reply.to and reply.to.tag:
                        tags.setdefault(reply.to.tag, bob)
                    alice.receive(data, now)
            if not moved:
                return

    return pump


def bye_crosses_a_2xx_retransmission(alice: UA, bob: UA, *, until: float = 60.0) -> Wire:
    """13.2.2.4: Bob answers 200 at once; Alice's ACK is lost and so is the first copy of
    her BYE (sent at 0.2 s): Bob's 2xx retransmission at T1 reaches her in Terminating, before
    her BYE's retransmission reaches Bob. From then on the network loses nothing."""
    w = Wire(alice, bob, drop=lose_acks(1))
    s = alice.invite(BOB, 0.0)
    w.flush(0.0)
    bob.sessions[0].answer(200, 0.0)
    w.flush(0.0)
    w.drop = drop_nth(b"BYE", 1)
    s.bye(0.2)
    w.flush(0.2)
    w.run_until(0.6, 0.2)  # the 2xx again at 0.5 s; the BYE again at 0.7 s gets through
    w.drop = lambda t, who, d: False
    w.run_until(until, 0.6)
    return w


def _tick(
    uas: tuple[UA, ...], pump: Callable[[float], None], now: float, until: float, log: Log
) -> Log:
    """Run every UA's timers and the pump each 0.25 s from ``now`` to ``until``; ``log``."""
    while now < until:
        now += 0.25
        for ua in uas:
            ua.handle_timer(now)
        pump(now)
    return log


def fork_answers_after_the_call(alice: UA, bob1: UA, bob2: UA, *, until: float = 60.0) -> Log:
    """13.2.2.4: Alice's INVITE forks to Bob1 and Bob2 (a forking proxy); Bob1 answers 200,
    Alice hangs up at 1 s and her BYE is answered; at 2 s Bob2 answers 200 too, after
    Alice's session is over (within 64*T1 of the first 2xx). Returns what went over the
    wire, in order."""
    log: Log = []
    pump = forking_proxy(alice, (bob1, bob2), log)
    s = alice.invite(BOB, 0.0)
    pump(0.0)
    bob1.sessions[0].answer(200, 0.1)
    pump(0.1)
    s.bye(1.0)
    pump(1.0)
    bob2.sessions[0].answer(200, 2.0)
    pump(2.0)
    return _tick((alice, bob1, bob2), pump, 2.0, until, log)


def bye_in(state: str, alice: UA, bob: UA, *, until: float = 60.0) -> Wire:
    """15: a TU hangs up in ``state``. ``ReInviting``: Alice's re-INVITE is lost at first,
    she hangs up at 1.1 s. ``ReInvited``: Bob hangs up at 1.1 s before answering Alice's
    re-INVITE. ``ReAnswered``: Bob answers it 200, the ACK is lost, he hangs up at 1.1 s.
    ``Answered``: Bob answers the initial INVITE, the first ACK is lost, he hangs up at 0.1 s.
    From then on the network loses nothing; the clock runs to ``until``."""
    if state == "Answered":
        w = Wire(alice, bob, drop=lose_acks(1))
        alice.invite(BOB, 0.0)
        w.flush(0.0)
        bob.sessions[0].answer(200, 0.0)
        w.flush(0.0)
        bob.sessions[0].bye(0.1)
        w.run_until(until, 0.1)
        return w
    w = established(alice, bob)
    s, b = alice.sessions[0], bob.sessions[0]
    if state == "ReInviting":
        w.drop = drop_nth(b"INVITE", 1)
    s.reinvite(1.0)
    w.flush(1.0)
    if state == "ReAnswered":
        w.drop = lose_acks(1)
        b.answer(200, 1.0)
        w.flush(1.0)
    (s if state == "ReInviting" else b).bye(1.1)
    w.flush(1.1)
    w.drop = lambda t, who, d: False
    w.run_until(until, 1.1)
    return w


def early_dialog_after_the_first_2xx(
    alice: UA, bob1: UA, bob2: UA, *, at: float = 40.0, until: float = 60.0
) -> Log:
    """13.2.2.4: Alice's INVITE forks to Bob1 and Bob2; Bob2 answers 180 (an early dialog),
    Bob1 200 at 0.1 s. At ``at`` Bob2 sends an INFO within his early dialog (built per
    12.2.1.1, on a client transaction of his own); the clock runs to ``until``."""
    log: Log = []
    pump = forking_proxy(alice, (bob1, bob2), log)
    alice.invite(BOB, 0.0)
    pump(0.0)
    bob2.sessions[0].answer(180, 0.0)
    pump(0.0)
    bob1.sessions[0].answer(200, 0.1)
    pump(0.1)
    now, sent = 0.1, False
    while now < until:
        now += 0.25
        for ua in (alice, bob1, bob2):
            ua.handle_timer(now)
        if not sent and now >= at:
            (dialog,) = bob2.sessions[0].dialogs.values()
            info = dialog.request("INFO", **bob2._ids.via())
            bob2._send_request(info, None, "request", now)
            sent = True
        pump(now)
    return log


def cancel_never_answered(
    alice: UA, bob: UA, *, answer_at: float = 40.0, until: float = 80.0
) -> Wire:
    """9.1: Bob answers 180; Alice cancels at 0.5 s and the network loses every CANCEL, so
    Bob's INVITE server transaction never learns of it and no final response comes (as from
    an RFC 2543 UAS). At ``answer_at`` (past 64*T1 after the CANCEL) Bob's TU answers 486;
    the clock runs to ``until``."""
    w = Wire(alice, bob, drop=lambda t, who, d: d.startswith(b"CANCEL "))
    s = alice.invite(BOB, 0.0)
    w.flush(0.0)
    bob.sessions[0].answer(180, 0.0)
    w.flush(0.0)
    s.cancel(0.5)
    w.flush(0.5)
    w.run_until(answer_at, 0.5)
    bob.sessions[0].answer(486, answer_at)
    w.flush(answer_at)
    w.run_until(until, answer_at)
    return w


def fork_2xx_after_a_6xx(
    alice: UA, bob1: UA, bob2: UA, *, status: int = 603, until: float = 60.0
) -> Log:
    """16.7 step 5, 13.2.2.4: Alice's INVITE forks to Bob1 and Bob2 (one branch, as a proxy's
    response context holds one client transaction upstream); Bob1 declines ``status`` at 0.1 s
    and Alice's INVITE client transaction enters Completed; at 0.2 s Bob2 answers 200, which a
    forking proxy forwards at once even after a final response (16.7 step 5). Returns what
    went over the wire, in order."""
    log: Log = []
    pump = forking_proxy(alice, (bob1, bob2), log)
    alice.invite(BOB, 0.0)
    pump(0.0)
    bob1.sessions[0].answer(status, 0.1)
    pump(0.1)
    bob2.sessions[0].answer(200, 0.2)
    pump(0.2)
    return _tick((alice, bob1, bob2), pump, 0.2, until, log)


def caller_bye_on_early_dialog(
    alice: UA, bob: UA, *, crossing_2xx: bool, until: float = 60.0
) -> Wire:
    """15: Bob answers 180 (an early dialog) and Alice's TU hangs up at 0.5 s: a BYE on that
    early dialog. ``crossing_2xx``: the first copy of the BYE is lost and Bob answers 200 at
    0.6 s, so the 2xx reaches Alice after her BYE (Terminating) and before the BYE's
    retransmission (at 1.0 s) reaches Bob. The clock runs to ``until``."""
    w = Wire(alice, bob)
    s = alice.invite(BOB, 0.0)
    w.flush(0.0)
    bob.sessions[0].answer(180, 0.0)
    w.flush(0.0)
    if crossing_2xx:
        w.drop = drop_nth(b"BYE", 1)
    s.bye(0.5)
    w.flush(0.5)
    if crossing_2xx:
        bob.sessions[0].answer(200, 0.6)
        w.flush(0.6)
        w.drop = lambda t, who, d: False
    w.run_until(until, 0.6)
    return w


def fork_2xx_after_an_early_bye(alice: UA, bob1: UA, bob2: UA, *, until: float = 60.0) -> Log:
    """15, 13.2.2.4: Alice's INVITE forks to Bob1 and Bob2; Bob1 answers 180 (an early
    dialog) and Alice hangs up at 0.5 s: a BYE on Bob1's early dialog, which Bob1 answers 200
    with 487 to the INVITE (15.1.2). At 1.0 s Bob2 answers the INVITE 200 (a proxy forwards
    a 2xx after a final response, 16.7 step 5). Returns what went over the wire, in order."""
    log: Log = []
    pump = forking_proxy(alice, (bob1, bob2), log)
    s = alice.invite(BOB, 0.0)
    pump(0.0)
    bob1.sessions[0].answer(180, 0.0)
    pump(0.0)
    s.bye(0.5)
    pump(0.5)
    bob2.sessions[0].answer(200, 1.0)
    pump(1.0)
    return _tick((alice, bob1, bob2), pump, 1.0, until, log)


def early_bye_2xx_reordered(alice: UA, bob: UA, *, until: float = 60.0) -> Wire:
    """15, 13.2.2.4: as :func:`caller_bye_on_early_dialog` with a crossing 2xx, but the
    network holds back the first copy of Bob's 200 (UDP may reorder): Alice's BYE, sent again
    at 1.0 s, reaches Bob, who answers it 200 and stops retransmitting; her session is over
    when the held 200 reaches her at 1.05 s. The clock runs to ``until``."""
    held: list[bytes] = []

    def hold(t: float, who: str, data: bytes) -> bool:
        ok = who == "bob" and data.startswith(b"SIP/2.0 200 ") and b" INVITE\r\n" in data
        if ok and not held:
            held.append(data)
            return True
        return data.startswith(b"BYE ") and t < 1.0

    w = Wire(alice, bob, drop=hold)
    s = alice.invite(BOB, 0.0)
    w.flush(0.0)
    bob.sessions[0].answer(180, 0.0)
    w.flush(0.0)
    s.bye(0.5)
    w.flush(0.5)
    bob.sessions[0].answer(200, 0.6)
    w.flush(0.6)
    w.run_until(1.05, 0.6)
    w.log.append((1.05, "bob", held[0], True))
    alice.receive(held[0], 1.05)
    w.flush(1.05)
    w.run_until(until, 1.05)
    return w


def stray_2xx(alice: UA, bob: UA, *, at: float, fork: bool) -> Wire:
    """Alice calls Bob, who answers 200 at 0.1 s (the ACK arrives). At ``at`` a copy of that
    200 reaches Alice again: a late retransmission, or with ``fork`` the 2xx of another branch
    (another To tag, as a forking proxy forwards it at once, 16.7 step 5). The copy is logged
    as Bob's; the clock then runs 4 s more."""
    w = Wire(alice, bob)
    alice.invite(BOB, 0.0)
    w.flush(0.0)
    bob.sessions[-1].answer(200, 0.1)
    w.flush(0.1)
    ok = next(d for _, who, d, _ in w.log if who == "bob" and d.startswith(b"SIP/2.0 200"))
    w.run_until(at, 0.1)
    late = ok
    if fork:
        tag = (parse(ok, strict=True).get("To") or "").rsplit("tag=", 1)[1]
        late = ok.replace(f"tag={tag}".encode(), b"tag=otherfork")
    w.log.append((at, "bob", late, True))
    alice.receive(late, at)
    w.run_until(at + 4.0, at)
    return w
