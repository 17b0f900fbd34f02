"""The probe's live progress line on stderr, with an estimate of the time left.

The estimate is arithmetic on the run's plan, never a measurement: a check that waits out a
64*T1 window (Timers B, F, H, J; 13.3.1.4) costs about that window per example, any other
check a few T1; checks run side by side, so the run lasts as long as its slowest check, and
never beyond ``--duration``. The same arithmetic gives the duration ``sipfsm probe`` announces
before it starts (:func:`expected_seconds`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

__all__ = ["Plan", "Progress", "expected_seconds"]


class _Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def long(self) -> bool: ...


class CheckState(Protocol):
    """What the line shows of one check (a :class:`~sipfsm.probe.runner.CheckResult`)."""

    @property
    def check(self) -> _Named: ...
    @property
    def state(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def examples(self) -> int: ...


#: T1s one example of a check without a 64*T1 window takes, about (a request, its final
#: response, a retransmission or two: 17.1.1.2, 17.1.2.2).
SHORT_T1S = 8.0


@dataclass(frozen=True)
class Plan:
    """What the run was asked to do, for the estimate: examples per check, T1, the
    ``--duration`` bound and the clock the run keeps (``loop.time``)."""

    examples: int
    t1: float
    duration: float
    clock: Callable[[], float]
    started: float

    def per_example(self, check: _Named) -> float:
        """Seconds one example of ``check`` takes, about."""
        return (64 if check.long else SHORT_T1S) * self.t1

    def left(
        self, results: Sequence[CheckState], started: Mapping[str, float] | None = None
    ) -> float:
        """Seconds left, about, within ``--duration``: the slowest unfinished check's. A check
        needs its examples still to run (the one under way counted whole); one running since
        ``started[id]`` no more than what is left of its estimate from then (so the ETA falls
        during a long wait)."""
        now = self.clock()
        started = started or {}
        work = 0.0
        for r in results:
            if r.state == "done":
                continue
            per = self.per_example(r.check)
            whole = max(self.examples - r.examples, 1) * per
            if r.check.id in started:
                whole = min(whole, max(started[r.check.id] + self.examples * per - now, 0.0))
            work = max(work, whole)
        return max(0.0, min(work, self.started + self.duration - now))


def expected_seconds(
    checks: Iterable[_Named],
    examples: int,
    t1: float,
    duration: float,
    in_flight: int | None = None,
) -> float:
    """The whole run's duration, about, before it starts: its slowest check's examples; with
    ``in_flight`` (``--max-in-flight``) below the number of checks that wait out 64*T1, their
    windows queue for the slots, and the run takes that many times longer."""
    checks = list(checks)
    plan = Plan(examples, t1, duration, lambda: 0.0, 0.0)
    slowest = max((examples * plan.per_example(c) for c in checks), default=0.0)
    long = sum(c.long for c in checks)
    if in_flight is not None and 0 < in_flight < long:
        slowest *= long / in_flight
    return min(slowest, duration)


def _clock_text(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}" if whole >= 60 else f"{whole} s"


class Progress:
    """Live progress on stderr: one updating line on a TTY, a line every ``every`` s else.

    ``enabled`` None shows it only on a TTY (``sipfsm probe --progress`` makes it True,
    ``--no-progress`` False). With a ``plan`` the line ends with the elapsed time and the
    estimate of what is left (``ETA``).
    """

    def __init__(
        self,
        results: Sequence[CheckState],
        stream: TextIO | None = None,
        every: float = 10.0,
        *,
        plan: Plan | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.results = results
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every if not self.tty else 0.5
        self.plan = plan
        self.enabled = self.tty if enabled is None else enabled
        self._last = ""
        #: When each check was first seen running (the plan's clock).
        self._started: dict[str, float] = {}

    def line(self) -> str:
        """``probe: 3/9 done, 2 running (a, b), 1 failed, 12 exchanges; 0:40 elapsed, ETA 1:05``."""
        done = [r for r in self.results if r.state == "done"]
        running = [r.check.id for r in self.results if r.state == "running"]
        failed = sum(r.verdict == "fail" for r in done)
        errors = sum(r.verdict == "error" for r in done)
        ex = sum(r.examples for r in self.results)
        run = (
            f", {len(running)} running ({', '.join(running[:3])}"
            + (", ...)" if len(running) > 3 else ")")
            if running
            else ""
        )
        text = (
            f"probe: {len(done)}/{len(self.results)} checks done{run}, {failed} failed, "
            + (f"{errors} in error, " if errors else "")
            + f"{ex} exchanges"
        )
        if self.plan is not None:
            now = self.plan.clock()
            for r in self.results:
                if r.state == "running":
                    self._started.setdefault(r.check.id, now)
            elapsed = max(0.0, now - self.plan.started)
            left = self.plan.left(self.results, self._started)
            text += f"; {_clock_text(elapsed)} elapsed, ETA {_clock_text(left)}"
        return text

    def show(self, final: bool = False) -> None:
        """Print the line (TTY: in place)."""
        if not self.enabled:
            return
        text = self.line()
        try:
            if self.tty:
                self.stream.write("\r\x1b[K" + text[:200] + ("\n" if final else ""))
            elif text != self._last or final:
                self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            return
        self._last = text

    async def run(self, stop: asyncio.Event) -> None:
        """Show the line periodically until ``stop``."""
        while not stop.is_set():
            self.show()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)
