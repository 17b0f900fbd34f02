"""``sipfsm parse FILE... [--strict | --lenient] [--validate] [--json]``: parse SIP messages.

Each FILE (``-``: standard input) holds one message as received in a datagram (RFC 3261
section 18.3: octets after Content-Length octets of body are discarded). One line per file:
``FILE: ok START-LINE`` or ``FILE: error LINE:COLUMN CODE: REASON (rule RULE)``, and
``FILE: error cannot read: REASON`` for a file that cannot be read (the others are still
parsed); with ``--json``, one JSON object per line instead. ``--lenient`` reads header lines
that end in LF alone (a hand-typed file) as ending in CRLF. ``--validate`` adds the findings of
:func:`sipfsm.validate` for ``--role`` (8.2, 16.3, 10.3), one indented line each. Exit 0 when
every file parses (and, with ``--validate``, none is to be rejected or dropped), 1 when one
does not, 2 on usage errors and files that cannot be read.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, get_args

from sipfsm.errors import ParseError, SipfsmError
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.message.validate import Finding, Role, validate

#: The FILE that names standard input.
STDIN = "-"


def register(subparsers: Any) -> None:
    """Add the ``parse`` subcommand."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "parse",
        help="parse SIP messages (one per file) and report each, or its defect",
        description="Parse SIP messages, one per FILE (- for standard input), and report each "
        "message's start line, or its defect with line:column and a stable code.",
    )
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="a file with one message; - reads standard input"
    )
    p.add_argument(
        "--strict", action="store_true", help="check every header value against its ABNF rule"
    )
    p.add_argument(
        "--lenient",
        action="store_true",
        help="read header lines ending in LF alone as ending in CRLF (hand-typed files; "
        "never with --strict)",
    )
    p.add_argument(
        "--validate",
        action="store_true",
        help="also print what an element in --role must reject, drop or note (sipfsm.validate)",
    )
    p.add_argument(
        "--role",
        choices=get_args(Role),
        default="uas",
        help="the element that validates (default uas)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Parse every file; print one line each; return the exit code."""
    if args.lenient and args.strict:
        raise SipfsmError("--lenient is never applied with --strict (RFC 3261 section 7: CRLF)")
    codes = [_one(name, args) for name in args.files]
    sys.stdout.flush()
    return max(codes, default=0)


def _read(name: str) -> bytes:
    if name == STDIN:
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _one(name: str, args: argparse.Namespace) -> int:
    """Parse (and validate) one file, print its result; its exit code (0, 1 or 2)."""
    try:
        data = _read(name)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        _emit(
            args,
            {"file": name, "ok": False, "code": "unreadable", "reason": reason},
            f"{name}: error cannot read: {reason}",
        )
        return 2
    try:
        msg = parse(data, strict=args.strict, lenient_line_endings=args.lenient)
    except ParseError as exc:
        _emit(
            args,
            {
                "file": name,
                "ok": False,
                "line": exc.line,
                "column": exc.column,
                "code": exc.code,
                "rule": exc.rule,
                "reason": exc.reason,
            },
            f"{name}: error {exc.line}:{exc.column} {exc.code}: {exc.reason} (rule {exc.rule})",
        )
        return 1
    return _parsed(name, msg, args)


def _parsed(name: str, msg: Request | Response, args: argparse.Namespace) -> int:
    findings = validate(msg, args.role) if args.validate else []
    out: dict[str, Any] = {"file": name, "ok": True, "start_line": msg.start_line}
    if args.validate:
        out["findings"] = [dataclasses.asdict(f) for f in findings]
    lines = [f"{name}: ok {msg.start_line}", *(f"  {_finding_text(f)}" for f in findings)]
    _emit(args, out, "\n".join(lines))
    return 1 if any(f.action != "note" for f in findings) else 0


def _finding_text(f: Finding) -> str:
    """``reject 416 unsupported-uri-scheme (8.2.2.1): REASON``."""
    action = f"{f.action} {f.response}" if f.response is not None else f.action
    return f"{action} {f.code} ({f.section}): {f.reason}"


def _emit(args: argparse.Namespace, out: dict[str, Any], text: str) -> None:
    print(json.dumps(out, ensure_ascii=False) if args.json else text)
