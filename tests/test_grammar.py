"""The compiled grammar: sip.lark matches the ABNF, regular rules are regexes, the
possessive/atomic optimisation does not change any language, and matching stays fast."""

from __future__ import annotations

import random
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from sipfsm.abnf.automata import included
from sipfsm.abnf.compile import OUTPUT, compile_grammar, default_sources, main
from sipfsm.abnf.compiler import Compiler, nonregular_rules
from sipfsm.abnf.header_table import header_specs
from sipfsm.abnf.ir import END, IR
from sipfsm.abnf.reader import read_abnf
from sipfsm.message import grammar as _grammar


@cache
def compilers() -> tuple[Compiler, Compiler]:
    g = read_abnf(default_sources())
    return Compiler(g), Compiler(g, atomic=False)


def test_committed_lark_grammar_matches_the_abnf() -> None:
    """Fails when grammar/*.abnf changed without `python -m sipfsm.abnf.compile`."""
    assert OUTPUT.read_text(encoding="utf-8") == compile_grammar()
    assert main(["--check"]) == 0


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    out = tmp_path / "sip.lark"
    out.write_text("stale\n")
    assert main(["--check", "--output", str(out)]) == 1


def test_only_comment_and_its_users_are_not_regular() -> None:
    g = read_abnf(default_sources())
    names = {g.rules[k].name for k in nonregular_rules(g)}
    assert names == {
        "comment",
        "server-val",
        "Server",
        "User-Agent",
        "Retry-After",
        "message-header",
        "Request",
        "Response",
        "SIP-message",
    }


def test_header_table_comes_from_the_abnf() -> None:
    compact = {h.compact: h.long_name for h in _grammar.HEADERS.values() if h.compact}
    assert compact == {
        "i": "Call-ID",
        "m": "Contact",
        "e": "Content-Encoding",
        "l": "Content-Length",
        "c": "Content-Type",
        "f": "From",
        "s": "Subject",
        "k": "Supported",
        "t": "To",
        "v": "Via",
        "r": "Refer-To",
        "o": "Event",
        "u": "Allow-Events",
        "x": "Session-Expires",
    }
    for name in ("rseq", "rack", "reason", "min-se", "subscription-state", "p-asserted-identity"):
        assert name in _grammar.HEADERS
    kinds = {h.long_name: h.kind for h in _grammar.HEADERS.values()}
    assert {n for n, k in kinds.items() if k == "lalr"} == {"Server", "User-Agent", "Retry-After"}
    assert _grammar.HEADERS["via"].item == "VIA_PARM"
    assert _grammar.HEADERS["contact"].item == "CONTACT_PARAM"


def test_lark_rule_names_keep_the_rfc_names() -> None:
    text = OUTPUT.read_text()
    for name in ("server_val", "comment", "retry_after", "user_agent"):
        assert re.search(rf"^{name}:", text, re.M)
    for term in ("VIA_PARM", "LPAREN", "CTEXT_QUOTED_PAIR_RUN", "REQUEST_URI", "SIP_VERSION"):
        assert re.search(rf"^{term}: /", text, re.M)


def test_possessive_where_ll1_and_not_elsewhere() -> None:
    opt, _ = compilers()
    token = opt.rule_regex("token", END)
    assert token.endswith("++"), token
    # qdtext loop inside quoted-string is decided by the next octet: possessive.
    assert "*+" in opt.rule_regex("quoted-string", END)
    # hostname's labels are not LL(1) (a label may end where the next begins)
    assert re.fullmatch(opt.rule_regex("hostname", END), "a.b-c.example.com.")


# Header rules whose languages are compared, optimised regex against plain regex.
COMPARED = [
    "Via",
    "From",
    "To",
    "Contact",
    "CSeq",
    "Call-ID",
    "Content-Type",
    "Accept",
    "Max-Forwards",
    "Date",
    "Warning",
    "Event",
    "Session-Expires",
    "Reason",
    "RAck",
    "Authorization",
    "Route",
    "Subject",
    "Organization",
]


@cache
def pair(rule: str) -> tuple[re.Pattern[str], str, IR]:
    """(optimised regex, plain regex, IR) of the value of header rule ``rule``."""
    opt, plain = compilers()
    hs = next(h for h in header_specs(opt.g) if h.rule == rule)
    ir = opt.ir(hs.value)
    return re.compile(opt.emit(ir, END)), plain.emit(plain.ir(hs.value), END), ir


