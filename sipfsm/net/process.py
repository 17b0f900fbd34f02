"""A child process with a watchdog: started in its own session, logged to a file, stopped by
PID (the probe's ``--trigger`` command, and the real peers the tests start)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sipfsm.errors import SipfsmError


class PeerUnavailable(SipfsmError):
    """A peer cannot be installed or started here; the message says exactly why."""


@dataclass
class PeerProcess:
    """A peer process: started in its own session, logged to a file, killed after
    ``lifetime`` seconds by a watchdog, stopped by PID."""

    name: str
    argv: list[str]
    log_path: Path
    cwd: Path
    lifetime: float = 300.0
    env: Mapping[str, str] | None = None
    proc: subprocess.Popen[bytes] | None = None
    _watchdog: threading.Timer | None = field(default=None, repr=False)

    def start(self) -> PeerProcess:
        """Start the process (stdin from /dev/null, stdout and stderr to the log)."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=dict(self.env) if self.env is not None else None,
            )
        self._watchdog = threading.Timer(self.lifetime, self._kill)
        self._watchdog.daemon = True
        self._watchdog.start()
        return self

    @property
    def pid(self) -> int:
        """The process id."""
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.proc is not None and self.proc.poll() is None

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM the PID, wait up to ``grace`` s, then SIGKILL its process group; reap it.
        Returns the exit status."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._kill()
                self.proc.wait(timeout=grace)
        # Children left in its session (Kamailio's workers) go with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit by itself (bounded); kill it when it does not."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(grace=1.0)
            raise
        finally:
            if self._watchdog is not None:
                self._watchdog.cancel()

    def log(self) -> str:
        """The whole log so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines of the log, headed by the process's name and command."""
        tail = "\n".join(self.log().splitlines()[-lines:])
        pid = self.proc.pid if self.proc else "-"
        return f"--- {self.name} (pid {pid}): {' '.join(self.argv)}\n{tail}"

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``ready()`` until true; raise :class:`PeerUnavailable` (with the log) when the
        process dies or ``timeout`` passes."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.alive():
                raise PeerUnavailable(
                    f"{self.name} exited ({self.proc.returncode if self.proc else '?'}) "
                    f"before {what}\n{self.log_tail()}"
                )
            if ready():
                return
            time.sleep(0.05)
        raise PeerUnavailable(f"{self.name}: no {what} within {timeout} s\n{self.log_tail()}")
