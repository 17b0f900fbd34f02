"""A bug of the probe is never a verdict about the target (docs/mutation.md, the probe shard's
survivors): a check that raises ends in ERROR, with the exception and its traceback, in the
table, the JSON report, the JUnit XML and the exit code (3); one exchange in error makes its
check ERROR whatever the others said; ``finish``'s cleanup absorbs only the transport's and the
run's own troubles, never a TypeError.
"""

from __future__ import annotations

import asyncio
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from sipfsm.net.bounds import Bounds, LimitExceeded
from sipfsm.net.endpoint import SipEndpoint
from sipfsm.probe import ProbeConfig, Report
from sipfsm.probe.checks import Check, Outcome, ProbeContext, Users, by_id
from sipfsm.probe.checks.base import Params
from sipfsm.probe.checks.common import finish
from sipfsm.probe.example import run_example
from sipfsm.probe.io import Exchange, Stopped, Target
from sipfsm.probe.junit import junit_xml
from sipfsm.probe.oracle import Base, Tolerance
from sipfsm.probe.report import report_json, table
from sipfsm.probe.runner import CheckResult, run
from sipfsm.probe.verdict import conclude
from sipfsm.probe.wire import Call, Local

FAST = Base.scaled(0.01)  # 64*T1 = 0.64 s


def _context(**kw: object) -> ProbeContext:
    ctx = ProbeContext(
        Target(("udp",), "127.0.0.1", 9), FAST, Tolerance(), Users(), asyncio.Event(), Bounds()
    )
    return replace(ctx, **kw)  # type: ignore[arg-type]


async def _raises(ctx: ProbeContext, p: Params) -> Outcome:
    """A check with a bug: the TypeError of ``finish(x, call, None, "udp")`` (ctx left out)."""
    raise TypeError("finish() missing 1 required positional argument: 'transport'")


def _broken(check_id: str = "cancel-unknown") -> Check:
    return replace(by_id([check_id])[0], exchange=_raises)


# --------------------------------------------------------------------------- the error verdict


def test_a_check_that_raises_ends_in_error_with_its_traceback() -> None:
    out = asyncio.run(run_example(_broken(), _context(), {"transport": "udp"}))
    assert out.verdict == "error", out
    assert "TypeError: finish() missing 1 required positional argument" in out.observed
    assert "a bug of the probe" in out.observed
    assert "Traceback" in out.traceback and "_raises" in out.traceback
    assert out.params == {"transport": "udp"}


@pytest.mark.parametrize(
    ("exc", "verdict", "reason"),
    [
        (Stopped(), "skip", "stopped before the exchange ended"),
        (LimitExceeded("max_messages", "10 sent"), "skip", "safety bound reached"),
        (ConnectionResetError("reset by peer"), "skip", "transport error: ConnectionResetError"),
        (TimeoutError("no answer"), "skip", "transport error: TimeoutError"),
        (AttributeError("'NoneType' object has no attribute 'method'"), "error", "AttributeError"),
        (AssertionError(), "error", "AssertionError"),
    ],
)
def test_only_the_probes_own_troubles_are_skips(exc: Exception, verdict: str, reason: str) -> None:
    """A transport error, a safety bound or the run's stop is a skip (nothing judged); any other
    exception is the probe's bug: ERROR, never a skip that a passing example beside it hides."""

    async def exchange(ctx: ProbeContext, p: Params) -> Outcome:
        raise exc

    check = replace(by_id(["cancel-unknown"])[0], exchange=exchange)
    out = asyncio.run(run_example(check, _context(), {}))
    assert (out.verdict, reason in out.observed) == (verdict, True), out
    assert bool(out.traceback) == (verdict == "error")


def _outcome(verdict: str) -> Outcome:
    return Outcome(
        verdict,
        "x",
        f"{verdict} seen",
        params={"transport": "udp"},
        traceback="Traceback ...\nTypeError: boom\n" if verdict == "error" else "",
    )


@pytest.mark.parametrize("others", [["pass", "pass"], ["pass", "fail"], ["skip", "inconclusive"]])
def test_one_exchange_in_error_makes_the_check_error(others: list[str]) -> None:
    """Passes beside an error do not make a PASS (the mutants of finish's callers survived as a
    skip among passes), nor does a failure make a FAIL: the check's code is broken."""
    recorded = [_outcome(v) for v in others] + [_outcome("error")]
    res = CheckResult(by_id(["cancel"])[0])
    fails = [o for o in recorded if o.verdict == "fail"]
    rerun = fails[0] if fails else None
    conclude(res, recorded, fails, _context(), rerun)
    assert res.verdict == "error", res.observed
    assert res.observed == "error seen (1 of 3 exchanges raised)"
    assert res.traceback.endswith("TypeError: boom\n")
    assert res.to_json()["traceback"] == res.traceback


def test_no_error_no_traceback() -> None:
    res = CheckResult(by_id(["cancel"])[0])
    conclude(res, [_outcome("pass")], [], _context())
    assert res.verdict == "pass" and res.to_json()["traceback"] is None


