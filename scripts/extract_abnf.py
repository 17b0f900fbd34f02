"""Extract RFC 3261 section 25 (the ABNF) from the RFC text, verbatim, for the grammar judge.

Run through ``scripts/extract-abnf [RFC-TEXT] [OUT]`` (defaults: ``../shared/spec/rfc3261.txt``
and ``tests/judge/rfc3261-verbatim.abnf``; ``--check`` fails when OUT differs instead of
writing it). ``tests/test_judge_grammar.py`` runs :func:`extract` and fails on drift.

What is taken: every line of section 25 that is ABNF, exactly as printed. What is dropped: the
page footers and headers (``Rosenberg, et. al. ... [Page N]``, the form feed, ``RFC 3261 ...
June 2002``), the section headings and the prose (the paragraphs indented three spaces). A page
break inside a rule (``message-header``) is closed up; elsewhere it becomes one empty line. The
rules of 25.1 that the RFC indents six spaces are moved to the left margin (RFC 5234 section 2.2:
a rule starts there), continuation lines keeping their place relative to the rule.

Only the errata needed to load the text are applied, each marked ``; ERRATUM`` where applied:

1. ``digest-uri-value``: the comment that runs onto a second line without ``;`` (``by
   HTTP/1.1``) gets its ``;``;
2. the same rule's ``rquest-uri`` (no such rule) is ``Request-URI``, as RFC 3261 section 22.4
   item 3 writes it (``digest-uri-value = Request-URI ; as defined in Section 25``);
3. ``telephone-subscriber``, which section 25.1 leaves to RFC 2806: the rules of RFC 3966
   section 3 (which obsoletes RFC 2806), less those RFC 3261 defines with the same language
   (alphanum, reserved, unreserved, mark, uric, domainlabel, toplabel, pvalue, paramchar,
   param-unreserved); RFC 3966's ``pname`` differs from RFC 3261's and is ``tel-pname``.

RFC 5954's correction of IPv4address / IPv6address is not applied here: it is a patch of its
own (``tests/judge/rfc5954.patch``).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RFC_TEXT = ROOT.parent / "shared" / "spec" / "rfc3261.txt"
OUTPUT = ROOT / "tests" / "judge" / "rfc3261-verbatim.abnf"

_FOOTER = re.compile(r"^Rosenberg, et\. al\.\s+Standards Track\s+\[Page \d+\]$")
_HEADER = re.compile(r"^RFC 3261\s+SIP: Session Initiation Protocol\s+June 2002$")
_HEADING = re.compile(r"^\d+(\.\d+)*\s+\S")
_PROSE = re.compile(r"^ {3}\S")
_RULE_START = re.compile(r"^ *[A-Za-z][A-Za-z0-9-]*\s+=/?\s")

PREAMBLE = """\
; RFC 3261 section 25 (Augmented BNF for the SIP Protocol), as printed: extracted from the RFC
; text by scripts/extract-abnf (do not edit; tests/test_judge_grammar.py regenerates it and fails
; on drift). Page headers, footers, headings and prose dropped; page breaks inside a rule closed
; up; the rules of 25.1 moved from column 7 to the left margin. Only the errata needed to load
; it are applied, each marked "; ERRATUM" where applied. RFC 5954 is tests/judge/rfc5954.patch.
; Core rules (ALPHA, DIGIT, SP, ...): RFC 5234 appendix B.1, as the ABNF engine defines them.
"""

#: Erratum 1 and 2: RFC 3261 section 22.4 item 3 and the comment's continuation line.
DIGEST_URI_PRINTED = (
    "digest-uri-value  =  rquest-uri ; Equal to request-uri as specified",
    "                     by HTTP/1.1",
)
DIGEST_URI_FIXED = (
    "; ERRATUM: RFC 3261 section 22.4 item 3 writes this rule's rquest-uri as Request-URI",
    '; ("digest-uri-value = Request-URI ; as defined in Section 25"), and "by HTTP/1.1" is',
    '; the comment\'s second line, printed without its ";".',
    "digest-uri-value  =  Request-URI ; Equal to request-uri as specified",
    "                     ; by HTTP/1.1",
)

#: Erratum 3: telephone-subscriber, from RFC 3966 section 3 (which obsoletes RFC 2806).
TELEPHONE_SUBSCRIBER = """\

