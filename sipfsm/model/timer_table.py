"""``models/timers.toml``: RFC 3261 Table 4, Timer C (16.6), L and M (RFC 6026), the UA core's
timers, and the random intervals of the UA core: the windows of timers started at a random
instant (14.1) and the ranges of random values that are not timers (14.2's Retry-After).

Every number is an interval expression (``models/SCHEMA.md``): seconds (``33``), ``T1``, ``T2``,
``T4`` or ``N*T1``, evaluated against the base values T1, T2 and T4.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sipfsm.errors import ModelError
from sipfsm.model.cache import cached
from sipfsm.model.paths import models_dir
from sipfsm.model.reading import PROFILES, check_keys, profiles, read_toml, table, text


@dataclass(frozen=True, slots=True)
class TimerSpec:
    """One row of RFC 3261 Table 4 (or Timer C of 16.6, L and M of RFC 6026)."""

    name: str
    unreliable: str
    reliable: str
    section: str
    meaning: str
    backoff: str | None = None
    cap: str | None = None
    profiles: frozenset[str] = frozenset(PROFILES)


@dataclass(frozen=True, slots=True)
class Window:
    """A timer started at a random instant (``[windows.NAME]`` of ``timers.toml``).

    14.1: the re-INVITE after a 491 is retried after a random time in ``owner`` = [low, high]
    when this UA generated the Call-ID, in ``other`` otherwise, in units of ``granularity``
    seconds. Bounds and granularity are interval expressions (``2.1``, ``T1`` ...).
    """

    name: str
    owner: tuple[str, str]
    other: tuple[str, str]
    granularity: str
    section: str

    def draw(self, owner: bool, unit: float, base: Mapping[str, float]) -> float:
        """The retry time for ``unit`` in [0, 1) (:func:`pick`)."""
        low, high = self.owner if owner else self.other
        return pick(low, high, self.granularity, unit, base)


@dataclass(frozen=True, slots=True)
class Range:
    """A random value that is not a timer (``[ranges.NAME]`` of ``timers.toml``).

    14.2: the 500 to an INVITE that arrives while another is pending carries a Retry-After
    of a random value between ``low`` and ``high`` seconds, in steps of ``granularity``.
    """

    name: str
    low: str
    high: str
    granularity: str
    section: str
    meaning: str

    def draw(self, unit: float, base: Mapping[str, float]) -> float:
        """The value for ``unit`` in [0, 1) (:func:`pick`)."""
        return pick(self.low, self.high, self.granularity, unit, base)


@dataclass(frozen=True, slots=True)
class TimerTable:
    """``models/timers.toml``: T1, T2, T4, the timers as interval expressions, the random
    windows of the timers started at a random instant (14.1) and the random ranges (14.2)."""

    base: Mapping[str, float]
    timers: Mapping[str, TimerSpec]
    base_doc: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    windows: Mapping[str, Window] = field(default_factory=dict)
    ranges: Mapping[str, Range] = field(default_factory=dict)


def pick(low: str, high: str, granularity: str, unit: float, base: Mapping[str, float]) -> float:
    """A value of [``low``, ``high``] from ``unit`` in [0, 1): low + a multiple of the
    granularity, at most high (14.1: "in units of 10 ms"). Every number is ``timers.toml``'s."""
    lo, hi, step = (seconds(e, base) for e in (low, high, granularity))
    steps = round((hi - lo) / step)
    chosen = min(int(unit * (steps + 1)), steps)
    return round(lo + chosen * step, 6)


def at_cap_of(expr: str) -> str | None:
    """The timer an ``at_cap(X)`` expression names, else ``None``.

    ``at_cap(E)`` is the time a doubling timer, started at its unreliable value, takes to be
    first reset to its cap: RFC 4320 4.1's "the amount of time it takes a client transaction's
    Timer E to be reset to T2". Only a timer's value in ``timers.toml`` may be one.
    """
    if expr.startswith("at_cap(") and expr.endswith(")"):
        return expr[len("at_cap(") : -1].strip() or None
    return None


def check_interval(
    file: str, key: str, expr: str, *, allow_none: bool = False, allow_at_cap: bool = False
) -> str:
    """Check an interval expression: seconds (``33``), ``T1``/``T2``/``T4`` or ``N*T1``
    (``allow_at_cap``: also ``at_cap(X)``, :func:`at_cap_of`)."""
    if allow_none and expr == "none":
        return expr
    if allow_at_cap and at_cap_of(expr) is not None:
        return expr
    head, _, tail = expr.partition("*")
    base = tail if tail else head
    factor = head if tail else "1"
    ok = base in ("T1", "T2", "T4") or (not tail and _is_number(base))
    if not ok or not _is_number(factor):
        raise ModelError(file, key, f"bad interval {expr!r}: use seconds, T1, T2, T4 or N*T1")
    return expr


def _is_number(value: str) -> bool:
    try:
        return float(value) >= 0
    except ValueError:
        return False


def seconds(expr: str, base: Mapping[str, float]) -> float:
    """The seconds of a checked interval expression (not ``none``) under ``base`` (T1, T2,
    T4)."""
    head, _, tail = expr.partition("*")
    if tail:
        return float(head) * base[tail]
    return base[head] if head in base else float(head)


def load_timers(directory: Path | None = None) -> TimerTable:
    """Read ``timers.toml`` (RFC 3261 Table 4 plus C, L, M, the UA core's timers, the random
    windows of 14.1 and ranges of 14.2); any unknown table or key is a :class:`ModelError`."""
    path = (directory or models_dir()) / "timers.toml"
    return cached("timers", path, lambda: (_read(path), [path]))


