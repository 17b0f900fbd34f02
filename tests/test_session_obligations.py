"""Issue 12: obligations of RFC 3261 9.1, 12-15 that sipfsm UAs broke, each driven over the
virtual network between two or three sipfsm UAs, and each checked again by the session oracle
(``tests/session_oracle.py``, written from the RFC text) on the whole log."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sipfsm import ProtocolError, Request, Response, parse
from sipfsm.sim.wire import Wire
from sipfsm.ua.core import UA

sys.path.insert(0, str(Path(__file__).resolve().parent))

import session_oracle as oracle
from session_calls import (
    bye_crosses_a_2xx_retransmission,
    bye_during_reinvite,
    bye_in,
    caller_bye_on_early_dialog,
    cancel_never_answered,
    early_bye_2xx_reordered,
    early_dialog_after_the_first_2xx,
    fork_2xx_after_a_6xx,
    fork_2xx_after_an_early_bye,
    fork_answers_after_the_call,
    reinvite_on_early_dialog,
)

PROFILES = ["rfc6026", "rfc3261"]


def _uas(profile: str) -> tuple[UA, UA]:
    alice = UA("alice", "atlanta.example.com", profile=profile, random=lambda: 0.5)
    bob = UA("bob", "biloxi.example.com", profile=profile, random=lambda: 0.25)
    return alice, bob


def _sent(w: Wire, who: str) -> list[Request | Response]:
    return [parse(d, strict=True) for _, sender, d, _ in w.log if sender == who]


def _finals_to(msgs: list[Request | Response], method: str) -> list[int]:
    return [
        m.status
        for m in msgs
        if isinstance(m, Response) and m.status >= 200 and m.cseq and m.cseq.method == method
    ]


# --- deviation 1: a BYE while our re-INVITE is pending (15.1.2) -------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_a_bye_during_our_reinvite_is_answered_200(profile: str) -> None:
    """15.1.2: whether or not it ends its participation, the UAS core MUST generate a 2xx to
    a BYE. Alice's re-INVITE is lost (session state ReInviting) when Bob hangs up: Alice
    answers the BYE 200 at once (it was refused, and Bob retransmitted it 11 times); her
    re-INVITE then meets a dialog Bob ended (481, 12.2.2), ACKed by its transaction."""
    alice, bob = _uas(profile)
    w = bye_during_reinvite(alice, bob)
    s, b = alice.sessions[0], bob.sessions[0]
    assert [e.state for e in alice.trace if "BYE" in e.what][:1] == ["ReInviting"]
    bye_sent = [m for m in _sent(w, "bob") if isinstance(m, Request) and m.method == "BYE"]
    assert len(bye_sent) == 1 and _finals_to(_sent(w, "alice"), "BYE") == [200]
    assert _finals_to(_sent(w, "bob"), "INVITE") == [200, 481]  # 12.2.2: the dialog is over
    assert s.terminated and b.terminated
    assert alice.errors == bob.errors == []
    grams = oracle.read(w.log)
    oracle.check_call(grams, profile=profile, until=w.clock)
    oracle.check_requests_answered(grams, "alice")


# --- deviation 6: a re-INVITE on an early dialog (14.2) ---------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("sender", "status"), [("alice", 500), ("bob", 491)])
def test_a_reinvite_on_an_early_dialog_gets_its_14_2_answer(
    profile: str, sender: str, status: int
) -> None:
    """14.2: a UAS that receives a second INVITE before it sent the final response to a
    first INVITE with a lower CSeq on the same dialog MUST return 500 with a Retry-After of
    0-10 s (Bob, the callee, in Proceeding); one that receives an INVITE on a dialog while an
    INVITE it sent on that dialog is in progress MUST return 491 (Alice, the caller, in
    Proceeding). It got no final response at all (the dialog model refused the target
    refresh of an early dialog). The call then goes on: the initial INVITE is answered 200."""
    alice, bob = _uas(profile)
    w = reinvite_on_early_dialog(alice, bob, sender=sender)
    receiver = "bob" if sender == "alice" else "alice"
    finals = [
        m
        for m in _sent(w, receiver)
        if isinstance(m, Response) and m.status >= 200 and m.cseq and m.cseq.method == "INVITE"
    ]
    assert [m.status for m in finals][:1] == [status]
    if status == 500:
        assert finals[0].get("Retry-After") in {str(n) for n in range(11)}
    assert alice.errors == bob.errors == []
    assert alice.sessions[0].state == bob.sessions[0].state == "Confirmed"
    grams = oracle.read(w.log)
    oracle.check_call(grams, profile=profile, until=w.clock)


# --- deviation 2: every 2xx is ACKed, the same ACK again for each retransmission (13.2.2.4) ---


def _acks(log: list[tuple[float, str, bytes, bool]], who: str) -> list[bytes]:
    return [d for _, sender, d, _ in log if sender == who and d.startswith(b"ACK ")]


@pytest.mark.parametrize("profile", PROFILES)
def test_a_2xx_again_after_our_bye_gets_the_same_ack(profile: str) -> None:
    """13.2.2.4: the UAC core MUST generate an ACK for each 2xx received from the
    transaction layer, and MUST pass the ACK to the transport every time a retransmission of
    the 2xx that triggered it arrives. Alice's ACK is lost and she hangs up: the 2xx comes
    again while her BYE is out (Terminating). It was dropped ("its dialog is over"); and an
    ACK sent again was a new one, on a new branch."""
    alice, bob = _uas(profile)
    w = bye_crosses_a_2xx_retransmission(alice, bob)
    acks = _acks(w.log, "alice")
    assert len(acks) == 2 and acks[0] == acks[1]  # the same ACK, byte for byte
    assert alice.sessions[0].terminated and bob.sessions[0].terminated
    assert alice.errors == bob.errors == []
    grams = oracle.read(w.log)
    oracle.check_call(grams, profile=profile, until=w.clock)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_fork_2xx_after_the_session_ended_is_acked_and_byed(profile: str) -> None:
    """13.2.2.4: a 2xx from another fork is ACKed, and if, after acknowledging it, the UAC
    does not want the dialog it MUST send a BYE (15); also once the session is over. Bob2's
    2xx got no ACK: he retransmitted it for 64*T1 and sent his own BYE at 34 s."""
    alice = UA("alice", "atlanta.example.com", profile=profile)
    bob1 = UA("bob", "bob1.biloxi.example.com", name="bob1", profile=profile)
    bob2 = UA("bob", "bob2.biloxi.example.com", name="bob2", profile=profile)
    log = fork_answers_after_the_call(alice, bob1, bob2)
    assert alice.sessions[0].terminated
    to_bob2 = [d.split(b" ", 2)[:2] for _, who, d, _ in log if who == "alice" and b"bob2" in d]
    assert [b"ACK", b"sip:bob@bob2.biloxi.example.com"] in to_bob2
    assert [b"BYE", b"sip:bob@bob2.biloxi.example.com"] in to_bob2
    ok_2xx = [d for _, who, d, _ in log if who == "bob2" and d.startswith(b"SIP/2.0 200 ")]
    assert len([d for d in ok_2xx if b" INVITE\r\n" in d]) == 1  # not retransmitted
    assert not [d for _, who, d, _ in log if who == "bob2" and d.startswith(b"BYE ")]
    assert bob2.sessions[0].terminated
    assert alice.errors == bob1.errors == bob2.errors == []
    grams = oracle.read(log)
    oracle.check_acks(grams, "alice", profile=profile)
    oracle.check_no_request_after_bye(grams, "alice")


# --- deviation 5: the TU may send BYE in every state the RFC allows (15) ----------------------


def _sent_at(w: Wire, who: str, method: bytes) -> list[float]:
    return [t for t, sender, d, _ in w.log if sender == who and d.startswith(method + b" ")]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("state", ["ReInviting", "ReInvited", "ReAnswered", "Answered"])
def test_a_bye_from_the_tu_in_every_established_state(profile: str, state: str) -> None:
    """15: either party MAY send BYE on a confirmed dialog (the callee not until the ACK of
    its 2xx arrived or the server transaction timed out); 15.1.2 and 8.2.6: a re-INVITE still
    pending at the UA that hangs up is answered (487, 21.4.22: terminated by a BYE). The TU's
    BYE was refused in ReInviting, ReInvited, ReAnswered and Answered. In ReAnswered and
    Answered it is held until the ACK (or 64*T1), then sent."""
    alice, bob = _uas(profile)
    w = bye_in(state, alice, bob)
    hanger = "alice" if state == "ReInviting" else "bob"
    byes = _sent_at(w, hanger, b"BYE")
    assert len(byes) == 1
    if state in ("ReAnswered", "Answered"):
        acks = [t for t, who, d, ok in w.log if who == "alice" and ok and d.startswith(b"ACK ")]
        assert byes[0] == acks[-1] > 0.4  # held until the ACK of the 2xx retransmission
    if state == "ReInvited":
        assert _finals_to(_sent(w, "bob"), "INVITE") == [200, 487]
    assert alice.sessions[0].terminated and bob.sessions[0].terminated
    assert alice.errors == bob.errors == []
    grams = oracle.read(w.log)
    oracle.check_call(grams, profile=profile, until=w.clock)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("crossing_2xx", [False, True], ids=["487", "2xx-crosses-the-bye"])
def test_the_caller_byes_an_early_dialog(profile: str, crossing_2xx: bool) -> None:
    """15: "The caller's UA MAY send a BYE for either confirmed or early dialogs"; the TU's
    BYE in Proceeding (after Bob's 180) was refused. The INVITE transaction goes on: Bob
    answers the BYE 200 and the INVITE 487 (15.1.2), ACKed by the transaction (17.1.1.3).
    With ``crossing_2xx`` Bob's 200 to the INVITE crosses Alice's BYE: the UAC core ACKs it
    (13.2.2.4) and sends no second BYE: the BYE it sent ends that dialog (Bob answers it 200)."""
    alice, bob = _uas(profile)
    w = caller_bye_on_early_dialog(alice, bob, crossing_2xx=crossing_2xx)
    assert [e.state for e in alice.trace if e.what == "send BYE"] == ["Proceeding"]
    byes = {
        m.via[0].branch for m in _sent(w, "alice") if isinstance(m, Request) and m.method == "BYE"
    }
    assert len(byes) == 1
    assert _finals_to(_sent(w, "bob"), "BYE") == [200]
    assert _finals_to(_sent(w, "bob"), "INVITE") == ([200] if crossing_2xx else [487])
    assert len(_acks(w.log, "alice")) == 1
    assert alice.sessions[0].terminated and bob.sessions[0].terminated
    assert len(alice.layer) == len(bob.layer) == 0
    assert alice.errors == bob.errors == []
    grams = oracle.read(w.log)
    oracle.check_call(grams, profile=profile, until=w.clock)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_2xx_reordered_after_our_early_bye_is_acked_only(profile: str) -> None:
    """13.2.2.4, 15: Bob's 200 to the INVITE reaches Alice only after her BYE on its early
    dialog was answered (her session is over): the UAC core still ACKs it, and sends no
    second BYE (12.3): the BYE Bob answered ended the dialog his 200 had confirmed."""
    alice, bob = _uas(profile)
    w = early_bye_2xx_reordered(alice, bob)
    sent = [m for m in _sent(w, "alice") if isinstance(m, Request)]
    assert [m.method for m in sent] == ["INVITE", "BYE", "BYE", "ACK"]  # the BYE twice: lost once
    assert len({m.via[0].branch for m in sent if m.method == "BYE"}) == 1
    assert alice.sessions[0].terminated and bob.sessions[0].terminated
    assert alice.errors == bob.errors == []
    grams = oracle.read(w.log)
    oracle.check_call(grams, ("alice",), profile=profile, until=w.clock)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_fork_2xx_after_an_early_bye_is_acked_and_byed(profile: str) -> None:
    """13.2.2.4, 15: Alice BYEs Bob1's early dialog (Bob1: 200, and 487 to the INVITE), then
    Bob2 answers the INVITE 200 (16.7 step 5): Alice ACKs it and, having hung up, BYEs that
    dialog; no request goes on Bob1's dialog after her BYE (12.3)."""
    alice = UA("alice", "atlanta.example.com", profile=profile)
    bob1 = UA("bob", "bob1.biloxi.example.com", name="bob1", profile=profile)
    bob2 = UA("bob", "bob2.biloxi.example.com", name="bob2", profile=profile)
    log = fork_2xx_after_an_early_bye(alice, bob1, bob2)
    to = [
        (d.split(b" ", 2)[:2]) for _, who, d, _ in log if who == "alice" and d.startswith(b"BYE ")
    ]
    assert to == [
        [b"BYE", b"sip:bob@bob1.biloxi.example.com"],
        [b"BYE", b"sip:bob@bob2.biloxi.example.com"],
    ]
    assert all(s.terminated for ua in (alice, bob1, bob2) for s in ua.sessions)
    assert alice.errors == bob1.errors == bob2.errors == []
    grams = oracle.read(log)
    oracle.check_call(grams, ("alice",), profile=profile, until=60.0)


@pytest.mark.parametrize("profile", PROFILES)
def test_no_bye_before_an_early_dialog(profile: str) -> None:
    """15: "A UA MUST NOT send a BYE outside of a dialog." Bob's 100 Trying (no To tag, 12.1)
    put Alice in Proceeding without a dialog: her TU's BYE is refused, naming section 15, and
    nothing is sent; the TU may CANCEL (9.1)."""
    alice, bob = _uas(profile)
    w = Wire(alice, bob)
    s = alice.invite("sip:bob@biloxi.example.com", 0.0)
    w.flush(0.0)
    assert s.state == "Proceeding" and s.dialogs == {}
    with pytest.raises(ProtocolError, match=r"\(RFC 3261 15\): .*MUST NOT send a BYE outside"):
        s.bye(0.1)
    assert s.state == "Proceeding" and alice.drain() == []


# --- deviation 3: early dialogs end 64*T1 after the first 2xx (13.2.2.4) ----------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_an_early_dialog_ends_64_t1_after_the_first_2xx(profile: str) -> None:
    """13.2.2.4: the UAC core considers the INVITE transaction completed 64*T1 seconds after
    the reception of the first 2xx; at this point all the early dialogs that have not
    transitioned to established dialogs are terminated. Bob2's early dialog (his 180) stayed
    Early for ever after Bob1's 200: his INFO on it at 40 s was answered 200; it gets 481
    (12.2.2: no dialog matches)."""
    alice = UA("alice", "atlanta.example.com", profile=profile)
    bob1 = UA("bob", "bob1.biloxi.example.com", name="bob1", profile=profile)
    bob2 = UA("bob", "bob2.biloxi.example.com", name="bob2", profile=profile)
    log = early_dialog_after_the_first_2xx(alice, bob1, bob2)
    s = alice.sessions[0]
    assert s.state == "Confirmed"
    early = [d for d in s.dialogs.values() if d is not s.dialog]
    assert [d.state for d in early] == ["Terminated"]
    info = [
        m.status
        for _, who, d, _ in log
        if who == "alice"
        and (m := parse(d, strict=True))
        and isinstance(m, Response)
        and m.cseq
        and m.cseq.method == "INFO"
    ]
    assert info and set(info) == {481}
    assert alice.errors == bob1.errors == bob2.errors == []
    grams = oracle.read(log)
    oracle.check_call(grams, ("alice",), profile=profile, until=60.0)
    oracle.check_early_dialogs_end(grams, "alice")


# --- deviation 4: a cancelled INVITE without a final response is destroyed (9.1) --------------


@pytest.mark.parametrize("profile", PROFILES)
def test_a_cancelled_invite_without_final_response_is_destroyed(profile: str) -> None:
    """9.1: "If there is no final response for the original request in 64*T1 seconds ...,
    the client SHOULD then consider the original transaction cancelled and SHOULD destroy the
    client transaction handling the original request." Every CANCEL is lost, so Bob never
    answers: Alice's INVITE transaction stayed in Proceeding and her session in Cancelling
    for ever (the 486 Bob's TU sends at 40 s was still ACKed). Now at 0.5 + 64*T1 the
    transaction is gone, the TU is told the session is over, and the 486 matches nothing."""
    alice, bob = _uas(profile)
    w = cancel_never_answered(alice, bob)
    s = alice.sessions[0]
    assert s.terminated
    over = [e.t for e in alice.tu if e.what == "session over"]
    assert over == [pytest.approx(0.5 + 64 * 0.5)]
    assert len(alice.layer) == 0
    assert not _acks(w.log, "alice")  # no transaction left to ACK the 486 (17.1.3)
    assert alice.errors == bob.errors == []
    grams = oracle.read(w.log)
    oracle.check_call(grams, profile=profile, until=w.clock)


# --- deviation 10: a fork's 2xx after our 300-699 reaches the core (13.2.2.4, 16.7 step 5) -----


@pytest.mark.parametrize("profile", PROFILES)
def test_a_fork_2xx_after_a_6xx_is_acked_and_byed(profile: str) -> None:
    """16.7 step 5: a forking proxy forwards any 2xx to an INVITE at once, also after a final
    response went upstream; 13.2.2.4: the UAC core MUST ACK each 2xx it receives and, not
    wanting the dialog, BYE it. Bob1's 603 put Alice's INVITE client transaction in Completed;
    Bob2's 200 then matched it (same branch, 17.1.3) and was absorbed there: never ACKed, Bob2
    retransmitted it for 64*T1 and sent his own BYE at 32.2 s. Now the transaction passes it
    up (both profiles: it is no retransmission of the final response, 17.1.1.2)."""
    alice = UA("alice", "atlanta.example.com", profile=profile)
    bob1 = UA("bob", "bob1.biloxi.example.com", name="bob1", profile=profile)
    bob2 = UA("bob", "bob2.biloxi.example.com", name="bob2", profile=profile)
    log = fork_2xx_after_a_6xx(alice, bob1, bob2)
    to_bob2 = [d.split(b" ", 2)[:2] for _, who, d, _ in log if who == "alice" and b"bob2" in d]
    assert to_bob2[:2] == [
        [b"ACK", b"sip:bob@bob2.biloxi.example.com"],
        [b"BYE", b"sip:bob@bob2.biloxi.example.com"],
    ]
    ok_2xx = [d for _, who, d, _ in log if who == "bob2" and d.startswith(b"SIP/2.0 200 ")]
    assert len([d for d in ok_2xx if b" INVITE\r\n" in d]) == 1  # ACKed: not retransmitted
    assert not [d for _, who, d, _ in log if who == "bob2" and d.startswith(b"BYE ")]
    assert alice.sessions[0].terminated and bob2.sessions[0].terminated
    assert alice.errors == bob1.errors == bob2.errors == []
    grams = oracle.read(log)
    oracle.check_call(grams, ("alice",), profile=profile, until=60.0)