@pytest.fixture(scope="module")
def errored() -> Report:
    """A virtual-clock run of two checks, one of them broken."""
    with pytest.MonkeyPatch.context() as mp:
        real = by_id

        def with_a_bug(ids: list[str] | None = None, role: str | None = None) -> list[Check]:
            return [_broken() if c.id == "cancel-unknown" else c for c in real(ids, role)]

        mp.setattr("sipfsm.probe.runner.by_id", with_a_bug)
        cfg = ProbeConfig(
            checks=["cancel-unknown", "non-invite-server-absorbs-retransmit"],
            max_examples=2,
            seed=1,
            virtual_clock=True,
        )
        return run(cfg, progress_stream=io.StringIO())


def test_the_report_shows_the_error(errored: Report) -> None:
    seen = {r.check.id: r.verdict for r in errored.results}
    assert seen == {"cancel-unknown": "error", "non-invite-server-absorbs-retransmit": "pass"}
    assert errored.errored and not errored.failed
    doc = report_json(errored)
    assert doc["summary"] == {"pass": 1, "fail": 0, "skip": 0, "inconclusive": 0, "error": 1}
    (bad,) = [c for c in doc["checks"] if c["verdict"] == "error"]
    assert "TypeError" in bad["observed"] and "TypeError: finish()" in bad["traceback"]
    assert bad["exchanges"] and all("TypeError" in e["traceback"] for e in bad["exchanges"])
    json.dumps(doc)  # plain JSON
    text = table(errored)
    assert "ERROR" in text and "1 in error (a bug of the probe)" in text
    assert "ERROR cancel-unknown (9.2): probe error" in text and "Traceback" in text


def test_junit_reports_the_error_as_an_error(errored: Report) -> None:
    root = ET.fromstring(junit_xml(errored))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("errors"), suite.get("failures"), suite.get("skipped")) == ("1", "0", "0")
    (case,) = [c for c in suite.iter("testcase") if c.get("name") == "cancel-unknown"]
    (error,) = list(case)
    assert error.tag == "error" and "TypeError" in (error.get("message") or "")
    assert "Traceback" in (error.text or "")


def test_cli_exits_3_on_an_error(
    errored: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sipfsm.cli.main import main as cli_main

    monkeypatch.setattr("sipfsm.cli.probe.run_probe", lambda cfg: errored)
    out = tmp_path / "r.json"
    assert cli_main(["probe", "--virtual-clock", "--json", str(out)]) == 3
    assert json.loads(out.read_text())["summary"]["error"] == 1
    (error,) = [r for r in errored.results if r.verdict == "error"]
    (passed,) = [r for r in errored.results if r.verdict == "pass"]
    failed = replace(passed, verdict="fail")
    both = replace(errored, results=[error, failed])
    monkeypatch.setattr("sipfsm.cli.probe.run_probe", lambda cfg: both)
    assert cli_main(["probe", "--virtual-clock"]) == 3  # error before fail
    monkeypatch.setattr("sipfsm.cli.probe.run_probe", lambda cfg: replace(both, results=[failed]))
    assert cli_main(["probe", "--virtual-clock"]) == 1


def test_the_help_documents_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    from sipfsm.cli.main import main as cli_main

    with pytest.raises(SystemExit):
        cli_main(["probe", "--help"])
    helped = " ".join(capsys.readouterr().out.split())
    assert "3 a check ended in ERROR" in helped and "1 a check failed" in helped


# --------------------------------------------------------------------------- finish's cleanup


@dataclass
class _Failing(Exchange):
    """An exchange whose every send raises ``failure``."""

    failure: Exception | None = None

    async def send(self, data: bytes, transport: str, host: str, port: int) -> float:
        assert self.failure is not None
        raise self.failure


@pytest.mark.parametrize(
    ("failure", "absorbed"),
    [
        (ConnectionRefusedError("refused"), True),
        (TimeoutError(), True),
        (Stopped(), True),
        (LimitExceeded("closed", "endpoint closed"), True),
        (TypeError("send_to_target() missing 1 required positional argument"), False),
        (ValueError("unknown transport 'XXudpXX'"), False),
    ],
)
def test_finish_absorbs_only_the_expected_failures(failure: Exception, absorbed: bool) -> None:
    """The cleanup (9.1: CANCEL a call still ringing) is best effort against the transport, the
    run's stop and the safety bounds; a programming error goes through."""

    async def main() -> None:
        ep = await SipEndpoint(host="127.0.0.1", udp_port=0, bounds=Bounds()).start()
        try:
            x = _Failing(ep, asyncio.Event(), "finish", failure=failure)
            call = Call("sip:ring@127.0.0.1:9", Local("udp", "127.0.0.1", ep.udp_addr[1]))
            call.request("INVITE")
            await finish(_context(), x, call, None, "udp")
        finally:
            await ep.close()

    if absorbed:
        asyncio.run(main())
    else:
        with pytest.raises(type(failure)):
            asyncio.run(main())
