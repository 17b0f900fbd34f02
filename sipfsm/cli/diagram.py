"""``sipfsm diagram``: draw the state machines of ``models/`` (DOT, SVG, PNG).

Every picture is generated from the model data alone (``sipfsm/render/diagram.py``), in the
convention of RFC 3261 Figures 5-8. Without ``--profile`` both profiles are drawn:
``MODEL.rfc6026.svg`` (as amended, changes marked) and ``MODEL.rfc3261.svg`` (as published).
The committed ``diagrams/`` folder is regenerated with ``sipfsm diagram --format dot,svg``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sipfsm.cli.models import load, model_command, models_directory, select
from sipfsm.cli.outputs import output_folder, writing
from sipfsm.errors import SipfsmError
from sipfsm.model.loader import DEFAULT_PROFILE, PROFILES, Machine
from sipfsm.render import diagram as _diagram

#: Profiles drawn when none is asked for: the default (amended) first, then as published.
ALL_PROFILES: tuple[str, ...] = (DEFAULT_PROFILE, *(p for p in PROFILES if p != DEFAULT_PROFILE))


def parse_formats(text: str) -> list[str]:
    """``svg`` or a comma-separated list such as ``dot,svg,png``."""
    formats = [f.strip() for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in _diagram.FORMATS]
    if bad or not formats:
        raise SipfsmError(
            f"unknown format {text!r}; use one or more of "
            f"{', '.join(_diagram.FORMATS)}, separated by commas"
        )
    return list(dict.fromkeys(formats))


def highlight_states(
    models: list[Machine], profiles: list[str], wanted: str | None
) -> dict[tuple[str, str], str]:
    """The state ``--highlight`` names in each (model, profile) that has it, in any case; a
    name no drawing has is an error listing the states there are."""
    if wanted is None:
        return {}
    found: dict[tuple[str, str], str] = {}
    known: dict[str, None] = {}
    for machine in models:
        for profile in profiles:
            names = machine.state_names(profile)
            known.update(dict.fromkeys(names))
            match = [n for n in names if n.casefold() == wanted.casefold()]
            if match:
                found[(machine.name, profile)] = match[0]
    if not found:
        raise SipfsmError(
            f"--highlight {wanted!r}: no such state in {', '.join(m.name for m in models)} "
            f"(states: {', '.join(known)})"
        )
    return found


def run(args: argparse.Namespace) -> int:
    """Write the diagrams asked for and print their paths."""
    formats = parse_formats(args.format)
    models = select(load(args), args.models)
    profiles = [args.profile] if args.profile else list(ALL_PROFILES)
    directory = models_directory(args)
    highlights = highlight_states(models, profiles, args.highlight)
    out = output_folder(Path(args.out), "--out")
    for machine in models:
        for profile in profiles:
            highlight = highlights.get((machine.name, profile))
            with writing(out, "--out"):
                written = _diagram.write(
                    machine, profile, formats, out, highlight, directory=directory
                )
            for path in written:
                print(path)
    return 0


def register(subparsers: Any) -> None:
    """Add ``sipfsm diagram``."""
    parser = model_command(
        subparsers,
        "diagram",
        run,
        summary="draw the state machines (DOT, SVG, PNG)",
        description="Draw state machines from their model data, like RFC 3261 Figures 5-8: "
        "every transition labelled event / action in the RFC's wording, the timers "
        "started and stopped, the RFC section as tooltip and link. Files are named "
        "MODEL.PROFILE.FORMAT; without --profile both profiles are drawn.",
    )
    parser.add_argument(
        "models",
        nargs="*",
        metavar="MODEL",
        help="models to draw (default: all; see: sipfsm models)",
    )
    parser.add_argument(
        "--format",
        default="svg",
        metavar="FMT",
        help="dot, svg or png, or several separated by commas (default svg)",
    )
    parser.add_argument(
        "--out", default="diagrams", metavar="DIR", help="folder to write to (default diagrams/)"
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="rfc3261 (as published) or rfc6026 (as amended, changes marked); default: both",
    )
    parser.add_argument(
        "--highlight",
        metavar="STATE",
        help="emphasise one state and its outgoing transitions, in every model that has it "
        "(any case)",
    )
