"""The probe's reports for machines (issue 13): the JSON carries every exchange's raw messages,
bounded, with its bounds stated, so a report can be replayed; ``--junit`` writes JUnit XML
for CI systems, one testcase per check."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sipfsm.cli.main import main as cli_main
from sipfsm.message.parse import parse
from sipfsm.probe.checks import CHECKS, Outcome
from sipfsm.probe.io import Event
from sipfsm.probe.junit import junit_xml
from sipfsm.probe.oracle import Base, Tolerance
from sipfsm.probe.report import RAW_LIMITS, exchanges_json, report_json
from sipfsm.probe.runner import CheckResult, ProbeConfig, Report, run
from sipfsm.probe.wire import summary

FAST = 0.05  # a scaled T1 (17.1.1.1): Timer H windows of 3.2 s, on the virtual clock


@pytest.fixture(scope="module")
def report() -> Report:
    """A failing check (a Timer G flaw), two passing ones, on the virtual clock."""
    cfg = ProbeConfig(
        checks=["invite-server-final-retransmit", "cancel", "cancel-unknown"],
        max_examples=2,
        max_shrinks=1,
        seed=1,
        t1=FAST,
        flaws=frozenset({"timer-g-2"}),
        virtual_clock=True,
    )
    return run(cfg, progress_stream=io.StringIO())


def test_every_exchange_is_in_the_json_with_its_raw_messages(report: Report) -> None:
    doc = report_json(report)
    assert doc["raw_messages"] == {**RAW_LIMITS, "encoding": "latin-1"}
    verdicts = {c["id"]: c["verdict"] for c in doc["checks"]}
    assert verdicts["invite-server-final-retransmit"] == "fail", verdicts
    for entry, result in zip(doc["checks"], report.results, strict=True):
        assert len(entry["exchanges"]) == result.examples >= 1, entry["id"]
        assert entry["exchanges_left_out"] == 0
        for exchange in entry["exchanges"]:
            assert exchange["messages"] and exchange["messages_left_out"] == 0
            for m in exchange["messages"]:
                assert m["dir"] in ("send", "recv") and m["transport"] in ("udp", "tcp")
                assert len(m["raw"]) == m["octets"] and "truncated" not in m
    failing = next(c for c in doc["checks"] if c["verdict"] == "fail")
    assert failing["exchanges"][0]["verdict"] == "fail"  # failing exchanges come first
    json.dumps(doc)  # all of it is JSON


def test_the_raw_messages_replay_the_trace(report: Report) -> None:
    """Each raw message, turned back into octets, is the message the trace summarises: the
    failing check's minimal exchange is among its exchanges, message for message."""
    doc = report_json(report)
    for entry, result in zip(doc["checks"], report.results, strict=True):
        replayed = [
            [(m["dir"], summary(m["raw"].encode("latin-1"))) for m in x["messages"]]
            for x in entry["exchanges"]
        ]
        shown = [(e.dir, e.summary) for e in result.trace if e.dir != "note"]
        sent = [e for e in result.trace if e.dir == "send"]
        assert sent and shown in replayed, entry["id"]
        for x in entry["exchanges"]:
            for m in x["messages"]:
                if m["dir"] == "send":
                    parse(m["raw"].encode("latin-1"))  # what the probe sent parses again


def _result(outcomes: list[Outcome]) -> CheckResult:
    res = CheckResult(CHECKS[0])
    res.exchanges = outcomes
    return res


def test_raw_messages_are_bounded_and_say_so() -> None:
    cap = RAW_LIMITS["max_octets_per_message"]
    big = b"OPTIONS sip:x SIP/2.0\r\n" + b"X" * (cap + 10)
    many = [Event(0.001 * i, "recv", "m", b"ab", "udp") for i in range(205)]
    exchange = Outcome("fail", "", "x", [Event(0.0, "send", "big", big, "tcp"), *many])
    passes = [Outcome("pass", "", "ok", [Event(0.0, "send", "s", b"s", "udp")]) for _ in range(45)]
    out = exchanges_json(_result([*passes, exchange]))
    assert len(out["exchanges"]) == RAW_LIMITS["max_exchanges_per_check"]
    assert out["exchanges_left_out"] == 46 - RAW_LIMITS["max_exchanges_per_check"]
    first = out["exchanges"][0]  # the failing exchange, though run last
    assert first["verdict"] == "fail"
    assert len(first["messages"]) == RAW_LIMITS["max_messages_per_exchange"]
    assert first["messages_left_out"] == 206 - RAW_LIMITS["max_messages_per_exchange"]
    cut = first["messages"][0]
    assert cut["truncated"] is True and cut["octets"] == len(big) and len(cut["raw"]) == cap
    assert cut["raw"].encode("latin-1") == big[:cap]


