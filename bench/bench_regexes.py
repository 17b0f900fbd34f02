"""The compiled terminals on pathological 60 KiB values (issue 11): linear, no catastrophic
backtracking. The cases are those of ``tests/test_grammar.py`` (``PATHOLOGICAL``), whose unit
test checks only the answer; the time is measured here.

Run: ``.venv/bin/python bench/bench_regexes.py`` (``--rounds N``: best of N, default 5). For
each (terminal, fill), the CPU time (``time.process_time``, robust to other processes) of one
``fullmatch`` of the 60 KiB value, best of the rounds, printed against two baselines of the
same run:

* a linear scan of the same octets by the regex engine (``[^\\x00]*+`` fullmatch, which reads
  every octet once): the ratio says how many passes over the value the terminal costs;
* the same terminal on the value of 6 KiB: the per-octet cost of 60 KiB over that of 6 KiB
  (target <= 2x, i.e. linear; a backtracking regex is 10x or 100x).

Target: every value under 50 ms (the budget of issue 11 for parse plus every view) and every
per-octet ratio <= 2x. Exit status 0 when both are met, 1 when not.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the cases of the unit test

from test_grammar import PATHOLOGICAL, pathological  # noqa: E402

from sipfsm.message import grammar as _grammar  # noqa: E402

#: Issue 11's budget of one input (parse plus every view), in CPU seconds.
BUDGET = 0.050
#: Per-octet cost of 60 KiB over that of 6 KiB: at most this (linear time).
LINEAR = 2.0
_SCAN = re.compile(r"[^\x00]*+")


def _best(fn: Callable[[], object], rounds: int, reps: int) -> float:
    """Best over ``rounds`` of the mean CPU seconds of ``reps`` calls of ``fn``."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(reps):
            fn()
        best = min(best, (time.process_time() - t0) / reps)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="best of N rounds (5)")
    args = ap.parse_args()
    print(
        f"Terminals on 60 KiB pathological values (CPU time, best of {args.rounds}); "
        f"baselines: a linear\nscan of the same octets, and the terminal on 6 KiB "
        f"(target < {BUDGET * 1e3:.0f} ms, per-octet 60 KiB / 6 KiB <= {LINEAR}x)"
    )
    print(f"  {'terminal':<12} {'fill':<10} {'60 KiB':>9} {'scan':>9} {'x scan':>8} {'60K/6K':>7}")
    worst = worst_ratio = 0.0
    for terminal, fill in PATHOLOGICAL:
        match = _grammar.regex(terminal).fullmatch
        big, small = pathological(fill), pathological(fill, 6 * 1024)
        t_big = _best(partial(match, big), args.rounds, 20)
        t_small = _best(partial(match, small), args.rounds, 200)
        t_scan = _best(partial(_SCAN.fullmatch, big), args.rounds, 20)
        ratio = (t_big / len(big)) / max(t_small / len(small), 1e-12)
        worst, worst_ratio = max(worst, t_big), max(worst_ratio, ratio)
        print(
            f"  {terminal:<12} {fill!r:<10} {t_big * 1e3:6.3f} ms {t_scan * 1e3:6.3f} ms "
            f"{t_big / max(t_scan, 1e-12):7.1f}x {ratio:6.2f}x"
        )
    ok = worst < BUDGET and worst_ratio <= LINEAR
    print(
        f"  slowest {worst * 1e3:.3f} ms (target < {BUDGET * 1e3:.0f} ms), highest per-octet "
        f"ratio {worst_ratio:.2f}x (target <= {LINEAR}x): {'met' if ok else 'NOT MET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
