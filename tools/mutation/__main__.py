"""``scripts/mutation quick | full [TARGET...] | list [TARGET...] | report``.

See ``docs/mutation.md`` (its Commands) and ``scripts/mutation``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from fnmatch import fnmatch
from typing import Any

from tools.mutation import data, mutmut_run, report, workspace
from tools.mutation.edits import Mutant
from tools.mutation.table import CORE, FULL_CAP, QUICK_BUDGET, QUICK_SAMPLE, SEED, Data


def _targets(names: list[str]) -> tuple[list[str], list[str]]:
    """(core files, data files) that the targets name; no target: all of both."""
    cores, datas = mutmut_run.core_files(), [p for p, _ in data.data_files()]
    if not names:
        return cores, datas
    pick_core: list[str] = []
    pick_data: list[str] = []
    for name in names:
        n = name.rstrip("/")
        core = (
            cores
            if n == "core"
            else [
                p
                for p in cores
                if mutmut_run.shard_of(p) == n or fnmatch(p, n) or p.startswith(n + "/")
            ]
        )
        dat = datas if n == "data" else [p for p in datas if fnmatch(p, n) or p.startswith(n + "/")]
        if not core and not dat:
            shards = sorted({c.shard for c in CORE})
            raise SystemExit(
                f"mutation: {name!r} names no core module or data file"
                f" (shards: {', '.join(shards)}; core; data)"
            )
        pick_core += [p for p in core if p not in pick_core]
        pick_data += [p for p in dat if p not in pick_data]
    return pick_core, pick_data


def _chosen(paths: list[str], cap: int | None) -> list[tuple[Mutant, Data]]:
    entries = dict(data.data_files())
    return [(m, entries[p]) for p in paths for m in data.mutants_of(p, cap)]


def _interleave(queues: list[list[Mutant]]) -> list[Mutant]:
    """The first of each queue, then the second of each, and so on."""
    out: list[Mutant] = []
    for depth in range(max((len(q) for q in queues), default=0)):
        out += [q[depth] for q in queues if depth < len(q)]
    return out


def quick_sample(count: int = QUICK_SAMPLE) -> list[tuple[Mutant, Data]]:
    """``count`` data mutants: every operator in turn, each going round its files (in a
    seeded order), each file's mutants in a seeded order."""
    entries = dict(data.data_files())
    by_op: dict[str, list[list[Mutant]]] = {}
    for path in data.seeded_order(sorted(entries), "quick/files"):
        mutants = data.mutants_of(path, None)
        for op in data.operators(path):
            group = [m for m in mutants if m.operator == op]
            if group:
                by_op.setdefault(op, []).append(data.seeded_order(group, f"quick/{path}/{op}"))
    chosen = _interleave([_interleave(by_op[op]) for op in sorted(by_op)])[:count]
    return [(m, entries[m.path]) for m in chosen]


def _stamp(command: str, started: float, **extra: Any) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": workspace.git_commit(),
        "command": command,
        "seconds": round(time.monotonic() - started),
        **extra,
    }


def _print_outcome(o: data.Outcome) -> None:
    m = o.mutant
    print(
        f"  {o.status:9} {o.seconds:5.0f}s {m.path}:{m.line} {m.operator}: {m.description}"
        f"  {o.detail}",
        flush=True,
    )


def _run_data(
    chosen: list[tuple[Mutant, Data]], jobs: int, deadline: float | None
) -> list[data.Outcome]:
    if not chosen:
        return []
    print(f"== data mutants: {len(chosen)} (clean runs first)", flush=True)
    return data.run(chosen, jobs=jobs, deadline=deadline, progress=_print_outcome)


