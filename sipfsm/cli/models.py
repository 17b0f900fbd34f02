"""``sipfsm models``: list the state machines of ``models/``, or print one's totality table.

Every (state, event) pair of a model is decided (``models/SCHEMA.md``): ``--table`` prints
each pair with its decision (``-> dest``, ``ignore`` or ``error``), guard, actions and the
RFC section, so the table can be read against RFC 3261 section 17 line by line.

The helpers here (``--models-dir``, ``SIPFSM_MODELS``, model selection) are shared by the
other subcommands that read models.
"""

from __future__ import annotations

import argparse
import json
import os
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sipfsm.errors import SipfsmError
from sipfsm.model.loader import DEFAULT_PROFILE, PROFILES, Machine, load_models
from sipfsm.render.sections import section_title

#: Environment variable naming another folder of models (with its vocabulary and timers).
MODELS_ENV = "SIPFSM_MODELS"


def add_models_dir(parser: argparse.ArgumentParser) -> None:
    """Add the hidden ``--models-dir`` option (default: ``$SIPFSM_MODELS``, else ``models/``)."""
    parser.add_argument("--models-dir", type=Path, default=None, help=argparse.SUPPRESS)


def model_command(
    subparsers: Any,
    name: str,
    run: Callable[[argparse.Namespace], int],
    *,
    summary: str,
    description: str,
) -> argparse.ArgumentParser:
    """The parser of a subcommand that reads ``models/``: ``summary`` in ``sipfsm --help``,
    ``description`` in its own; the hidden ``--models-dir``; ``run`` as what it does."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=summary, description=description
    )
    add_models_dir(parser)
    parser.set_defaults(func=run)
    return parser


def models_directory(args: argparse.Namespace) -> Path | None:
    """The models folder asked for, or None for the project's ``models/``."""
    chosen: Path | None = getattr(args, "models_dir", None)
    if chosen is None and os.environ.get(MODELS_ENV):
        chosen = Path(os.environ[MODELS_ENV])
    if chosen is not None and not chosen.is_dir():
        raise SipfsmError(f"models folder {str(chosen)!r} does not exist")
    return chosen


def load(args: argparse.Namespace) -> dict[str, Machine]:
    """Every model of the chosen folder; a bad file raises ModelError (file, key, reason)."""
    models = load_models(models_directory(args))
    if not models:
        raise SipfsmError("no model files found (models/*.toml)")
    return models


def select(models: dict[str, Machine], names: Sequence[str]) -> list[Machine]:
    """The models named (all when none are); an unknown name lists the known ones."""
    if not names:
        return list(models.values())
    unknown = [n for n in names if n not in models]
    if unknown:
        raise SipfsmError(f"unknown model {unknown[0]!r}; known models: {', '.join(models)}")
    return [models[n] for n in dict.fromkeys(names)]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows aligned in columns under ``header`` (the last column is not padded)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]

    def line(row: Sequence[str]) -> str:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)] + [row[-1]]
        return "  ".join(cells).rstrip()

    rule = ["-" * len(h) for h in header]
    return [line(header), line(rule), *(line(r) for r in rows)]


def _states_text(machine: Machine) -> str:
    parts = []
    for state in machine.states:
        text = state.name
        notes = []
        if state.terminal:
            notes.append("terminal")
        if state.profiles != frozenset(PROFILES):
            notes.append(" ".join(p for p in PROFILES if p in state.profiles) + " only")
        if notes:
            text += f" ({', '.join(notes)})"
        parts.append(text)
    return ", ".join(parts)


#: Width every line of the model list fits in (``--long`` wraps to it as well).
WIDTH = 100


def list_models(models: dict[str, Machine]) -> list[str]:
    """The model list, one line each within :data:`WIDTH`: name, title, RFC section and the
    number of states (the states themselves and the figure: :func:`long_list`)."""
    rows = [
        [m.name, m.title, section_title(m.section), str(len(m.states))] for m in models.values()
    ]
    lines = format_table(["MODEL", "TITLE", "SECTION", "STATES"], rows)
    return [_cut(line) for line in lines]


def _cut(line: str) -> str:
    return line if len(line) <= WIDTH else line[: WIDTH - 3] + "..."


def long_list(models: dict[str, Machine]) -> list[str]:
    """Each model in a paragraph wrapped to :data:`WIDTH`: title, section, file, figure,
    states (terminal ones and those of one profile marked) and events."""
    lines: list[str] = []
    for m in models.values():
        lines += textwrap.wrap(f"{m.name}: {m.title}", WIDTH, subsequent_indent="  ")
        for label, text in (
            ("section", f"{section_title(m.section)} (file {m.file})"),
            ("figure", m.figure or "-"),
            ("states", _states_text(m)),
            ("events", ", ".join(m.events)),
        ):
            lines += textwrap.wrap(
                text, WIDTH, initial_indent=f"  {label + ':':<9}", subsequent_indent=" " * 11
            )
        lines.append("")
    return lines[:-1]


def json_list(models: dict[str, Machine]) -> str:
    """The models as a JSON list (every detail of :func:`long_list`, in fields)."""
    rows = [
        {
            "name": m.name,
            "title": m.title,
            "kind": m.kind,
            "role": m.role,
            "section": m.section,
            "figure": m.figure,
            "file": m.file,
            "states": [
                {
                    "name": st.name,
                    "section": st.section,
                    "terminal": st.terminal,
                    "profiles": [p for p in PROFILES if p in st.profiles],
                }
                for st in m.states
            ],
            "events": list(m.events),
        }
        for m in models.values()
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False)


def totality_table(machine: Machine, profile: str) -> list[str]:
    """Every (state, event) pair of ``machine`` under ``profile`` with its decision."""
    rows: list[list[str]] = []
    for state in machine.state_names(profile):
        first = True
        for event in machine.events:
            for rule in machine.decide(state, event, profile):
                decision = f"-> {rule.dest}" if rule.kind == "transition" else rule.kind
                rows.append(
                    [
                        state if first else "",
                        event,
                        decision,
                        rule.guard or "",
                        ", ".join(str(a) for a in rule.actions),
                        rule.section,
                    ]
                )
                first = False
    head = [
        f"{machine.title} ({machine.file}), profile {profile}: "
        f"{len(machine.state_names(profile))} states x {len(machine.events)} events, "
        "every pair decided",
        "",
    ]
    return head + format_table(["STATE", "EVENT", "DECISION", "GUARD", "ACTIONS", "SECTION"], rows)


def run(args: argparse.Namespace) -> int:
    """List the models, or print the totality table of one."""
    models = load(args)
    if args.table:
        machine = select(models, [args.table])[0]
        lines = totality_table(machine, args.profile)
    elif args.json:
        lines = [json_list(models)]
    else:
        lines = long_list(models) if args.long else list_models(models)
    print("\n".join(lines))
    return 0


def register(subparsers: Any) -> None:
    """Add ``sipfsm models``."""
    parser = model_command(
        subparsers,
        "models",
        run,
        summary="list the state machines, or print one's totality table",
        description="List every state machine of models/ (title, RFC section, number of "
        "states; --long adds the figure, the states and the events), or with --table MODEL "
        "print every (state, event) pair with its decision: -> destination, ignore or error, "
        "guard, actions, section.",
    )
    parser.add_argument("--table", metavar="MODEL", help="print the totality table of MODEL")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument(
        "--long", action="store_true", help="each model with its figure, states and events"
    )
    shape.add_argument("--json", action="store_true", help="the model list as JSON")
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default=DEFAULT_PROFILE,
        help=f"profile of the table (default {DEFAULT_PROFILE})",
    )