def _read(path: Path) -> TimerTable:
    data, file = read_toml(path), path.name
    check_keys(file, "", data, ("base", "timers", "windows", "ranges"))
    base, base_doc = _base(file, data.get("base"))
    raw = data.get("timers")
    if not isinstance(raw, dict) or not raw:
        raise ModelError(file, "timers", "missing table")
    timers = {name: _timer(file, name, row) for name, row in raw.items()}
    _check_at_cap(file, timers)
    windows = {
        name: _window(file, name, row, timers, base)
        for name, row in table(file, "windows", data.get("windows", {})).items()
    }
    ranges = {
        name: _range(file, name, row, base)
        for name, row in table(file, "ranges", data.get("ranges", {})).items()
    }
    return TimerTable(base=base, timers=timers, base_doc=base_doc, windows=windows, ranges=ranges)


def _base(file: str, raw: Any) -> tuple[dict[str, float], dict[str, dict[str, str]]]:
    if not isinstance(raw, dict) or set(raw) != {"T1", "T2", "T4"}:
        raise ModelError(file, "base", "must define exactly T1, T2 and T4")
    base: dict[str, float] = {}
    for name, row in raw.items():
        key = f"base.{name}"
        check_keys(file, key, table(file, key, row), ("value", "section", "meaning"))
        value = row.get("value")
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ModelError(file, f"{key}.value", "expected a positive number of seconds")
        base[name] = float(value)
    doc = {k: {kk: str(vv) for kk, vv in v.items() if kk != "value"} for k, v in raw.items()}
    return base, doc


_TIMER_KEYS = ("unreliable", "reliable", "backoff", "cap", "section", "meaning", "profiles")


def _timer(file: str, name: str, row: Any) -> TimerSpec:
    key = f"timers.{name}"
    check_keys(file, key, table(file, key, row), _TIMER_KEYS)
    backoff = row.get("backoff")
    if backoff not in (None, "double"):
        raise ModelError(file, f"{key}.backoff", "only 'double' is known")
    cap = row.get("cap")

    def interval(side: str) -> str:
        where = f"{key}.{side}"
        value = text(file, where, row.get(side))
        return check_interval(file, where, value, allow_none=True, allow_at_cap=True)

    return TimerSpec(
        name=name,
        unreliable=interval("unreliable"),
        reliable=interval("reliable"),
        section=text(file, f"{key}.section", row.get("section")),
        meaning=text(file, f"{key}.meaning", row.get("meaning")),
        backoff=backoff,
        cap=None if cap is None else check_interval(file, f"{key}.cap", cap),
        profiles=profiles(file, f"{key}.profiles", row.get("profiles")),
    )


def _check_at_cap(file: str, timers: Mapping[str, TimerSpec]) -> None:
    """An ``at_cap(X)`` value names a timer of the table that doubles up to a cap."""
    for spec in timers.values():
        for side in ("unreliable", "reliable"):
            ref = at_cap_of(getattr(spec, side))
            if ref is None:
                continue
            target = timers.get(ref)
            if target is None or target.backoff != "double" or target.cap is None:
                raise ModelError(
                    file,
                    f"timers.{spec.name}.{side}",
                    f"at_cap({ref}) needs a timer {ref!r} with backoff = 'double' and a cap",
                )


def _bounds(file: str, key: str, value: Any, base: Mapping[str, float]) -> tuple[str, str]:
    """``[low, high]``: two interval expressions, low <= high."""
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise ModelError(
            file, key, f"expected [low, high] as two interval expressions, got {value!r}"
        )
    low, high = (check_interval(file, key, v) for v in value)
    if seconds(low, base) > seconds(high, base):
        raise ModelError(file, key, f"low {low} is above high {high}")
    return low, high


def _granularity(file: str, key: str, raw: Any, base: Mapping[str, float]) -> str:
    where = f"{key}.granularity"
    granularity = check_interval(file, where, text(file, where, raw.get("granularity")))
    if seconds(granularity, base) <= 0:
        raise ModelError(file, where, "expected a positive number of seconds")
    return granularity


def _window(
    file: str, name: str, raw: Any, timers: Mapping[str, TimerSpec], base: Mapping[str, float]
) -> Window:
    """One ``[windows.NAME]``: the random interval of timer NAME (14.1)."""
    key = f"windows.{name}"
    check_keys(file, key, table(file, key, raw), ("owner", "other", "granularity", "section"))
    spec = timers.get(name)
    if spec is None:
        raise ModelError(file, key, f"no timer {name!r} in [timers] to draw at random")
    bounds = {
        side: _bounds(file, f"{key}.{side}", raw.get(side), base) for side in ("owner", "other")
    }
    granularity = _granularity(file, key, raw, base)
    top = max(seconds(hi, base) for _, hi in bounds.values())
    for transport in ("unreliable", "reliable"):
        expr = getattr(spec, transport)
        if expr == "none" or abs(seconds(expr, base) - top) > 1e-9:
            raise ModelError(
                file,
                f"timers.{name}.{transport}",
                f"a timer drawn from [{key}] has the window's upper bound, {top:g} s",
            )
    return Window(
        name=name,
        owner=bounds["owner"],
        other=bounds["other"],
        granularity=granularity,
        section=text(file, f"{key}.section", raw.get("section")),
    )


def _range(file: str, name: str, raw: Any, base: Mapping[str, float]) -> Range:
    """One ``[ranges.NAME]``: a random value that is not a timer (14.2)."""
    key = f"ranges.{name}"
    check_keys(file, key, table(file, key, raw), ("values", "granularity", "section", "meaning"))
    low, high = _bounds(file, f"{key}.values", raw.get("values"), base)
    return Range(
        name=name,
        low=low,
        high=high,
        granularity=_granularity(file, key, raw, base),
        section=text(file, f"{key}.section", raw.get("section")),
        meaning=text(file, f"{key}.meaning", raw.get("meaning")),
    )