_BITS: dict[int, list[int]] = {}


def generate(n: IR, rnd: random.Random) -> str:
    """A random string of the language of ``n`` (the ABNF itself, before any regex)."""
    k = n.kind
    if k == "cls":
        bits = _BITS.get(n.mask)
        if bits is None:
            bits = _BITS[n.mask] = [i for i in range(256) if n.mask >> i & 1]
        return chr(rnd.choice(bits))
    if k == "str":
        if not n.ci:
            return n.text
        return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in n.text)
    if k == "seq":
        return "".join(generate(i, rnd) for i in n.items)
    if k == "alt":
        return generate(rnd.choice(n.items), rnd)
    if k == "rep":
        assert n.item is not None
        hi = n.min + 3 if n.max is None else min(n.max, n.min + 3)
        return "".join(generate(n.item, rnd) for _ in range(rnd.randint(n.min, hi)))
    if k == "eps":
        return ""
    raise AssertionError(k)


@pytest.mark.parametrize("rule", COMPARED)
@given(rnd=st.randoms(use_true_random=False))
def test_values_generated_from_the_grammar_match_the_optimised_regex(
    rule: str, rnd: random.Random
) -> None:
    """Strings drawn from the ABNF (its IR, walked at random) must match the possessive /
    atomic regex: the optimisation may not lose any string of the language; and strict
    parsing accepts a message carrying such a value."""
    fast, _plain, ir = pair(rule)
    value = generate(ir, rnd).strip(" \t")
    assert fast.fullmatch(value), (rule, value)


@pytest.mark.parametrize("rule", ["Via", "Contact", "From", "Accept"])
@settings(max_examples=150, deadline=None)
@given(noise=st.text(alphabet=" ,;:=<>\"'@./\\abc1%[]()?\t", max_size=40))
def test_optimised_and_plain_regexes_agree_on_noise(rule: str, noise: str) -> None:
    fast, plain, _ir = pair(rule)
    for value in (noise, "SIP/2.0/UDP h" + noise, "<sip:a@b>" + noise, "a/b" + noise):
        assert bool(fast.fullmatch(value)) == bool(re.fullmatch(plain, value)), (rule, value)


@pytest.mark.parametrize("rule", ["Via", "Contact", "Route", "From", "Authorization", "Call-Info"])
@settings(max_examples=120, deadline=None)
@given(noise=st.text(alphabet=' \t-.;,=<>"a1:@', max_size=30))
def test_optimised_and_plain_regexes_agree_on_hostnames_and_white_space(
    rule: str, noise: str
) -> None:
    """The forms that are not LL(1) yet emitted without backtracking (hostname's labels, runs
    of white space before white-space-absorbing text, literals a token run covers) keep the
    language."""
    fast, plain, _ir = pair(rule)
    for value in (noise, "SIP/2.0/UDP a" + noise, "<sip:a@b>" + noise, "Digest a=" + noise):
        assert bool(fast.fullmatch(value)) == bool(re.fullmatch(plain, value)), (rule, value)


@cache
def section_20_10(rule: str) -> tuple[re.Pattern[str], str]:
    """(optimised, plain) regex of header rule ``rule``'s value as sip.lark has it: RFC 3261
    section 20.10 applied (a bare addr-spec holds no comma or semicolon), list elements that
    hold no top-level comma taken atomically in the optimised one."""
    opt, plain = compilers()
    hs = next(h for h in header_specs(opt.g) if h.rule == rule)
    if hs.item is not None:
        opt.list_element(hs.item, opt.rule_ir("COMMA"))
    return re.compile(opt.emit(opt.restrict(hs.value), END)), plain.emit(
        plain.restrict(hs.value), END
    )


def test_section_20_10_is_in_the_generated_terminals() -> None:
    assert _grammar.TERMINALS["CONTACT"] == section_20_10("Contact")[0].pattern
    assert _grammar.HEADERS["contact"].comma_split and _grammar.HEADERS["contact"].angle
    assert _grammar.HEADERS["p-asserted-identity"].comma_split
    assert _grammar.HEADERS["from"].angle and not _grammar.HEADERS["from"].comma_split
    assert not _grammar.HEADERS["via"].comma_split and not _grammar.HEADERS["via"].angle
    # Atomic elements, for the bare-URI lists and the others alike.
    assert _grammar.TERMINALS["CONTACT"].count("(?>") > 0
    assert "(?=[\\x09\\ ]*+\\,[\\x09\\ ]*+|\\Z))" in _grammar.TERMINALS["VIA"]


