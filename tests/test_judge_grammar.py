"""grammar/rfc3261.abnf against RFC 3261 section 25 as printed (issue 21, items 1 and 4).

The printed text is extracted from the RFC by ``scripts/extract-abnf`` into
``tests/judge/rfc3261-verbatim.abnf`` (committed: the package never reads ``../shared``); here it
is extracted again when the RFC text is there, and must not drift. RFC 5954 is a patch of its
own. Every rule of ``grammar/rfc3261.abnf`` must read as printed (with RFC 5954), white space and
comments normalised, unless a row of the departures table at the top of the file holds exactly
its text: a row exempts that text, not the rule's name.
"""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

import pytest
from conftest import ROOT, SHARED
from judge.texts import (
    RFC3261_ABNF,
    RFC5954_PATCH,
    VERBATIM,
    baseline_text,
    departures,
    rule_map,
    undeparted_differences,
    verbatim_text,
)

RFC3261_TEXT = SHARED / "spec" / "rfc3261.txt"


def _extractor() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "extract_abnf", ROOT / "scripts" / "extract_abnf.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(not RFC3261_TEXT.exists(), reason="shared/spec/rfc3261.txt is not there")
def test_verbatim_text_is_extracted_from_the_rfc_without_drift() -> None:
    """tests/judge/rfc3261-verbatim.abnf is what scripts/extract-abnf makes of the RFC."""
    got = _extractor().extract(RFC3261_TEXT.read_text(encoding="utf-8"))
    assert got == VERBATIM.read_text(encoding="ascii"), "run scripts/extract-abnf"


def test_verbatim_text_has_section_25_whole_and_its_errata_marked() -> None:
    text = verbatim_text()
    rules = rule_map(text)
    assert len(rules) > 270
    # The page break inside message-header is closed up: one rule, every alternative in it.
    assert rules["message-header"].normal.count("/") == 44
    assert "Reply-To" in rules["message-header"].body and "Require" in rules["message-header"].body
    # The prose and page furniture are gone.
    assert (
        "Rosenberg" not in text and "\f" not in text and "can be found in RFC 2806 [9]" not in text
    )
    # Three errata, each marked where applied.
    assert text.count("\n; ERRATUM:") == 2  # the first marks two, in one rule
    assert rules["digest-uri-value"].normal == "request-uri"
    assert "global-number" in rules["telephone-subscriber"].normal
    # RFC 5954 is not applied here.
    assert "hexpart" in rules and "h16" not in rules


def test_rfc5954_is_a_patch_of_its_own() -> None:
    before, after = rule_map(verbatim_text()), rule_map(baseline_text())
    assert before.keys() - after.keys() == {"hexpart", "hexseq", "hex4"}
    assert after.keys() - before.keys() == {"h16", "ls32", "dec-octet"}
    changed = {k for k in before.keys() & after.keys() if before[k].normal != after[k].normal}
    assert changed == {"ipv4address", "ipv6address"}
    assert "RFC 5954" in RFC5954_PATCH.read_text(encoding="ascii")


def test_grammar_is_the_printed_text_but_for_its_departures() -> None:
    """Rule by rule: no rule of grammar/rfc3261.abnf differs without a row holding its text."""
    problems = undeparted_differences()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("rule", "old", "new"),
    [
        (
            "token",
            'token       =  1*(alphanum / "-"',
            'token       =  1*(alphanum / "@" / "-"',
        ),  # widened
        ("extension-code", "extension-code  =  3DIGIT", "extension-code  =  3*4DIGIT"),
        ("quoted-pair", '"\\" (%x00-09', '"\\" (%x01-09'),  # narrowed
        ("h16", "h16            =  1*4HEXDIG", "h16            =  1*5HEXDIG"),
        ("callid", 'callid   =  word [ "@" word ]', 'callid   =  word *( "@" word )'),
        ("ttl", "ttl               =  1*3DIGIT", "ttl               =  1*4DIGIT"),
        (
            "display-name",
            "\ndisplay-name   =  [ token *(LWS",
            "\ndisplay-name   =  [ token *(SWS",
        ),  # a row's rule
    ],
)
def test_a_changed_rule_fails_by_name(rule: str, old: str, new: str) -> None:
    """A rule widened or narrowed fails the comparison, named, even when a row departs from it
    (the row exempts its own text, not the rule's name)."""
    text = RFC3261_ABNF.read_text(encoding="ascii")
    assert text.count(old) == 1
    problems = undeparted_differences(text.replace(old, new))
    assert problems, f"{rule} changed, and the comparison did not see it"
    assert all(p.startswith(f"{rule}:") or f"text of {rule} " in p for p in problems), problems
    assert any(p.startswith(f"{rule}:") for p in problems), problems


def test_departures_table_is_machine_readable() -> None:
    rows = {r.id: r for r in departures()}
    assert set(rows) >= {
        "rfc5954",
        "display-name",
        "digest-uri-value",
        "telephone-subscriber",
        "angle-brackets",
        "sip-uri",
        "extensions",
    }
    for row in rows.values():
        assert re.search(r"RFC \d+", row.source), row
    assert rows["display-name"].where == "grammar" and rows["angle-brackets"].where == "compiler"
    assert [r.name for r in rows["digest-uri-value"].sets] == ["digest-uri-value", "rquest-uri"]
    assert rows["sip-uri"].where == "grammar"  # issue 11 defect 1, done in grammar/
