"""A bug of the probe is never a verdict about the target (docs/mutation.md, the probe shard's
survivors): a check that raises ends in ERROR, with the exception and its traceback, in the
table, the JSON report, the JUnit XML and the exit code (3); one exchange in error makes its
check ERROR whatever the others said; ``finish``'s cleanup absorbs only the transport's and the
run's own troubles, never a TypeError.

Beside them, the gaps the sampled mutants showed in the checks themselves: the skip reason of a
2xx that raced the CANCEL (9.2), the trigger that sent nothing or the wrong request, the
Contact of the probe's 2xx in role server (12.1.1: where the target sends the BYE), the
expected line of a non-INVITE client over TCP (17.1.2.2: no retransmission), the expected
timeline of the retransmitted INVITE (17.2.1), and the known checks an unknown one is told.

Some exchanges here run over loopback against a small scripted peer (a few datagrams, at a
scaled T1 of 10 ms); the whole probe runs on the virtual clock. No duration is asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from sipfsm.errors import SipfsmError
from sipfsm.message.message import Request, Response
from sipfsm.net.bounds import Bounds, LimitExceeded
from sipfsm.net.endpoint import Received, SipEndpoint
from sipfsm.probe import ProbeConfig, Report
from sipfsm.probe.checks import CHECKS, Check, Outcome, ProbeContext, Trigger, Users, by_id
from sipfsm.probe.checks.base import Params
from sipfsm.probe.checks.common import finish
from sipfsm.probe.example import run_example
from sipfsm.probe.io import Exchange, ProbeIO, Stopped, Target
from sipfsm.probe.junit import junit_xml
from sipfsm.probe.oracle import Base, Tolerance
from sipfsm.probe.report import report_json, table
from sipfsm.probe.runner import CheckResult, run
from sipfsm.probe.verdict import conclude
from sipfsm.probe.wire import Call, Local, Msg, response_to, token

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


@dataclass
class _Recording(Exchange):
    """An exchange that keeps what it would send."""

    sent: list[bytes] = field(default_factory=list)

    async def send(self, data: bytes, transport: str, host: str, port: int) -> float:
        self.sent.append(data)
        return self.now


_ECHOED = (
    "SIP/2.0 {status} Answer\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKcase\r\n"
    "From: <sip:probe@127.0.0.1>;tag={tag}\r\nTo: <sip:user@127.0.0.1>;tag=t\r\n"
    "Call-ID: a b@c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
)


@pytest.mark.parametrize(
    ("status", "tag", "acked"), [(486, "f1", True), (486, "f;;", False), (200, "f1", True)]
)
def test_the_malformed_check_cleans_up_after_an_echoed_defect(
    status: int, tag: str, acked: bool
) -> None:
    """SIPp's UAS answered a corpus INVITE whose Call-ID breaks the ABNF, echoing it (found by
    the peer run once such a ParseError was ERROR, not a hidden skip): the ACK echoes the
    Call-ID as written (17.1.1.3); a From tag that breaks its ABNF leaves no ACK to build,
    which the trace notes. Neither raises."""
    from sipfsm.probe.checks.malformed import _clean_up
    from sipfsm.probe.corpus import Case, Expectation

    data = _ECHOED.format(status=status, tag=tag).encode()
    case = Case(
        "badcallid",
        b"INVITE",
        ("a b@c",),
        "z9hG4bKcase",
        "INVITE",
        Expectation("8.2", frozenset({400})),
    )

    async def main() -> _Recording:
        ep = await SipEndpoint(host="127.0.0.1", udp_port=0, bounds=Bounds()).start()
        try:
            x = _Recording(ep, asyncio.Event(), "malformed")
            final = Msg.of(x.now, data, "udp", ("127.0.0.1", 9))
            assert final.response is not None
            local = Local("udp", "127.0.0.1", 5062)
            await _clean_up(_context(answer_wait=0.0), x, local, case, final.response, final)
            return x
        finally:
            await ep.close()

    x = asyncio.run(main())
    assert bool(x.sent) == acked, x.sent
    if acked:
        assert x.sent[0].startswith(b"ACK ") and b"\r\nCall-ID: a b@c\r\n" in x.sent[0]
    else:
        assert any("no ACK" in e.summary for e in x.trace), x.trace


# --------------------------------------------------------------------------- scripted peers


class RacingCallee:
    """A UAS that rings (180) and, when the CANCEL comes, answers the INVITE 200 before the
    CANCEL's 200: its 2xx raced the CANCEL, as 9.2 allows."""

    def __init__(self) -> None:
        self.ep: SipEndpoint | None = None
        self.tag = token(4)
        self.invite: Request | None = None
        self.tasks: set[asyncio.Future[None]] = set()

    async def start(self) -> RacingCallee:
        self.ep = await SipEndpoint(
            host="127.0.0.1", udp_port=0, bounds=Bounds(), on_message=self._got
        ).start()
        return self

    def _got(self, r: Received) -> None:
        req = r.parse()
        if not isinstance(req, Request) or req.method == "ACK":
            return
        if req.method == "INVITE":
            self.invite = req
            self._later(self._send(r, [response_to(req, 180, to_tag=self.tag)]))
        elif req.method == "CANCEL" and self.invite is not None:
            ok = response_to(self.invite, 200, to_tag=self.tag, contact=self.contact)
            self._later(self._send(r, [ok, response_to(req, 200, to_tag=self.tag)]))
        else:
            self._later(self._send(r, [response_to(req, 200, to_tag=self.tag)]))

    @property
    def contact(self) -> str:
        assert self.ep is not None
        return f"sip:callee@127.0.0.1:{self.ep.udp_addr[1]}"

    def _later(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, r: Received, messages: list[bytes]) -> None:
        assert self.ep is not None
        for data in messages:
            await self.ep.send(data, "udp", r.peer[0], r.peer[1])

    async def close(self) -> None:
        if self.ep is not None:
            await self.ep.close()