def _run_core(
    paths: list[str],
    quick_tests: bool,
    max_children: int,
    deadline: float | None,
    only: list[str] | None = None,
) -> list[mutmut_run.FileResult]:
    if not paths:
        return []
    folder = workspace.WORK / ("mutmut-quick" if quick_tests else "mutmut-full")
    tests = mutmut_run.tests_of(paths) if quick_tests else None
    print(
        f"== mutmut on {len(paths)} file(s), tests: {' '.join(tests or ['the whole suite'])}",
        flush=True,
    )
    print(f"   log: {folder / 'mutmut.log'}", flush=True)
    mutmut_run.prepare(folder, tests)
    ran = mutmut_run.run(folder, paths, max_children, deadline, only)
    if ran.returncode is None:
        print("   mutmut stopped: time budget spent (the rest: not checked)")
    elif ran.returncode != 0 and mutmut_run.NOTHING_MATCHES in ran.output:
        print("   mutmut made no mutant of these files")
    elif ran.returncode != 0 and mutmut_run.STATS_FAILED in ran.output:
        why = mutmut_run.rerun_clean(folder, tests, deadline)
        raise SystemExit(
            f"mutation: mutmut's run of the unmutated tests in {folder / 'mutants'} failed;"
            f" the same tests run there by pytest:\n{why}"
        )
    elif ran.returncode != 0:
        lines = ran.output.replace("\r", "\n").splitlines()
        spinner = ("Running stats", "Generating mutants")  # mutmut's progress lines
        tail = "\n".join([ln for ln in lines if ln.strip() and not ln.endswith(spinner)][-25:])
        raise SystemExit(f"mutation: mutmut failed (exit {ran.returncode}):\n{tail}")
    out = mutmut_run.results(folder, paths)
    for r in out:
        total = len(r.mutants) - r.count("not checked")
        print(
            f"   {r.path}: {r.count('killed')} of {total} killed,"
            f" {r.count(*mutmut_run.SURVIVOR)} survivors"
        )
    return out


def _summary(outcomes: list[data.Outcome], files: list[mutmut_run.FileResult]) -> int:
    """Print the survivors; 1 when a data mutant survives (unless equivalent) or errs."""
    bad = report.open_data_survivors(outcomes)
    errors = [o for o in outcomes if o.status == "error"]
    killed = sum(o.status in ("killed", "rejected") for o in outcomes)
    run = sum(o.status not in ("not run", "equivalent") for o in outcomes)
    print(f"== data: {killed} of {run} killed; {len(bad)} open survivor(s); {len(errors)} error(s)")
    for o in bad + errors:
        _print_outcome(o)
    for r in files:
        for m in r.mutants:
            if m.status in mutmut_run.SURVIVOR:
                print(
                    f"  code {m.status}: {m.path}:{m.line} `{m.before}` -> `{m.after}`  ({m.name})"
                )
    return 1 if bad or errors else 0


