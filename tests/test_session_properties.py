"""Hypothesis: two sipfsm UAs (session models over transaction layers) against the RFC text.

A random TU (answers, CANCEL, BYE, re-INVITEs on both sides), a random clock and a lossy
network; after every step and at the end the oracle (``tests/session_oracle.py``, written
from RFC 3261 12-15 and 9, reading no model) checks the bytes that went over the wire: CSeq
strictly increasing per dialog, route set fixed once confirmed, dialog ID stable, every 2xx
ACKed once per reception with its To tag and route set, 2xx retransmission instants and the
BYE at 64*T1, the glare windows, no request in a terminated dialog; and (issue 12) every 2xx
ACKed also after the BYE, the same ACK for each retransmission, every request delivered given
its final response (8.2.6, 9.2, 14.2, 15.1.2), no callee BYE before the ACK (15), a 2xx after
a failed INVITE ACKed and BYEd (15, 13.2.2.4), and which stray 2xx reach the core per profile
(18.1.2 as published; RFC 6026 8.9: discarded). Plus the named bugs of JsSIP (2xx
retransmits stopping at T2) and sipml5 (200 retransmits after the ACK).
"""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from sipfsm import ProtocolError, Request, Response, Timers
from sipfsm.sim.wire import Wire
from sipfsm.ua.core import UA, InviteSession

sys.path.insert(0, str(Path(__file__).resolve().parent))

import session_oracle as oracle
from session_calls import BOB, answered_call, stray_2xx
from timer_bases import BASES

# The stateful runs are the slowest tests: fewer examples than the profile's default.
FEW = settings(max_examples=min(settings().max_examples, 60), stateful_step_count=14)


class Call(RuleBasedStateMachine):
    """One call between Alice (caller) and Bob (callee) under random TU, clock and losses."""

    def __init__(self) -> None:
        super().__init__()
        self.mode = "none"
        self.now = 0.0

    @initialize(
        bases=BASES,
        transport=st.sampled_from(["udp", "tcp"]),
        profile=st.sampled_from(["rfc6026", "rfc3261"]),
    )
    def call(self, bases: tuple[float, float, float], transport: str, profile: str) -> None:
        """Alice calls Bob with T1, T2 and T4 drawn (tests/timer_bases.py)."""
        self.t1, self.t2, self.t4 = bases
        self.profile = profile
        timers = Timers(*bases)
        self.alice, self.bob = (
            UA(
                user,
                f"{place}.example.com",
                transport=transport,
                profile=profile,
                timers=timers,
                random=random.Random(seed).random,
            )
            for user, place, seed in (("alice", "atlanta", 1), ("bob", "biloxi", 2))
        )
        self.wire = Wire(self.alice, self.bob, drop=self._drop)
        self.caller: InviteSession = self.alice.invite(BOB, 0.0)
        self.wire.flush(0.0)
        self.callee: InviteSession = self.bob.sessions[0]

    def _drop(self, t: float, who: str, data: bytes) -> bool:
        if self.mode == "acks":
            return data.startswith(b"ACK")
        if self.mode == "2xx":
            return data.startswith(b"SIP/2.0 200") and b" INVITE\r\n" in data
        if self.mode == "alice":
            return who == "alice"
        return False

    def _try(self, action: Callable[..., object], *args: object) -> None:
        # The model refuses what the RFC forbids in this state (e.g. 14.1, 15).
        with contextlib.suppress(ProtocolError):
            action(*args, self.now)
        self.wire.flush(self.now)

    @rule(
        status=st.sampled_from([180, 183, 200, 200, 486, 488]),
        side=st.sampled_from(["callee", "caller"]),
    )
    def answer(self, status: int, side: str) -> None:
        session = self.callee if side == "callee" else self.caller
        self._try(session.answer, status)

    @rule(
        what=st.sampled_from(["cancel", "bye", "reinvite"]),
        side=st.sampled_from(["callee", "caller"]),
    )
    def tu(self, what: str, side: str) -> None:
        session = self.callee if side == "callee" else self.caller
        if what == "cancel" and side == "callee":
            return
        self._try(getattr(session, what))

    @rule(dt=st.sampled_from([0.05, 0.5, 1.0, 3.0, 8.0, 40.0]))
    def advance(self, dt: float) -> None:
        self.now = self.wire.run_until(self.now + dt, self.now)

    @rule(mode=st.sampled_from(["none", "none", "acks", "2xx", "alice"]))
    def network(self, mode: str) -> None:
        self.mode = mode

    @invariant()
    def no_refusals_from_the_network(self) -> None:
        """The peers only ever send what RFC 3261 allows: the models never refuse it."""
        assert self.alice.errors == [] and self.bob.errors == []

    def teardown(self) -> None:
        self.mode = "none"
        # Past every bound: a re-INVITE retried after a 491 (14.1: <= 4 s) lives 64*T1, its
        # 2xx is retransmitted for 64*T1, Timer D waits > 32 s, Timers I and K wait T4.
        bound = 2 * 64 * self.t1 + 4.0 + max(33.0, self.t4) + 10.0
        self.now = self.wire.run_until(self.now + bound, self.now)
        grams = oracle.read(self.wire.log)
        oracle.check_call(grams, profile=self.profile, t1=self.t1, t2=self.t2, until=self.now)
        oracle.check_glare_retry(grams, "alice", owner=True)
        oracle.check_glare_retry(grams, "bob", owner=False)
        # Once no INVITE waits for its final response (one may wait for ever: 13.2.1 sets no
        # deadline without Expires), every transaction ends (17) and no session timer runs.
        settled = ("Confirmed", "Terminated")
        if self.caller.state in settled and self.callee.state in settled:
            assert len(self.alice.layer) == 0 and len(self.bob.layer) == 0
            assert not self.caller.runner.timers and not self.callee.runner.timers


