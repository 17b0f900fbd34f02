"""The ``sipfsm`` command line: one subcommand per job, each in its own private module.

Every subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``func`` (``args -> exit code``) as the parser default. Exit codes: 0 success, 1 a check or
parse failed, 2 usage errors and bad input (never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sipfsm import __version__
from sipfsm.errors import SipfsmError

#: Subcommand modules, in the order ``sipfsm --help`` lists them.
SUBCOMMANDS: tuple[str, ...] = (
    "sipfsm.cli.models",
    "sipfsm.cli.diagram",
    "sipfsm.cli.parse",
    "sipfsm.cli.trace",
    "sipfsm.cli.simulate",
    "sipfsm.cli.site",
    "sipfsm.cli.demo",
    "sipfsm.cli.probe",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="sipfsm",
        description="RFC 3261 SIP state machines as data: parse, model, draw, trace and probe.",
    )
    parser.add_argument("--version", action="version", version=f"sipfsm {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args.func(args)
    except SipfsmError as exc:
        print(f"sipfsm {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sipfsm {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``sipfsm models | head``): not an error of ours.
        sys.stderr.close()
        return 0
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
