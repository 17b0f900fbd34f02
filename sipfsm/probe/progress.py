"""The probe's live progress line on stderr."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Sequence
from typing import Protocol, TextIO

__all__ = ["Progress"]


class _Named(Protocol):
    @property
    def id(self) -> str: ...


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


class Progress:
    """Live progress on stderr: one updating line on a TTY, a line every ``every`` s else."""

    def __init__(
        self, results: Sequence[CheckState], stream: TextIO | None = None, every: float = 10.0
    ) -> None:
        self.results = results
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every if not self.tty else 0.5
        self._last = ""

    def line(self) -> str:
        """``probe: 3/9 done, 2 running (a, b), 1 failed, 12 examples``."""
        done = [r for r in self.results if r.state == "done"]
        running = [r.check.id for r in self.results if r.state == "running"]
        failed = sum(r.verdict == "fail" for r in done)
        ex = sum(r.examples for r in self.results)
        run = (
            f", {len(running)} running ({', '.join(running[:3])}"
            + (", ...)" if len(running) > 3 else ")")
            if running
            else ""
        )
        return (
            f"probe: {len(done)}/{len(self.results)} checks done{run}, {failed} failed, "
            f"{ex} exchanges"
        )

    def show(self, final: bool = False) -> None:
        """Print the line (TTY: in place)."""
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
