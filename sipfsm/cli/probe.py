"""``sipfsm probe``: property-test a live SIP implementation against RFC 3261.

Points sipfsm at a running SIP implementation and gives a verdict per rule (pass, fail,
skip, inconclusive, error), each failure with the shortest exchange that reproduces it (found and
shrunk by Hypothesis, confirmed by running it again alone) beside the oracle's expected
timeline. INCONCLUSIVE: the probe could not observe cleanly (its own event-loop lag over the
tolerance, a refusal unrelated to the rule, a failure that did not reproduce); the reason is
given. ERROR: a check raised (a bug of the probe, not a finding about the target; the
traceback is in the table and the JSON report). With no TARGET it probes sipfsm's own
reference UA (which must pass everything). Exit codes: 0 no check failed (INCONCLUSIVE and
SKIP included), 1 a check failed, 2 usage errors and unreachable targets, 3 a check ended in
ERROR (before 1: the probe's verdicts cannot be trusted), 130 interrupted (after writing the
partial report).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from sipfsm.cli.outputs import output_file, output_folder, writing
from sipfsm.probe.checks import CHECKS, Users
from sipfsm.probe.checks.registry import by_id
from sipfsm.probe.oracle import Tolerance
from sipfsm.probe.progress import expected_seconds
from sipfsm.probe.reference import FLAWS
from sipfsm.probe.runner import ProbeConfig, Report
from sipfsm.probe.runner import run as run_probe

__all__ = ["exit_code", "register", "run"]

EPILOG = """\
targets: udp:HOST:PORT, tcp:HOST:PORT, udp+tcp:HOST:PORT, or a SIP URI such as
sip:bob@127.0.0.1:5090;transport=tcp. Only loopback unless --allow-remote.

examples:
  sipfsm probe --t1 0.05                       # the embedded reference UA (must pass)
  sipfsm probe --virtual-clock                 # the same on the virtual clock, T1 = 0.5 s
  sipfsm probe udp+tcp:127.0.0.1:5070 --json out/kamailio.json --report-dir out/kamailio
  sipfsm probe sip:bob@127.0.0.1:5090 --checks uas-2xx-retransmit,cancel
  sipfsm probe udp:127.0.0.1:5081 --role server \\
      --trigger 'sipp -sn uac {host}:{port} -i 127.0.0.1 -p {free_port} -m 1 -nostdin -timeout 40s'

checks:
""" + "\n".join(
    textwrap.fill(
        f"  {c.id:<38} {c.section:<10} {c.role:<6} {c.title}",
        100,
        subsequent_indent=" " * 59,
        break_on_hyphens=False,
    )
    for c in CHECKS
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sipfsm probe``."""
    p = subparsers.add_parser(
        "probe",
        help="property-test a live SIP implementation (UDP/TCP) against RFC 3261",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "target",
        nargs="?",
        metavar="TARGET",
        help="what to probe (default: sipfsm's embedded reference UA)",
    )
    p.add_argument(
        "--role",
        choices=("client", "server"),
        default="client",
        help="client: sipfsm sends requests and judges the target's server side; "
        "server: the target sends, sipfsm answers and judges its client side",
    )
    p.add_argument("--checks", metavar="ID,...", help="only these checks (see below)")
    p.add_argument(
        "--max-examples",
        type=int,
        default=5,
        metavar="N",
        help="Hypothesis examples per check (default 5)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=300.0,
        metavar="S",
        help="bound on the whole run, shrinking included (default 300)",
    )
    p.add_argument(
        "--t1",
        type=float,
        metavar="S",
        help="T1 of the target and the oracle (default 0.5; T2=8*T1, T4=10*T1)",
    )
    p.add_argument("--t2", type=float, metavar="S", help="T2 (default 8*T1)")
    p.add_argument("--t4", type=float, metavar="S", help="T4 (default 10*T1)")
    p.add_argument(
        "--json",
        metavar="REPORT",
        type=Path,
        help="write the JSON report here (with every exchange's raw messages, bounded)",
    )
    p.add_argument(
        "--junit",
        metavar="FILE",
        type=Path,
        help="write the verdicts as JUnit XML here, for CI systems (one testcase per check)",
    )
    p.add_argument(
        "--report-dir",
        metavar="DIR",
        type=Path,
        help="write ladder diagrams (SVG, Graphviz) of failures here (default: beside --json)",
    )
    p.add_argument(
        "--allow-remote", action="store_true", help="allow a target that is not loopback"
    )
    p.add_argument(
        "--trigger",
        metavar="COMMAND",
        help="role server: command run once per exchange to make the target send "
        "({host} {port} {transport} {uri} {free_port} are replaced)",
    )
    p.add_argument(
        "--sequential",
        action="store_true",
        help="run one check at a time (a trigger that cannot run twice at once)",
    )
    p.add_argument("--rate", type=float, default=200.0, help="messages/s at most (default 200)")
    p.add_argument(
        "--max-in-flight",
        type=int,
        metavar="N",
        help="exchanges with the target at once (default 4 for a UAS TARGET, whose calls "
        "may be capped: PJSIP's pjsua takes 4; 64 otherwise)",
    )
    p.add_argument("--max-messages", type=int, default=20_000, help="messages sent at most")
    p.add_argument(
        "--max-shrinks",
        type=int,
        default=8,
        help="live exchanges spent shrinking a failure (default 8)",
    )
    p.add_argument("--seed", type=int, help="Hypothesis seed (default: random)")
    p.add_argument(
        "--tolerance",
        type=float,
        default=0.05,
        metavar="S",
        help="absolute timing tolerance (default 0.05)",
    )
    p.add_argument(
        "--tolerance-ratio",
        type=float,
        default=0.10,
        metavar="R",
        help="relative timing tolerance, of the interval (default 0.10)",
    )
    p.add_argument("--user-answer", metavar="USER", help="a user the target answers 2xx for")
    p.add_argument(
        "--user-reject",
        metavar="USER",
        help="a user the target rejects (non-2xx final; default sipfsm-nobody)",
    )
    p.add_argument("--user-ring", metavar="USER", help="a user that rings without answering")
    p.add_argument(
        "--flaw",
        action="append",
        choices=FLAWS,
        default=[],
        metavar="FLAW",
        help="(testing) break the embedded reference UA on purpose, once per FLAW: "
        + ", ".join(FLAWS),
    )
    p.add_argument(
        "--virtual-clock",
        action="store_true",
        help="no TARGET: probe the embedded reference UA in this process on a virtual clock "
        "and an in-memory network (every timer at its deadline however busy the machine; "
        "64*T1 windows cost no waiting)",
    )
    p.add_argument("--all-ladders", action="store_true", help="draw every check, not only failures")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress line with an ETA on stderr (default: only when stderr is a terminal)",
    )
    p.set_defaults(func=run)


