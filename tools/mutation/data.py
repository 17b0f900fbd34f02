"""Data mutants of ``grammar/*.abnf`` and ``models/*.toml``, each judged in a scratch copy.

For each mutant: a copy of the tree (``.mutation/data/``), the edit, the committed artefacts
regenerated there (``python -m sipfsm.abnf.compile``; what ``scripts/regen-diagrams`` does), then
the data file's tests (:data:`tools.mutation.table.DATA`) with ``-x``. Killed: a test fails, or
the compiler or loader refuses the mutant while regenerating (every test would fail then).
Survived: every test passes. Timed out: counts as a survivor. A failure of a drift test is an
error of this tool (the regeneration did not happen), never a kill. A grammar mutant that
compiles to the same parser is equivalent by construction and not run.
"""

from __future__ import annotations

import queue
import random
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from tools.mutation import abnf_ops, model_ops, proc, workspace
from tools.mutation.edits import Context, Mutant
from tools.mutation.table import DATA, DRIFT_TESTS, SEED, Data

Operator = Callable[[str, str, Context], Iterator[Mutant]]
T = TypeVar("T")
SCRATCH = workspace.WORK / "data"
#: The compiled grammar: the package reads nothing else of ``grammar/`` at run time.
LARK = "sipfsm/message/_generated/sip.lark"
#: In a copy: the test running now (``hypothesis_profile.py`` writes it).
CURRENT = ".mutation-current-test"
_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Outcome:
    """``status``: killed, rejected (killed while regenerating), survived, timeout, error, or
    equivalent (a grammar mutant that compiles to the same ``sip.lark``: the parser cannot
    tell, e.g. a core rule SIP never uses)."""

    mutant: Mutant
    status: str
    #: The killing test, the refusal, or what went wrong.
    detail: str
    seconds: float


def data_files(root: Path = workspace.ROOT) -> list[tuple[str, Data]]:
    """Every data file of :data:`DATA` (relative path, its entry), sorted."""
    found: dict[str, Data] = {}
    for entry in DATA:
        for path in sorted(root.glob(entry.glob)):
            found.setdefault(str(path.relative_to(root)), entry)
    return sorted(found.items())


def operators(path: str) -> dict[str, Operator]:
    """The operators that apply to a data file, by name."""
    ops: dict[str, Operator] = dict(
        abnf_ops.OPERATORS if path.endswith(".abnf") else model_ops.OPERATORS
    )
    return ops


def _context(root: Path) -> Context:
    texts = [p.read_text() for p in sorted((root / "models").glob("*.toml"))]
    return Context(SEED, model_ops.every_profile(texts))


def _numbered(mutants: list[Mutant]) -> list[Mutant]:
    """Give repeated descriptions their occurrence number, in file order."""
    seen: Counter[str] = Counter()
    out = []
    for m in mutants:
        out.append(replace(m, occurrence=seen[m.description]))
        seen[m.description] += 1
    return out


def seeded_order(items: list[T], label: str) -> list[T]:
    """``items`` shuffled by the generator seeded with :data:`SEED` and ``label``."""
    return random.Random(f"{SEED}/{label}").sample(items, len(items))


def mutants_of(path: str, cap: int | None, root: Path = workspace.ROOT) -> list[Mutant]:
    """The mutants of one data file, at most ``cap`` per operator: a seeded draw, so the same
    tree always gives the same list, and a smaller cap gives a subset of a larger one."""
    text = (root / path).read_text()
    ctx = _context(root)
    chosen: list[Mutant] = []
    for name, op in operators(path).items():
        every = _numbered(list(op(path, text, ctx)))
        order = seeded_order(list(range(len(every))), f"{path}/{name}")
        keep = sorted(order if cap is None else order[:cap])
        chosen.extend(every[i] for i in keep)
    return chosen


def _regen_commands(kind: str) -> list[list[str]]:
    py = sys.executable
    if kind == "grammar":
        return [[py, "-m", "sipfsm.abnf.compile"]]
    return [[py, "-m", "sipfsm", "diagram", "--format", "dot,svg", "--out", "diagrams"]]


def regenerate(copy: Path, kind: str) -> str | None:
    """Regenerate the artefacts of ``kind`` in ``copy``; the error text when that fails."""
    if kind == "diagrams":  # scripts/regen-diagrams without MODEL: stale files go first
        for old in copy.glob("diagrams/*.rfc*.*"):
            old.unlink()
    for cmd in _regen_commands(kind):
        ran = proc.run(cmd, copy, workspace.env(copy), timeout=300)
        if ran.returncode != 0:
            lines = [ln for ln in ran.output.strip().splitlines() if ln.strip()]
            return lines[-1] if lines else f"exit {ran.returncode}"
    return None


