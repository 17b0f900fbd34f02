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

from sipfsm.probe import ProbeConfig, Report, probe
from sipfsm.probe.report import table
from sipfsm.probe.runner import run
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