def test_a_2xx_that_raced_the_cancel_is_a_skip_saying_so() -> None:
    """9.2: a UAS may answer the INVITE 2xx before the CANCEL reaches it; no 487 then comes,
    and the CANCEL rule cannot be judged: a skip, with that reason (not a fail)."""

    async def main() -> Outcome:
        callee = await RacingCallee().start()
        assert callee.ep is not None
        target = Target(("udp",), "127.0.0.1", callee.ep.udp_addr[1])
        stop = asyncio.Event()
        pio = await ProbeIO(target, bounds=Bounds(), allow_remote=False, stop=stop).start()
        ctx = _context(target=target, stop=stop, io=pio, users=Users("bob", (), "ring"))
        ctx = replace(ctx, answer_wait=0.5)
        try:
            return await run_example(by_id(["cancel"])[0], ctx, {"transport": "udp", "delay": 0})
        finally:
            await pio.close()
            await callee.close()

    out = asyncio.run(main())
    assert out.verdict == "skip", out
    assert out.observed == "the INVITE was answered 2xx: it raced the CANCEL (9.2 allows)"
    sent = [e.summary for e in out.trace if e.dir == "send"]
    assert any(s.startswith("ACK") for s in sent) and any(s.startswith("BYE") for s in sent)


class Caller:
    """A target's client side, the trigger of role server: sends ``method`` (None: nothing) to
    the probe; after a 200 to its INVITE it ACKs and sends a BYE to the 2xx's Contact, the
    remote target of the dialog (12.1.2, 12.2.1.1)."""

    def __init__(self, method: str | None) -> None:
        self.method = method
        self.ep: SipEndpoint | None = None
        self.call: Call | None = None
        self.contact: str | None = None
        self.bye_to: tuple[str, int] | None = None
        self.tasks: set[asyncio.Future[None]] = set()

    async def start(self, kind: str, host: str, port: int, transport: str) -> None:
        if self.method is None:
            return
        self.ep = await SipEndpoint(
            host="127.0.0.1", udp_port=0, bounds=Bounds(), on_message=self._got
        ).start()
        self.call = Call(f"sip:probe@{host}:{port}", Local("udp", *self.ep.udp_addr))
        await self.ep.send(self.call.request(self.method), "udp", host, port)

    def _got(self, r: Received) -> None:
        resp = r.parse()
        invite = resp.cseq is not None and resp.cseq.method == "INVITE"
        if isinstance(resp, Response) and resp.status == 200 and invite and self.call is not None:
            task = asyncio.ensure_future(self._bye(resp))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _bye(self, resp: Response) -> None:
        assert self.ep is not None and self.call is not None
        with contextlib.suppress(SipfsmError, OSError):  # a Contact that is no address
            contacts = [c for c in resp.contact if hasattr(c, "uri")]
            self.contact = str(contacts[0].uri)
            uri = contacts[0].uri
            host, port = str(uri.host), int(uri.port or 5060)
            ack = self.call.ack_2xx(resp)
            await self.ep.send(ack, "udp", host, port)
            await self.ep.send(self.call.in_dialog("BYE"), "udp", host, port)
            self.bye_to = (host, port)

    async def stop(self) -> None:
        if self.ep is not None:
            await self.ep.close()


