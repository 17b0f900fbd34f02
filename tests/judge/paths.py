"""Every sipfsm path that decides a rule, judged on inputs drawn from the verbatim rule and
their near misses: the regexes the compiler emits (``Compiler.rule_regex``, the unrolled
``comment``), the terminals strict parsing uses (through whole messages), the Lark parser of the
non-regular fields, and the regexes that stand in for a rule (the start-line fast paths, the
list splitters, the header-name ``token``, the URI view's regexes).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from functools import cache

from judge import engine
from judge.differential import Table, Verdict, judge_message, judge_rule
from judge.generate import Generator, baseline_trees, mutate
from sipfsm import ParseError
from sipfsm.abnf.compile import RECURSIVE_RULE, UNROLL_DEPTH, default_sources
from sipfsm.abnf.compiler import Compiler
from sipfsm.abnf.ir import END
from sipfsm.abnf.reader import Ref, read_abnf
from sipfsm.message import fields as _fields
from sipfsm.message import grammar as _grammar
from sipfsm.message import startline as _startline
from sipfsm.message import uri as _uri
from sipfsm.message.constants import SIP_VERSION

#: The rules judged one by one (issue 21, item 3).
RULES = (
    "SIP-URI",
    "SIPS-URI",
    "name-addr",
    "Via",
    "Contact",
    "token",
    "quoted-string",
    "comment",
    "generic-param",
    "IPv6reference",
    "Status-Line",
)
#: The URI view's regexes (``sipfsm.message.uri``) and the rule each stands in for.
URI_REGEXES = {
    "_USER_RE": "user",
    "_PASSWORD_RE": "password",
    "_URI_PARAMETER_RE": "uri-parameter",
    "_HEADER_RE": "header",
    "_SCHEME_RE": "scheme",
    "_URIC_RE": "query",
    "_HOST_RE": "host",
}
#: The non-regular header fields and their Lark rule.
LALR_FIELDS = ("Server", "User-Agent", "Retry-After")


@cache
def compiler() -> Compiler:
    """sipfsm's compiler on ``grammar/``."""
    return Compiler(read_abnf(default_sources()))


@cache
def rule_regex(rule: str) -> re.Pattern[str]:
    """What ``Compiler.rule_regex`` emits for ``rule`` (the unrolled form for ``comment``)."""
    comp = compiler()
    if rule.lower() == RECURSIVE_RULE:
        ir = comp.unrolled(Ref(RECURSIVE_RULE), RECURSIVE_RULE, UNROLL_DEPTH)
        return re.compile(comp.emit(ir, END))
    return re.compile(comp.rule_regex(rule, END))


def inputs(rule: str, n: int, seed: int, fixed: dict[str, str] | None = None) -> Iterator[str]:
    """``n`` strings drawn from the verbatim ``rule``, 60% of them with one near miss."""
    rng = random.Random(f"{seed}:{rule}")
    gen = Generator(baseline_trees(), rng, fixed)
    for _ in range(n):
        text = gen.draw(rule)
        yield mutate(text, rng) if rng.random() < 0.6 else text


def _lines(rule: str, n: int, seed: int) -> Iterator[str]:
    for text in inputs(rule, n, seed, {"SIP-Version": SIP_VERSION}):
        line = text[:-2] if text.endswith("\r\n") else text
        if "\r" not in line and "\n" not in line:
            yield line


def check_rule(rule: str, n: int, seed: int, table: Table) -> None:
    """Every sipfsm path of ``rule`` on ``n`` inputs drawn from it: the compiler's regex (for
    the start line, ``start_line``; for the header fields, strict parsing of a message that
    holds it)."""
    if rule == "Status-Line":
        for line in _lines(rule, n, seed):
            table.add(f"start-line:{rule}", line, start_line_verdict(rule, line))
        return
    gram = engine.grammar_judge()
    rx = rule_regex(rule)
    for text in inputs(rule, n, seed):
        if rule.lower() == RECURSIVE_RULE:
            text = text.rstrip(" \t")  # values are matched stripped (RPAREN's SWS)
        table.add(
            f"rule_regex:{rule}", text, judge_rule(rx.fullmatch(text) is not None, rule, text, gram)
        )
        if rule in ("Via", "Contact"):
            data = f"OPTIONS sip:a@b SIP/2.0\r\n{text}\r\n\r\n".encode("latin-1")
            table.add(f"strict:{rule}", data, judge_message(data))


