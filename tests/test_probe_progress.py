"""The probe's progress line and its ETA (issue 13): arithmetic on the run's plan, judged on a
fake clock, never by waiting; shown on a terminal, or with ``--progress``."""

from __future__ import annotations

import io
from dataclasses import dataclass

from sipfsm.probe.progress import Plan, Progress, expected_seconds


@dataclass
class _Check:
    id: str
    long: bool


@dataclass
class _Result:
    check: _Check
    state: str = "pending"
    verdict: str = ""
    examples: int = 0


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(t1: float = 0.5, duration: float = 300.0) -> tuple[list[_Result], _Clock, Plan]:
    results = [
        _Result(_Check("uas-2xx-no-ack-bye", long=True)),  # 64*T1 = 32 s per example
        _Result(_Check("cancel-unknown", long=False)),  # 8*T1 = 4 s per example
    ]
    clock = _Clock()
    return results, clock, Plan(5, t1, duration, clock, clock.now)


def test_eta_is_the_slowest_unfinished_checks_examples_left() -> None:
    results, clock, plan = _run()
    assert plan.left(results) == 5 * 32.0  # nothing ran: 5 examples of the 64*T1 check
    results[0].state, results[0].examples = "running", 3
    clock.now += 96.0
    assert plan.left(results) == 2 * 32.0  # 2 left (the running one counted whole)
    results[0].state = "done"
    assert plan.left(results) == 5 * 4.0  # the short check alone, none of it run
    results[1].state = "done"
    assert plan.left(results) == 0.0


def test_eta_counts_down_while_an_example_runs() -> None:
    """A check seen running since t counts down from t + its examples' estimate, so the ETA
    falls during a 64*T1 wait instead of standing still until the example ends."""
    results, clock, plan = _run()
    results[0].state = "running"
    started = {"uas-2xx-no-ack-bye": clock.now}
    assert plan.left(results, started) == 5 * 32.0
    clock.now += 20.0
    assert plan.left(results, started) == 5 * 32.0 - 20.0
    clock.now += 200.0  # past its estimate: the short check, not started, is what is left
    assert plan.left(results, started) == 5 * 4.0
    results, clock, plan = _run()  # the line keeps when it first saw each check running
    results[0].state = "running"
    stream = io.StringIO()
    progress = Progress(results, stream, plan=plan, enabled=True)
    progress.show()
    clock.now += 10.0
    progress.show()
    assert stream.getvalue().splitlines()[-1].endswith("ETA 2:30")  # 160 - 10


def test_eta_never_passes_the_duration_bound() -> None:
    results, clock, plan = _run(duration=60.0)
    clock.now += 50.0
    assert plan.left(results) == 10.0  # 160 s of work, 10 s of --duration left
    clock.now += 20.0
    assert plan.left(results) == 0.0


def test_expected_duration_is_the_same_arithmetic() -> None:
    checks = [_Check("a", True), _Check("b", False)]
    assert expected_seconds(checks, 5, 0.5, 300.0) == 160.0
    assert expected_seconds(checks, 5, 0.5, 100.0) == 100.0
    assert expected_seconds([_Check("b", False)], 3, 0.5, 300.0) == 12.0


def test_the_line_shows_elapsed_time_and_eta() -> None:
    results, clock, plan = _run()
    results[0].state, results[0].examples = "running", 1
    clock.now += 75.0
    stream = io.StringIO()
    Progress(results, stream, plan=plan, enabled=True).show()
    assert stream.getvalue() == (
        "probe: 0/2 checks done, 1 running (uas-2xx-no-ack-bye), 0 failed, 1 exchanges; "
        "1:15 elapsed, ETA 2:08\n"
    )


def test_shown_on_a_terminal_or_when_asked_only() -> None:
    results, _, plan = _run()
    pipe = io.StringIO()
    Progress(results, pipe, plan=plan).show(final=True)
    assert pipe.getvalue() == ""  # not a terminal, not asked
    Progress(results, pipe, plan=plan, enabled=True).show(final=True)
    assert pipe.getvalue().startswith("probe: 0/2 checks done")
    terminal = _Terminal()
    Progress(results, terminal, plan=plan).show()
    shown = terminal.getvalue()
    assert shown.startswith("\r\x1b[Kprobe: 0/2") and "ETA 2:40" in shown
    silenced = _Terminal()
    Progress(results, silenced, plan=plan, enabled=False).show(final=True)
    assert silenced.getvalue() == ""
