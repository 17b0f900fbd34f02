"""Drive an engine transaction and the RFC oracle (tests/oracle.py) in lockstep and compare.

Every step (start, an event, a clock advance) yields, on both sides, a list of observations
with their instants; they must be equal. Invariants over the whole run are checked by
:meth:`Lockstep.check_invariants`.
"""

from __future__ import annotations

from collections.abc import Sequence

from oracle import Obs, Oracle, Refused, observe

from sipfsm import ProtocolError, TimerEvent, Timers, Transaction
from sipfsm.engine.table import Table

Timed = list[tuple[float, Obs]]


class Lockstep:
    """One transaction of ``kind`` run by the engine and by the oracle side by side."""

    def __init__(
        self,
        kind: str,
        transport: str,
        profile: str,
        t1: float = 0.5,
        t2: float = 4.0,
        t4: float = 5.0,
        table: Table | None = None,
    ) -> None:
        timers = Timers(t1, t2, t4)
        self.tx = Transaction(
            table or kind, "REQ", transport=transport, profile=profile, timers=timers
        )
        self.oracle = Oracle(kind, transport != "udp", profile, t1, t2, t4)
        self.kind, self.profile, self.udp = kind, profile, transport == "udp"
        self.now = 0.0
        self.log: Timed = []
        self.received: list[tuple[str, int]] = []  # (state on arrival, status) of responses
        if kind == "invite_client":  # learn (and check) Timer D from a throwaway transaction
            probe = Transaction(
                table or kind, "REQ", transport=transport, profile=profile, timers=timers
            )
            probe.start(0.0)
            self._adopt_d(probe.receive_response(500, 0.0))
        outputs = self.tx.start(0.0)
        expected = self._oracle_at(0.0, self.oracle.start(0.0))
        self._compare(self._timed(0.0, observe(outputs)), expected)

    @property
    def terminated(self) -> bool:
        return self.tx.terminated

    # --- steps -----------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move the clock; every timer due fires on both sides at the same instants."""
        target = self.now + seconds
        engine: Timed = []
        while (due := self.tx.get_timer()) is not None and due <= target:
            outputs = self.tx.handle_timer(due)
            self._adopt_d(outputs)
            engine += self._timed(due, observe(outputs))
        oracle: Timed = []
        while (due := self.oracle.next_deadline()) is not None and due <= target:
            at, obs = self.oracle.fire_next()
            oracle += self._timed(at, obs)
        self.now = target
        self._compare(engine, oracle)

    def event(self, name: str, status: int | None = None) -> bool:
        """One event at the current instant; False when the RFC (and the engine) refuse it."""
        state = self.tx.state
        try:
            expected = self.oracle.event(name, self.now, status)
        except Refused as why:
            try:
                self._engine_event(name, status)
            except ProtocolError:
                assert self.tx.state == state
                return False
            raise AssertionError(f"engine took {name} {status} in {state}: {why}") from None
        if name == "recv" and status is not None:
            self.received.append((state, status))
        outputs = self._engine_event(name, status)
        self._adopt_d(outputs)
        self._compare(self._timed(self.now, observe(outputs)), self._oracle_at(self.now, expected))
        return True

    def _engine_event(self, name: str, status: int | None) -> list[object]:
        if name == "recv":
            return list(self.tx.receive_response(status or 0, self.now, f"r{status}"))
        if name == "tu":
            return list(self.tx.respond(status or 0, self.now, f"r{status}"))
        return list(self.tx.handle(name, self.now))

    # --- comparing -------------------------------------------------------------------------

    def _oracle_at(self, now: float, obs: list[Obs]) -> Timed:
        """The oracle's observations now, plus timers of 0 s it started (they fire at once)."""
        timed = self._timed(now, obs)
        while (due := self.oracle.next_deadline()) is not None and due <= now:
            at, more = self.oracle.fire_next()
            timed += self._timed(at, more)
        return timed

    @staticmethod
    def _timed(t: float, obs: list[Obs]) -> Timed:
        return [(t, o) for o in obs]

    def _compare(self, engine: Timed, oracle: Timed) -> None:
        assert engine == oracle, (
            f"{self.kind}/{self.profile}/{'udp' if self.udp else 'tcp'} at {self.now}:\n"
            f"  engine: {engine}\n  oracle: {oracle}"
        )
        assert self.tx.state == self.oracle.state, (self.tx.state, self.oracle.state)
        self.log += engine
        if self.tx.terminated:
            assert self.tx.get_timer() is None, f"timers after Terminated: {self.tx.timers}"

    def _adopt_d(self, outputs: Sequence[object]) -> None:
        """Timer D: Table 4 says > 32 s over UDP and 0 over TCP; the oracle takes the value."""
        for o in outputs:
            if isinstance(o, TimerEvent) and o.timer == "D" and o.action == "start":
                assert o.interval is not None
                assert (o.interval > 32) if self.udp else (o.interval == 0), o
                self.oracle.d_value = o.interval

    # --- whole-run invariants (RFC 3261 17.1.1.2, 17.1.1.3, 17.2.1; RFC 6026) -----------------

    def check_invariants(self) -> None:
        sends = [o for _, o in self.log if o[0] == "send"]
        to_tu = [o for _, o in self.log if o[0] == "tu"]
        if self.kind == "invite_client":
            acks = [o for o in sends if o[1] == "ack"]
            assert all(int(str(o[2])) >= 300 for o in acks), "an ACK for a 2xx (17.1.1.3)"
            non_2xx = [
                s
                for st, s in self.received
                if s >= 300 and st in ("Calling", "Proceeding", "Completed")
            ]
            assert len(acks) == len(non_2xx), "one ACK for every non-2xx final response"
        finals = [int(str(o[2])) for o in to_tu if o[1] == "response" and int(str(o[2])) >= 200]
        if finals:  # one final to the TU, then 2xx only: RFC 6026 Accepted (retransmissions,
            # other forks) and, on both profiles, other forks' 2xx after a 300-699 (13.2.2.4)
            assert all(200 <= f < 300 for f in finals[1:]), finals
            if len(finals) > 1 and 200 <= finals[0] < 300:
                assert self.profile == "rfc6026", "RFC 3261 ends the transaction on a 2xx"
        if self.tx.terminated:
            assert self.tx.get_timer() is None

    def drain(self) -> None:
        """End the transaction as the TU or the peer would, then wait out its bound."""
        if self.terminated:
            return
        state = self.tx.state
        if self.kind == "invite_client" and state == "Proceeding":
            self.event("recv", 487)  # the UAC core CANCELed (9.1): the bound is the TU's
        elif self.kind.endswith("server") and state in ("Trying", "Proceeding"):
            self.event("tu", 500)
        self.advance(64 * self.oracle.t1 + self.oracle.t4 + 40.0)  # B F H J L M; I K; D > 32
        assert self.terminated, f"{self.kind} still {self.tx.state} past its bound"
