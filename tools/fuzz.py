"""The long fuzz run of issue 11 (``scripts/fuzz``): N hostile inputs, seeded, over the cores.

Each input is a seed message (the RFC 4475 corpus shipped in ``sipfsm/data``, or a message of
:func:`sipfsm.testing.message_bytes.message_bytes`) after :func:`sipfsm.testing.mutations.mutate`,
judged by :func:`sipfsm.testing.fuzz.judge` (delivered whole and trickled through a
StreamFramer), and timed: strict parsing plus reading every typed view (a rejected input:
strict and lazy parsing, and the views of the lazy message), in CPU seconds of the worker;
an input over the budget is timed :data:`RETIME` times more and its cost is the least figure
(so that a garbage collection of the worker's heap, which happened to fall in the timed
region, is not counted as the input's cost; the count of inputs timed again is printed).

Prints: inputs, accepted, rejected per ParseError code, then the counts that must be 0:
exceptions other than ParseError, ``internal-error``, inputs over 50 ms (with the slowest),
round-trip failures, views that cannot be read, canonical forms that do not re-parse, streams
whose outcome depends on how they are cut. The first few inputs of each (up to ``--keep``)
are written to a temporary folder outside the tree, named by kind, worker task and index.
Exit status 0 when every count that must be 0 is; 1 otherwise.

The same seed gives the same inputs, whatever the number of processes (the inputs are drawn
in tasks of :data:`TASK` inputs, each from its own seeded generator).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import sipfsm
from sipfsm.data import RFC4475_DIR
from sipfsm.testing.fuzz import judge
from sipfsm.testing.mutations import mutate
from sipfsm.testing.views import read_every_view

#: Inputs per task (the unit of work a process takes).
TASK = 1000
#: Budget of one input: strict parsing and reading every view (issue 11).
BUDGET = 0.050
#: Times an input over :data:`BUDGET` is timed again; its cost is the least of the timings
#: (a pause of the worker's own, a garbage collection of its heap, is not the input's cost).
RETIME = 3
#: Generated seed messages (besides the corpus), drawn once per process from ``--seed``.
GENERATED = 300
#: Kinds of violation counted, in the order printed.
KINDS = ("exception", "internal-error", "slow", "round-trip", "view", "canonical", "stream")


@dataclass
class Tally:
    """What a task found (summed over tasks)."""

    inputs: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    violations: Counter[str] = field(default_factory=Counter)
    slowest: float = 0.0
    retimed: int = 0
    first_slowest: float = 0.0
    samples: list[tuple[str, str, bytes, str]] = field(default_factory=list)

    def add(self, other: Tally, keep: int) -> None:
        self.inputs += other.inputs
        self.codes.update(other.codes)
        self.violations.update(other.violations)
        self.slowest = max(self.slowest, other.slowest)
        self.retimed += other.retimed
        self.first_slowest = max(self.first_slowest, other.first_slowest)
        for s in other.samples:
            if sum(1 for t in self.samples if t[0] == s[0]) < keep:
                self.samples.append(s)


@cache
def _seeds(seed: int) -> tuple[bytes, ...]:
    """The corpus and :data:`GENERATED` generated messages (the same for every process)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    from sipfsm.testing.message_bytes import message_bytes

    corpus = [p.read_bytes() for p in sorted(RFC4475_DIR.glob("*.dat"))]
    generated: list[bytes] = []

    @hseed(seed)
    @settings(
        max_examples=GENERATED,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(message_bytes())
    def collect(data: bytes) -> None:
        generated.append(data)

    collect()
    return (*corpus, *generated)


def _timed(x: bytes) -> float:
    """CPU seconds of parsing ``x`` and reading every view (see the module docstring)."""
    t0 = time.process_time()
    try:
        read_every_view(sipfsm.parse(x, strict=True))
    except Exception:
        with contextlib.suppress(Exception):
            read_every_view(sipfsm.parse(x))
    return time.process_time() - t0


def run_task(args: tuple[int, int, int, int]) -> Tally:
    """Task ``index`` of the run with ``seed``: ``count`` inputs; keep ``keep`` samples."""
    seed, index, count, keep = args
    seeds = _seeds(seed)
    rng = random.Random(seed * 1_000_003 + index)
    tally = Tally()
    for i in range(count):
        x, ops = mutate(rng.choice(seeds), rng)
        spent = _timed(x)
        tally.first_slowest = max(tally.first_slowest, spent)
        if spent > BUDGET:  # a garbage collection of the worker's heap, or the input's cost?
            tally.retimed += 1
            spent = min(spent, *(_timed(x) for _ in range(RETIME)))
        verdict = judge(x, rng)
        tally.inputs += 1
        tally.codes[verdict.code or "accepted"] += 1
        tally.slowest = max(tally.slowest, spent)
        found = [(v.kind, v.detail) for v in verdict.violations]
        if spent > BUDGET:
            found.append(("slow", f"{spent * 1e3:.1f} ms CPU"))
        for kind, detail in found:
            tally.violations[kind] += 1
            if sum(1 for s in tally.samples if s[0] == kind) < keep:
                tally.samples.append((kind, f"{index}-{i}", x, f"{' '.join(ops)}: {detail}"))
    return tally


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--inputs", type=int, default=1_000_000, help="inputs (1,000,000)")
    ap.add_argument("--seed", type=int, default=11, help="seed of every draw (11)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="processes")
    ap.add_argument("--keep", type=int, default=5, help="inputs saved per kind of violation")
    args = ap.parse_args(argv)
    tasks = [
        (args.seed, k, min(TASK, args.inputs - k * TASK), args.keep)
        for k in range((args.inputs + TASK - 1) // TASK)
    ]
    total = Tally()
    start = time.perf_counter()
    with multiprocessing.Pool(args.jobs) as pool:
        for done, got in enumerate(pool.imap_unordered(run_task, tasks), 1):
            total.add(got, args.keep)
            if done % 20 == 0 or done == len(tasks):
                rate = total.inputs / (time.perf_counter() - start)
                print(f"  {total.inputs:,} inputs ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    _report(total, args, time.perf_counter() - start)
    return 1 if sum(total.violations[k] for k in KINDS) else 0


def _report(total: Tally, args: argparse.Namespace, wall: float) -> None:
    accepted = total.codes.pop("accepted", 0)
    print(f"fuzz: seed {args.seed}, {args.jobs} processes, {wall:,.0f} s")
    print(f"inputs:    {total.inputs:,}")
    print(f"accepted:  {accepted:,}")
    print(f"rejected:  {sum(total.codes.values()):,}")
    for code, n in sorted(total.codes.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {code:<28} {n:,}")
    labels = {
        "exception": "exceptions other than ParseError",
        "internal-error": "internal-error",
        "slow": f"over {BUDGET * 1e3:.0f} ms (parse + every view)",
        "round-trip": "serialize(parse(x)) != x",
        "view": "accepted, a view unreadable",
        "canonical": "parse(canonical(m)) rejected",
        "stream": "stream outcome depends on the cut",
    }
    for kind in KINDS:
        extra = ""
        if kind == "slow":
            extra = (
                f" (slowest {total.slowest * 1e3:.1f} ms; {total.retimed:,} timed again, "
                f"slowest first timing {total.first_slowest * 1e3:.1f} ms)"
            )
        print(f"{labels[kind]:<40} {total.violations[kind]:,}{extra}")
    if total.samples:
        folder = Path(tempfile.mkdtemp(prefix="sipfsm-fuzz-"))
        for kind, where, x, detail in total.samples:
            path = folder / f"{kind}-{where}.sip"
            path.write_bytes(x)
            print(f"  saved {path} ({detail[:160]})")


if __name__ == "__main__":
    sys.exit(main())