def start_line_verdict(rule: str, line: str) -> Verdict:
    """Strict parsing of the start line ``line`` (``start_line``) against the judge."""
    err: ParseError | None = None
    try:
        _startline.start_line(line, 0)
    except ParseError as exc:
        err = exc
    return judge_rule(
        err is None, rule, line + "\r\n", engine.departed(), err, engine.departed_without_issues()
    )


def check_lalr(rule: str, n: int, seed: int, table: Table) -> None:
    """Lark's LALR parser of a non-regular field against the judge."""
    lark_rule = _grammar.BY_RULE[rule.lower()].lark_rule
    for text in inputs(rule, n, seed):
        _, _, value = text.partition(":")
        value = value.strip(" \t")
        try:
            _grammar.lalr_parse(value, lark_rule)
            ok = True
        except _grammar.LalrError:
            ok = False
        field = f"{rule}: {value}" if value else f"{rule}:"
        table.add(f"lalr:{rule}", field, judge_rule(ok, rule, field, engine.grammar_judge()))


def check_regex(
    name: str, rule: str, fullmatch: Callable[[str], object], n: int, seed: int, table: Table
) -> None:
    """A hand-written regex that stands in for ``rule``, on inputs drawn from the rule."""
    for text in inputs(rule, n, seed):
        ok = fullmatch(text) is not None
        table.add(f"regex:{name}", text, judge_rule(ok, rule, text, engine.grammar_judge()))


def hand_written() -> dict[str, tuple[str, Callable[[str], object]]]:
    """The regexes written by hand that stand in for a rule: name -> (rule, fullmatch)."""
    out: dict[str, tuple[str, Callable[[str], object]]] = {
        "fields._TOKEN_RE": ("token", _fields._TOKEN_RE.fullmatch)
    }
    for attr, rule in URI_REGEXES.items():
        out[f"uri.{attr}"] = (rule, getattr(_uri, attr).fullmatch)
    return out


def fast_path_misses(n: int, seed: int) -> list[str]:
    """Start lines on which a fast path (``request_line``, ``status_line``) and the judge
    differ: a fast path matches exactly the lines the judge accepts with ``SIP/2.0`` (for a
    status line, whatever its code: 100-699 is the caller's check, ``value-out-of-range``)."""
    out = []
    req, stat = _grammar.request_line(), _grammar.status_line()
    for rule, fast in (("Request-Line", req), ("Status-Line", stat)):
        for line in _lines(rule, n, seed):
            want = fast_path_wants(rule, line)
            if (fast(line) is not None) != want:
                out.append(f"{rule} fast path {'takes' if not want else 'misses'} {line!r}")
    return out


def fast_path_wants(rule: str, line: str) -> bool:
    """Whether the fast path of ``rule`` (``Request-Line``, ``Status-Line``) should match
    ``line``: the judge accepts it, with ``SIP/2.0``."""
    parts = line.split(" ")
    if not engine.departed_without_issues().accepts(rule, line + "\r\n") or len(parts) < 3:
        return False
    return (parts[2] if rule == "Request-Line" else parts[0]) == SIP_VERSION


def list_misses(n: int, seed: int) -> list[str]:
    """Values of the list header fields that the judge accepts but that
    ``grammar.list_elements`` (its splitter regex, or the top-level comma scanner) does not cut
    into elements of the list's item rule."""
    out = []
    dep = engine.departed_without_issues()
    for key, hr in sorted(_grammar.BY_RULE.items()):
        if hr.item is None or hr.rule.lower() not in baseline_trees():
            continue
        item = item_rule(hr.rule)
        for text in inputs(hr.rule, n, seed):
            if not dep.accepts(hr.rule, text):
                continue
            value = text.partition(":")[2].strip(" \t")
            if not value or value == "*":
                continue
            for el in _grammar.list_elements(value, hr):
                if not dep.accepts(item, el):
                    out.append(f"{hr.rule}: element {el!r} of {value!r} is not a {item}")
                    break
        del key
    return out


def item_rule(rule: str) -> str:
    """The item rule of a list field ``Name = ... HCOLON item *(COMMA item)`` in the judge's
    text."""
    dep = engine.departed_without_issues()
    body = dep.rule_body(rule)
    m = re.search(r"\*\s*\(\s*comma\s+([a-z0-9-]+)\s*\)", body)
    assert m is not None, body
    return m.group(1)