TestCall = Call.TestCase
TestCall.settings = FEW


def _unacked_call(
    bases: tuple[float, float, float], acks_lost: int, transport: str
) -> list[oracle.Datagram]:
    timers, t1 = Timers(*bases), bases[0]
    alice = UA("alice", "atlanta.example.com", timers=timers, transport=transport)
    bob = UA("bob", "biloxi.example.com", timers=timers, transport=transport)
    return oracle.read(answered_call(alice, bob, acks_lost=acks_lost, until=64 * t1 + 40.0).log)


#: Bases where stopping at T2 shows: the last 2xx (>= 64*T1 - T2) comes after T2 + T1.
SHOWS_T2 = BASES.filter(lambda b: 2 * b[1] < 63 * b[0])


@given(bases=SHOWS_T2, transport=st.sampled_from(["udp", "tcp"]))
@settings(max_examples=min(settings().max_examples, 30))
def test_jssip_bug_2xx_retransmits_continue_past_t2_until_64_t1(
    bases: tuple[float, float, float], transport: str
) -> None:
    """JsSIP: the 2xx retransmissions stopped once the interval reached T2. 13.3.1.4: they go
    on every T2 until 64*T1 has passed, on any transport; then BYE."""
    t1, t2, _ = bases
    grams = _unacked_call(bases, 10**6, transport)
    oracle.check_2xx_retransmissions(grams, "bob", t1, t2)
    sent = [
        d.t
        for d in grams
        if d.sender == "bob"
        and isinstance(d.msg, Response)
        and d.msg.status == 200
        and d.msg.cseq
        and d.msg.cseq.method == "INVITE"
    ]
    assert sent[-1] > t2 + t1 and 64 * t1 - sent[-1] <= t2
    assert any(
        d.msg.method == "BYE"
        for d in grams
        if d.sender == "bob" and not isinstance(d.msg, Response)
    )


@given(bases=BASES, lost=st.integers(0, 6))
@settings(max_examples=min(settings().max_examples, 30))
def test_sipml5_bug_no_2xx_retransmission_after_the_ack(
    bases: tuple[float, float, float], lost: int
) -> None:
    """sipml5: 200 retransmissions went on after the ACK. With ``lost`` ACKs lost, exactly
    ``lost + 1`` 200s go out (at least 7 fit in 64*T1: 0, T1, 3*T1 ... 63*T1) and none after
    the first ACK delivered."""
    grams = _unacked_call(bases, lost, "udp")
    oracle.check_2xx_retransmissions(grams, "bob", bases[0], bases[1])
    sent = [
        d.t
        for d in grams
        if d.sender == "bob"
        and isinstance(d.msg, Response)
        and d.msg.status == 200
        and d.msg.cseq
        and d.msg.cseq.method == "INVITE"
    ]
    first_ack = next(
        d.t
        for d in grams
        if d.delivered and not isinstance(d.msg, Response) and d.msg.method == "ACK"
    )
    assert len(sent) == lost + 1 and all(t <= first_ack for t in sent)


@given(
    bases=BASES,
    transport=st.sampled_from(["udp", "tcp"]),
    profile=st.sampled_from(["rfc6026", "rfc3261"]),
    fork=st.booleans(),
    after_m=st.booleans(),
    offset=st.integers(1, 64).map(lambda k: k / 16),
)
@settings(max_examples=min(settings().max_examples, 40))
def test_rfc6026_a_stray_2xx_is_silently_discarded(
    bases: tuple[float, float, float],
    transport: str,
    profile: str,
    fork: bool,
    after_m: bool,
    offset: float,
) -> None:
    """Deviation 7 of issue 12, RFC 6026 8.9 (replacing the last paragraph of 18.1.2): a
    response that matches no client transaction is silently discarded. Bob's 200 comes to
    Alice again (a retransmission, or another fork's 2xx) ``offset`` seconds before or after
    Timer M (64*T1 after the first 2xx, RFC 6026 8.4). After it, under rfc6026, Alice sends
    nothing at all: no ACK, and no dialog is made for the fork (no ACK, no BYE on its tag).
    Before it (Accepted passes 2xx up), and under rfc3261 at any time (18.1.2 as published:
    to the core), the UAC core ACKs it (13.2.2.4) and BYEs the fork's unwanted dialog."""
    timers, t1 = Timers(*bases), bases[0]
    alice, bob = (
        UA(user, f"{place}.example.com", transport=transport, profile=profile, timers=timers)
        for user, place in (("alice", "atlanta"), ("bob", "biloxi"))
    )
    timer_m = 0.1 + 64 * t1
    at = timer_m + offset if after_m else timer_m - offset
    w = stray_2xx(alice, bob, at=at, fork=fork)
    grams = oracle.read(w.log)
    after = [
        d.msg.method
        for d in grams
        if d.sender == "alice" and d.t >= at and isinstance(d.msg, Request)
    ]
    if profile == "rfc6026" and after_m:
        assert after == [], after
        assert len(alice.sessions[0].dialogs) == 1
    else:
        assert after == (["ACK", "BYE"] if fork else ["ACK"]), after
    assert alice.errors == []
    oracle.check_stray_2xx(grams, "alice", profile=profile, t1=t1)
    oracle.check_call(grams, ("alice",), profile=profile, t1=t1, t2=bases[1], until=w.clock)
