"""An oracle for the four transaction machines, written from RFC 3261 section 17 and Table 4.

It reads no model file and no ``timers.toml``: every state, timer value and action below is
hand-written from the RFC's prose (17.1.1.2, 17.1.2.2, 17.1.4, 17.2.1, 17.2.2, 17.2.4, Table 4)
and, for the ``rfc6026`` profile, from RFC 6026 (7.1, 8.4, 8.7, 8.8) and RFC 4320 (4.1, 4.2).
The tests drive the engine and the oracle with the same events and compare what each makes
observable: messages sent (and whether as retransmissions), what goes to the TU, states entered,
and the instants of all of it.

Observations are tuples: ``("send", what, status, retransmission)``, ``("tu", what, status)``,
``("enter", state)``. Timer D's value is the one judgement the RFC leaves open ("at least 32
seconds" on unreliable transports): the oracle takes the engine's value once it has checked it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

Obs = tuple[object, ...]


class Refused(Exception):
    """The RFC forbids this event here (the engine must raise ProtocolError)."""


@dataclass
class Oracle:
    """One transaction, as RFC 3261 section 17 describes it."""

    kind: str  # invite_client | non_invite_client | invite_server | non_invite_server
    reliable: bool
    profile: str
    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    state: str = ""
    t0: float = 0.0
    timers: dict[str, float] = field(default_factory=dict)  # running: name -> deadline
    interval: dict[str, float] = field(default_factory=dict)
    last: int | None = None  # status of the most recent response sent (servers)
    d_value: float | None = None

    # --- Table 4 ---------------------------------------------------------------------------

    def value(self, timer: str) -> float | None:
        """Table 4 (and RFC 6026 L, M): a timer's first value here, None if not used."""
        t1, t4, udp = self.t1, self.t4, not self.reliable
        table = {
            "A": t1 if udp else None,
            "B": 64 * t1,
            "E": t1 if udp else None,
            "F": 64 * t1,
            "G": t1 if udp else None,
            "H": 64 * t1,
            "I": t4 if udp else 0.0,
            "J": 64 * t1 if udp else 0.0,
            "K": t4 if udp else 0.0,
            "L": 64 * t1,
            "M": 64 * t1,
        }
        if timer == "D":
            return self.d_value if udp else 0.0
        return table[timer]

    def e_reaches_t2(self) -> float:
        """RFC 4320 4.1: when a client's Timer E is first reset to T2 (E: T1, 2T1, ... cap T2)."""
        elapsed, interval = 0.0, self.t1
        while True:
            elapsed += interval
            interval = min(2 * interval, self.t2)
            if interval >= self.t2:
                return elapsed

    def _start(self, timer: str, now: float) -> None:
        seconds = self.value(timer)
        if seconds is not None:
            self.timers[timer] = now + seconds
            self.interval[timer] = seconds

    def _stop(self, *names: str) -> None:
        for name in names:
            self.timers.pop(name, None)

    def _enter(self, state: str, out: list[Obs]) -> None:
        if state != self.state:
            self.state = state
            out.append(("enter", state))
            if state == "Terminated":
                self.timers.clear()

    # --- driving ---------------------------------------------------------------------------

    def start(self, now: float) -> list[Obs]:
        self.t0 = now
        out: list[Obs] = []
        if self.kind == "invite_client":
            self.state = "Calling"
            out.append(("send", "request", None, False))
            self._start("A", now)
            self._start("B", now)
        elif self.kind == "non_invite_client":
            self.state = "Trying"
            out.append(("send", "request", None, False))
            self._start("E", now)
            self._start("F", now)
        elif self.kind == "invite_server":
            self.state = "Proceeding"
            out.append(("tu", "request", None))
            out.append(("send", "response", 100, False))  # 17.2.1: MUST (TU may be slow)
            self.last = 100
        else:
            self.state = "Trying"
            out.append(("tu", "request", None))
            if self.profile == "rfc6026":  # RFC 4320 4.1: a 100 owed then, on any transport
                self.timers["100"] = now + self.e_reaches_t2()
        return out

    def next_deadline(self) -> float | None:
        return min(self.timers.values()) if self.timers else None

    def fire_next(self) -> tuple[float, list[Obs]]:
        """Fire the earliest timer; return its instant and what it made observable."""
        at = min(self.timers.values())
        name = next(n for n, d in self.timers.items() if d == at)
        del self.timers[name]
        out: list[Obs] = []
        getattr(self, f"_{self.kind}_timer")(name, at, out)
        return at, out

    def event(self, name: str, now: float, status: int | None = None) -> list[Obs]:
        out: list[Obs] = []
        getattr(self, f"_{self.kind}_event")(name, now, status, out)
        return out

    # --- 17.1.1 INVITE client --------------------------------------------------------------

    def _invite_client_timer(self, name: str, at: float, out: list[Obs]) -> None:
        if name == "A" and self.state == "Calling":
            out.append(("send", "request", None, True))
            self.interval["A"] *= 2  # "intervals that double after each transmission"
            self.timers["A"] = at + self.interval["A"]
        elif name == "B" and self.state == "Calling":
            self._stop("A")
            out.append(("tu", "timeout", None))
            self._enter("Terminated", out)
        elif name in ("D", "M"):
            self._enter("Terminated", out)

    def _invite_client_event(
        self, name: str, now: float, status: int | None, out: list[Obs]
    ) -> None:
        s, code = self.state, status or 0
        if name == "transport_error":
            if s in ("Calling", "Completed"):  # something was sent and failed (17.1.4)
                out.append(("tu", "transport_error", None))
                self._enter("Terminated", out)
            return
        if s in ("Calling", "Proceeding"):
            self._stop("A")
            if code < 200:
                out.append(("tu", "response", code))
                self._enter("Proceeding", out)
            elif code < 300:
                self._stop("B")
                out.append(("tu", "response", code))
                if self.profile == "rfc6026":
                    self._start("M", now)
                    self._enter("Accepted", out)
                else:
                    self._enter("Terminated", out)
            else:
                self._stop("B")
                out.append(("send", "ack", code, False))
                out.append(("tu", "response", code))
                self._start("D", now)
                self._enter("Completed", out)
        elif s == "Completed" and code >= 300:
            out.append(("send", "ack", code, True))
        elif s == "Completed" and 200 <= code < 300:
            # A 2xx from another branch after our 300-699 (a forking proxy forwards any 2xx at
            # once, 16.7 step 5): not a retransmission of the final response (17.1.1.2), so it
            # goes up: "delivering all 200 (OK) responses to an INVITE to the UAC" (17), whose
            # core ACKs it (13.2.2.4). Nothing is sent; the state does not change.
            out.append(("tu", "response", code))
        elif s == "Accepted" and 200 <= code < 300:
            out.append(("tu", "response", code))

    # --- 17.1.2 non-INVITE client ----------------------------------------------------------

    def _non_invite_client_timer(self, name: str, at: float, out: list[Obs]) -> None:
        if name == "E":
            out.append(("send", "request", None, True))
            if self.state == "Trying":
                self.interval["E"] = min(2 * self.interval["E"], self.t2)
            else:
                self.interval["E"] = self.t2
            self.timers["E"] = at + self.interval["E"]
        elif name == "F":
            self._stop("E")
            out.append(("tu", "timeout", None))
            self._enter("Terminated", out)
        elif name == "K":
            self._enter("Terminated", out)

    def _non_invite_client_event(
        self, name: str, now: float, status: int | None, out: list[Obs]
    ) -> None:
        s, code = self.state, status or 0
        if s == "Completed":
            return  # response retransmissions are absorbed; nothing is sent to fail
        if name == "transport_error":
            self._stop("E", "F")
            out.append(("tu", "transport_error", None))
            self._enter("Terminated", out)
        elif code < 200:
            out.append(("tu", "response", code))
            self._enter("Proceeding", out)
        else:
            self._stop("E", "F")
            out.append(("tu", "response", code))
            self._start("K", now)
            self._enter("Completed", out)

    # --- 17.2.1 INVITE server --------------------------------------------------------------

    def _invite_server_timer(self, name: str, at: float, out: list[Obs]) -> None:
        if name == "G" and self.state == "Completed":
            out.append(("send", "response", self.last, True))
            self.interval["G"] = min(2 * self.interval["G"], self.t2)
            self.timers["G"] = at + self.interval["G"]
        elif name == "H" and self.state == "Completed":
            self._stop("G")
            out.append(("tu", "timeout", None))
            self._enter("Terminated", out)
        elif name in ("I", "L"):
            self._enter("Terminated", out)

    def _invite_server_event(
        self, name: str, now: float, status: int | None, out: list[Obs]
    ) -> None:
        s, code, amended = self.state, status or 0, self.profile == "rfc6026"
        if name == "recv_request":
            if s in ("Proceeding", "Completed"):
                out.append(("send", "response", self.last, True))
        elif name == "recv_ack":
            if s == "Completed":
                self._stop("G", "H")
                self._start("I", now)
                self._enter("Confirmed", out)
            elif s == "Accepted":
                out.append(("tu", "ack", None))
        elif name == "transport_error":
            if s in ("Proceeding", "Completed", "Accepted"):
                out.append(("tu", "transport_error", None))
                if not amended:
                    self._enter("Terminated", out)
        elif s == "Proceeding":
            out.append(("send", "response", code, False))
            self.last = code
            if 200 <= code < 300:
                if amended:
                    self._start("L", now)
                    self._enter("Accepted", out)
                else:
                    self._enter("Terminated", out)
            elif code >= 300:
                self._start("G", now)
                self._start("H", now)
                self._enter("Completed", out)
        elif s == "Accepted" and 200 <= code < 300:
            out.append(("send", "response", code, False))

    # --- 17.2.2 non-INVITE server ----------------------------------------------------------

    def _non_invite_server_timer(self, name: str, at: float, out: list[Obs]) -> None:
        if name == "100":  # RFC 4320 4.1: "if it has not otherwise responded" by then
            out.append(("send", "response", 100, False))
            self.last = 100
            self._enter("Proceeding", out)
            return
        self._enter("Terminated", out)  # Timer J

    def _non_invite_server_event(
        self, name: str, now: float, status: int | None, out: list[Obs]
    ) -> None:
        s, code, amended = self.state, status or 0, self.profile == "rfc6026"
        if name == "recv_request":
            if s in ("Proceeding", "Completed"):
                out.append(("send", "response", self.last, True))
            return
        if name == "transport_error":
            if s in ("Proceeding", "Completed"):
                out.append(("tu", "transport_error", None))
                if not amended:
                    self._enter("Terminated", out)
            return
        if amended:
            self._rfc4320(code, now)
        if s == "Completed":
            return  # other responses from the TU are discarded
        self._stop("100")  # it has otherwise responded (RFC 4320 4.1)
        out.append(("send", "response", code, False))
        self.last = code
        if code < 200:
            self._enter("Proceeding", out)
        else:
            self._start("J", now)
            self._enter("Completed", out)

    def _rfc4320(self, code: int, now: float) -> None:
        if code == 408:
            raise Refused("RFC 4320 4.2: no 408 to a non-INVITE request")
        if 100 < code < 200:
            raise Refused("RFC 4320 4.1: no provisional response but 100")
        early = not self.reliable and now - self.t0 < self.e_reaches_t2()
        if code == 100 and early and self.state != "Completed":
            raise Refused("RFC 4320 4.1: no 100 before Timer E reaches T2 over UDP")


def observe(outputs: Sequence[object]) -> list[Obs]:
    """The engine's outputs as oracle observations (timer events dropped)."""
    from sipfsm import Send, StateEntered, ToTU

    obs: list[Obs] = []
    for o in outputs:
        if isinstance(o, Send):
            obs.append(("send", o.what, o.status, o.retransmission))
        elif isinstance(o, ToTU):
            obs.append(("tu", o.what, o.status))
        elif isinstance(o, StateEntered):
            obs.append(("enter", o.state))
    return obs