def _pytest(copy: Path, tests: Iterable[str], timeout: float) -> proc.Ran:
    cmd = [sys.executable, "-m", "pytest", "-q", "-rfE", "-x", "-p", "no:cacheprovider"]
    cmd += ["-p", "tools.mutation.hypothesis_profile"]
    env = workspace.env(copy) | {"SIPFSM_MUTATION_CURRENT": str(copy / CURRENT)}
    return proc.run([*cmd, *tests], copy, env, timeout)


def prepare_base() -> Path:
    """The unmutated scratch copy, checked: its own package is the one imported, and
    regenerating there changes no committed artefact (else the tree itself is stale)."""
    base = SCRATCH / "base"
    workspace.fresh_copy(base)
    which = proc.run(
        [sys.executable, "-c", "import sipfsm; print(sipfsm.__file__)"],
        base,
        workspace.env(base),
        60,
    )
    if not which.output.strip().startswith(str(base)):
        raise SystemExit(f"mutation: the copy imports {which.output.strip()!r}, not its own sipfsm")
    for kind in ("grammar", "diagrams"):
        error = regenerate(base, kind)
        if error:
            raise SystemExit(f"mutation: regenerating {kind} fails on the unmutated tree: {error}")
    generated = [
        base / LARK,
        *sorted((base / "diagrams").glob("*.dot")),
    ]
    for path in generated:
        rel = path.relative_to(base)
        committed = workspace.ROOT / rel
        if not committed.exists() or path.read_bytes() != committed.read_bytes():
            raise SystemExit(f"mutation: {rel} is stale in the working tree: regenerate it first")
    return base


def clean_runs(base: Path, selections: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], float]:
    """Run each test selection once on the unmutated copy: all must pass; their durations."""
    seconds: dict[tuple[str, ...], float] = {}
    for tests in sorted(set(selections)):
        ran = _pytest(base, tests, timeout=1800)
        if ran.returncode != 0:
            tail = "\n".join(ran.output.splitlines()[-30:])
            raise SystemExit(f"mutation: the unmutated copy fails {' '.join(tests)}:\n{tail}")
        seconds[tests] = ran.seconds
    return seconds


def _same_file(a: Path, b: Path, rel: str) -> bool:
    return (a / rel).read_bytes() == (b / rel).read_bytes()


def judge(base: Path, mutant: Mutant, entry: Data, clean: float, slot: int) -> Outcome:
    """Apply one mutant in a copy of ``base``, regenerate, run its tests."""
    start = time.monotonic()
    copy = SCRATCH / f"m{slot}"
    workspace.clone(base, copy)
    target = copy / mutant.path
    target.write_text(mutant.apply(target.read_text()))
    try:
        refused = regenerate(copy, entry.regen)
        if refused:
            return Outcome(mutant, "rejected", refused, time.monotonic() - start)
        if entry.regen == "grammar" and _same_file(copy, base, LARK):
            return Outcome(mutant, "equivalent", f"{LARK} unchanged", time.monotonic() - start)
        ran = _pytest(copy, entry.tests, timeout=max(120.0, 4 * clean + 60))
        return _outcome(mutant, ran, time.monotonic() - start, copy)
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def _outcome(mutant: Mutant, ran: proc.Ran, seconds: float, copy: Path) -> Outcome:
    current = (copy / CURRENT).read_text() if (copy / CURRENT).exists() else "collection"
    if ran.returncode is None:
        return Outcome(mutant, "timeout", f"did not finish in time, in {current}", seconds)
    if ran.returncode == 0:
        return Outcome(mutant, "survived", "", seconds)
    failed = _FAILED.findall(ran.output)
    if ran.returncode in (1, 2, 3):
        unreported = f"{current} (exit {ran.returncode} without a report: hung past the bound)"
        killer = failed[0] if failed else unreported
        if any(killer.startswith(d) for d in DRIFT_TESTS):
            return Outcome(mutant, "error", f"drift test failed: {killer}", seconds)
        return Outcome(mutant, "killed", killer, seconds)
    return Outcome(mutant, "error", f"pytest exit {ran.returncode}", seconds)


def run(
    chosen: list[tuple[Mutant, Data]],
    jobs: int = 1,
    deadline: float | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Judge every mutant (``jobs`` at a time); past ``deadline`` the rest are not run."""
    if not chosen:
        return []
    base = prepare_base()
    clean = clean_runs(base, [entry.tests for _, entry in chosen])
    slots: queue.Queue[int] = queue.Queue()
    for n in range(max(jobs, 1)):
        slots.put(n)

    def one(item: tuple[Mutant, Data]) -> Outcome:
        mutant, entry = item
        if deadline is not None and time.monotonic() > deadline:
            return Outcome(mutant, "not run", "time budget spent", 0.0)
        slot = slots.get()
        try:
            outcome = judge(base, mutant, entry, clean[entry.tests], slot)
        finally:
            slots.put(slot)
        if progress:
            progress(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        return list(pool.map(one, chosen))
