"""``sipfsm demo``: the README's first command, a short guided tour of sipfsm.

The demo is a list of steps (:data:`STEPS`); each prints a few friendly lines and may write
files under ``--out`` (default ``out/demo`` under the current folder, which git ignores in a
checkout), and only there: the pictures go to ``OUT/diagrams`` (never the committed
``diagrams/``), the teaching site to ``OUT/site``. It reads nothing outside the package: the
RFC 4475 messages it parses and the grammar the site shows ship in ``sipfsm/data`` (the
messages may come from ``--corpus``). Later issues add steps by appending to the list.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sipfsm.cli.diagram import ALL_PROFILES
from sipfsm.cli.models import add_models_dir, list_models, load, models_directory
from sipfsm.cli.outputs import output_file, output_folder
from sipfsm.cli.site import open_hint
from sipfsm.data import RFC4475_DIR
from sipfsm.errors import ParseError
from sipfsm.message.parse import parse
from sipfsm.model.loader import Machine
from sipfsm.render import diagram as _diagram
from sipfsm.sim.trace import format_steps, run_trace
from sipfsm.sim.wire import Wire
from sipfsm.site import build_site
from sipfsm.ua.core import UA


@dataclass
class DemoContext:
    """What the steps share: the output folder, the models, and the files written."""

    out: Path
    models: dict[str, Machine]
    directory: Path | None = None
    #: The RFC 4475 messages to parse (the copy shipped in ``sipfsm/data``, or ``--corpus``).
    corpus: Path = RFC4475_DIR
    written: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    """One step of the demo: a title and a function printing its lines."""

    title: str
    run: Callable[[DemoContext], list[str]]


def _models_step(ctx: DemoContext) -> list[str]:
    lines = [
        "RFC 3261's transaction state machines are data here (models/*.toml), not code:",
        "every (state, event) pair is decided as a transition, an explicit ignore, or an",
        "explicit error, so the loader proves each table total.",
        "",
    ]
    lines += ["  " + line for line in list_models(ctx.models)]
    lines += ["", "Read one table with:  sipfsm models --table invite_client"]
    return lines


def _diagrams_step(ctx: DemoContext) -> list[str]:
    pictures = ctx.out / "diagrams"
    for machine in ctx.models.values():
        for profile in ALL_PROFILES:
            ctx.written += _diagram.write(
                machine, profile, ("dot", "svg"), pictures, directory=ctx.directory
            )
            ctx.written += _diagram.write(
                machine, profile, ("png",), ctx.out / "png", directory=ctx.directory
            )
    pngs = sorted(p for p in ctx.written if p.suffix == ".png")
    svgs = sorted(p for p in ctx.written if p.suffix == ".svg")
    lines = [
        "Every machine drawn from its data alone, like RFC 3261 Figures 5-8: each arrow says",
        "the event over the action in the RFC's wording, a small orange line lists the timers",
        "started and stopped, and the legend gives Table 4's values. MODEL.rfc6026.* marks",
        "what RFC 6026 changed (blue: added, dashed grey: replaced); MODEL.rfc3261.* is the",
        "RFC as published. Open the SVGs in a browser: every state and arrow links to its",
        "section of the RFC.",
        "",
        f"  {len(svgs)} SVG and DOT pairs in {pictures}/ and {len(pngs)} PNGs in "
        f"{ctx.out / 'png'}/, for example:",
    ]
    lines += [f"    {p}" for p in svgs[:2] + pngs[:2]]
    return lines


def _parse_step(ctx: DemoContext) -> list[str]:
    corpus = ctx.corpus
    files = sorted(corpus.glob("*.dat"))
    if not files:
        return [f"(no RFC 4475 messages in {corpus}; try: sipfsm parse FILE)"]
    ok, bad = [], []
    for path in files:
        try:
            parse(path.read_bytes(), strict=True)
            ok.append(path.name)
        except ParseError as exc:
            bad.append(f"{path.name:<15} {exc.line}:{exc.column} {exc.code}")
    lines = [
        "The parser is compiled from RFC 3261's ABNF (grammar/*.abnf). Over RFC 4475's",
        f"torture messages ({corpus}): {len(ok)} parse, {len(bad)} are rejected,",
        "each with line:column and a stable defect code, for example:",
        "",
    ]
    lines += ["  " + line for line in bad[:6]]
    lines += ["", "Try:  sipfsm parse --strict --json FILE..."]
    return lines


#: The traces the demo shows: (title, model, events, transport, method).
_TRACES: list[tuple[str, str, list[str], str, str]] = [
    (
        "An INVITE over UDP: Timer A retransmits until a 180, then 486 is ACKed (Figure 5)",
        "invite_client",
        ["+1.6", "recv=180", "+2", "recv=486", "recv=486", "+40"],
        "udp",
        "INVITE",
    ),
    (
        "A REGISTER server over TCP: Timer J is 0 s on a reliable transport (Table 4)",
        "non_invite_server",
        ["tu=200"],
        "tcp",
        "REGISTER",
    ),
]


def _traces_step(ctx: DemoContext) -> list[str]:
    lines: list[str] = []
    for title, model, events, transport, method in _TRACES:
        command = (
            f"sipfsm trace {model} --transport {transport} --method {method} {' '.join(events)}"
        )
        lines += [title, f"  $ {command}"]
        steps = run_trace(model, events, transport=transport, method=method)
        lines += ["  " + line for line in format_steps(steps)]
        lines.append("")
    return lines


def _call_step(ctx: DemoContext) -> list[str]:
    alice = UA("alice", "atlanta.example.com", random=lambda: 0.5)
    bob = UA("bob", "biloxi.example.com", random=lambda: 0.25)
    wire = Wire(alice, bob)
    session = alice.invite("sip:bob@biloxi.example.com", 0.0)
    wire.flush(0.0)
    answer = bob.sessions[-1]
    answer.answer(180, 0.1)
    wire.flush(0.1)
    answer.answer(200, 1.2)
    wire.run_until(5.0, 1.2)
    session.bye(5.0)
    wire.run_until(40.0, 5.0)
    lines = [
        "RFC 3261 Figure 1 between a sipfsm UAC and UAS (session, dialog and transaction",
        "models) on the virtual clock; every datagram checked by sipfsm.parse(strict=True):",
        "",
    ]
    for t, sender, data, _delivered in wire.log:
        first = data.split(b"\r\n", 1)[0].decode("utf-8", "replace")
        arrow = "alice ---> bob  " if sender == "alice" else "alice <--- bob  "
        lines.append(f"  {t:6.3f}  {arrow}{first}")
    lines += ["", f"  final states: alice {session.state}, bob {answer.state}"]
    return lines


#: The teaching site, under ``--out``.
_SITE = "site"


def _site_step(ctx: DemoContext) -> list[str]:
    site = build_site(ctx.out / _SITE, "en", directory=ctx.directory, models=ctx.models)
    ctx.written += site.files
    pages = sum(1 for p in site.files if p.suffix == ".html")
    lines = [
        "The teaching site, generated from the same data: every diagram clickable (each state",
        "and transition shows its RFC 3261 text, timers and explanation), events fired in the",
        "browser, Table 4 with a T1/T2/T4 calculator, the ABNF browser, the trapezoid as an",
        "animated ladder, a glossary; in English and Chinese (sipfsm site OUT --lang zh).",
        "",
        f"  {pages} pages under {site.out}/.",
    ]
    return lines + ["  " + line for line in open_hint(site)]


#: The probe step's JSON report, under ``--out`` (its ladders beside it, ``probe-ladders/``).
_PROBE_REPORT = "probe.json"


def _probe_step(ctx: DemoContext) -> list[str]:
    from sipfsm.cli import main as cli  # the probe's own command line, exactly as a user runs it

    report = ctx.out / _PROBE_REPORT
    print("sipfsm probe tests live SIP implementations against RFC 3261's rules. With no")
    print("target it probes sipfsm's own reference UA: a correct implementation must pass")
    print("every check. Here both run on the virtual clock, over an in-memory network, with")
    print("the RFC's T1 = 500 ms: every timer fires at its deadline however busy the machine,")
    print("and the 32 s windows of Timers B, F, H and J pass in an instant.")
    argv = ["probe", "--virtual-clock", "--max-examples", "2", "--json", str(report)]
    print(f"  $ sipfsm {' '.join(argv)}\n", flush=True)
    code = cli.main(argv)
    ctx.written.append(report)
    return [
        "",
        f"  exit code {code}; over loopback in real time: sipfsm probe --t1 0.05; point it at",
        "  your own stack with: sipfsm probe udp:127.0.0.1:5060",
    ]


#: The demo, in order. Later issues append steps here.
STEPS: list[Step] = [
    Step("The state machines", _models_step),
    Step("The pictures", _diagrams_step),
    Step("The parser against RFC 4475", _parse_step),
    Step("Transactions at work", _traces_step),
    Step("A whole call", _call_step),
    Step("The teaching site", _site_step),
    Step("Probing a live SIP stack", _probe_step),
]


def _check_outputs(out: Path) -> Path:
    """Check, before the first step, every place the steps write (``--out`` and its parts)."""
    for folder in (out, out / "diagrams", out / "png", out / _SITE):
        output_folder(folder, "--out")
    output_file(out / _PROBE_REPORT, "--out")
    return out


def run(args: argparse.Namespace) -> int:
    """Run every demo step and say where the files are."""
    ctx = DemoContext(
        out=_check_outputs(Path(args.out)),
        models=load(args),
        directory=models_directory(args),
        corpus=Path(args.corpus) if args.corpus else RFC4475_DIR,
    )
    print(
        textwrap.dedent("""\
        sipfsm: RFC 3261 SIP as data. The grammar is the RFC's ABNF, the state machines are
        tables, and everything else (pictures, engines, tests) is generated from them.
    """)
    )
    for number, step in enumerate(STEPS, 1):
        print(f"== {number}. {step.title}")
        print("\n".join(step.run(ctx)).rstrip())
        print()
    print(f"Done. Everything the demo wrote is under {ctx.out}/.")
    return 0


def _description() -> str:
    """What ``sipfsm demo --help`` says: the steps of :data:`STEPS`, so it cannot go stale."""
    steps = "; ".join(f"{n}. {step.title}" for n, step in enumerate(STEPS, 1))
    return (
        f"A short guided tour of sipfsm in {len(STEPS)} steps: {steps}. It writes only under "
        "--out: the diagrams (DOT, SVG, PNG), the teaching site and the probe's JSON report."
    )


def register(subparsers: Any) -> None:
    """Add ``sipfsm demo``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="a short guided tour: models, pictures, parser, traces, a call, the site, the probe",
        description=_description(),
    )
    parser.add_argument(
        "--out",
        default="out/demo",
        metavar="DIR",
        help="folder for the files the demo writes (default out/demo)",
    )
    parser.add_argument(
        "--corpus",
        metavar="DIR",
        help="folder of RFC 4475 *.dat messages to parse (default: the copy shipped with sipfsm)",
    )
    add_models_dir(parser)
    parser.set_defaults(func=run)
