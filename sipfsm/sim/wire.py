"""The virtual network: elements joined on the virtual clock (RFC 3261 18 without sockets).

Every datagram is serialized bytes and is checked by ``sipfsm.parse(..., strict=True)`` on its
way, so every message of a simulated flow is a real message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sipfsm.message.parse import parse
from sipfsm.ua.core import UA


@dataclass(slots=True)
class Wire:
    """Two UAs joined by a virtual network (tests, ``sipfsm trace``): every datagram is
    checked by ``sipfsm.parse(..., strict=True)`` and logged as ``(t, sender, bytes)``."""

    a: UA
    b: UA
    log: list[tuple[float, str, bytes, bool]] = field(default_factory=list)
    drop: Callable[[float, str, bytes], bool] = field(default=lambda t, who, data: False)
    #: Rewrites a datagram on its way (a test's stand-in for a proxy: adds Record-Route).
    mangle: Callable[[str, bytes], bytes] = field(default=lambda who, data: data)
    #: The virtual time the wire was last run to (:meth:`flush`, :meth:`run_until`).
    clock: float = 0.0

    def flush(self, now: float) -> None:
        """Deliver everything both sides have to send, until both are quiet. The log gets
        ``(t, sender, bytes, delivered)`` for each datagram, in order."""
        self.clock = max(self.clock, now)
        for _ in range(1000):
            moved = False
            for src, dst in ((self.a, self.b), (self.b, self.a)):
                for data in src.drain():
                    moved = True
                    data = self.mangle(src.name, data)
                    parse(data, strict=True)
                    delivered = not self.drop(now, src.name, data)
                    self.log.append((now, src.name, data, delivered))
                    if delivered:
                        dst.receive(data, now)
            if not moved:
                return
        raise RuntimeError("the two UAs never went quiet")

    def run_until(self, until: float, now: float) -> float:
        """Advance the virtual clock to ``until``, firing timers and delivering messages."""
        self.flush(now)
        while True:
            times = [t for t in (self.a.get_timer(), self.b.get_timer()) if t is not None]
            at = min(times) if times else None
            if at is None or at > until:
                self.clock = max(self.clock, until)
                return until
            now = max(now, at)
            self.a.handle_timer(now)
            self.b.handle_timer(now)
            self.flush(now)
