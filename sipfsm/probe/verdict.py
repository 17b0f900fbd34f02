"""The verdict of one check (:class:`CheckResult`) and how it is reached from the check's
exchanges (:func:`conclude`): a FAIL reports the minimal failing exchange (fewest messages,
simplest parameters, least time), a PASS the last passing one; the count of exchanges per
transport goes with either."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sipfsm.probe.checks import Check, Outcome, ProbeContext
from sipfsm.probe.io import Event

__all__ = ["CheckResult", "conclude"]


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
    #: Every exchange of the check, in the order run (the report's replayable messages).
    exchanges: list[Outcome] = field(default_factory=list)

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
            "svg": self.svg,
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


def conclude(
    res: CheckResult, recorded: list[Outcome], fails: list[Outcome], ctx: ProbeContext
) -> None:
    """Set ``res``'s verdict from its exchanges: ``recorded`` (all), ``fails`` (those that
    failed, explicit ones first); a fail reports the minimal failing exchange."""
    res.failures = len(fails)
    res.exchanges = list(recorded)
    res.transports = {}
    for o in recorded:
        if "transport" in o.params:
            t = str(o.params["transport"])
            res.transports[t] = res.transports.get(t, 0) + 1
    chosen: Outcome | None
    if fails:
        res.verdict = "fail"
        # the minimal failure: the shortest exchange (fewest messages, then shortest time);
        # ties go to the later one (Hypothesis only tries candidates simpler than its best)
        chosen = min(
            reversed(fails),
            key=lambda o: (
                sum(e.dir != "note" for e in o.trace),
                _size(o.params),
                o.trace[-1].t if o.trace else 0.0,
            ),
        )
        observed = chosen.observed
        if len(fails) > 1:
            others = "; ".join(o.observed for o in fails if o is not chosen)[:400]
            observed = (
                f"{chosen.observed} [minimal of {len(fails)} failing exchanges "
                f"out of {len(recorded)}; others: {others}]"
            )
        res.observed = observed
    else:
        passes = [o for o in recorded if o.verdict == "pass"]
        if passes and res.check.explicit is not None:
            res.verdict = "pass"
            chosen = passes[-1]
            res.observed = (
                f"{len(passes)} of {len(recorded)} requests answered as "
                "prescribed or allowed"
                + (
                    f" ({len(recorded) - len(passes)} skipped)"
                    if len(recorded) > len(passes)
                    else ""
                )
            )
        elif passes:
            res.verdict = "pass"
            chosen = passes[-1]
            res.observed = chosen.observed + (
                f" ({len(passes)} exchanges"
                + (
                    f", {len(recorded) - len(passes)} skipped"
                    if len(recorded) > len(passes)
                    else ""
                )
                + ")"
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
