"""The wall-clock driver: a sans-IO object run on the event loop's clock.

Everything in sipfsm's core takes ``now`` as an argument and reports its next deadline
(aioquic's shape: ``handle(event, now) -> outputs``, ``get_timer() -> deadline | None``,
``handle_timer(now)``). :class:`Driver` keeps exactly one ``loop.call_at`` armed for the next
deadline, re-arms after every step, records scheduled versus actual fire times (so timer
accuracy can be measured, :func:`timing_stats`) and cancels cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = ["Driver", "Firing", "TimerDriven", "TimingStats", "timing_stats"]

O_co = TypeVar("O_co", covariant=True)
OutT = TypeVar("OutT")


class TimerDriven(Protocol[O_co]):
    """The timer half of the aioquic shape: report the next deadline, fire it."""

    def get_timer(self) -> float | None:
        """The next deadline (same clock as ``now``), or None when no timer runs."""
        ...

    def handle_timer(self, now: float) -> O_co:
        """Fire every timer due at ``now``; return what to do (the outputs)."""
        ...


@dataclass(frozen=True, slots=True)
class Firing:
    """One timer fire: when it was due and when the loop ran it (both ``loop.time()``)."""

    scheduled: float
    actual: float

    @property
    def error(self) -> float:
        """Lateness in seconds (negative if early)."""
        return self.actual - self.scheduled


@dataclass(frozen=True, slots=True)
class TimingStats:
    """Summary of lateness samples, in seconds."""

    count: int
    p50: float
    p99: float
    max: float
    mean: float

    def __str__(self) -> str:
        ms = 1000.0
        return (
            f"n={self.count} p50={self.p50 * ms:.3f} ms p99={self.p99 * ms:.3f} ms "
            f"max={self.max * ms:.3f} ms mean={self.mean * ms:.3f} ms"
        )


def timing_stats(errors: Iterable[float]) -> TimingStats:
    """p50 / p99 (nearest rank) / max / mean of ``errors``; all zero when there are none."""
    xs = sorted(errors)
    if not xs:
        return TimingStats(0, 0.0, 0.0, 0.0, 0.0)

    def rank(p: float) -> float:
        return xs[min(len(xs) - 1, max(0, math.ceil(p * len(xs)) - 1))]

    return TimingStats(len(xs), rank(0.50), rank(0.99), xs[-1], sum(xs) / len(xs))


class Driver(Generic[OutT]):
    """Run a sans-IO object on the event loop's clock (aioquic's ``QuicConnectionProtocol``
    pattern: one ``call_at`` for ``get_timer()``, re-armed after every step).

    ``on_output(outputs, firing)`` gets what every step returned; ``firing`` is the
    :class:`Firing` when the step was a timer, else None. The object is called with
    ``now = max(deadline, loop.time())`` on a timer, because asyncio may run a ``call_at``
    handle up to its clock resolution early and the core must see its deadline reached.
    An exception from the object stops the driver and is kept in :attr:`error`.
    """

    def __init__(
        self,
        machine: TimerDriven[OutT],
        on_output: Callable[[OutT, Firing | None], None] | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        record: bool = True,
    ) -> None:
        self.machine = machine
        self.on_output = on_output
        self.loop = loop or asyncio.get_running_loop()
        self.record = record
        self.error: BaseException | None = None
        #: Every timer fire so far, in order (when ``record``).
        self.firings: list[Firing] = []
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None
        self._closed = False
        self._idle = asyncio.Event()

    @property
    def closed(self) -> bool:
        """True after :meth:`close` or an exception from the machine."""
        return self._closed

    def timing(self) -> TimingStats:
        """Lateness of the timer fires so far."""
        return timing_stats(f.error for f in self.firings)

    def now(self) -> float:
        """The clock the machine runs on."""
        return self.loop.time()

    def start(self) -> Driver[OutT]:
        """Arm the first deadline."""
        self.rearm()
        return self

    def __enter__(self) -> Driver[OutT]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def rearm(self) -> None:
        """Ask the machine for its next deadline and keep one ``call_at`` for it."""
        if self._closed:
            return
        deadline = self.machine.get_timer()
        if deadline == self._armed_for and self._handle is not None:
            return
        self._disarm()
        self._armed_for = deadline
        if deadline is None:
            self._idle.set()
            return
        self._idle.clear()
        self._handle = self.loop.call_at(deadline, self._fire, deadline)

    def _disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._armed_for = None

    def _fire(self, scheduled: float) -> None:
        actual = self.loop.time()
        self._handle = None
        self._armed_for = None
        if self._closed:
            return
        firing = Firing(scheduled, actual)
        if self.record:
            self.firings.append(firing)
        # An exception is kept in self.error (the loop's handler would only log it).
        with contextlib.suppress(Exception):
            self._step(self.machine.handle_timer, max(scheduled, actual), firing)

    def _step(self, fn: Callable[[float], OutT], now: float, firing: Firing | None) -> OutT:
        try:
            out = fn(now)
            if self.on_output is not None:
                self.on_output(out, firing)
        except Exception as exc:
            self.error = exc
            self.close()
            raise
        self.rearm()
        return out

    def call(self, fn: Callable[[float], OutT]) -> OutT:
        """Run ``fn(now)`` on the machine (e.g. ``lambda now: tx.handle(event, now)``), pass
        its result to ``on_output``, re-arm; return the result."""
        if self._closed:
            raise RuntimeError("driver closed") from self.error
        return self._step(fn, self.loop.time(), None)

    def handle(self, event: object) -> OutT:
        """``machine.handle(event, now)`` through :meth:`call` (aioquic shape)."""
        method: Callable[[object, float], OutT] = getattr(self.machine, "handle")  # noqa: B009
        return self.call(lambda now: method(event, now))

    async def wait_idle(self, timeout: float) -> None:
        """Wait until the machine reports no timer (or the driver stops); bounded."""
        await asyncio.wait_for(self._idle.wait(), timeout=timeout)
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Cancel the armed timer; later fires do nothing. Idempotent."""
        self._closed = True
        self._disarm()
        self._idle.set()
