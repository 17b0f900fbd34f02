"""Verdicts the probe can trust (issue 13, defect 6): an exchange the probe could not observe
cleanly is INCONCLUSIVE, with the reason, never PASS or FAIL; a FAIL is reported only when
the minimal failing exchange fails again when run alone.

Everything runs on the virtual clock with the reference UA in this process. The probe's own
lag is injected by a loop that stalls: every ``every`` virtual seconds the clock jumps by
``stall`` without running a callback, as when the process is not scheduled for that long
(both the probe and the reference UA on that loop are then late). No wall clock is read.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from dataclasses import replace

import pytest

from sipfsm.message.message import Request
from sipfsm.message.parse import parse
from sipfsm.net.aio import SipEndpoint
from sipfsm.net.bounds import Bounds
from sipfsm.probe import ProbeConfig, Report, probe
from sipfsm.probe.checks import Outcome, ProbeContext, Users, by_id
from sipfsm.probe.checks.base import Params
from sipfsm.probe.checks.common import refused
from sipfsm.probe.example import run_example
from sipfsm.probe.io import Exchange, Target
from sipfsm.probe.oracle import Base, Tolerance
from sipfsm.probe.report import table
from sipfsm.probe.runner import run
from sipfsm.probe.wire import Call, Local, Msg, response_to
from sipfsm.sim.aio_clock import VirtualClockLoop

FAST = 0.05  # a scaled T1: the 64*T1 windows are 3.2 s of virtual time


class StallingLoop(VirtualClockLoop):
    """A virtual-clock loop that loses ``stall`` seconds every ``every`` seconds: callbacks due
    meanwhile run that late (the probe's own lag, injected)."""

    def __init__(self, stall: float, every: float) -> None:
        super().__init__()
        self.stall, self.every = stall, every
        self.stalls = 0
        self.call_at(self.time() + every, self._lose_time)

    def _lose_time(self) -> None:
        self._clock.now += self.stall
        self.stalls += 1
        self.call_at(self.time() + self.every, self._lose_time)


def run_stalled(cfg: ProbeConfig, stall: float, every: float) -> tuple[Report, int]:
    """``cfg``'s probe on a :class:`StallingLoop`; the report and how many stalls happened."""
    cfg.virtual_clock = True
    loop = StallingLoop(stall, every)
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        report = runner.run(probe(cfg, progress_stream=io.StringIO()))
    return report, loop.stalls


def timer_g(**kw: object) -> ProbeConfig:
    return ProbeConfig(
        t1=FAST,
        checks=["invite-server-final-retransmit"],
        max_examples=2,
        max_shrinks=2,
        seed=1,
        **kw,  # type: ignore[arg-type]
    )


def test_injected_lag_makes_the_example_inconclusive_not_fail() -> None:
    """Stalls of 300 ms shift the Timer G train (the reference UA is late too): the probe
    measures its own lag over the 50 ms tolerance and says INCONCLUSIVE, with the lag."""
    report, stalls = run_stalled(timer_g(), stall=0.3, every=1.0)
    assert stalls > 0
    (r,) = report.results
    assert r.verdict == "inconclusive", r.observed
    assert "own lag reached" in r.observed and "over the 50 ms tolerance" in r.observed
    assert r.lag >= 0.25 and r.inconclusive == r.examples
    assert not report.failed


def test_the_same_stalls_fail_when_lag_is_not_measured() -> None:
    """The control of the test above: with the lag limit out of reach, the same stalls make
    the check FAIL (they do break the train), even on the confirming rerun."""
    report, _ = run_stalled(timer_g(max_lag=1e9), stall=0.3, every=1.0)
    (r,) = report.results
    assert r.verdict == "fail", r.observed
    assert r.rerun is not None and r.rerun.verdict == "fail"


def test_no_lag_no_inconclusive() -> None:
    """On the plain virtual clock the probe's lag is 0: the reference UA passes cleanly."""
    report = run(timer_g(virtual_clock=True), progress_stream=io.StringIO())
    (r,) = report.results
    assert r.verdict == "pass" and r.inconclusive == 0 and r.lag == 0.0, r.observed


def flaky() -> ProbeConfig:
    return ProbeConfig(
        checks=["cancel-unknown"],
        flaws=frozenset({"flaky-cancel-unknown"}),
        max_examples=1,
        max_shrinks=0,
        seed=1,
        virtual_clock=True,
    )


def test_a_failure_that_does_not_reproduce_is_inconclusive() -> None:
    """A target that answers the first unknown CANCEL 200 and every later one 481: the first
    exchange fails, its rerun alone passes, so the check is INCONCLUSIVE ("did not
    reproduce"), in the table, the JSON, and not as a failure."""
    report = run(flaky(), progress_stream=io.StringIO())
    (r,) = report.results
    assert r.verdict == "inconclusive", r.observed
    assert "did not reproduce" in r.observed and "answered 200" in r.observed
    assert r.rerun is not None and r.rerun.verdict == "pass"
    assert not report.failed
    doc = report.to_json()
    assert doc["summary"]["inconclusive"] == 1 and doc["summary"]["fail"] == 0
    (c,) = doc["checks"]
    assert c["verdict"] == "inconclusive" and c["rerun"]["verdict"] == "pass"
    text = table(report)
    assert "INCONCLUSIVE" in text and "1 inconclusive" in text and "did not reproduce" in text


def test_a_real_flaw_fails_and_reproduces() -> None:
    """A flaw that is always there (every unknown CANCEL answered 200) still FAILs: its
    rerun fails too."""
    cfg = flaky()
    cfg.flaws = frozenset({"cancel-unknown-200"})
    (r,) = run(cfg, progress_stream=io.StringIO()).results
    assert r.verdict == "fail", r.observed
    assert r.rerun is not None and r.rerun.verdict == "fail"
    assert "reproduced when run again alone" in r.observed


def test_cli_exit_0_on_inconclusive() -> None:
    """The CLI's exit code: 0 when no check failed, INCONCLUSIVE included (its help says so)."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "sipfsm", "probe", "--virtual-clock"),
            *("--checks", "cancel-unknown", "--flaw", "flaky-cancel-unknown"),
            *("--max-examples", "1", "--max-shrinks", "0", "--seed", "1"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "INCONCLUSIVE" in done.stdout, done.stdout
    helped = subprocess.run(
        [sys.executable, "-m", "sipfsm", "probe", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "0 no check failed (INCONCLUSIVE and SKIP included)" in " ".join(helped.stdout.split())


# --------------------------------------------------------------------------- refusals (defect 7)

#: The checks whose rule is not about refusals: they need a 2xx or a ringing call.
NOT_ABOUT_REFUSALS = ["uas-2xx-retransmit", "uas-2xx-no-ack-bye", "cancel"]


def test_a_stateless_refusal_is_inconclusive() -> None:
    """A UA at its call limit answers 503 statelessly, before any provisional: the checks that
    need a call are INCONCLUSIVE with "target refused: 503 ...", never judged on it."""
    cfg = ProbeConfig(
        checks=NOT_ABOUT_REFUSALS,
        flaws=frozenset({"stateless-503"}),
        users=Users("answer", ("busy",), "ring"),
        max_examples=2,
        seed=1,
        virtual_clock=True,
    )
    seen = {
        r.check.id: (r.verdict, r.observed) for r in run(cfg, progress_stream=io.StringIO()).results
    }
    assert all(
        v == "inconclusive" and "target refused: 503 Service Unavailable" in o
        for v, o in seen.values()
    ), seen


def test_a_refusal_after_a_provisional_is_the_targets_answer() -> None:
    """The same 503 sent by a transaction (100 Trying first) is what that user answers: the
    checks skip, saying they need another user, and are not inconclusive."""
    cfg = ProbeConfig(
        checks=NOT_ABOUT_REFUSALS,
        users=Users("status-503", ("busy",), "status-503"),
        max_examples=2,
        seed=1,
        virtual_clock=True,
    )
    seen = {
        r.check.id: (r.verdict, r.observed) for r in run(cfg, progress_stream=io.StringIO()).results
    }
    assert all(v == "skip" and "503" in o for v, o in seen.values()), seen


# --------------------------------------------------------------------------- stopped runs


def _context(stop: asyncio.Event) -> ProbeContext:
    return ProbeContext(
        Target(("udp",), "127.0.0.1", 9), Base(), Tolerance(), Users(), stop, Bounds()
    )


@pytest.mark.parametrize("verdict", ["pass", "fail"])
def test_a_verdict_reached_while_stopping_is_not_reported(verdict: str) -> None:
    """An exchange that returns a verdict after the run's stop was set (a wait it made may
    have been cut short) is reported as stopped, not as its verdict."""

    async def exchange(ctx: ProbeContext, p: Params) -> Outcome:
        ctx.stop.set()  # Ctrl-C while the exchange waited
        return Outcome(verdict, "x", "no 487 within 2 s")

    check = replace(by_id(["cancel"])[0], exchange=exchange)

    async def main() -> Outcome:
        return await run_example(check, _context(asyncio.Event()), {})

    out = asyncio.run(main())
    assert out.verdict == "skip", out
    assert "stopped before the exchange ended" in out.observed
    assert verdict.upper() in out.observed


def test_the_duration_estimate_counts_the_in_flight_limit() -> None:
    """Five checks wait out 64*T1 = 32 s five times each: side by side that is 160 s, but a
    live UAS target gets 4 exchanges at a time (--max-in-flight), so 200 s; one at a time, 800."""
    from sipfsm.cli.probe import expected_line

    bare = ProbeConfig()
    assert expected_line(bare) is not None
    assert "about 160 s" in (expected_line(bare) or "")
    live = ProbeConfig(target="udp:127.0.0.1:5060")
    assert "about 200 s" in (expected_line(live) or ""), expected_line(live)
    assert "4 at a time" in (expected_line(live) or "")
    one = ProbeConfig(target="udp:127.0.0.1:5060", max_in_flight=1, duration=1000)
    assert "about 800 s" in (expected_line(one) or ""), expected_line(one)


@pytest.mark.parametrize(("status", "refusal"), [(486, True), (503, True), (404, False)])
def test_which_answers_are_refusals(status: int, refusal: bool) -> None:
    """486 and 503 before any provisional turn the call away (inconclusive); a 404 is about
    the user called (Kamailio's tm for an unregistered user): no refusal, the check skips."""

    async def main() -> Outcome | None:
        ep = await SipEndpoint(host="127.0.0.1", udp_port=0, bounds=Bounds()).start()
        x = Exchange(ep, asyncio.Event(), "refusal")
        await ep.close()
        call = Call("sip:bob@127.0.0.1:5060", Local("udp", "127.0.0.1", 5062))
        invite = parse(call.request("INVITE"))
        assert isinstance(invite, Request)
        x.deliver(Msg.of(1.0, response_to(invite, status, to_tag="t"), "udp", ("127.0.0.1", 1)))
        return refused(x, call, x.received[-1])

    out = asyncio.run(main())
    if refusal:
        assert out is not None and out.verdict == "inconclusive"
        assert out.observed.startswith(f"target refused: {status} ")
    else:
        assert out is None