def _served(caller: Caller, check_id: str, params: Params) -> tuple[Outcome, list[int]]:
    """One exchange of role-server ``check_id`` with ``caller`` as the trigger; the outcome and
    the probe's listening port(s) the caller was given."""
    ports: list[int] = []

    class Recording:
        async def start(self, kind: str, host: str, port: int, transport: str) -> None:
            ports.append(port)
            await caller.start(kind, host, port, transport)

        async def stop(self) -> None:
            await caller.stop()

    def factory() -> Trigger:
        return Recording()

    ctx = _context(trigger_factory=factory, trigger_wait=0.5, answer_wait=0.5)
    return asyncio.run(run_example(by_id([check_id])[0], ctx, params)), ports


def test_the_probes_2xx_carries_the_contact_it_listens_on() -> None:
    """A target that answers the OPTIONS hint with an INVITE (SIPp's uac) gets 200 with a
    Contact, where it then sends its BYE (12.2.1.1); that BYE is the request judged."""
    caller = Caller("INVITE")
    out, ports = _served(caller, "non-invite-client-retransmit", {"transport": "udp"})
    assert caller.contact == f"sip:probe@127.0.0.1:{ports[0]}", caller.contact
    assert caller.bye_to == ("127.0.0.1", ports[0])
    assert out.expected.startswith("BYE retransmitted"), out
    assert any(e.dir == "recv" and e.summary.startswith("BYE") for e in out.trace), out.trace


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        (None, "the target sent no request within 0.5 s of the trigger"),
        ("OPTIONS", "the target sent OPTIONS; the check needs an INVITE"),
    ],
)
def test_ack_for_non_2xx_needs_an_invite(method: str | None, reason: str) -> None:
    out, _ = _served(
        Caller(method), "ack-for-non-2xx", {"transport": "udp", "delay": 0, "status": 486}
    )
    assert (out.verdict, out.observed) == ("skip", reason), out


# --------------------------------------------------------------------------- expected lines


def _virtual(check_id: str, role: str) -> CheckResult:
    cfg = ProbeConfig(checks=[check_id], role=role, max_examples=2, seed=1, virtual_clock=True)
    (res,) = run(cfg, progress_stream=io.StringIO()).results
    return res


def test_the_non_invite_client_expects_no_retransmission_over_tcp() -> None:
    """17.1.2.2: Timer E fires over UDP only; over TCP the expected line says none."""
    res = _virtual("non-invite-client-retransmit", "server")
    by_transport = {o.params["transport"]: o.expected for o in res.exchanges}
    assert set(by_transport) == {"udp", "tcp"}, by_transport
    assert by_transport["tcp"] == "no OPTIONS retransmission over TCP"
    assert by_transport["udp"].startswith("OPTIONS retransmitted 10 times (T1 doubling, cap T2=4)")


def test_the_expected_timeline_shows_each_retransmitted_invite() -> None:
    """17.2.1: the expected ladder of the absorbed retransmissions has each INVITE sent again,
    at the instant it was sent, on the same branch."""
    res = _virtual("invite-server-absorbs-retransmit", "client")
    assert res.verdict == "pass", res.observed
    sent = [e.t for e in res.trace if e.dir == "send" and e.summary.startswith("INVITE")][1:]
    again = [e.t for e in res.expected_trace if e.summary == "INVITE again (same branch)"]
    assert sent and again == sent, (sent, res.expected_trace)


def test_an_unknown_check_is_told_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown check") as info:
        by_id(["cancel", "no-such-check"])
    known = ", ".join(sorted(c.id for c in CHECKS))
    assert str(info.value) == f"unknown check(s) no-such-check; known: {known}"