def _changed_core() -> list[str]:
    """Core files changed since the commit the report was last updated at."""
    recorded = str(report.load().get("updated", {}).get("commit", "")).removesuffix("+dirty")
    root = str(workspace.ROOT)
    known = (
        recorded
        and subprocess.run(["git", "cat-file", "-e", recorded + "^{commit}"], cwd=root).returncode
        == 0
    )
    if not known:
        log = subprocess.run(
            ["git", "log", "-1", "--format=%H", "--", "docs/mutation.json"],
            cwd=root,
            capture_output=True,
            text=True,
        )
        recorded = log.stdout.strip()
    if not recorded:
        return []
    diff = subprocess.run(
        ["git", "diff", "--name-only", recorded, "--"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    changed = set(diff.stdout.split())
    return [p for p in mutmut_run.core_files() if p in changed]


def quick(args: argparse.Namespace) -> int:
    started = time.monotonic()
    deadline = started + args.budget
    outcomes = _run_data(quick_sample(args.sample or QUICK_SAMPLE), args.jobs, deadline)
    changed = _changed_core()
    files: list[mutmut_run.FileResult] = []
    left = deadline - time.monotonic()
    if not changed:
        print("== mutmut: no core file changed since the report's commit")
    elif left < 120:
        print(
            f"== mutmut: {len(changed)} changed core file(s), but only {left:.0f} s"
            " left of the budget: not run"
        )
    else:
        files = _run_core(changed, True, args.max_children, deadline)
    status = _summary(outcomes, files)
    print(f"== quick mode: {time.monotonic() - started:.0f} s")
    return status


def _recorded_survivors(paths: list[str]) -> list[str]:
    """The mutmut names of the survivors ``docs/mutation.json`` records for ``paths``."""
    core = report.load()["core"]
    return [s["name"] for p in paths for s in core.get(p, {}).get("survivors", [])]


def _sampled(cores: list[str], quick_tests: bool, count: int) -> list[str]:
    """The names of a seeded sample of ``count`` mutants per shard of ``cores``."""
    folder = workspace.WORK / ("mutmut-quick" if quick_tests else "mutmut-full")
    mutmut_run.prepare(folder, mutmut_run.tests_of(cores) if quick_tests else None)
    mutmut_run.generate(folder)
    names = mutmut_run.sample(folder, cores, count)
    print(f"== sample: {len(names)} mutant(s), at most {count} per shard (seed {SEED})")
    return names


def full(args: argparse.Namespace) -> int:
    started = time.monotonic()
    cores, datas = _targets(args.targets)
    command = "scripts/mutation full " + " ".join(sys.argv[2:])
    if args.fresh:
        shutil.rmtree(
            workspace.WORK / ("mutmut-quick" if args.quick_tests else "mutmut-full"),
            ignore_errors=True,
        )
    outcomes = _run_data(_chosen(datas, args.cap), args.jobs, None)
    data_stamp = _stamp(command, started, cap=args.cap)
    core_start = time.monotonic()
    only = _recorded_survivors(cores) if args.survivors else None
    if args.sample and cores:
        only = _sampled(cores, args.quick_tests, args.sample)
    files = _run_core(cores, args.quick_tests, args.max_children, None, only)
    status = _summary(outcomes, files)
    if not args.no_write:
        results = report.load()
        report.record_data(results, outcomes, data_stamp)
        tests = "quick-mode tests" if args.quick_tests else "whole suite"
        stamp = _stamp(command, core_start, tests=tests)
        report.record_core(results, files, stamp, set(only or ()) if args.survivors else None)
        if files:
            folder = workspace.WORK / ("mutmut-quick" if args.quick_tests else "mutmut-full")
            report.record_census(results, mutmut_run.census(folder))
        results["updated"] = _stamp(command, started)
        report.write(results)
        print(
            f"== wrote {report.REPORT.relative_to(workspace.ROOT)}"
            f" and {report.RESULTS.relative_to(workspace.ROOT)}"
        )
    return status


def listing(args: argparse.Namespace) -> int:
    cores, datas = _targets(args.targets)
    for path in cores:
        print(f"core {mutmut_run.shard_of(path):8} {path}")
    chosen = quick_sample(args.sample or QUICK_SAMPLE) if args.quick else _chosen(datas, args.cap)
    for m, _ in chosen:
        print(f"data {m.path}:{m.line} {m.operator}: {m.description}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/mutation", description=__doc__)
    sub = p.add_subparsers(dest="mode", required=True)
    q = sub.add_parser(
        "quick", help="data sample + mutmut on changed core files, bounded (scripts/test)"
    )
    q.add_argument(
        "--budget", type=float, default=QUICK_BUDGET, help="seconds in all (default: %(default)s)"
    )
    q.add_argument("--sample", type=int, default=0, help=f"data mutants (default: {QUICK_SAMPLE})")
    f = sub.add_parser("full", help="mutmut shards and the data mutants; records docs/mutation.md")
    f.add_argument("targets", nargs="*", metavar="TARGET")
    f.add_argument(
        "--cap",
        type=int,
        default=FULL_CAP,
        help="data mutants per file and operator (default: %(default)s)",
    )
    f.add_argument(
        "--quick-tests",
        action="store_true",
        help="judge with the table's tests per module, not the whole suite",
    )
    f.add_argument("--fresh", action="store_true", help="forget mutmut's cache of earlier runs")
    f.add_argument(
        "--survivors",
        action="store_true",
        help="rerun only the recorded survivors (after a new test; the rest keep their verdict)",
    )
    f.add_argument(
        "--sample",
        type=int,
        default=0,
        metavar="N",
        help="mutmut judges a seeded sample of N mutants per shard (the report gives the"
        " estimate with its 95%% interval); the rest stay not checked",
    )
    f.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    ls = sub.add_parser("list", help="the data mutants (seeded) and core modules a run would take")
    ls.add_argument("targets", nargs="*", metavar="TARGET")
    ls.add_argument("--cap", type=int, default=FULL_CAP)
    ls.add_argument("--quick", action="store_true", help="quick mode's sample")
    ls.add_argument("--sample", type=int, default=0)
    sub.add_parser("report", help="render docs/mutation.md again from docs/mutation.json")
    for s in (q, f):
        s.add_argument(
            "--jobs", type=int, default=1, help="data mutants judged at once (default: 1)"
        )
        s.add_argument(
            "--max-children",
            type=int,
            default=os.cpu_count() or 2,
            help="mutmut workers (default: cores)",
        )
    args = p.parse_args(argv)
    if args.mode == "report":
        report.write(report.load())
        return 0
    print(f"mutation: seed {SEED}, tree {workspace.git_commit()}", flush=True)
    return {"quick": quick, "full": full, "list": listing}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