@pytest.mark.parametrize(
    "rule", ["Contact", "PAssertedID", "From", "Via", "Route", "Accept", "Warning", "Call-Info"]
)
@settings(max_examples=150, deadline=None)
@given(noise=st.text(alphabet=' \t,;:=<>"\\@ab1/%', max_size=30))
def test_section_20_10_atomic_lists_keep_the_language(rule: str, noise: str) -> None:
    """The atomic list elements (``(?>x(?=COMMA|\\Z))``) keep the language of section 20.10;
    and for the comma-split lists, that language is "cut at the top-level commas, every piece
    an element" (what the run-time scanner does)."""
    fast, plain = section_20_10(rule)
    spec = next(h for h in _grammar.HEADERS.values() if h.rule == rule)
    for value in (noise, "sip:a@b" + noise, "<sip:a@b>" + noise, "SIP/2.0/UDP h" + noise):
        value = value.strip(" \t")
        got = bool(fast.fullmatch(value))
        assert got == bool(re.fullmatch(plain, value)), (rule, value)
        if spec.comma_split and value != "*":
            assert spec.item is not None
            item = _grammar.fullmatcher(spec.item)
            pieces = [p for _, p in _grammar.top_pieces(value)]
            assert got == all(item(p) for p in pieces), (rule, value)


def test_hostname_and_white_space_forms_are_emitted() -> None:
    opt, _ = compilers()
    host = opt.rule_regex("hostname", END)
    assert "(?<=[0-9A-Za-z])" in host and "(?=[0-9A-Za-z]))*+" in host, host
    # protocol-name = "SIP" / token: the literal is covered by the token run.
    assert "SIP" not in opt.rule_regex("protocol-name", END)


def test_alternatives_inside_others() -> None:
    """``x / y`` with L(x) within L(y) is emitted as ``y`` (one way to read a parameter, not
    two: with n parameters the engine retried 2**n readings on a bad tail)."""
    opt, _ = compilers()
    generic = opt.rule_ir("generic-param")
    assert included(opt.rule_ir("c-p-q"), generic)
    assert included(opt.rule_ir("via-ttl"), generic)
    assert included(opt.rule_ir("hostname"), opt.rule_ir("token"))
    # received = IPv6address is not a gen-value (no brackets), and a token is not a host.
    assert not included(opt.rule_ir("via-received"), generic)
    assert not included(opt.rule_ir("token"), opt.rule_ir("host"))


