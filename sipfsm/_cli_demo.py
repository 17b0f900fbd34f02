"""``sipfsm demo``: the README's first command, a short guided tour of sipfsm.

The demo is a list of steps (:data:`STEPS`); each prints a few friendly lines and may write
files under ``--out`` (default ``out/demo``, which git ignores). Later issues add steps by
appending to the list.
"""

from __future__ import annotations

import argparse
import importlib
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sipfsm import _diagram
from sipfsm._cli_diagram import ALL_PROFILES
from sipfsm._cli_models import add_models_dir, list_models, load, models_directory
from sipfsm._model import Machine


@dataclass
class DemoContext:
    """What the steps share: the output folder, the models, and the files written."""

    out: Path
    models: dict[str, Machine]
    directory: Path | None = None
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
    folder = ctx.out / "diagrams"
    for machine in ctx.models.values():
        for profile in ALL_PROFILES:
            ctx.written += _diagram.write(machine, profile, ("dot", "svg", "png"), folder,
                                          directory=ctx.directory)
    pngs = sorted(p for p in ctx.written if p.suffix == ".png")
    lines = [
        "Every machine drawn from its data alone, like RFC 3261 Figures 5-8: each arrow says",
        "the event over the action in the RFC's wording, a small orange line lists the timers",
        "started and stopped, and the legend gives Table 4's values. MODEL.rfc6026.* marks",
        "what RFC 6026 changed (blue: added, dashed grey: replaced); MODEL.rfc3261.* is the",
        "RFC as published. Open the SVGs in a browser: every state and arrow links to its",
        "section of the RFC.",
        "",
        f"  {len(ctx.written)} files in {folder}/ (.dot, .svg, .png), for example:",
    ]
    lines += [f"    {p}" for p in pngs[:4]]
    return lines


def _traces_step(ctx: DemoContext) -> list[str]:
    try:
        trace = importlib.import_module("sipfsm._trace")
    except ImportError:
        return ["(transaction traces arrive with the engine: sipfsm trace)"]
    # A step showing a couple of traces goes here once sipfsm._trace.run_trace exists.
    run_trace: Any = getattr(trace, "run_trace", None)
    if run_trace is None or not _TRACES:
        return ["Watch a transaction run, timer by timer:  sipfsm trace --help"]
    return [str(line) for line in _demo_traces(run_trace)]


def _demo_traces(run_trace: Any) -> list[str]:
    """A couple of traces through ``sipfsm._trace.run_trace`` (its output, as text)."""
    lines: list[str] = []
    for title, kwargs in _TRACES:
        lines.append(title)
        result = run_trace(**kwargs)
        text = result if isinstance(result, str) else str(result)
        lines += ["  " + t for t in text.splitlines()]
        lines.append("")
    return lines


#: The traces the demo shows (filled in once ``sipfsm._trace`` exists).
_TRACES: list[tuple[str, dict[str, Any]]] = []

#: The demo, in order. Later issues append steps here.
STEPS: list[Step] = [
    Step("The state machines", _models_step),
    Step("The pictures", _diagrams_step),
    Step("Transactions at work", _traces_step),
]


def run(args: argparse.Namespace) -> int:
    """Run every demo step and say where the files are."""
    ctx = DemoContext(out=Path(args.out), models=load(args), directory=models_directory(args))
    print(textwrap.dedent("""\
        sipfsm: RFC 3261 SIP as data. The grammar is the RFC's ABNF, the state machines are
        tables, and everything else (pictures, engines, tests) is generated from them.
    """))
    for number, step in enumerate(STEPS, 1):
        print(f"== {number}. {step.title}")
        print("\n".join(step.run(ctx)).rstrip())
        print()
    print(f"Done. Everything the demo wrote is under {ctx.out}/.")
    return 0


def register(subparsers: Any) -> None:
    """Add ``sipfsm demo``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="a short guided tour: the models, their pictures, and more",
        description="Show what sipfsm does: list the state machines, draw every one under "
                    "both profiles (DOT, SVG, PNG) and say where the files are.",
    )
    parser.add_argument("--out", default="out/demo", metavar="DIR",
                        help="folder for the files the demo writes (default out/demo)")
    add_models_dir(parser)
    parser.set_defaults(func=run)
