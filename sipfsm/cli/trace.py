"""``sipfsm trace``: run one transaction of a model through events on a virtual clock.

Example: ``sipfsm trace invite_client +0.5 recv=180 recv=486 +40`` prints, one line per step,
the time, what happened (``send INVITE``, ``fire A``, ``start B 32.0``, ``send ACK``,
``enter Completed`` ...) and the state. Exit codes: 0 the script ran, 1 the transaction refused
an event (an ``error`` pair of its model), 2 bad input (unknown model, bad event).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any

from sipfsm.cli.models import add_models_dir, load, models_directory, select
from sipfsm.model.loader import DEFAULT_PROFILE, PROFILES, Machine, load_timers
from sipfsm.model.timers import Timers
from sipfsm.sim.steps import step_fields
from sipfsm.sim.trace import Step, TraceRefused, format_steps, run_trace

_EPILOG = """events:
  +S               advance the virtual clock S seconds (timers fire as they fall due)
  recv=CODE        a response arrives (client transactions), CODE 100-699
  recv=request     the request is retransmitted (server transactions)
  recv=ACK         an ACK arrives (INVITE server transaction)
  tu=CODE          the TU sends a response (server transactions)
  transport-error  the transport layer reports a failure to send

session models (a UA: the session model over its transactions, a scripted peer):
  recv=CODE        the peer answers our newest request (invite_session_client)
  recv=ACK|BYE|INVITE|CANCEL   the peer sends that request
  tu=CODE          our TU answers the peer's INVITE (invite_session_server)
  tu=bye|cancel|invite         our TU hangs up, cancels, sends a re-INVITE

the dialog model on its own (the caller's dialog, 12):
  recv=CODE        a response to the INVITE (To tag but for 100), or to our request
  recv=METHOD[/N]  the peer sends METHOD within the dialog (CSeq N)
  send=METHOD      we send METHOD within the dialog (send=BYE ends it)
  timeout          our request within the dialog got no response (12.2.1.2)

examples: sipfsm trace invite_client +0.5 recv=180 recv=486 +40
          sipfsm trace invite_session_server tu=180 tu=200 +40
          sipfsm trace dialog recv=180 recv=200 send=INFO recv=481"""


def register(subparsers: Any) -> None:
    """Add the ``trace`` subcommand."""
    parser = subparsers.add_parser(
        "trace",
        help="run one transaction, session or dialog through events on a virtual clock",
        description=textwrap.fill(
            "Run one transaction of MODEL from t=0 (client: request sent; server: "
            "request received) through EVENTs, printing every step. A session model "
            "runs a UA against a scripted peer; the dialog model a caller's dialog.",
            79,
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [-h] [options] MODEL [EVENT ...]",
    )
    parser.add_argument("model", metavar="MODEL", help="a model of models/, e.g. invite_client")
    # REMAINDER, re-parsed in run(): argparse cannot mix options among positionals otherwise.
    events = parser.add_argument(
        "events", metavar="EVENT", nargs=argparse.REMAINDER, help="see below"
    )
    events.required = False  # no EVENT is a trace of the start alone
    _add_options(parser)
    parser.set_defaults(func=run)


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--transport",
        choices=("udp", "tcp"),
        default="udp",
        help="unreliable (udp, default) or reliable (tcp)",
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default=DEFAULT_PROFILE,
        help=f"rfc3261 as published, or as amended (default {DEFAULT_PROFILE})",
    )
    for name in ("t1", "t2", "t4"):
        parser.add_argument(
            f"--{name}",
            type=_seconds,
            metavar="S",
            help=f"{name.upper()} in seconds (default: models/timers.toml)",
        )
    parser.add_argument(
        "--method", help="the request's method in the output (default: the model's, else 'request')"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of steps: t, what (the line's prose), state, and its fields "
        "(kind, message, status, timer, seconds ...)",
    )
    add_models_dir(parser)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    """Run the trace; print it; return the exit code."""
    args = _reparse(args)
    timers = Timers(args.t1, args.t2, args.t4)
    directory = models_directory(args)
    # Another models folder (--models-dir, $SIPFSM_MODELS): its model, timers and vocabulary;
    # T1, T2 and T4 made explicit, so that every machine of a UA runs on the folder's values.
    model: str | Machine = args.model
    if directory is not None:
        model = select(load(args), [args.model])[0]
        base = timers.base(load_timers(directory))
        timers = Timers(base["T1"], base["T2"], base["T4"])
    try:
        steps = run_trace(
            model,
            args.events,
            transport=args.transport,
            profile=args.profile,
            timers=timers,
            method=args.method,
            directory=directory,
        )
    except TraceRefused as refused:
        _print(refused.steps, args)
        print(f"sipfsm trace: refused: {refused.error}", file=sys.stderr)
        return 1
    _print(steps, args)
    return 0


def _reparse(args: argparse.Namespace) -> argparse.Namespace:
    """Take options given among the events (``trace M +1 --transport tcp recv=200``)."""
    again = argparse.ArgumentParser(prog="sipfsm trace", add_help=False)
    _add_options(again)
    again.add_argument("events", nargs="*")
    given = {k: v for k, v in vars(args).items() if k != "events"}
    defaults = {a.dest: a.default for a in again._actions if a.dest != "events"}
    merged = again.parse_intermixed_args(args.events, argparse.Namespace(**given))
    for name, default in defaults.items():  # an option given before MODEL wins over a default
        if getattr(merged, name) == default and given.get(name) != default:
            setattr(merged, name, given[name])
    return merged


def _print(steps: list[Step], args: argparse.Namespace) -> None:
    if args.json:
        directory = models_directory(args)
        rows = [
            json.dumps({"t": s.t, "what": s.what, "state": s.state, **step_fields(s, directory)})
            for s in steps
        ]
        print("[\n " + ",\n ".join(rows) + "\n]" if rows else "[]")
        return
    base = timers_line(args)
    print(f"# {args.model} over {args.transport.upper()}, profile {args.profile}, {base}")
    for line in format_steps(steps):
        print(line)


def timers_line(args: argparse.Namespace) -> str:
    """``T1=0.5 T2=4.0 T4=5.0`` as configured (defaults: the chosen folder's timers.toml)."""
    directory = models_directory(args)
    base = Timers(args.t1, args.t2, args.t4).base(load_timers(directory) if directory else None)
    return " ".join(f"{k}={v}" for k, v in base.items())