def _backtracking_loops(regex: str) -> list[int]:
    """Offsets of the unbounded quantifiers (``*``, ``+``, ``{m,}``) of ``regex`` that are not
    possessive: the only places the engine can give back octets it took in a loop."""
    found: list[int] = []
    i, in_class = 0, False
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(" and regex.startswith("(?", i):
            i += 2  # (?: (?> (?= (?<= (?i: ... : the "?" is no quantifier
            continue
        elif c in "*+" or (c == "{" and re.match(r"\{[0-9]+,\}", regex[i:])):
            end = regex.index("}", i) + 1 if c == "{" else i + 1
            if not regex.startswith("+", end):
                found.append(i)
            i = end + 1
            continue
        i += 1
    return found


@pytest.mark.parametrize("rule", ["TEXT-UTF8-TRIM", "Subject", "Organization"])
def test_text_utf8_trim_is_emitted_without_a_backtracking_loop(rule: str) -> None:
    """RFC 3261 section 25: ``TEXT-UTF8-TRIM = 1*TEXT-UTF8char *(*LWS TEXT-UTF8char)``. As
    written, the ``1*`` run gives back an octet at a time to a loop that reads it again when
    a value fails late (a Subject of 8,000 octets ending in an incomplete UTF-8 sequence took
    1.6 s, quadratic time). Emitted as ``TEXT-UTF8char *(*LWS TEXT-UTF8char)`` (the same
    language), every loop is possessive: linear time."""
    opt, _ = compilers()
    if rule == "TEXT-UTF8-TRIM":
        regex = opt.rule_regex(rule, END)
    else:  # the terminal sip.lark has
        regex = _grammar.TERMINALS[rule.upper()]
    assert _backtracking_loops(regex) == [], regex


def test_backtracking_loops_are_found() -> None:
    """The scanner the test above relies on finds a plain ``+`` and ``{m,}``, and not
    possessive loops, escaped octets, class members or group openers."""
    assert _backtracking_loops("(?:a)+(?:b*+a)*+[+*]\\+x{2,}(?>c)") == [5, 23]


@pytest.mark.parametrize("rule", ["Subject", "Organization"])
@settings(max_examples=150, deadline=None)
@given(noise=st.text(alphabet=" \tab!~\xfc\x80\xc3\xa9", max_size=40))
def test_optimised_and_plain_regexes_agree_on_text_utf8_trim(rule: str, noise: str) -> None:
    """``m*X *(N X)`` emitted as ``m X *(N X)`` (N nullable) keeps the language."""
    fast, plain, _ir = pair(rule)
    for value in (noise, "a" + noise, noise + "a", "a \t" + noise):
        assert bool(fast.fullmatch(value)) == bool(re.fullmatch(plain, value)), (rule, value)


@cache
def lalr_grammar(start: str) -> Lark:
    text, _ = _grammar._lalr_text()
    return Lark(text, parser="lalr", start=start)


@pytest.mark.parametrize("start", ["server", "user_agent", "retry_after"])
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_non_regular_values_generated_from_the_lark_grammar_parse(
    start: str, data: st.DataObject
) -> None:
    value = data.draw(from_lark(lalr_grammar(start), start=start))
    assert _grammar.lalr_parse(value, start).data == start


def test_a_large_alternation_gets_a_fail_fast_guard() -> None:
    """An alternation of GUARD_MIN or more choices whose every string holds an octet gets a
    lookahead for it (issue 11, speed: IPv6address's forms each read ``192`` of
    ``;received=192.0.2.3`` before failing; a Via of RFC 3261's examples 1.37 -> 0.97 us).
    The guard holds wherever the alternation matches; the plain regex has none."""
    fast, plain = compilers()
    got = fast.rule_regex("IPv6address", END)
    assert got.startswith("(?:(?=[0-9A-Fa-f]*+\\:)"), got[:80]
    assert "(?=" not in plain.rule_regex("IPv6address", END)
    rx, ref = re.compile(got), re.compile(plain.rule_regex("IPv6address", END))
    texts = ["::", "::1", "1::", "2001:db8::1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4"]
    texts += ["::1.2.3.4"]
    texts += ["192.0.2.3", "1:2", "1:2:3:4:5:6:7:8:9", ":::", "g::1", "1::2::3", ""]
    for text in texts:
        assert (rx.fullmatch(text) is None) == (ref.fullmatch(text) is None), text
    assert "(?=[0-9A-Fa-f]*+\\:)" in _grammar.TERMINALS["VIA"]  # IPv6address of via-received


#: Terminals and the fill that, repeated over 60 KiB after ``SIP/2.0/UDP `` and followed by
#: ``!``, makes a backtracking regex slow (catastrophic backtracking). bench/bench_regexes.py
#: times each (CPU time, against a linear scan of the same octets); the test checks the answer.
PATHOLOGICAL = [
    ("VIA", " "),
    ("VIA", ","),
    ("VIA", "a."),
    ("VIA", "a-"),
    ("CONTACT", ";"),
    ("CONTACT", ";a"),
    ("CONTACT", '"'),
    ("TO", '\\"'),
    ("FROM", "a "),
    ("ROUTE", "<sip:a-"),
    ("ACCEPT", "a/b;"),
    ("CALL_ID", "a@"),
    ("SUBJECT", "a \t"),
    ("REQUEST_URI", "%4"),
]


def pathological(fill: str, size: int = 60 * 1024) -> str:
    """``fill`` repeated over ``size`` octets between ``SIP/2.0/UDP `` and ``!``."""
    return "SIP/2.0/UDP " + (fill * (size // len(fill))) + "!"


@pytest.mark.parametrize(("terminal", "fill"), PATHOLOGICAL)
def test_pathological_60k_values_get_the_answer_of_short_ones(terminal: str, fill: str) -> None:
    """60 KiB of repeated separators get the same answer as a few: only Subject's
    TEXT-UTF8-TRIM (section 25) takes such a value; every other rule refuses it (a Via's
    sent-by holds no run of white space, separators or dots, ...). The time it takes is the
    benchmark's (bench/bench_regexes.py), not a unit test's."""
    rx = _grammar.regex(terminal)
    want = terminal == "SUBJECT"
    for size in (len(fill), 4 * len(fill), 64 * len(fill), 60 * 1024):
        assert (rx.fullmatch(pathological(fill, size)) is not None) == want, size
