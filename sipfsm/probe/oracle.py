"""The probe's oracle: what RFC 3261 says a correct peer puts on the wire, and when.

Written from the RFC's prose and Table 4 (page 265) alone. It reads no model file and no
``timers.toml`` and shares no code with the transaction engine, so a bug in the models cannot
make the probe accept the same bug in a peer (the reference UA is built from the models; this
oracle judges it like any other peer).

* :class:`Base` holds T1, T2 and T4 (17.1.1.1, 17.1.2.2); :meth:`Base.table4` gives every
  Table 4 timer for a transport.
* :func:`doubling` is the retransmission schedule every "interval that starts at T1 and doubles"
  rule of the RFC produces: Timer A (17.1.1.2, no cap), Timer E (17.1.2.2, cap T2), Timer G
  (17.2.1, cap T2) and the UAS core's 2xx retransmission (13.3.1.4, cap T2).
* :func:`judge_train` compares an observed retransmission train with the schedule, interval by
  interval, within :meth:`Tolerance.of` (default max(50 ms, 10 % of the interval)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Base", "Tolerance", "TrainVerdict", "doubling", "judge_train"]


@dataclass(frozen=True, slots=True)
class Base:
    """T1, T2, T4 in seconds. RFC 3261 defaults: 0.5, 4, 5 (Table 4).

    :meth:`scaled` keeps the RFC's ratios (T2 = 8*T1, T4 = 10*T1) for a faster T1, which
    17.1.1.1 allows in closed networks (the embedded reference UA uses it).
    """

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0

    @classmethod
    def scaled(cls, t1: float, t2: float | None = None, t4: float | None = None) -> Base:
        """T1 given; T2 and T4 default to the RFC's ratios to T1 (4/0.5 and 5/0.5)."""
        return cls(t1, t2 if t2 is not None else 8 * t1, t4 if t4 is not None else 10 * t1)

    def table4(self, reliable: bool) -> dict[str, float | None]:
        """Table 4's first value of each timer; None: "for UDP only" and the transport is not.

        Timer D is "> 32 s for UDP" (a lower bound only); the probe never judges it.
        """
        t1, t4 = self.t1, self.t4
        udp = not reliable
        return {
            "A": t1 if udp else None,  # 17.1.1.2 INVITE request retransmit, UDP only
            "B": 64 * t1,  # 17.1.1.2 INVITE transaction timeout
            "D": 32.0 if udp else 0.0,  # 17.1.1.2 wait for response retransmits (min)
            "E": t1 if udp else None,  # 17.1.2.2 non-INVITE request retransmit
            "F": 64 * t1,  # 17.1.2.2 non-INVITE transaction timeout
            "G": t1 if udp else None,  # 17.2.1 INVITE response retransmit
            "H": 64 * t1,  # 17.2.1 wait time for ACK receipt
            "I": t4 if udp else 0.0,  # 17.2.1 wait time for ACK retransmits
            "J": 64 * t1 if udp else 0.0,  # 17.2.2 wait time for request retransmits
            "K": t4 if udp else 0.0,  # 17.1.2.2 wait time for response retransmits
        }


def doubling(first: float, cap: float | None, until: float) -> list[float]:
    """Offsets (from the first transmission) of the retransmissions of a timer that starts at
    ``first`` and doubles after each firing, never above ``cap`` (None: no cap), strictly
    before ``until`` (the timer that ends the transaction).

    Timer G with T1 = 0.5, T2 = 4, Timer H = 32: 0.5, 1.5, 3.5, 7.5, 11.5, ..., 31.5.
    """
    out: list[float] = []
    interval, at = first, first
    while at < until - 1e-9:
        out.append(at)
        interval = interval * 2 if cap is None else min(interval * 2, cap)
        at += interval
    return out


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far an observed instant may be from the oracle's: ``max(absolute, relative *
    interval)`` seconds (defaults: 50 ms, 10 %)."""

    absolute: float = 0.05
    relative: float = 0.10

    def of(self, interval: float) -> float:
        """The tolerance for an interval of ``interval`` seconds."""
        return max(self.absolute, self.relative * interval)

    def describe(self) -> str:
        """E.g. ``max(50 ms, 10% of interval)``."""
        return f"max({self.absolute * 1000:.0f} ms, {self.relative * 100:.0f}% of interval)"


@dataclass(frozen=True, slots=True)
class TrainVerdict:
    """The result of :func:`judge_train`: ``ok``; ``problem`` says the first deviation."""

    ok: bool
    problem: str
    expected: list[float]
    observed: list[float]


def judge_train(
    start: float,
    observed: list[float],
    expected: list[float],
    end: float,
    tol: Tolerance,
    *,
    watched_until: float = math.inf,
) -> TrainVerdict:
    """Compare a retransmission train with the oracle's schedule.

    ``start`` is the instant of the first transmission; ``observed`` the instants of the
    retransmissions (absolute, ascending); ``expected`` the oracle's offsets from ``start``
    (:func:`doubling`); ``end`` the offset of the timer that ends retransmission (H, B, F,
    64*T1 for 2xx). Only what falls before ``watched_until`` (absolute) is judged: the probe may
    stop watching early (it sent the ACK).

    Intervals are compared, not absolute instants, so lateness does not accumulate: the i-th
    observed interval must be within ``tol.of(expected interval)`` of the i-th expected one.
    An expected retransmission within tolerance of ``end`` or of ``watched_until`` is optional
    (it races the timer that ends the train); a retransmission after ``end`` plus tolerance is
    a failure.
    """
    obs_rel = [t - start for t in observed]
    horizon = min(end, watched_until - start)
    exp = [e for e in expected if e < horizon + tol.of(_interval_before(expected, e))]
    required = [e for e in exp if e < horizon - tol.of(_interval_before(expected, e))]
    prev_o, prev_e = 0.0, 0.0
    for i, o in enumerate(obs_rel):
        if i >= len(exp):
            return TrainVerdict(
                False,
                f"retransmission #{i + 1} at +{o:.3f} s: the oracle "
                f"expects {len(exp)} in {horizon:.3f} s"
                + (" (after the timer ended them)" if o > end else ""),
                exp,
                obs_rel,
            )
        want = exp[i] - prev_e
        got = o - prev_o
        if abs(got - want) > tol.of(want):
            return TrainVerdict(
                False,
                f"retransmission #{i + 1} came {got:.3f} s after the "
                f"previous one; expected {want:.3f} s +/- {tol.of(want):.3f}",
                exp,
                obs_rel,
            )
        prev_o, prev_e = o, exp[i]
    if len(obs_rel) < len(required):
        missing = required[len(obs_rel)]
        return TrainVerdict(
            False,
            f"{len(obs_rel)} retransmission(s) seen; expected "
            f"{len(required)} (next one due at +{missing:.3f} s)",
            exp,
            obs_rel,
        )
    return TrainVerdict(True, f"{len(obs_rel)} retransmission(s) on schedule", exp, obs_rel)


def _interval_before(offsets: list[float], at: float) -> float:
    prev = 0.0
    for o in offsets:
        if o >= at - 1e-12:
            return at - prev
        prev = o
    return at - prev
