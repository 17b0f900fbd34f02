"""Compile the ABNF in ``grammar/`` into the Lark grammar ``sipfsm/message/_generated/sip.lark``.

Run ``python -m sipfsm.abnf.compile`` to regenerate it (``--check`` fails when the committed
file differs from what the ABNF gives). How the ABNF becomes a parser:

* A rule is *regular* when it does not reach itself through other rules (no recursion);
  RFC 3261's only recursive rule is ``comment`` (section 25.1), so only the header fields
  that use it (Server, User-Agent, Retry-After) are not regular.
* Every regular header-field value becomes one Lark terminal: a single regular expression
  with every rule it uses inlined, matched with ``re.fullmatch``. Header values are unfolded
  before they are matched (RFC 3261 section 7.3.1), so CR and LF cannot occur in them and
  every alternative needing one is pruned (``LWS`` becomes ``1*WSP``).
* To keep matching linear-time, every repetition, option and alternation that is LL(1) in
  its context (its choices are decided by the next character, given the characters that
  can follow it) is emitted possessive or atomic (``*+``, ``(?>...)``): the regex engine
  never backtracks into it, and the language is unchanged.
* Some shapes that are not LL(1) get the same treatment, each keeping the language (each
  made a value of a few hundred octets take seconds: quadratic or exponential time):
  an alternative within another one is dropped (``"q" EQUAL qvalue`` is a generic-param;
  a hostname is a token), ``[x]`` of a nullable x is x, a white-space run before text that
  absorbs white space is possessive, an item that cannot contain what follows it is atomic
  up to that octet (``addr-spec`` before ``">"``), and hostname's labels are taken without
  backtracking (:meth:`Compiler._run_form`).
* An alternation of many choices (IPv6address's nine forms) whose every string holds an
  octet gets a lookahead for that octet (``(?=[0-9A-Fa-f]*+:)``): it holds wherever the
  alternation matches, and fails at once where no choice can (``received=192.0.2.3`` was
  read as each form of IPv6address before it was read as a generic-param)
  (:meth:`sipfsm.abnf.regex.RegexEmitter._guard`).
* RFC 3261 section 20.10 (and 20.20, 20.39): "if the URI contains a comma, question mark or
  semicolon, the URI MUST be enclosed in angle brackets". The plain ABNF lets a bare
  ``addr-spec`` (outside ``<...>``) be an ``absoluteURI`` holding commas and semicolons, so
  in ``contact-param *(COMMA contact-param)`` every comma of a bare URI could end an element
  or not, and every ``;`` after one could be a uri-parameter or a header parameter: a value
  of n elements (or parameters) that fails took 2**n (or n**2) tries. The terminals take the
  rule as written (:meth:`Compiler.restrict`): a bare addr-spec holds no comma and no
  semicolon (the question mark is checked after the match, by ``sipfsm.message.rules``; the
  header fields are listed in ``@angle``). Then a list element (Contact's, P-Asserted-Identity's,
  Via's, ...) holds no comma outside quoted strings and ``<...>``, so every reading of it
  that is followed by COMMA ends before the same comma (a prefix that matches leaves every
  quoted string and ``<...>`` closed, so the comma after it is at top level), and each
  element is taken atomically, ``(?>x(?=COMMA|\\Z))`` (:meth:`Compiler._list_form`,
  :meth:`Compiler.list_element`). The lists whose plain element could hold such a comma are
  listed in ``@comma-split``: at run time they are cut at the top-level commas
  (``sipfsm.message.grammar.top_commas``).
* RFC 3261 section 19.1.1 (and RFC 5118 section 4.2): a ``sip:`` or ``sips:`` URI is a
  SIP-URI or SIPS-URI wherever a URI appears. ``grammar/rfc3261.abnf`` writes ``absoluteURI =
  SIP-URI / SIPS-URI / scheme ":" ...`` (a departure it lists), and the generic alternative's
  ``scheme`` takes every scheme but those the other alternatives spell, ``sip`` and ``sips``
  (:meth:`Compiler.generic_scheme`): so ``REGISTER sip:2001:db8::10 SIP/2.0`` is invalid.
* The rules that are not regular become Lark rules for its LALR parser; maximal regular
  runs inside them become terminals named after their rule.
* REGULAR APPROXIMATION, EXACT UP TO DEPTH D (:data:`UNROLL_DEPTH`, 32, the default
  ``Limits.max_nesting``): each non-regular header field also gets one validation terminal,
  ``<RULE>_UNROLLED`` (``@unrolled`` in the file), in which the recursive rule (``comment``)
  is unrolled D times (:meth:`Compiler.unrolled`): it matches exactly the values whose
  comments nest at most D deep (a value nested deeper does not match), in linear time.
  ``sipfsm.message.strict`` validates with it and keeps the LALR parser for trees and for the
  position of an error. (At the very end of a value it rejects white space after a comment,
  as the LALR parser does; header values are stripped before they are matched.)
* Rule names keep the RFC's spelling, lower-cased with ``-`` as ``_`` (terminals upper-cased).

The header table (canonical name, compact form, value rule, list item) comes from the ABNF
too: every alternative of ``message-header`` (RFC 3261 section 25, extended with ``=/``) is a
rule ``Name = ( "Name" / "c" ) HCOLON value``.

The compiler's parts, each depending only on those before it: the ABNF reader
(:mod:`sipfsm.abnf.reader`), the regex IR (:mod:`sipfsm.abnf.ir`), language inclusion on
automata (:mod:`sipfsm.abnf.automata`), the IR's simplifying constructors
(:mod:`sipfsm.abnf.construct`), regex emission (:mod:`sipfsm.abnf.regex`), ABNF to IR
(:mod:`sipfsm.abnf.compiler`), the header table (:mod:`sipfsm.abnf.header_table`) and the
Lark text of the non-regular rules (:mod:`sipfsm.abnf.lark_text`); this module writes the file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sipfsm.abnf.compiler import Compiler
from sipfsm.abnf.header_table import HeaderSpec, header_specs, lark_name
from sipfsm.abnf.ir import END, IR
from sipfsm.abnf.lark_text import LarkEmitter
from sipfsm.abnf.reader import read_abnf

__all__ = ["GRAMMAR_DIR", "OUTPUT", "SOURCES", "compile_grammar", "default_sources", "main"]

ROOT = Path(__file__).resolve().parents[2]
GRAMMAR_DIR = ROOT / "grammar"
OUTPUT = Path(__file__).resolve().parents[1] / "message" / "_generated" / "sip.lark"
#: Reading order: core rules, RFC 3261, then the extensions (which add with ``=/``).
SOURCES = (
    "core.abnf",
    "rfc3261.abnf",
    "rfc3262.abnf",
    "rfc3581.abnf",
    "rfc3326.abnf",
    "rfc3515.abnf",
    "rfc6665.abnf",
    "rfc4028.abnf",
    "rfc3325.abnf",
)
ROOT_RULE = "SIP-message"
#: Rules the framer matches by themselves: the parts of the start line (RFC 3261 sections
#: 7.1, 7.2), the name and value of an extension header (section 25), and COMMA (lists).
FRAMER_RULES = (
    "Method",
    "Request-URI",
    "SIP-Version",
    "Status-Code",
    "Reason-Phrase",
    "header-name",
    "header-value",
    "COMMA",
)

#: Rules of a URI that the typed view (``sipfsm.message.uri``) matches by themselves: the
#: components of SIP-URI / SIPS-URI (section 25.1), so that the view reads exactly what the
#: ABNF accepts (``transport=u`p``: other-transport is a token).
URI_RULES = ("host", "user", "password", "uri-parameter", "header")
#: Start-line parts that the request-line fast path (``sipfsm.message.grammar.request_line``)
#: joins with SP into one regex: each is emitted for SP following it (``<RULE>_SP``), so the
#: joined regex has the language of ``Method SP Request-URI SP`` (a terminal emitted for the
#: end of input may look for the end with ``\\Z``).
SP_FOLLOWED_RULES = ("Method", "Request-URI")
SP_MASK = 1 << 0x20

#: Depth to which the recursive rule is unrolled in the ``@unrolled`` terminals (a regular
#: approximation, exact up to this depth): ``sipfsm.message.limits.Limits.max_nesting``'s default.
UNROLL_DEPTH = 32
#: The recursive rule of RFC 3261 (section 25.1).
RECURSIVE_RULE = "comment"


def default_sources(directory: Path = GRAMMAR_DIR) -> list[Path]:
    """The ABNF files of ``directory`` (the checkout's ``grammar/``), in reading order
    (:data:`SOURCES`)."""
    return [directory / s for s in SOURCES]


def compile_grammar(sources: Sequence[Path] | None = None) -> str:
    """The text of ``sip.lark`` for the ABNF ``sources`` (default: ``grammar/``)."""
    files = list(sources) if sources is not None else default_sources()
    grammar = read_abnf(files)
    comp = Compiler(grammar)
    em = LarkEmitter(comp)
    found = _Found()
    for spec in header_specs(grammar):
        _header_field(comp, em, spec, found)
    for rule in FRAMER_RULES:
        key = rule.lower()
        tname = em.terminal(grammar.rules[key].name, comp.rule_regex(rule, END))
        em.rules.setdefault(lark_name(rule), tname)
        found.directives.append(f"//@rule {grammar.rules[key].name} {tname}")
    for rule in URI_RULES:
        tname = em.terminal(grammar.rules[rule.lower()].name, comp.rule_regex(rule, END))
        found.directives.append(f"//@rule {grammar.rules[rule.lower()].name} {tname}")
    for rule in SP_FOLLOWED_RULES:
        name = grammar.rules[rule.lower()].name
        tname = em.terminal(f"{name}-SP", comp.rule_regex(rule, SP_MASK, ws=False))
        found.directives.append(f"//@rule {name}-SP {tname}")
    unused = [u for u in grammar.unused([ROOT_RULE]) if u.lower() not in _core_names(files)]
    found.directives.append("//@angle " + " ".join(found.angle))
    found.directives.append("//@comma-split " + " ".join(found.comma_split))
    found.directives.append("//@unused " + " ".join(unused))
    found.directives += found.unrolled
    lines = [*_preamble(files), *found.directives, "", *_body(em, found.lalr_rules)]
    return "\n".join(lines) + "\n"


@dataclass
class _Found:
    """What the header fields give the file: its directives and the rules they list."""

    directives: list[str] = field(default_factory=list)
    lalr_rules: list[str] = field(default_factory=list)
    comma_split: list[str] = field(default_factory=list)
    angle: list[str] = field(default_factory=list)
    unrolled: list[str] = field(default_factory=list)


def _header_field(comp: Compiler, em: LarkEmitter, spec: HeaderSpec, found: _Found) -> None:
    """The terminals (or LALR rules) of one header field, and its ``@header`` directive."""
    rname = lark_name(spec.rule)
    item_term = "-"
    if em.regular(spec.value):
        value_ir = comp.restrict(spec.value)  # section 20.10 (Compiler.restrict)
        if value_ir is not comp.ir(spec.value):
            found.angle.append(spec.rule)
        element: IR | None = None
        if spec.item is not None:
            comma = comp.rule_ir("COMMA")
            element, split = comp.list_element(spec.item, comma)
            if split:
                found.comma_split.append(spec.rule)
        em.rules[rname] = em.terminal(spec.rule, comp.emit(value_ir, END))
        kind = "regex"
        if spec.item is not None and element is not None:
            item_term = em.terminal(
                spec.item,
                comp.emit(element, comma.first | END, ws=comp.absorbs(comma, True)),
            )
    else:
        kind = "lalr"
        em.add_rule(rname, spec.value, spec.rule)
        found.lalr_rules.append(rname)
        ir = comp.unrolled(spec.value, RECURSIVE_RULE, UNROLL_DEPTH)
        uname = em.terminal(f"{spec.rule}_UNROLLED", comp.emit(ir, END))
        found.unrolled.append(f"//@unrolled {spec.rule} {uname} {UNROLL_DEPTH}")
    found.directives.append(
        f"//@header {spec.rule} {rname} {kind} {item_term} " + " ".join(spec.names)
    )


def _preamble(files: Sequence[Path]) -> list[str]:
    return [
        "// GENERATED by `python -m sipfsm.abnf.compile` from the ABNF in grammar/:",
        "// do not edit; a test fails when this file and the ABNF disagree.",
        "// Sources: " + " ".join(f.name for f in files),
        "//",
        "// Directives read by sipfsm.message.grammar (Lark ignores them as comments):",
        "//   @header RULE LARK-RULE KIND ITEM NAME... : a header field, its value rule (regex:",
        "//     one terminal matched with re.fullmatch; lalr: Lark's LALR parser) and, for",
        "//     comma lists, the terminal of one element (or -).",
        "//   @rule RULE TERMINAL : a rule the framer (or the URI view) matches by itself (start",
        "//     line, host, ...); RULE-SP: the rule emitted for SP following it (request line).",
        "//   @angle RULE... : header fields with a bare addr-spec: RFC 3261 section 20.10 (a URI",
        "//     with a comma, semicolon or question mark MUST be in <>) is in their terminals",
        "//     for the comma and the semicolon; sipfsm.message.rules checks the question mark.",
        "//   @comma-split RULE... : comma lists whose element could, in the plain ABNF, hold a",
        "//     comma outside quoted strings and <...> (a bare absoluteURI). RFC 3261 section",
        "//     20.10: such a URI MUST be in <>, so every top-level comma separates elements;",
        "//     the value terminal says so, ITEM stays the plain element (for one piece cut at",
        "//     those commas, the two agree).",
        "//   @unused RULE... : rules no header field or start line uses (for review).",
        "//   @unrolled RULE TERMINAL DEPTH : REGULAR APPROXIMATION, EXACT UP TO DEPTH DEPTH",
        f"//     ({UNROLL_DEPTH}), of a non-regular (lalr) header field: its value with the",
        f"//     recursive rule {RECURSIVE_RULE} unrolled DEPTH times (nested deeper, it does",
        "//     not match). Validation matches it with re.fullmatch; the LALR rules give trees",
        "//     and error positions. It rejects white space after a comment at the very end",
        "//     of a value, as the LALR parser does (values are stripped before matching).",
        "",
    ]


def _body(em: LarkEmitter, lalr_rules: list[str]) -> list[str]:
    """The rules and terminals of the file, after its directives."""
    lines = ["// ---- Rules that are not regular (recursive): Lark's LALR parser ----"]
    for name in lalr_rules:
        lines.append(f"{name}: {em.rules[name]}")
    for name, body in em.rules.items():
        if name in lalr_rules or name.upper() == body or body == "":
            continue
        if name.upper() != body:
            lines.append(f"{name}: {body}")
    lines.append("")
    lines.append("// ---- Regular header values and start-line parts: one terminal each ----")
    for name, body in em.rules.items():
        if name.upper() == body:
            lines.append(f"{name}: {body}")
    lines.append("")
    lines.append("// ---- Terminals (regular rules, every rule they use inlined) ----")
    for tname, regex in em.terminals.items():
        lines.append(f"{tname}: /{regex}/")
    return lines


def _core_names(files: Sequence[Path]) -> set[str]:
    core = [f for f in files if f.name == "core.abnf"]
    if not core:
        return set()
    return set(read_abnf(core).rules)


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate ``sip.lark`` (or, with ``--check``, fail if it is stale)."""
    ap = argparse.ArgumentParser(prog="python -m sipfsm.abnf.compile", description=__doc__)
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    ap.add_argument("--output", type=Path, default=OUTPUT)
    ap.add_argument(
        "--grammar", type=Path, default=GRAMMAR_DIR, help="the ABNF folder (default: grammar/)"
    )
    args = ap.parse_args(argv)
    text = compile_grammar(default_sources(args.grammar))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python -m sipfsm.abnf.compile", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text)} characters)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
