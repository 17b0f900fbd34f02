"""What makes the target send a request to the probe (role server): the reference UA's own
trigger, or a user's command line run once per exchange."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Any

from sipfsm.probe.io import UsageError
from sipfsm.probe.reference import ReferenceProcess, ReferenceTarget

__all__ = ["CommandTrigger", "EmbeddedTrigger"]


class EmbeddedTrigger:
    """Role server against the reference UA: it sends the request itself."""

    def __init__(self, ref: ReferenceProcess | ReferenceTarget) -> None:
        self.ref = ref

    async def start(self, kind: str, host: str, port: int, transport: str) -> None:
        """Make the reference UA call (``invite``) or ping (``options``) the probe."""
        suffix = ";transport=tcp" if transport == "tcp" else ""
        self.ref.trigger(kind, f"sip:probe@{host}:{port}{suffix}", transport)

    async def stop(self) -> None:
        """Nothing to stop."""


class CommandTrigger:
    """Role server against an external implementation: run a command line (no shell) once
    per exchange, with ``{host}``, ``{port}``, ``{transport}``, ``{uri}`` (the probe's
    listener) and ``{free_port}`` (a free local port) replaced; stopped by PID after it."""

    def __init__(self, command: str, run_dir: Path, lifetime: float) -> None:
        self.command = command
        self.run_dir = run_dir
        self.lifetime = lifetime
        self.process: Any = None

    async def start(self, kind: str, host: str, port: int, transport: str) -> None:
        """Start the command."""
        from sipfsm.net.ports import free_port
        from sipfsm.net.process import PeerProcess

        values = {
            "{host}": host,
            "{port}": str(port),
            "{transport}": transport,
            "{uri}": f"sip:probe@{host}:{port}",
            "{free_port}": str(free_port()),
        }
        argv = []
        for arg in shlex.split(self.command):
            for k, v in values.items():
                arg = arg.replace(k, v)
            argv.append(arg)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log = self.run_dir / f"trigger-{port}.log"
        self.process = PeerProcess("trigger", argv, log, self.run_dir, self.lifetime)
        try:
            await asyncio.to_thread(self.process.start)
        except OSError as exc:
            raise UsageError(f"--trigger {self.command!r} cannot start: {exc}") from exc

    async def stop(self) -> None:
        """Stop the command by its PID (SIGTERM, then SIGKILL to its group)."""
        if self.process is not None:
            await asyncio.to_thread(self.process.stop, 2.0)