def _config(args: argparse.Namespace) -> ProbeConfig:
    users: Users | None = None
    if args.user_answer or args.user_reject or args.user_ring:
        users = Users(
            args.user_answer or "bob", (args.user_reject or "sipfsm-nobody",), args.user_ring
        )
    checks = [c.strip() for c in args.checks.split(",") if c.strip()] if args.checks else None
    for name in ("max_examples", "max_in_flight", "max_messages"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise SystemExit(f"sipfsm probe: --{name.replace('_', '-')} must be >= 1")
    for name in ("duration", "rate"):
        if getattr(args, name) <= 0:
            raise SystemExit(f"sipfsm probe: --{name} must be > 0")
    if args.t1 is not None and not 0.001 <= args.t1 <= 10:
        raise SystemExit("sipfsm probe: --t1 must be between 0.001 and 10 s")
    return ProbeConfig(
        target=args.target,
        role=args.role,
        checks=checks,
        max_examples=args.max_examples,
        duration=args.duration,
        t1=args.t1,
        t2=args.t2,
        t4=args.t4,
        allow_remote=args.allow_remote,
        trigger=args.trigger,
        rate=args.rate,
        max_in_flight=args.max_in_flight,
        max_messages=args.max_messages,
        users=users,
        flaws=frozenset(args.flaw),
        seed=args.seed,
        max_shrinks=args.max_shrinks,
        tolerance=Tolerance(args.tolerance, args.tolerance_ratio),
        run_dir=args.report_dir,
        sequential=args.sequential,
        virtual_clock=args.virtual_clock,
        progress=args.progress,
    )


def expected_line(cfg: ProbeConfig) -> str | None:
    """What a real-time run will cost, said before it starts: the checks that wait out a
    64*T1 window (Timers B, F, H, J; 13.3.1.4) take that long per example (None: a short run)."""
    if cfg.virtual_clock:
        return None
    try:
        checks = by_id(cfg.checks, cfg.role)
    except ValueError:
        return None  # the runner reports the unknown check
    window = 64 * cfg.base().t1
    if not any(c.long for c in checks) or window < 5:
        return None
    in_flight = 1 if cfg.sequential else cfg.in_flight()
    expected = expected_seconds(checks, cfg.max_examples, cfg.base().t1, cfg.duration, in_flight)
    faster = "" if cfg.target else "; --virtual-clock gives the same checks in seconds"
    long = sum(c.long for c in checks)
    limit = f", {in_flight} at a time" if in_flight < long else ""
    return (
        f"sipfsm probe: expect up to about {expected:.0f} s: checks that wait out "
        f"64*T1 = {window:g} s, {cfg.max_examples} examples each, run side by side{limit} "
        f"(--duration {cfg.duration:g} s at most){faster}"
    )


def _check_outputs(args: argparse.Namespace) -> Path | None:
    """Check ``--json``, ``--junit`` and the ladders' folder before the probe runs; return
    that folder."""
    if args.json:
        output_file(args.json, "--json")
    if args.junit:
        output_file(args.junit, "--junit")
    if args.report_dir:
        return output_folder(args.report_dir, "--report-dir")
    if args.json:
        return output_folder(args.json.parent / (args.json.stem + "-ladders"), "--json")
    return None


def run(args: argparse.Namespace) -> int:
    """Run the probe; print the table; write JSON and ladders; return the exit code."""
    from sipfsm.probe.junit import write_junit
    from sipfsm.probe.report import table, write_json, write_ladders

    try:
        cfg = _config(args)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    directory = _check_outputs(args)
    expected = expected_line(cfg)
    if expected:
        print(expected, file=sys.stderr, flush=True)
    try:
        report: Report = run_probe(cfg)
    except KeyboardInterrupt:  # a second Ctrl-C, or one before the handler was installed
        print("sipfsm probe: interrupted", file=sys.stderr)
        return 130
    try:
        if directory is not None:
            with writing(directory, "--report-dir"):
                write_ladders(report, directory, all_checks=args.all_ladders)
        if args.json:
            with writing(args.json, "--json"):
                write_json(report, args.json)
        if args.junit:
            with writing(args.junit, "--junit"):
                write_junit(report, args.junit)
    finally:  # the verdicts are shown even when a report could not be written
        print(table(report))
    if args.json:
        print(f"\nJSON report: {args.json}")
    if args.junit:
        print(f"JUnit report: {args.junit}")
    if report.interrupted:
        print("sipfsm probe: interrupted; the report is partial", file=sys.stderr)
        return 130
    return exit_code(report)


def exit_code(report: Report) -> int:
    """3 when a check ended in error (the probe's own bug), else 1 when one failed, else 0."""
    if report.errored:
        return 3
    return 1 if report.failed else 0
