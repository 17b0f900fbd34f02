"""``sipfsm parse FILE... [--strict | --lenient] [--json]``: parse SIP messages from files.

Each file holds one message as received in a datagram (RFC 3261 section 18.3: octets after
Content-Length octets of body are discarded). One line per file: ``FILE: ok START-LINE`` or
``FILE: error LINE:COLUMN CODE: REASON (rule RULE)``; with ``--json``, one JSON object per
line instead. ``--lenient`` reads header lines that end in LF alone (a hand-typed file) as
ending in CRLF. Exit 0 when every file parses, 1 when one does not, 2 on usage errors (a file
that cannot be read included).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sipfsm.errors import ParseError, SipfsmError
from sipfsm.message.parse import parse


def register(subparsers: Any) -> None:
    """Add the ``parse`` subcommand."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "parse",
        help="parse SIP messages (one per file) and report each, or its defect",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="a file with one message")
    p.add_argument(
        "--strict", action="store_true", help="check every header value against its ABNF rule"
    )
    p.add_argument(
        "--lenient",
        action="store_true",
        help="read header lines ending in LF alone as ending in CRLF (hand-typed files; "
        "never with --strict)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Parse every file; print one line each; return the exit code."""
    if args.lenient and args.strict:
        raise SipfsmError("--lenient is never applied with --strict (RFC 3261 section 7: CRLF)")
    datas: list[tuple[str, bytes]] = []
    for path in args.files:
        try:
            datas.append((str(path), path.read_bytes()))
        except OSError as exc:
            raise SipfsmError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    failed = False
    for name, data in datas:
        try:
            msg = parse(data, strict=args.strict, lenient_line_endings=args.lenient)
        except ParseError as exc:
            failed = True
            if args.json:
                out: dict[str, Any] = {
                    "file": name,
                    "ok": False,
                    "line": exc.line,
                    "column": exc.column,
                    "code": exc.code,
                    "rule": exc.rule,
                    "reason": exc.reason,
                }
                print(json.dumps(out, ensure_ascii=False))
            else:
                print(
                    f"{name}: error {exc.line}:{exc.column} {exc.code}: {exc.reason} "
                    f"(rule {exc.rule})"
                )
            continue
        start = msg.start_line
        if args.json:
            print(json.dumps({"file": name, "ok": True, "start_line": start}, ensure_ascii=False))
        else:
            print(f"{name}: ok {start}")
    sys.stdout.flush()
    return 1 if failed else 0
