"""The probe's own lag (issue 13, defect 6): how late its event loop ran while an exchange
was in progress, so that a verdict is never reached on what the probe itself could not
observe cleanly.

The probe stamps every message it receives with ``loop.time()`` when its callback runs, and
sends when its own timer fires: a loop that is late (a busy machine, the Hypothesis thread
holding the interpreter) shifts both. Two measures, as ``bench/bench_timing.py`` takes them
(scheduled against actual instants):

* :class:`LagMeter`, a heartbeat: a callback scheduled every ``period`` seconds records how
  late it ran. A datagram that arrived while the loop was stalled is stamped up to that late,
  so the worst heartbeat lateness within an exchange bounds the error of its receive stamps.
* :class:`Lag`, what one exchange saw of its own waits: how late each timed wait woke, and how
  long after the instant it was scheduled for each send left (the rate limit included). The
  exchange's :class:`~sipfsm.probe.io.Exchange` notes it through :data:`current`, set by the
  runner around each exchange.

On the virtual clock (:mod:`sipfsm.sim.aio_clock`) every callback runs at its deadline, so
both stay 0 unless a test stalls the clock on purpose.
"""

from __future__ import annotations

import asyncio
import bisect
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Lag", "LagMeter", "current", "note"]

#: Lateness below this is not kept (a loop iteration's own cost).
_FLOOR = 0.001


@dataclass
class Lag:
    """The worst lateness one exchange saw of its own waits and sends, and where."""

    worst: float = 0.0
    what: str = ""

    def note(self, late: float, what: str) -> None:
        """``late`` seconds behind schedule at ``what``."""
        if late > self.worst:
            self.worst, self.what = late, what


#: The :class:`Lag` of the exchange running in this task (None: no exchange is measured).
current: ContextVar[Lag | None] = ContextVar("sipfsm_probe_lag", default=None)


def note(late: float, what: str) -> None:
    """Note ``late`` seconds of lateness on the current exchange's :class:`Lag`, if any."""
    lag = current.get()
    if lag is not None:
        lag.note(late, what)


class LagMeter:
    """A heartbeat on ``loop``: every ``period`` seconds a callback records how late it ran
    (scheduled against actual); :meth:`worst` is the worst lateness within an interval."""

    def __init__(self, loop: asyncio.AbstractEventLoop, period: float = 0.01) -> None:
        self.loop = loop
        self.period = period
        #: (scheduled, ran, late) of each late beat, in order.
        self._late: list[tuple[float, float, float]] = []
        self._ran: list[float] = []  # the ``ran`` of each, for bisect
        self._due = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self.beats = 0

    def start(self) -> LagMeter:
        """Start beating."""
        self._due = self.loop.time() + self.period
        self._handle = self.loop.call_at(self._due, self._beat)
        return self

    def stop(self) -> None:
        """Stop beating."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _beat(self) -> None:
        now = self.loop.time()
        self.beats += 1
        late = now - self._due
        if late > _FLOOR:
            self._late.append((self._due, now, late))
            self._ran.append(now)
        self._due = max(now, self._due) + self.period
        self._handle = self.loop.call_at(self._due, self._beat)

    def worst(self, t0: float, t1: float) -> float:
        """The worst lateness of a beat due by ``t1`` that ran at ``t0`` or later (it was
        late while the interval lasted), a beat still pending included."""
        worst = 0.0
        for scheduled, _ran, late in self._late[bisect.bisect_left(self._ran, t0) :]:
            if scheduled > t1:
                break
            worst = max(worst, late)
        if self._handle is not None and self._due <= t1:
            worst = max(worst, self.loop.time() - self._due)
        return worst
