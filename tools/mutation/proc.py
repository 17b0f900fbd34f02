"""Running a command with a deadline: its whole process group is ended when time is up."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Ran:
    """``returncode`` is ``None`` when the deadline ended the command."""

    returncode: int | None
    output: str
    seconds: float


def run(
    cmd: list[str], cwd: Path, env: dict[str, str], timeout: float, log: Path | None = None
) -> Ran:
    """Run ``cmd`` in a session of its own; past ``timeout`` seconds, end that session."""
    start = time.monotonic()
    out = open(log, "w") if log else subprocess.PIPE  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    try:
        text, _ = proc.communicate(timeout=max(timeout, 1.0))
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        stop(proc)
        text, code = "", None
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    if log:
        text = log.read_text(errors="replace")
    return Ran(code, text or "", time.monotonic() - start)


def stop(proc: subprocess.Popen[str]) -> None:
    """End ``proc``'s process group (this tool started it in a session of its own): SIGTERM,
    15 s of grace, then SIGKILL for whatever of the group is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.communicate(timeout=15.0)
        except subprocess.TimeoutExpired:
            continue
    if proc.poll() is None:
        proc.wait()
