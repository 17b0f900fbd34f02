"""Entry point of the reference UA's child process (``python -m sipfsm.probe._child``).

Prints ``READY PORT`` once it listens, then takes ``trigger KIND URI TRANSPORT`` and
``quit`` lines on stdin (see :class:`sipfsm.probe.reference.ReferenceProcess`).
"""

from __future__ import annotations

import asyncio
import contextlib

from sipfsm.model.timers import Timers
from sipfsm.probe.reference import FLAWS, ReferenceTarget


async def _serve(host: str, timers: Timers, flaws: frozenset[str]) -> None:
    import sys

    ref = await ReferenceTarget(timers, host=host, flaws=flaws).start()
    sys.stdout.write(f"READY {ref.port}\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while True:
            line = (await reader.readline()).decode().split()
            if not line or line[0] == "quit":
                break
            if line[0] == "trigger" and len(line) == 4:
                with contextlib.suppress(Exception):
                    ref.trigger(line[1], line[2], line[3])
    finally:
        await ref.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m sipfsm.probe._child``: serve until ``quit`` or EOF on stdin."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m sipfsm.probe._child")
    p.add_argument("--host", default="127.0.0.1")
    # without a value, Timers takes the default of models/timers.toml (Table 4)
    p.add_argument("--t1", type=float)
    p.add_argument("--t2", type=float)
    p.add_argument("--t4", type=float)
    p.add_argument("--flaw", action="append", default=[], choices=FLAWS)
    a = p.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(a.host, Timers(t1=a.t1, t2=a.t2, t4=a.t4), frozenset(a.flaw)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
