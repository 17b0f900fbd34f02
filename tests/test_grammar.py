"""The compiled grammar: sip.lark matches the ABNF, regular rules are regexes, the
possessive/atomic optimisation does not change any language, and matching stays fast."""

from __future__ import annotations

import re
import time
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from sipfsm import _grammar
from sipfsm._abnf import read_abnf
from sipfsm._abnf_compile import (
    END,
    OUTPUT,
    Compiler,
    _default_sources,
    compile_grammar,
    main,
    nonregular_rules,
)


@cache
def compilers() -> tuple[Compiler, Compiler]:
    g = read_abnf(_default_sources())
    return Compiler(g), Compiler(g, atomic=False)


def test_committed_lark_grammar_matches_the_abnf() -> None:
    """Fails when grammar/*.abnf changed without `python -m sipfsm._abnf_compile`."""
    assert OUTPUT.read_text(encoding="utf-8") == compile_grammar()
    assert main(["--check"]) == 0


def test_check_mode_reports_a_stale_file(tmp_path: pytest.TempPathFactory) -> None:
    out = tmp_path / "sip.lark"  # type: ignore[operator]
    out.write_text("stale\n")
    assert main(["--check", "--output", str(out)]) == 1


def test_only_comment_and_its_users_are_not_regular() -> None:
    g = read_abnf(_default_sources())
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
    for term in ("VIA_PARM", "LPAREN", "CTEXT", "QUOTED_PAIR", "REQUEST_URI", "SIP_VERSION"):
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
]


@cache
def pair(rule: str) -> tuple[re.Pattern[str], str]:
    opt, plain = compilers()
    spec = next(h for h in _grammar.HEADERS.values() if h.rule == rule)
    value = f"Value-of-{rule}"
    del value
    from sipfsm._abnf_compile import header_specs

    hs = next(h for h in header_specs(opt.g) if h.rule == spec.rule)
    return re.compile(opt.emit(opt.ir(hs.value), END)), plain.emit(plain.ir(hs.value), END)


@pytest.mark.parametrize("rule", COMPARED)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_values_generated_from_the_grammar_match_the_optimised_regex(
    rule: str, data: st.DataObject
) -> None:
    """Strings drawn from the plain (backtracking, ABNF-exact) regex must match the
    possessive/atomic one: the optimisation may not lose any string of the language."""
    fast, plain = pair(rule)
    value = data.draw(st.from_regex(plain, fullmatch=True, alphabet=st.characters(max_codepoint=255)))
    assert fast.fullmatch(value), (rule, value)


@pytest.mark.parametrize("rule", ["Via", "Contact", "From", "Accept"])
@settings(max_examples=150, deadline=None)
@given(noise=st.text(alphabet=" ,;:=<>\"'@./\\abc1%[]()?\t", max_size=40))
def test_optimised_and_plain_regexes_agree_on_noise(rule: str, noise: str) -> None:
    fast, plain = pair(rule)
    for value in (noise, "SIP/2.0/UDP h" + noise, "<sip:a@b>" + noise, "a/b" + noise):
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


@pytest.mark.parametrize(
    ("terminal", "fill"),
    [
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
    ],
)
def test_regexes_are_fast_on_pathological_60k_values(terminal: str, fill: str) -> None:
    """No catastrophic backtracking: 60 KiB of repeated separators fails (or matches) fast.
    The benchmark prints the real times; the bound here is loose for loaded machines."""
    value = "SIP/2.0/UDP " + (fill * (60 * 1024 // len(fill))) + "!"
    t0 = time.perf_counter()
    _grammar.regex(terminal).fullmatch(value)
    assert time.perf_counter() - t0 < 0.5
