"""Hypothesis state machines: every transaction machine x transport x profile vs the RFC oracle.

Each class drives one machine (RFC 3261 Figures 5-8, as amended under ``rfc6026``) with random
responses of every class, retransmitted requests, ACKs, TU responses, transport errors and
clock advances, and compares each step with tests/oracle.py (written from section 17 and Table
4, not from the models): retransmission instants, timeouts, wait times, ACKs, what reaches the
TU, and termination. T1, T2 and T4 are drawn per run (tests/timer_bases.py), so a timer written
as the number its base equals at the defaults is caught. At the end the transaction is driven to
its end and must be Terminated by its bound, with no timer left.
"""

from __future__ import annotations

import sys
import unittest
from pathlib import Path
from typing import cast

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lockstep import Lockstep
from timer_bases import BASES

#: Status codes of every class, including the ones RFC 4320 singles out (100, 408).
STATUSES = [100, 180, 183, 200, 202, 302, 404, 408, 486, 500, 603]
ADVANCES = [0.0, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 8.0, 16.0, 31.9, 33.0, 64.0]


class TransactionMachine(RuleBasedStateMachine):
    kind = ""
    transport = ""
    profile = ""

    def __init__(self) -> None:
        super().__init__()
        self.run: Lockstep | None = None

    @initialize(bases=BASES)
    def begin(self, bases: tuple[float, float, float]) -> None:
        t1, t2, t4 = bases
        self.run = Lockstep(self.kind, self.transport, self.profile, t1=t1, t2=t2, t4=t4)

    @rule(seconds=st.sampled_from(ADVANCES))
    @precondition(lambda self: self.run is not None)
    def advance(self, seconds: float) -> None:
        assert self.run is not None
        self.run.advance(seconds)

    @rule(status=st.sampled_from(STATUSES))
    @precondition(lambda self: self.live and self.kind.endswith("client"))
    def response_arrives(self, status: int) -> None:
        assert self.run is not None
        self.run.event("recv", status)

    @rule(status=st.sampled_from(STATUSES))
    @precondition(lambda self: self.live and self.kind.endswith("server"))
    def tu_responds(self, status: int) -> None:
        assert self.run is not None
        self.run.event("tu", status)

    @rule()
    @precondition(lambda self: self.live and self.kind.endswith("server"))
    def request_retransmitted(self) -> None:
        assert self.run is not None
        self.run.event("recv_request")

    @rule()
    @precondition(lambda self: self.live and self.kind == "invite_server")
    def ack_arrives(self) -> None:
        assert self.run is not None
        self.run.event("recv_ack")

    @rule()
    @precondition(lambda self: self.live)
    def transport_error(self) -> None:
        assert self.run is not None
        self.run.event("transport_error")

    @property
    def live(self) -> bool:
        return self.run is not None and not self.run.terminated

    @invariant()
    def whole_run_rules(self) -> None:
        if self.run is not None:
            self.run.check_invariants()

    def teardown(self) -> None:
        if self.run is not None:
            self.run.drain()
            self.run.check_invariants()


def _machine_test(kind: str, transport: str, profile: str) -> type[unittest.TestCase]:
    name = f"Test_{kind}_{transport}_{profile}"
    cls = cast(  # type() makes a subclass of its base, which mypy cannot see
        "type[TransactionMachine]",
        type(
            name, (TransactionMachine,), {"kind": kind, "transport": transport, "profile": profile}
        ),
    )
    test = cls.TestCase
    test.settings = settings(test.settings, stateful_step_count=25)
    return test


for _kind in ("invite_client", "non_invite_client", "invite_server", "non_invite_server"):
    for _transport in ("udp", "tcp"):
        for _profile in ("rfc3261", "rfc6026"):
            _test = _machine_test(_kind, _transport, _profile)
            globals()[f"Test_{_kind}_{_transport}_{_profile}"] = _test
