"""The verdict of one check (:class:`CheckResult`) and how it is reached from the check's
exchanges (:func:`conclude`): a FAIL reports the minimal failing exchange (fewest messages,
simplest parameters, least time, :func:`minimal`), a PASS the last passing one; the count of
exchanges per transport goes with either.

Verdicts (issue 13): ``pass``, ``fail``, ``skip`` (the rule cannot apply to this target),
``inconclusive`` (the probe could not observe cleanly: its own lag, a refusal unrelated to the
rule; the reason is in ``observed``) and ``error`` (a check raised: a bug of the probe, never a
finding about the target; the exception in ``observed``, its traceback in ``traceback``). One
exchange in error makes the check ``error``, whatever its other exchanges said: the probe
cannot vouch for a check whose code is broken. A check fails only on an exchange observed
cleanly whose failure reproduced when that exchange was run again alone (``rerun``); a failure
that did not reproduce, or could not be rerun, is inconclusive. A check passes on clean passes
when none of its exchanges failed, or would have failed had the probe observed it cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sipfsm.probe.checks import Check, Outcome, ProbeContext
from sipfsm.probe.io import Event

__all__ = ["VERDICTS", "CheckResult", "conclude"]

#: Every verdict a check can end in, in the order the report counts them.
VERDICTS = ("pass", "fail", "skip", "inconclusive", "error")


@dataclass
class CheckResult:
    """The verdict of one check, and how it was reached."""

    check: Check
    verdict: str = "skip"
    expected: str = ""
    observed: str = "not run"
    trace: list[Event] = field(default_factory=list)
    expected_trace: list[Event] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    examples: int = 0
    failures: int = 0
    #: How many exchanges ran over each transport.
    transports: dict[str, int] = field(default_factory=dict)
    state: str = "pending"  # pending | running | done
    svg: str | None = None
    #: The minimal failing exchange run again alone, to confirm it (None: not rerun).
    rerun: Outcome | None = None
    #: Exchanges not observed cleanly.
    inconclusive: int = 0
    #: The probe's own worst lag over the check's exchanges, in seconds.
    lag: float = 0.0
    #: Every exchange of the check, in the order run (the report's replayable messages).
    exchanges: list[Outcome] = field(default_factory=list)
    #: Of an ``error`` verdict: the traceback of the first exchange that raised.
    traceback: str = ""

    def to_json(self) -> dict[str, Any]:
        """The report's entry for this check."""
        return {
            "id": self.check.id,
            "rfc": self.check.section,
            "title": self.check.title,
            "role": self.check.role,
            "verdict": self.verdict,
            "expected": self.expected,
            "observed": self.observed,
            "tolerance": self.check.tolerance,
            "trace": [e.to_json() for e in self.trace],
            "expected_trace": [e.to_json() for e in self.expected_trace],
            "params": _jsonable(self.params),
            "examples": self.examples,
            "failing_examples": self.failures,
            "transports": dict(self.transports),
            "inconclusive_examples": self.inconclusive,
            "probe_lag_ms": round(self.lag * 1e3, 1),
            "rerun": (
                None
                if self.rerun is None
                else {"verdict": self.rerun.verdict, "observed": self.rerun.observed}
            ),
            "svg": self.svg,
            "traceback": self.traceback or None,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        text = value.decode("latin-1")
        return text if len(text) <= 400 else text[:400] + "..."
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _size(value: Any) -> int:
    """How big a parameter set is (ints by value, lists by length): ties between equally
    short exchanges go to the simpler parameters."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return sum(_size(v) for v in value.values())
    if isinstance(value, list | tuple):
        return len(value) + sum(_size(v) for v in value)
    return 0


def minimal(fails: list[Outcome]) -> Outcome:
    """The minimal failure: the shortest exchange (fewest messages, then simplest parameters,
    then shortest time); ties go to the later one (Hypothesis only tries candidates simpler
    than its best)."""
    return min(
        reversed(fails),
        key=lambda o: (
            sum(e.dir != "note" for e in o.trace),
            _size(o.params),
            o.trace[-1].t if o.trace else 0.0,
        ),
    )


def _unconfirmed(rerun: Outcome | None) -> str:
    """Why a failure is not reported as one: its rerun alone did not reproduce it."""
    if rerun is None:
        return "not confirmed: no time left to run it again alone"
    if rerun.verdict == "inconclusive":
        return f"not confirmed: its rerun was not observed cleanly ({rerun.observed})"
    return f"did not reproduce when run again alone (rerun: {rerun.verdict}: {rerun.observed})"


def _failed(
    res: CheckResult, recorded: list[Outcome], fails: list[Outcome], rerun: Outcome | None
) -> Outcome:
    chosen = minimal(fails)
    observed = chosen.observed
    if len(fails) > 1:
        others = "; ".join(o.observed for o in fails if o is not chosen)[:400]
        observed = (
            f"{chosen.observed} [minimal of {len(fails)} failing exchanges "
            f"out of {len(recorded)}; others: {others}]"
        )
    if rerun is not None and rerun.verdict == "fail":
        res.verdict = "fail"
        res.observed = f"{observed} (reproduced when run again alone)"
    else:
        res.verdict = "inconclusive"
        res.observed = f"failed once, {_unconfirmed(rerun)}: {observed}"
    return chosen


def _errored(res: CheckResult, recorded: list[Outcome], errors: list[Outcome]) -> Outcome:
    """A check whose exchanges raised: ``error``, with the first exception and its traceback."""
    chosen = errors[0]
    res.verdict = "error"
    res.traceback = chosen.traceback
    res.observed = chosen.observed + (
        f" ({len(errors)} of {len(recorded)} exchanges raised)" if len(recorded) > 1 else ""
    )
    return chosen


def _others(recorded: list[Outcome]) -> str:
    """``2 skipped, 1 inconclusive``: the exchanges that did not pass."""
    counts = ((sum(o.verdict == v for o in recorded), label) for v, label in _OTHERS)
    return ", ".join(f"{n} {label}" for n, label in counts if n)


_OTHERS = (("skip", "skipped"), ("inconclusive", "inconclusive"))


def conclude(
    res: CheckResult,
    recorded: list[Outcome],
    fails: list[Outcome],
    ctx: ProbeContext,
    rerun: Outcome | None = None,
) -> None:
    """Set ``res``'s verdict from its exchanges: ``recorded`` (all), ``fails`` (those that
    failed, explicit ones first), ``rerun`` (the minimal failure run again alone); a fail
    reports the minimal failing exchange."""
    res.failures = len(fails)
    res.rerun = rerun
    res.exchanges = list(recorded)
    res.transports = {}
    for o in recorded:
        if "transport" in o.params:
            t = str(o.params["transport"])
            res.transports[t] = res.transports.get(t, 0) + 1
    unclear = [o for o in recorded if o.verdict == "inconclusive"]
    res.inconclusive = len(unclear)
    res.lag = max((o.lag for o in recorded), default=0.0)
    passes = [o for o in recorded if o.verdict == "pass"]
    masked_fail = next((o for o in unclear if o.masked == "fail"), None)
    errors = [o for o in recorded if o.verdict == "error"]
    chosen: Outcome | None
    if errors:
        chosen = _errored(res, recorded, errors)
    elif fails:
        chosen = _failed(res, recorded, fails, rerun)
    elif passes and masked_fail is None:
        res.verdict = "pass"
        chosen = passes[-1]
        rest = _others(recorded)
        if res.check.explicit is not None:
            res.observed = (
                f"{len(passes)} of {len(recorded)} requests answered as prescribed or allowed"
                + (f" ({rest})" if rest else "")
            )
        else:
            res.observed = chosen.observed + (
                f" ({len(passes)} exchanges" + (f", {rest}" if rest else "") + ")"
            )
    elif unclear:
        res.verdict = "inconclusive"
        chosen = masked_fail or unclear[0]
        res.observed = chosen.observed + (
            f" ({len(unclear)} of {len(recorded)} exchanges inconclusive)"
            if len(recorded) > 1
            else ""
        )
    else:
        res.verdict = "skip"
        chosen = recorded[0] if recorded else None
        if chosen is not None:
            res.observed = chosen.observed
        elif ctx.stop.is_set():
            res.observed = "not run: the run was stopped"
        else:
            res.observed = "not run: no time left within --duration"
    if chosen is not None:
        res.expected = chosen.expected or res.check.expects
        res.trace = chosen.trace
        res.expected_trace = chosen.expected_trace
        res.params = chosen.params
    else:
        res.expected = res.check.expects