; ERRATUM: section 25.1 leaves telephone-subscriber to RFC 2806 ("The BNF for
; telephone-subscriber can be found in RFC 2806"). These are the rules of RFC 3966 section 3,
; which obsoletes RFC 2806, less those RFC 3261 defines with the same language (alphanum,
; reserved, unreserved, mark, uric, domainlabel, toplabel, pvalue, paramchar, param-unreserved);
; RFC 3966's pname differs from RFC 3261's and is named tel-pname here.
telephone-subscriber  =  global-number / local-number
global-number         =  global-number-digits *par
local-number          =  local-number-digits *par context *par
par                   =  parameter / extension / isdn-subaddress
isdn-subaddress       =  ";isub=" 1*uric
extension             =  ";ext=" 1*phonedigit
context               =  ";phone-context=" descriptor
descriptor            =  domainname / global-number-digits
global-number-digits  =  "+" *phonedigit DIGIT *phonedigit
local-number-digits   =  *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex
domainname            =  *( domainlabel "." ) toplabel [ "." ]
parameter             =  ";" tel-pname ["=" pvalue ]
tel-pname             =  1*( alphanum / "-" )
phonedigit            =  DIGIT / [ visual-separator ]
phonedigit-hex        =  HEXDIG / "*" / "#" / [ visual-separator ]
visual-separator      =  "-" / "." / "(" / ")"
"""


def _section_25(lines: list[str]) -> list[str]:
    start = next(i for i, ln in enumerate(lines) if ln.startswith("25  Augmented BNF"))
    end = next(i for i, ln in enumerate(lines) if ln.startswith("26 Security Considerations"))
    return lines[start:end]


def _drop_pages(lines: list[str]) -> list[str | None]:
    """The lines with every page footer and header removed; a page break becomes None."""
    out: list[str | None] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FOOTER.match(line):
            while out and out[-1] == "":
                out.pop()
            i += 1
            while i < len(lines) and (lines[i] in ("", "\f") or _HEADER.match(lines[i])):
                i += 1
            out.append(None)
            continue
        out.append(line)
        i += 1
    return out


def _abnf_lines(lines: list[str | None]) -> list[str]:
    """The ABNF lines: prose and headings dropped, page breaks closed up or made one empty
    line, runs of empty lines made one, the six-space indent of 25.1 removed."""
    out: list[str] = []
    in_rule = False  # the last ABNF line kept belongs to a rule that may go on
    page_break = False
    for line in lines:
        if line is None:
            page_break = True
            continue
        if page_break and line and _RULE_START.match(line) and out and out[-1] != "":
            out.append("")  # a page break between two rules: one empty line
        page_break = False
        if _HEADING.match(line) or _PROSE.match(line):
            in_rule = False
            if out and out[-1] != "":
                out.append("")
            continue
        if line == "":
            in_rule = False
            if out and out[-1] != "":
                out.append("")
            continue
        if not _RULE_START.match(line) and out and out[-1] == "" and not in_rule:
            # A continuation line after a page break: close the break up.
            out.pop()
        out.append(line)
        in_rule = True
    while out and out[0] == "":
        out.pop(0)
    while out and out[-1] == "":
        out.pop()
    return _dedent_blocks(out)


def _dedent_blocks(lines: list[str]) -> list[str]:
    """Each block of rules (empty-line separated) moved left by its first rule's indent."""
    out: list[str] = []
    indent = 0
    for line in lines:
        if line == "":
            out.append(line)
            continue
        if _RULE_START.match(line):
            indent = len(line) - len(line.lstrip(" "))
        cut = min(indent, len(line) - len(line.lstrip(" ")))
        out.append(line[cut:].rstrip())
    return out


def _errata(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        if tuple(lines[i : i + 2]) == DIGEST_URI_PRINTED:
            out.extend(DIGEST_URI_FIXED)
            i += 2
            continue
        out.append(lines[i])
        i += 1
    if out == lines:
        raise ValueError("the digest-uri-value rule is not as printed in RFC 3261")
    return out


def extract(rfc_text: str) -> str:
    """The text of ``rfc3261-verbatim.abnf`` from the text of RFC 3261."""
    lines = _section_25(rfc_text.splitlines())
    body = _errata(_abnf_lines(_drop_pages(lines)))
    return PREAMBLE + "\n" + "\n".join(body) + "\n" + TELEPHONE_SUBSCRIBER


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/extract-abnf", description=__doc__)
    ap.add_argument("rfc", nargs="?", type=Path, default=RFC_TEXT)
    ap.add_argument("output", nargs="?", type=Path, default=OUTPUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if OUTPUT differs")
    args = ap.parse_args(argv)
    text = extract(args.rfc.read_text(encoding="utf-8"))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run scripts/extract-abnf", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text)} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