def test_a_flood_weighs_at_most_the_budget_of_its_check() -> None:
    """However much a peer sends, one check's raw messages stay within max_octets_per_check;
    what does not fit is counted, exchange by exchange."""
    cap = RAW_LIMITS["max_octets_per_message"]
    flood = [Event(0.0, "recv", "m", b"F" * cap, "udp") for _ in range(150)]
    outcomes = [Outcome("fail", "", "flood", list(flood)) for _ in range(5)]
    out = exchanges_json(_result(outcomes))
    kept = [m for x in out["exchanges"] for m in x["messages"]]
    assert sum(len(m["raw"]) for m in kept) <= RAW_LIMITS["max_octets_per_check"]
    assert len(kept) == RAW_LIMITS["max_octets_per_check"] // cap
    assert sum(x["messages_left_out"] for x in out["exchanges"]) == 5 * 150 - len(kept)


# --------------------------------------------------------------------------- JUnit


def test_junit_has_one_testcase_per_check(report: Report) -> None:
    root = ET.fromstring(junit_xml(report))
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [r.check.id for r in report.results]
    fails = [r for r in report.results if r.verdict == "fail"]
    assert suite.get("tests") == str(len(cases)) and suite.get("failures") == str(len(fails))
    assert root.get("failures") == str(len(fails))
    for case, result in zip(cases, report.results, strict=True):
        assert case.get("classname") == "sipfsm.probe.client"
        failure, skipped = case.find("failure"), case.find("skipped")
        if result.verdict == "fail":
            assert failure is not None and skipped is None
            assert failure.get("message") == result.observed
            assert result.expected in (failure.text or "")
            assert result.trace[0].summary in (failure.text or "")
        else:
            assert failure is None and skipped is None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["t1"] == f"{FAST:g}" and props["role"] == "client" and props["seed"] == "1"


def test_junit_skips_and_text_no_xml_can_hold() -> None:
    """A skip is <skipped> with its reason; the control characters a hostile peer sends back
    are written as \\xNN, and the document still parses."""
    skip, fail = CheckResult(CHECKS[0]), CheckResult(CHECKS[1])
    skip.verdict, skip.observed = "skip", "no final response"
    fail.verdict, fail.observed, fail.expected = "fail", "answered \x00\x1b[2J", "481"
    rep = Report("udp:127.0.0.1:5060", "client", "2026-01-01T00:00:00+00:00", 1.0,
                 [skip, fail], Base(), Tolerance())  # fmt: skip
    root = ET.fromstring(junit_xml(rep))
    cases = root.findall("testsuite/testcase")
    skipped = cases[0].find("skipped")
    assert skipped is not None and skipped.get("message") == "skip: no final response"
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("message") == "answered \\x00\\x1b[2J"
    assert root.get("skipped") == "1" and root.get("failures") == "1"


def test_cli_writes_junit_and_checks_its_path_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    probe = ("probe", "--virtual-clock", "--max-examples", "1", "--checks", "cancel-unknown")
    code = cli_main([*probe, "--junit", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, err  # a folder: before the probe
    assert err.startswith("sipfsm probe: --junit") and str(tmp_path) in err
    path = tmp_path / "ci" / "probe.xml"
    code = cli_main([*probe, "--junit", str(path)])
    out, _ = capsys.readouterr()
    assert code == 0 and f"JUnit report: {path}" in out
    (case,) = ET.parse(path).getroot().findall("testsuite/testcase")
    assert case.get("name") == "cancel-unknown" and not list(case)
