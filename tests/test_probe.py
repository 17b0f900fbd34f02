"""``sipfsm probe``: the oracle, the embedded reference UA (must pass everything), a broken
reference UA (must be caught, with a shrunk minimal trace and a ladder), the CLI's exit codes
and JSON, Ctrl-C, and real peers (``peer``: Kamailio, SIPp as UAS and UAC, baresip).

The reference UA is judged on the virtual clock (``virtual_clock``: every timer at its
deadline, so a verdict never depends on how busy the machine is); over loopback in real time
only by the checks whose tolerance is seconds, and the runs that must fail or are interrupted.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from sipfsm.probe import ProbeConfig, Report, probe
from sipfsm.probe.checks import Users
from sipfsm.probe.corpus import EXPECT, corpus_available, corpus_cases
from sipfsm.probe.io import UsageError, parse_target
from sipfsm.probe.oracle import Base, Tolerance, doubling, judge_train
from sipfsm.probe.report import ladder_dot, table, write_ladders
from sipfsm.probe.runner import run as run_probe_on

pytest_plugins = ["peers"]

ROOT = Path(__file__).resolve().parent.parent
SIPFSM = [sys.executable, "-m", "sipfsm"]
FAST = 0.05  # a scaled T1 (17.1.1.1): Timer H / J / B / F windows are 3.2 s
#: T1 of the virtual-clock runs: the RFC's (Table 4), and a scaled one.
T1S = [pytest.param(None, id="t1=0.5"), pytest.param(FAST, id="t1=0.05")]
#: The checks whose tolerance is seconds (no retransmission train is timed): the ones a real-time
#: run on a busy machine can judge without lag deciding the verdict.
TIMED_IN_SECONDS = {
    "client": ["cancel", "cancel-unknown", "malformed"],
    "server": ["ack-for-non-2xx", "ack-for-2xx"],
}


def run_probe(cfg: ProbeConfig, timeout: float = 120.0) -> Report:
    """In real time over loopback; ``timeout`` only catches hangs."""

    async def main() -> Report:
        return await asyncio.wait_for(probe(cfg), timeout)

    return asyncio.run(main())


def run_virtual(cfg: ProbeConfig) -> Report:
    """On the virtual clock (the reference UA in this process)."""
    cfg.virtual_clock = True
    return run_probe_on(cfg, progress_stream=io.StringIO())


def in_error(report: Report) -> dict[str, list[str]]:
    """The exchanges of each check that raised (the probe's own bugs): id -> their exception.
    None may: a bug of the probe is no verdict about the reference UA."""
    return {
        r.check.id: [o.observed for o in r.exchanges if o.verdict == "error"]
        for r in report.results
        if r.verdict == "error" or any(o.verdict == "error" for o in r.exchanges)
    }


# --------------------------------------------------------------------------- the oracle


def test_table4_values() -> None:
    """RFC 3261 Table 4 with the default T1 = 500 ms, T2 = 4 s, T4 = 5 s."""
    udp, tcp = Base().table4(False), Base().table4(True)
    assert udp == {
        "A": 0.5,
        "B": 32.0,
        "D": 32.0,
        "E": 0.5,
        "F": 32.0,
        "G": 0.5,
        "H": 32.0,
        "I": 5.0,
        "J": 32.0,
        "K": 5.0,
    }
    assert tcp["A"] is None and tcp["E"] is None and tcp["G"] is None
    assert tcp["I"] == tcp["J"] == tcp["K"] == tcp["D"] == 0.0
    assert tcp["B"] == tcp["F"] == tcp["H"] == 32.0
    assert Base.scaled(0.05) == Base(0.05, 0.4, 0.5)


def test_retransmission_schedules() -> None:
    """17.2.1 Timer G (cap T2), 17.1.1.2 Timer A (no cap), within 64*T1."""
    assert doubling(0.5, 4.0, 32.0) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert doubling(0.5, None, 32.0) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert doubling(0.05, 0.4, 3.2)[:5] == pytest.approx([0.05, 0.15, 0.35, 0.75, 1.15])


def test_judge_train() -> None:
    exp = doubling(0.5, 4.0, 32.0)
    tol = Tolerance()
    assert judge_train(10.0, [10.0 + e + 0.02 for e in exp], exp, 32.0, tol).ok
    # JsSIP's bug: retransmissions stop once the interval reaches T2
    v = judge_train(10.0, [10.0 + e for e in exp[:3]], exp, 32.0, tol)
    assert not v.ok and "3 retransmission(s) seen; expected 10" in v.problem
    # an interval off by more than max(50 ms, 10%)
    late = [10.5, 11.5 + 0.2]
    assert not judge_train(10.0, late, exp, 32.0, tol).ok
    # retransmitting after Timer H
    assert not judge_train(10.0, [10.0 + e for e in [*exp, 35.5]], exp, 32.0, tol).ok
    # watching only part of the train (we sent the ACK)
    assert judge_train(10.0, [10.5, 11.5], exp, 32.0, tol, watched_until=11.6).ok


def test_responses_match_their_client_transaction_per_17_1_3() -> None:
    """A response matches our request's transaction by top Via branch, sent-by and CSeq method
    (17.1.3), never by Call-ID: another branch, sent-by or method is someone else's."""
    from sipfsm.message.message import Request
    from sipfsm.message.parse import parse
    from sipfsm.probe.wire import Call, Local, Msg, response_to

    call = Call("sip:bob@127.0.0.1:5070", Local("udp", "127.0.0.1", 40000))
    invite = parse(call.request("INVITE"))
    assert isinstance(invite, Request)
    resp = response_to(invite, 486, to_tag="t1")

    def msg(data: bytes) -> Msg:
        return Msg.of(0.0, data, "udp", ("127.0.0.1", 5070))

    # received/rport added by the target (18.2.1, RFC 3581) and the host's case do not matter
    echoed = resp.replace(b";rport", b";rport=40000;received=127.0.0.1").replace(
        b"127.0.0.1:40000", b"127.0.0.1:40000".upper()
    )
    assert call.matches(msg(resp), "INVITE") and call.matches(msg(echoed), "INVITE")
    assert not call.matches(msg(resp), "CANCEL")
    other_branch = resp.replace(call.branch.encode(), b"z9hG4bKsomeoneelse")
    other_sent_by = resp.replace(b"127.0.0.1:40000", b"127.0.0.1:40001")
    other_method = resp.replace(b"1 INVITE", b"1 OPTIONS")
    for data in (other_branch, other_sent_by, other_method):
        assert not call.matches(msg(data), "INVITE"), data
    # the CANCEL has the INVITE's branch (9.1): the CSeq method tells their responses apart
    cancel = parse(call.cancel())
    assert isinstance(cancel, Request)
    ok = msg(response_to(cancel, 200, to_tag="t1"))
    assert call.matches(ok, "CANCEL") and not call.matches(ok, "INVITE")
    # a new Call-ID on a matching response changes nothing: 17.1.3 does not look at it
    assert call.matches(msg(resp.replace(call.call_id.encode(), b"other@x")), "INVITE")
    # a torture request's Via echoed by the peer (8.2.6.2), unreadable by the Via view: the
    # branch and sent-by we wrote are still found in the top value, on its own line or
    # joined with the rest on one line; someone else's branch still does not match
    broken = resp.replace(b";rport", b";rport;;,;,,")
    joined = resp.replace(b";rport\r\n", b";rport, SIP/2.0/UDP 192.0.2.15;;,;,,\r\n")
    assert broken != resp and joined != resp
    assert call.matches(msg(broken), "INVITE") and call.matches(msg(joined), "INVITE")
    assert not call.matches(msg(broken.replace(call.branch.encode(), b"z9hG4bKx")), "INVITE")


def test_targets() -> None:
    t = parse_target("sip:bob@127.0.0.1:5090;transport=tcp")
    assert (t.transports, t.host, t.port, t.user) == (("tcp",), "127.0.0.1", 5090, "bob")
    assert parse_target("udp:127.0.0.1:5070").transports == ("udp",)
    assert parse_target("udp+tcp:localhost:5070").transports == ("udp", "tcp")
    with pytest.raises(UsageError):
        parse_target("http://127.0.0.1")
    from sipfsm.net.aio import TargetRefused

    with pytest.raises(TargetRefused):
        parse_target("udp:192.0.2.1:5060")


@pytest.mark.skipif(not corpus_available(), reason="RFC 4475 corpus not beside the project")
def test_corpus_rewritten_for_the_target() -> None:
    cases = corpus_cases("127.0.0.1:5070", "127.0.0.1:40000", user="bob")
    assert {c.name for c in cases} == set(EXPECT)
    ids = [cid for c in cases for cid in c.call_ids]
    assert len(ids) == len(set(ids))
    for c in cases:
        assert b"127.0.0.1:40000" in c.data, c.name
        if c.name not in ("unkscm", "novelsc"):
            assert b"127.0.0.1:5070" in c.data.split(b"\r\n", 1)[0], c.name
    bad = next(c for c in cases if c.name == "badbranch")
    assert bad.branch == "z9hG4bK"  # the defect under test is kept


# --------------------------------------------------------------------------- embedded target


@pytest.mark.parametrize("t1", T1S)
def test_reference_ua_passes_every_client_check(t1: float | None) -> None:
    """The checks do not accuse a correct implementation (role client)."""
    report = run_virtual(ProbeConfig(t1=t1, max_examples=3, seed=1))
    verdicts = {r.check.id: (r.verdict, r.observed) for r in report.results}
    assert all(v == "pass" for v, _ in verdicts.values()), verdicts
    assert not in_error(report), in_error(report)
    # It ran to its end, not to its --duration deadline.
    assert report.stopped_by is None and not report.interrupted


@pytest.mark.parametrize("t1", T1S)
def test_reference_ua_passes_every_server_check(t1: float | None) -> None:
    """Role server: the reference UA sends, the probe judges its client side."""
    report = run_virtual(ProbeConfig(t1=t1, max_examples=3, role="server", seed=1))
    verdicts = {r.check.id: (r.verdict, r.observed) for r in report.results}
    assert all(v == "pass" for v, _ in verdicts.values()), verdicts
    assert not in_error(report), in_error(report)
    assert report.stopped_by is None and not report.interrupted


@pytest.mark.parametrize("role", ["client", "server"])
def test_reference_ua_over_loopback_in_real_time(role: str) -> None:
    """The reference UA in its own process over loopback sockets, at the RFC's T1, passes the
    checks a busy machine cannot sway (the timed trains are judged on the virtual clock)."""
    report = run_probe(
        ProbeConfig(role=role, checks=TIMED_IN_SECONDS[role], max_examples=2, seed=1)
    )
    verdicts = {r.check.id: (r.verdict, r.observed) for r in report.results}
    assert set(verdicts) == set(TIMED_IN_SECONDS[role])
    assert all(v == "pass" for v, _ in verdicts.values()), verdicts
    assert not in_error(report), in_error(report)
    assert "virtual" not in report.target and report.stopped_by is None


@pytest.mark.parametrize(
    ("flaw", "check"),
    [
        ("timer-g-2", "invite-server-final-retransmit"),
        ("2xx-until-t2", "uas-2xx-retransmit"),
    ],
)
def test_broken_reference_ua_is_caught(flaw: str, check: str, tmp_path: Path) -> None:
    """A reference UA that stops Timer G after two retransmissions, or stops retransmitting
    its 2xx once the interval reaches T2 (JsSIP's bug), fails with a minimal trace."""
    report = run_virtual(
        ProbeConfig(
            t1=FAST, max_examples=4, checks=[check], flaws=frozenset({flaw}), seed=2, max_shrinks=4
        )
    )
    (r,) = report.results
    assert r.verdict == "fail", r.observed
    assert "retransmission(s) seen" in r.observed
    recv = [e for e in r.trace if e.dir == "recv"]
    assert recv and r.expected_trace
    assert len(r.expected_trace) > len(recv)  # the oracle expected more than came
    # the minimal exchange: UDP for Timer G (TCP has no Timer G: it passes)
    if check == "invite-server-final-retransmit":
        assert r.params["transport"] == "udp"
    else:
        assert r.params["k"] >= 3  # fewer retransmissions do not expose the bug
    written = write_ladders(report, tmp_path)
    assert (tmp_path / f"{check}.dot").exists()
    if any(p.suffix == ".svg" for p in written):
        assert "<svg" in (tmp_path / f"{check}.svg").read_text()
    assert "expected (oracle" in ladder_dot(r, report.target)
    text = table(report)
    assert "FAIL" in text and check in text and "minimal exchange" in text


def test_absorbs_retransmit_follows_the_last_response() -> None:
    """17.2.1: a UAS that rings, then declines with 603, answers a retransmitted INVITE in
    Completed with that 603: the probe expects the last response sent, not the first 180."""
    report = run_virtual(
        ProbeConfig(
            checks=["invite-server-absorbs-retransmit"],
            users=Users("answer", (), "ring-603"),
            max_examples=5,
            seed=1,
        )
    )
    (r,) = report.results
    assert r.verdict == "pass", r.observed
    assert "180, then 603" in r.expected, r.expected  # a retransmission came after the 603
    assert any("603" in e.summary and e.dir == "recv" for e in r.trace), r.trace


def test_the_probe_offers_a_session_and_answers_an_offer_in_the_ack() -> None:
    """13.2.1: the probe's INVITE carries an SDP offer, the same in every copy; 13.2.2.4: the
    ACK of a 2xx carrying an offer (the INVITE had none) carries the answer, one m= line per
    offered one; when we offered, the 2xx holds the answer and the ACK no body."""
    from sipfsm.message.message import Request
    from sipfsm.message.parse import parse
    from sipfsm.probe import sdp
    from sipfsm.probe.wire import Call, Local, response_to

    local = Local("udp", "127.0.0.1", 40000)
    call = Call("sip:bob@127.0.0.1:5070", local, offer=sdp.offer(local.host))
    first = call.request("INVITE")
    invite = parse(first)
    assert isinstance(invite, Request) and sdp.carries_sdp(invite)
    assert b"m=audio " in invite.body and b"c=IN IP4 127.0.0.1" in invite.body
    assert call.request("INVITE", new_branch=False) == first  # a retransmission is a copy
    assert not sdp.carries_sdp(parse(call.request("OPTIONS")))

    peer_offer = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    peer_offer += b"m=audio 4000 RTP/AVP 8 0\r\nm=video 4002 RTP/AVP 96\r\n"

    def two_hundred(c: Call, body: bytes) -> Any:
        req = parse(c.request("INVITE"))
        assert isinstance(req, Request)
        raw = response_to(req, 200, to_tag="t9", contact="sip:bob@127.0.0.1:5070")
        head = raw[: -len(b"Content-Length: 0\r\n\r\n")]
        return parse(
            head
            + b"Content-Type: application/sdp\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    bare = Call("sip:bob@127.0.0.1:5070", local)  # an INVITE without an offer
    ack = parse(bare.ack_2xx(two_hundred(bare, peer_offer)))
    assert isinstance(ack, Request) and ack.method == "ACK" and sdp.carries_sdp(ack)
    media = [line for line in ack.body.split(b"\r\n") if line.startswith(b"m=")]
    assert media == [b"m=audio 9 RTP/AVP 8", b"m=video 9 RTP/AVP 96"]
    offered = parse(call.ack_2xx(two_hundred(call, sdp.answer(first, local.host))))
    assert isinstance(offered, Request) and not offered.body


def test_the_probe_answers_every_request_of_the_target_at_once() -> None:
    """A request of the target gets its answer the moment it arrives (a BYE ending a call of
    an exchange: 200, 15.1.2), in the exchange's trace; a BYE of no exchange 481 (12.2.2),
    OPTIONS 200 (11.2), a method the probe lacks 501; an ACK nothing."""
    from sipfsm.net.aio import Bounds, Received, SipEndpoint
    from sipfsm.probe.io import ProbeIO, Target
    from sipfsm.sim.aio_clock import run as run_on_virtual_clock

    def request(method: str, call_id: str, port: int) -> bytes:
        return (
            f"{method} sip:probe@127.0.0.1:{port} SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKpeer" + call_id + "\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:bob@127.0.0.1>;tag=b1\r\n"
            "To: <sip:probe@127.0.0.1>;tag=p1\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 7 {method}\r\nContent-Length: 0\r\n\r\n"
        ).encode()

    async def main() -> tuple[list[tuple[float, bytes]], list[str], float]:
        got: list[tuple[float, bytes]] = []
        loop = asyncio.get_running_loop()

        def heard(r: Received) -> None:
            got.append((loop.time(), r.data))

        stop = asyncio.Event()
        peer = await SipEndpoint(udp_port=5070, on_message=heard).start()
        io = await ProbeIO(
            Target(("udp",), "127.0.0.1", 5070), bounds=Bounds(), allow_remote=False, stop=stop
        ).start()
        x = io.exchange("test")
        x.watch("call-a")
        port = io.ep.udp_addr[1]
        t0 = loop.time()
        for method, cid in [("BYE", "call-a"), ("BYE", "call-z"), ("OPTIONS", "o"), ("INFO", "i")]:
            await peer.send(request(method, cid, port), "udp", "127.0.0.1", port)
        await peer.send(request("ACK", "call-a", port), "udp", "127.0.0.1", port)
        await asyncio.sleep(1.0)
        trace = [e.summary for e in x.trace if e.dir == "send"]
        await io.close()
        await peer.close()
        return got, trace, t0

    got, trace, t0 = run_on_virtual_clock(main())
    lines = sorted(data.split(b"\r\n", 1)[0] + b" " + _call_id(data) for _, data in got)
    assert lines == [
        b"SIP/2.0 200 OK call-a",
        b"SIP/2.0 200 OK o",
        b"SIP/2.0 481 Call/Transaction Does Not Exist call-z",
        b"SIP/2.0 501 Not Implemented i",
    ], lines
    assert all(t == t0 for t, _ in got), got  # at once: no virtual time passed
    assert trace == ["200 OK (BYE) tag=p1"], trace


def _call_id(data: bytes) -> bytes:
    return next(v.split(b": ", 1)[1] for v in data.split(b"\r\n") if v.startswith(b"Call-ID"))


# --------------------------------------------------------------------------- the CLI


def cli(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SIPFSM, "probe", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def test_cli_exit_0_and_json(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = cli(
        "--virtual-clock",
        "--max-examples",
        "2",
        "--checks",
        "invite-server-ack-stops-retransmit,cancel,cancel-unknown",
        "--json",
        str(out),
        "--progress",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(out.read_text())
    assert {"target", "role", "started", "duration", "checks"} <= set(doc)
    assert doc["role"] == "client"
    for c in doc["checks"]:
        assert {"id", "rfc", "verdict", "expected", "observed", "trace"} <= set(c)
        assert c["verdict"] in ("pass", "fail", "skip", "inconclusive")  # no "error"
        for e in c["trace"]:
            assert set(e) == {"t", "dir", "summary"}
    assert "cancel-unknown" in done.stdout and "PASS" in done.stdout
    assert "checks done" in done.stderr and "ETA" in done.stderr  # --progress, on stderr


def test_cli_exit_1_with_ladder(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = cli(
        "--virtual-clock",
        "--t1",
        str(FAST),
        "--max-examples",
        "2",
        "--max-shrinks",
        "2",
        "--checks",
        "invite-server-final-retransmit",
        "--flaw",
        "timer-g-2",
        "--json",
        str(out),
        "--report-dir",
        str(tmp_path / "ladders"),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    doc = json.loads(out.read_text())
    (c,) = doc["checks"]
    assert c["verdict"] == "fail" and c["trace"] and c["expected_trace"]
    assert (tmp_path / "ladders" / "invite-server-final-retransmit.dot").exists()
    assert "checks done" not in done.stderr  # no --progress, stderr not a terminal


@pytest.mark.parametrize(
    "args",
    [
        ["udp:192.0.2.1:5060"],  # not loopback, no --allow-remote
        ["sip:bob@10.1.2.3:5060"],
        ["ftp:127.0.0.1"],  # not a target
        ["--checks", "no-such-check"],
        ["--role", "server", "udp:127.0.0.1:5999"],  # server without --trigger
        ["--virtual-clock", "udp:127.0.0.1:5999"],  # a live target keeps its own time
    ],
)
def test_cli_usage_errors_exit_2(args: list[str]) -> None:
    done = cli(*args, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_cli_unreachable_exit_2() -> None:
    from peer_harness import free_port

    done = cli(f"udp:127.0.0.1:{free_port()}", "--checks", "cancel-unknown", timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "unreachable" in done.stderr


def _wait_for_line(stream: IO[str], needle: str, seen: list[str], timeout: float) -> bool:
    """Read ``stream`` (in a thread, into ``seen``) until a line contains ``needle``; False if
    none did within ``timeout`` s (a bound that only catches hangs). Reading goes on to EOF."""
    found = threading.Event()

    def read() -> None:
        for line in stream:
            seen.append(line)
            if needle in line:
                found.set()

    threading.Thread(target=read, daemon=True).start()
    return found.wait(timeout)


def test_ctrl_c_stops_cleanly_with_a_partial_report(tmp_path: Path) -> None:
    """SIGINT once the checks run (the progress line names them; Timer H windows are 32 s at
    T1 = 0.5 s): every wait ends at once, the report says which checks it stopped."""
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        [*SIPFSM, "probe", "--t1", "0.5", "--json", str(out), "--progress"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr: list[str] = []
    try:
        assert proc.stderr is not None and proc.stdout is not None
        assert _wait_for_line(proc.stderr, " running (", stderr, 120), "".join(stderr)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
        stdout = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = stdout + "".join(stderr)
    assert proc.returncode == 130, text
    doc = json.loads(out.read_text())
    assert doc["interrupted"] is True and doc["stopped_by"] == "SIGINT", doc
    stopped = [c for c in doc["checks"] if "stopped" in c["observed"]]
    assert stopped and all(c["verdict"] == "skip" for c in stopped), doc["checks"]
    assert "partial" in text


# --------------------------------------------------------------------------- real peers


def _probe_cmd(target: str, out: Path, *extra: str) -> list[str]:
    return [
        *SIPFSM,
        "probe",
        target,
        "--max-examples",
        "1",
        "--max-shrinks",
        "0",
        "--seed",
        "1",
        "--duration",
        "150",
        "--json",
        str(out),
        "--report-dir",
        str(out.parent / (out.stem + "-ladders")),
        *extra,
    ]


@pytest.fixture(scope="module")
def peer_reports(
    kamailio: Any, baresip: Any, linphone: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[int, dict[str, Any], str]]]:
    """Every peer probed at once (the 32 s Timer H/J/B/F windows overlap): Kamailio over UDP
    and TCP, SIPp's UAS, baresip, Linphone, and SIPp's UAC in role server."""
    from peer_harness import SippUas, free_port

    base = tmp_path_factory.mktemp("probe")
    uas = SippUas(base / "sipp_uas", port=free_port(5080), calls=1000, timeout=260).start()
    port = free_port(5081)
    uac = (
        "sipp -sn uac {host}:{port} -s probe -i 127.0.0.1 -p {free_port} -m 1 -nostdin -timeout 45s"
    )
    runs = {
        "kamailio": _probe_cmd(f"udp+tcp:127.0.0.1:{kamailio.port}", base / "kamailio.json"),
        "sipp-uas": _probe_cmd(f"udp:127.0.0.1:{uas.port}", base / "sipp-uas.json"),
        "baresip": _probe_cmd(baresip.uri, base / "baresip.json"),
        "linphone": _probe_cmd(linphone.uri, base / "linphone.json"),
        "sipp-uac": _probe_cmd(
            f"udp:127.0.0.1:{port}", base / "sipp-uac.json", "--role", "server", "--trigger", uac
        ),
    }
    procs = {
        k: subprocess.Popen(v, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k, v in runs.items()
    }
    results: dict[str, tuple[int, dict[str, Any], str]] = {}
    try:
        for name, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=260)
            path = base / f"{name}.json"
            doc = json.loads(path.read_text()) if path.exists() else {}
            results[name] = (proc.returncode, doc, stdout + stderr)
            if os.environ.get("SIPFSM_FINDINGS_DIR"):  # keep the evidence for docs/
                dest = Path(os.environ["SIPFSM_FINDINGS_DIR"])
                dest.mkdir(parents=True, exist_ok=True)
                (dest / f"{name}.txt").write_text(stdout)
                if path.exists():
                    (dest / f"{name}.json").write_text(path.read_text())
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
        uas.stop()
    yield results


def _assert_verdicts(result: tuple[int, dict[str, Any], str], role: str) -> None:
    code, doc, output = result
    assert code in (0, 1), output[-3000:]
    assert doc.get("role") == role
    checks = doc["checks"]
    assert checks and all(c["verdict"] in ("pass", "fail", "skip", "inconclusive") for c in checks)
    # no check ended in error (exit 3): a bug of the probe is no verdict about the peer
    errors = {c["id"]: c["traceback"] for c in checks if c["verdict"] == "error"}
    assert not errors and not any("probe error" in c["observed"] for c in checks), errors
    assert any(c["verdict"] != "skip" for c in checks), output[-3000:]
    assert (code == 1) == any(c["verdict"] == "fail" for c in checks)


#: The verdicts known per peer and version (issue 22, item 8): tests/peer_verdicts.toml.
PINNED: dict[str, dict[str, dict[str, dict[str, Any]]]] = tomllib.loads(
    (Path(__file__).with_name("peer_verdicts.toml")).read_text(encoding="utf-8")
)
#: The binary whose version keys each peer run's pins.
PEER_PROGRAMS = {
    "kamailio": "kamailio",
    "sipp-uas": "sipp",
    "baresip": "baresip",
    "linphone": "linphone",
    "sipp-uac": "sipp",
}


#: The reason of an INCONCLUSIVE that says nothing of the peer: the probe's own lag (defect 6).
OWN_LAG = "the probe's own lag reached"


def _pin_problems(pins: dict[str, dict[str, Any]], seen: dict[str, tuple[str, str]]) -> list[str]:
    """Where the verdicts ``seen`` (id -> verdict, observed) differ from ``pins``. An
    INCONCLUSIVE for the probe's own lag matches every pin (it judged nothing of the peer);
    any other INCONCLUSIVE matches only a pin with its reason: ``observed`` of a pinned one,
    ``inconclusive`` of an unstable one that has seen it."""
    problems = [f"{i}: pinned, not run" for i in sorted(set(pins) - set(seen))]
    for cid, (verdict, observed) in seen.items():
        pin = pins.get(cid)
        if pin is None:
            problems.append(f"{cid}: not pinned; seen {verdict}: {observed}")
        elif verdict == "inconclusive" and OWN_LAG in observed:
            continue
        elif pin.get("verdict") == "inconclusive" and "observed" not in pin:
            problems.append(f"{cid}: an INCONCLUSIVE is pinned only with its reason (observed)")
        elif "unstable" in pin:
            if verdict not in pin["seen"]:
                problems.append(
                    f"{cid}: unstable, seen so far {pin['seen']}; now {verdict}: {observed}"
                )
            elif verdict == "inconclusive" and pin.get("inconclusive", "\0") not in observed:
                problems.append(
                    f"{cid}: unstable, pinned INCONCLUSIVE reason "
                    f"{pin.get('inconclusive')!r}, seen {observed!r}"
                )
        elif verdict != pin["verdict"]:
            problems.append(f"{cid}: pinned {pin['verdict']}, seen {verdict}: {observed}")
        elif "observed" in pin and pin["observed"] not in observed:
            problems.append(f"{cid}: pinned observation {pin['observed']!r}, seen {observed!r}")
    return problems


def _assert_pinned(name: str, result: tuple[int, dict[str, Any], str]) -> None:
    """The verdicts of peer run ``name`` are the ones pinned for its version."""
    from peer_harness import peer_version

    program = PEER_PROGRAMS[name]
    version = peer_version(program)
    print(f"probe of {name}: {program} {version}")
    seen = {c["id"]: (c["verdict"], c["observed"]) for c in result[1]["checks"]}
    pins = PINNED.get(name, {}).get(version)
    table = "\n".join(f'{i} = {{ verdict = "{v}" }}  # {o[:100]}' for i, (v, o) in seen.items())
    assert pins is not None, (
        f"no verdicts pinned for {name} ({program} {version}) in peer_verdicts.toml; "
        f'seen, to pin as ["{name}"."{version}"]:\n{table}'
    )
    problems = _pin_problems(pins, seen)
    assert not problems, f"{name} ({program} {version}):\n" + "\n".join(problems)


def test_pinned_verdicts_are_compared() -> None:
    """The comparison itself: a changed verdict, a lost observation, an unpinned check, a
    verdict outside an unstable pin's, a pin that did not run and an INCONCLUSIVE pinned
    without its reason are each reported."""
    pins: dict[str, dict[str, Any]] = {
        "a": {"verdict": "fail", "observed": "3 seen"},
        "b": {"verdict": "pass"},
        "c": {"unstable": "lag", "seen": ["pass", "fail"]},
        "d": {"verdict": "skip"},
        "f": {"verdict": "inconclusive", "observed": "target refused: 503"},
        "g": {"unstable": "race", "seen": ["skip", "inconclusive"], "inconclusive": "reproduce"},
    }
    ok = {
        "a": ("fail", "only 3 seen here"),
        "b": ("pass", ""),
        "c": ("fail", ""),
        "d": ("skip", ""),
        "f": ("inconclusive", "target refused: 503 Service Unavailable"),
        "g": ("inconclusive", "failed once, did not reproduce when run again alone"),
    }
    assert _pin_problems(pins, ok) == []
    lagged = {i: ("inconclusive", f"{OWN_LAG} 80 ms") for i in pins}
    assert _pin_problems(pins, lagged) == []  # the probe's own lag: nothing said of the peer
    bad = {"a": ("fail", "2 seen"), "b": ("fail", "late"), "c": ("skip", "x"), "e": ("pass", "")}
    bad["f"] = ("inconclusive", "did not reproduce")
    bad["g"] = ("inconclusive", "target refused: 486 Busy Here")
    problems = _pin_problems(pins, bad)
    assert _pin_problems({"f": {"verdict": "inconclusive"}}, {"f": bad["f"]}) == [
        "f: an INCONCLUSIVE is pinned only with its reason (observed)"
    ]
    assert problems == [
        "d: pinned, not run",
        "a: pinned observation '3 seen', seen '2 seen'",
        "b: pinned pass, seen fail: late",
        "c: unstable, seen so far ['pass', 'fail']; now skip: x",
        "e: not pinned; seen pass: ",
        "f: pinned observation 'target refused: 503', seen 'did not reproduce'",
        "g: unstable, pinned INCONCLUSIVE reason 'reproduce', seen 'target refused: 486 Busy Here'",
    ]


@pytest.mark.peer
def test_probe_kamailio(peer_reports: dict[str, Any]) -> None:
    _assert_verdicts(peer_reports["kamailio"], "client")
    checks = {c["id"]: c for c in peer_reports["kamailio"][1]["checks"]}
    # INVITE to an unknown user: 404 from tm, so the Timer G check ran to a verdict
    seen = checks["invite-server-final-retransmit"]
    assert seen["verdict"] in ("pass", "fail") or OWN_LAG in seen["observed"], seen
    assert "404" in json.dumps(checks["invite-server-final-retransmit"]["trace"])
    _assert_pinned("kamailio", peer_reports["kamailio"])


@pytest.mark.peer
def test_probe_sipp_uas(peer_reports: dict[str, Any]) -> None:
    _assert_verdicts(peer_reports["sipp-uas"], "client")
    checks = {c["id"]: c for c in peer_reports["sipp-uas"][1]["checks"]}
    seen = checks["uas-2xx-retransmit"]
    assert seen["verdict"] in ("pass", "fail") or OWN_LAG in seen["observed"], seen
    _assert_pinned("sipp-uas", peer_reports["sipp-uas"])


@pytest.mark.peer
def test_probe_baresip(peer_reports: dict[str, Any]) -> None:
    _assert_verdicts(peer_reports["baresip"], "client")
    _assert_pinned("baresip", peer_reports["baresip"])


@pytest.mark.peer
def test_probe_linphone(peer_reports: dict[str, Any], linphone: Any) -> None:
    """linphone-daemon (belle-sip) as an auto-answering UAS; the JSON's raw messages are what
    its own log says it received."""
    _assert_verdicts(peer_reports["linphone"], "client")
    _assert_pinned("linphone", peer_reports["linphone"])
    sent = [
        m["raw"]
        for c in peer_reports["linphone"][1]["checks"]
        for x in c["exchanges"]
        for m in x["messages"]
        if m["dir"] == "send" and m["raw"].startswith("OPTIONS ")
    ]
    log = linphone.log()
    assert sent and any(m.split("\r\n", 1)[0] in log for m in sent)


@pytest.mark.peer
def test_probe_sipp_uac_role_server(peer_reports: dict[str, Any]) -> None:
    _assert_verdicts(peer_reports["sipp-uac"], "server")
    checks = {c["id"]: c for c in peer_reports["sipp-uac"][1]["checks"]}
    assert checks["ack-for-non-2xx"]["verdict"] in ("pass", "fail")
    _assert_pinned("sipp-uac", peer_reports["sipp-uac"])
