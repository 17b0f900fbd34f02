"""``sipfsm simulate``: play a scenario of ``sipfsm/sim/scenarios/`` on the simulated network.

Example: ``sipfsm simulate trapezoid`` plays RFC 3261 Figure 1 (Alice calls Bob through the
atlanta.com and biloxi.com proxies) and prints its ladder; ``--json`` prints every message
instead; ``--ladder FILE.txt`` (or ``FILE.svg``) also writes the ladder to a file;
``--loss P --seed N`` loses datagrams on every link (retransmissions recover the flow).
Exit codes: 0 the scenario ran, 2 bad input (unknown scenario, a file that cannot be written).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

from sipfsm.cli.outputs import output_file, writing
from sipfsm.errors import SipfsmError
from sipfsm.sim.scenario import play, scenario_names
from sipfsm.sim.scenario_ladder import json_log, text_ladder
from sipfsm.sim.scenario_svg import svg_ladder


def register(subparsers: Any) -> None:
    """Add the ``simulate`` subcommand."""
    parser = subparsers.add_parser(
        "simulate",
        help="play a scenario (hosts, links, steps) on the simulated network",
        description=textwrap.fill(
            "Play SCENARIO (a file of sipfsm/sim/scenarios, or a .toml path) on the simulated "
            "network on a virtual clock: every message real bytes, strictly parsed on every "
            f"hop. Scenarios: {', '.join(scenario_names())}.",
            79,
        ),
    )
    parser.add_argument("scenario", metavar="SCENARIO", help="e.g. trapezoid")
    parser.add_argument("--json", action="store_true", help="print every message as JSON")
    parser.add_argument(
        "--ladder",
        type=Path,
        metavar="FILE",
        help="also write the ladder to FILE: text (.txt) or SVG (.svg, every message linked)",
    )
    parser.add_argument(
        "--loss",
        type=_probability,
        metavar="P",
        help="lose each datagram on every link with probability P",
    )
    parser.add_argument(
        "--duplicate",
        type=_probability,
        metavar="P",
        help="send each datagram twice on every link with probability P",
    )
    parser.add_argument(
        "--jitter",
        type=float,
        metavar="S",
        help="delay each datagram up to S seconds more (reordering)",
    )
    parser.add_argument(
        "--seed", type=int, metavar="N", help="seed of the losses (default: the scenario's)"
    )
    parser.set_defaults(func=run)


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError("a probability in [0, 1)")
    return value


def run(args: argparse.Namespace) -> int:
    """Play the scenario; print its ladder (or JSON); write the ladder file if asked."""
    ladder: Path | None = args.ladder
    if ladder is not None:
        if ladder.suffix not in (".txt", ".svg"):
            raise SipfsmError(f"--ladder {str(ladder)!r}: a .txt or .svg file")
        output_file(ladder, "--ladder")
    played = play(
        args.scenario,
        loss=args.loss,
        seed=args.seed,
        duplicate=args.duplicate,
        jitter=args.jitter,
    )
    text = text_ladder(played)
    if ladder is not None:
        drawn = svg_ladder(played) if ladder.suffix == ".svg" else text
        with writing(ladder, "--ladder"):
            ladder.write_text(drawn, encoding="utf-8")
    sys.stdout.write(json_log(played) if args.json else text)
    return 0
