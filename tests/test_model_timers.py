"""``sipfsm.model.timers`` and ``models/timers.toml``: every timer scales with the base RFC
3261 writes it with, and the helpers the engine builds its schedules from.

Issue 22: Timer I or K written as the number ``5`` instead of ``T4`` (equal at the default T4)
passed every behavioural test, because no test varied T4 (nor T2 outside T1's range). Here the
bases are T1 = 0.3 s, T2 = 3 s, T4 = 7 s (none a default, T1 <= T2), and each timer's value
is compared with tests/oracle.py's own reading of Table 4 (and, for the UA core's timers, of
13.3.1.4). ``scripts/mutation`` found these holes (its ``timer-number`` data mutants, and
mutmut's mutants of ``time_until_at_cap`` whose guard only Timer E ever reached).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from oracle import Oracle

from sipfsm import Timers
from sipfsm.model.loader import TimerSpec, load_timers
from sipfsm.model.timers import cap, initial_interval, time_until_at_cap

T1, T2, T4 = 0.3, 3.0, 7.0
BASE = Timers(T1, T2, T4).base(load_timers())
TABLE4 = "ABEFGHIJKLM"  # Table 4 and RFC 6026's L and M; D is the oracle's open judgement


@pytest.mark.parametrize("reliable", [False, True], ids=["unreliable", "reliable"])
def test_table4_timers_scale_with_their_bases(reliable: bool) -> None:
    oracle = Oracle("invite_client", reliable, "rfc6026", T1, T2, T4)
    timers = load_timers().timers
    got = {name: initial_interval(timers[name], reliable, BASE) for name in TABLE4}
    assert got == {name: pytest.approx(oracle.value(name)) for name in TABLE4}


def test_doubling_timers_are_capped_at_t2() -> None:
    """17.1.2.2 (E), 17.2.1 (G), 13.3.1.4 (the 2xx): the interval doubles up to T2; A, the
    INVITE retransmissions (17.1.1.2), doubles without a cap."""
    timers = load_timers().timers
    assert {n: cap(timers[n], BASE) for n in ("A", "E", "G", "2xx")} == {
        "A": None,
        "E": T2,
        "G": T2,
        "2xx": T2,
    }


@pytest.mark.parametrize("reliable", [False, True], ids=["unreliable", "reliable"])
def test_ua_core_timers_scale_with_t1(reliable: bool) -> None:
    """13.3.1.4: the 2xx is retransmitted from T1 on every transport, and 64*T1 without an
    ACK ends the wait (then BYE)."""
    timers = load_timers().timers
    assert initial_interval(timers["2xx"], reliable, BASE) == pytest.approx(T1)
    assert initial_interval(timers["ackwait"], reliable, BASE) == pytest.approx(64 * T1)


@pytest.mark.parametrize("reliable", [False, True], ids=["unreliable", "reliable"])
def test_the_other_timers_of_the_ua_core_scale_with_their_bases(reliable: bool) -> None:
    """13.2.2.4: the early dialogs end 64*T1 after the first 2xx; 9.1: an INVITE with no final
    response 64*T1 after its CANCEL is destroyed (on every transport)."""
    timers = load_timers().timers
    assert initial_interval(timers["early"], reliable, BASE) == pytest.approx(64 * T1)
    assert initial_interval(timers["cancel"], reliable, BASE) == pytest.approx(64 * T1)


@pytest.mark.timeout(10)  # a mutant that never reaches the cap fails here, not hangs
def test_time_until_e_reaches_t2() -> None:
    """RFC 4320 4.1: with T1 = 0.5 s and T2 = 4 s, E fires at 0.5, 1.5 and 3.5 s and is reset
    to T2 at 3.5 s; with T1 = 0.3 s and T2 = 3 s it fires at 0.3, 0.9, 2.1 and 4.5 s."""
    e = load_timers().timers["E"]
    assert time_until_at_cap(e, Timers().base(load_timers())) == pytest.approx(3.5)
    assert time_until_at_cap(e, BASE) == pytest.approx(4.5)


def _spec(unreliable: str, backoff: str | None, ceiling: str | None) -> TimerSpec:
    return TimerSpec("X", unreliable, "none", "17.1.2.2", "a made-up timer", backoff, ceiling)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "spec",
    [
        load_timers().timers["A"],  # doubles, no cap
        load_timers().timers["B"],  # neither
        _spec("T1", None, "T2"),  # a cap but no doubling
        _spec("none", "double", "T2"),  # not started on unreliable transports
        _spec("0", "double", "T2"),  # fires at once: never doubles up to anything
    ],
    ids=["A", "B", "cap-only", "unused", "zero"],
)
def test_a_timer_that_never_doubles_up_to_a_cap_never_gets_there(spec: TimerSpec) -> None:
    assert time_until_at_cap(spec, BASE) == float("inf")
