"""Benchmark the simulated trapezoid: RFC 3261 Figure 1 calls per CPU-second.

Run: ``.venv/bin/python bench/bench_trapezoid.py`` (``--quick`` for a short run). Each call is
``sipfsm.sim.scenario.play("trapezoid")``: four elements built (two UAs, two stateful proxies
on the proxy models), F1-F14 and Bob's 100 as real bytes, each strictly parsed by the network
and again by its receiver, every timer run out on the virtual clock. Prints calls and messages
per CPU-second (``time.process_time``), for the lossless scenario and for ``lossy-trapezoid``.

Target (issue 14): >= 1,000 full Figure 1 calls per CPU-second; and >= 1x the calls/s of a
SIPp UAC-UAS pair over loopback (not measured here: no SIPp on this machine).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sipfsm.sim.scenario import play


def _rate(name: str, seconds: float) -> tuple[float, float, int]:
    """(calls per CPU-second, messages per CPU-second, calls) for ``seconds`` of CPU."""
    play(name)  # warm: models compiled, grammar loaded
    calls = messages = 0
    start = time.process_time()
    while (spent := time.process_time() - start) < seconds:
        messages += len(play(name).log)
        calls += 1
    return calls / spent, messages / spent, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one CPU-second per scenario")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else 5.0
    print(f"{'scenario':<18} {'calls/CPU-s':>12} {'msgs/CPU-s':>12} {'calls':>7}")
    for name in ("trapezoid", "lossy-trapezoid"):
        calls, msgs, n = _rate(name, seconds)
        print(f"{name:<18} {calls:12.1f} {msgs:12.0f} {n:7d}")


if __name__ == "__main__":
    main()
