"""Timer values from ``models/timers.toml``: RFC 3261 Table 4, Timer C (16.6), L and M (RFC 6026).

No timer value lives in Python: T1, T2 and T4 default to the ``[base]`` of ``timers.toml`` and
each timer's value on unreliable and reliable transports is that file's interval expression
(``T1``, ``64*T1``, ``33``, ``none``), evaluated against the configured base values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sipfsm.errors import ModelError
from sipfsm.model.timer_table import TimerSpec, TimerTable, at_cap_of, load_timers, seconds

#: The transports a transaction can run over; the reliable ones get Table 4's "0s for TCP/SCTP".
RELIABLE: dict[str, bool] = {"udp": False, "tcp": True, "tls": True, "sctp": True}


@dataclass(frozen=True, slots=True)
class Timers:
    """T1, T2 and T4 in seconds; ``None`` takes the default of ``timers.toml`` (Table 4).

    RFC 3261 17.1.1.1: T1 MAY be chosen larger (and smaller only in closed networks); every
    other timer but C and D scales with these values.
    """

    t1: float | None = None
    t2: float | None = None
    t4: float | None = None

    def base(self, table: TimerTable | None = None) -> dict[str, float]:
        """The three base values, defaults filled in from ``timers.toml``."""
        defaults = (table or load_timers()).base
        given = {"T1": self.t1, "T2": self.t2, "T4": self.t4}
        return {k: float(v) if v is not None else defaults[k] for k, v in given.items()}


def evaluate(
    expr: str, base: Mapping[str, float], timers: Mapping[str, TimerSpec] | None = None
) -> float | None:
    """The seconds an interval expression stands for; ``None`` for ``none`` (timer unused).

    ``at_cap(E)`` (a timer's value only) needs the table's ``timers``: RFC 4320 4.1's time
    for a client's Timer E to be reset to T2 (:func:`time_until_at_cap`).
    """
    if expr == "none":
        return None
    ref = at_cap_of(expr)
    if ref is None:
        return seconds(expr, base)
    if timers is None or ref not in timers:
        raise ModelError("timers.toml", expr, f"no timer {ref!r} to evaluate {expr} against")
    return time_until_at_cap(timers[ref], base)


def initial_interval(
    spec: TimerSpec,
    reliable: bool,
    base: Mapping[str, float],
    timers: Mapping[str, TimerSpec] | None = None,
) -> float | None:
    """Table 4's value for a timer on this kind of transport (``None``: not started)."""
    return evaluate(spec.reliable if reliable else spec.unreliable, base, timers)


def cap(spec: TimerSpec, base: Mapping[str, float]) -> float | None:
    """The ceiling of a doubling timer (Timers E and G: T2), or ``None`` for no ceiling."""
    return None if spec.cap is None else evaluate(spec.cap, base)


def time_until_at_cap(spec: TimerSpec, base: Mapping[str, float]) -> float:
    """Seconds until a doubling timer, started unreliably, is first reset to its cap.

    RFC 4320 4.1 uses this for Timer E: with T1 = 0.5 s and T2 = 4 s, E fires at 0.5, 1.5 and
    3.5 s, and is reset to T2 at 3.5 s. A timer without cap or back-off never gets there.
    """
    interval, ceiling = evaluate(spec.unreliable, base), cap(spec, base)
    if interval is None or ceiling is None or spec.backoff != "double" or interval <= 0:
        return float("inf")
    elapsed = 0.0
    while True:
        elapsed += interval
        interval = min(2 * interval, ceiling)
        if interval >= ceiling:
            return elapsed


def transport_reliable(transport: str) -> bool:
    """Whether a transport name is reliable (Table 4: TCP, TLS, SCTP) or not (UDP)."""
    try:
        return RELIABLE[transport.lower()]
    except KeyError:
        known = ", ".join(RELIABLE)
        raise ModelError(
            "-", "transport", f"unknown transport {transport!r} (known: {known})"
        ) from None
