"""Session rules that only some calls reach (RFC 3261 13.2.2.4, 13.3.1.4), each a hole that
``scripts/mutation``'s data mutants of ``models/invite_session_*.toml`` found: the mutated
model passed every other session test."""

from __future__ import annotations

from session_calls import BOB, Log, answered_call, forking_proxy

from sipfsm import Response, parse
from sipfsm.sim.wire import Wire
from sipfsm.ua.core import UA


def test_the_ack_of_the_2xx_reaches_the_uas_tu() -> None:
    """13.3.1.4: the UAS core passes the ACK of its 2xx up (the TU learns the call is up);
    mutant: ``Answered --recv_ack_2xx--> Confirmed`` without ``pass_to_tu``."""
    alice = UA("alice", "atlanta.example.com", random=lambda: 0.5)
    bob = UA("bob", "biloxi.example.com", random=lambda: 0.25)
    answered_call(alice, bob, acks_lost=0, until=1.0)
    assert [e.what for e in bob.tu if e.what == "ACK"] == ["ACK"]
    assert bob.sessions[0].state == "Confirmed"


def test_a_forked_2xx_after_the_bye_is_acked_and_byed_and_the_call_still_ends() -> None:
    """13.2.2.4: a 2xx from another fork is ACKed and its dialog ended with BYE, also when
    the UAC has hung up already (Terminating); the session then ends when its BYE is
    answered. Mutant: ``Terminating --recv_2xx_fork--> Calling`` (the session never ends)."""
    alice = UA("alice", "atlanta.example.com")
    bob1 = UA("bob", "bob1.biloxi.example.com", name="bob1")
    bob2 = UA("bob", "bob2.biloxi.example.com", name="bob2")
    log: Log = []
    pump = forking_proxy(alice, (bob2, bob1), log)  # bob2's 2xx before bob1's answer to BYE
    s = alice.invite(BOB, 0.0)
    pump(0.0)
    b1, b2 = bob1.sessions[0], bob2.sessions[0]
    b1.answer(200, 0.1)
    pump(0.1)
    b2.answer(200, 0.2)
    s.bye(0.2)
    assert s.state == "Terminating"
    pump(0.2)
    now = 0.2
    while now < 40:
        now += 0.25
        for ua in (alice, bob1, bob2):
            ua.handle_timer(now)
        pump(now)
    requests = [b" ".join(d.split(b" ", 2)[:2]) for _, _, d, _ in log if not d.startswith(b"SIP/")]
    assert b"ACK sip:bob@bob2.biloxi.example.com" in requests
    assert b"BYE sip:bob@bob2.biloxi.example.com" in requests
    assert s.state == b1.state == b2.state == "Terminated"
    assert alice.errors == bob1.errors == bob2.errors == []


def test_a_second_invite_during_a_reinvite_gets_500_and_the_session_stays() -> None:
    """14.2: a UAS that receives a second INVITE on a dialog before it has sent a final
    response to a first INVITE with a lower CSeq MUST return a 500 with a Retry-After; the
    pending re-INVITE and the session go on. Mutant: ``ReInvited --recv_invite--> Terminated``."""
    alice = UA("alice", "atlanta.example.com", random=lambda: 0.5)
    bob = UA("bob", "biloxi.example.com", random=lambda: 0.25)
    w = Wire(alice, bob)
    s = alice.invite(BOB, 0.0)
    w.flush(0.0)
    b = bob.sessions[0]
    b.answer(200, 0.0)
    w.flush(0.0)
    s.reinvite(1.0)
    w.flush(1.0)
    assert b.state == "ReInvited"
    first = [d for _, who, d, _ in w.log if who == "alice" and d.startswith(b"INVITE")][-1]
    seq = parse(first, strict=True).cseq
    assert seq is not None
    second = first.replace(b"CSeq: %d INVITE" % seq.seq, b"CSeq: %d INVITE" % (seq.seq + 1))
    second = second.replace(b";branch=z9hG4bK", b";branch=z9hG4bKsecond", 1)
    assert second != first
    bob.receive(second, 1.1)
    answers = [parse(d, strict=True) for d in bob.drain()]
    finals = [m for m in answers if isinstance(m, Response) and m.status >= 200]
    assert [m.status for m in finals] == [500]
    assert finals[0].get("Retry-After") is not None
    assert b.state == "ReInvited"
    b.answer(200, 1.2)
    w.flush(1.2)
    assert s.state == b.state == "Confirmed"


def test_a_bye_before_the_ack_arrives_is_answered_200() -> None:
    """15.1.2: the UAS answers a BYE 2xx, also while its 2xx still waits for the ACK (every
    ACK lost: session state Answered); the BYE ends the 2xx retransmissions too (13.3.1.4).
    Mutant: ``Answered --recv_bye--> Terminated`` without ``respond_200``."""
    alice = UA("alice", "atlanta.example.com", random=lambda: 0.5)
    bob = UA("bob", "biloxi.example.com", random=lambda: 0.25)
    w = answered_call(alice, bob, acks_lost=100, until=0.1)
    assert bob.sessions[0].state == "Answered"
    alice.sessions[0].bye(0.2)
    w.run_until(40.0, 0.2)
    to_alice = [parse(d) for t, who, d, ok in w.log if who == bob.name and ok and t >= 0.2]
    answers = [m for m in to_alice if isinstance(m, Response) and m.cseq and m.cseq.method == "BYE"]
    assert [m.status for m in answers][:1] == [200]
    assert bob.sessions[0].terminated and alice.sessions[0].terminated
    late_2xx = [m for t, who, d, ok in w.log if who == bob.name and t > 1.0 for m in [parse(d)]]
    assert not [
        m
        for m in late_2xx
        if isinstance(m, Response) and m.status == 200 and m.cseq and m.cseq.method == "INVITE"
    ]
