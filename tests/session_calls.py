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
