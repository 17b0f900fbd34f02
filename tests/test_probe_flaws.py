"""Every probe check can fail (issue 22, item 4): for each registered check, the deliberate
flaw of the reference UA that violates exactly its rule (the table tests/probe_flaws.toml)
makes it fail, for that reason, and leaves every other check passing; a flaw that necessarily
breaks several checks (the table's [several]) fails each of them and leaves the rest passing.

Each row is one probe run of both roles on the virtual clock (:func:`sipfsm.probe.runner.run`
with ``virtual_clock``: the reference UA in-process, every timer at its deadline), at the RFC's
T1 = 500 ms, with a fixed seed: the verdicts depend on the timeline alone, never on how busy
the machine is.
"""

from __future__ import annotations

import io
import tomllib
from pathlib import Path
from typing import Any

import pytest

from sipfsm.probe import ProbeConfig
from sipfsm.probe.checks import CHECKS
from sipfsm.probe.flaws import CATALOGUE, FLAWS
from sipfsm.probe.runner import CheckResult, run

TABLE = Path(__file__).with_name("probe_flaws.toml")
DOC: dict[str, Any] = tomllib.loads(TABLE.read_text(encoding="utf-8"))
ROWS: dict[str, dict[str, Any]] = DOC["rows"]
#: Flaws that break several checks at once: flaw -> {checks, observed}.
SEVERAL: dict[str, dict[str, Any]] = DOC.get("several", {})
#: Flaws that are no row, and the test that uses each.
OTHER_FLAWS = {
    "2xx-until-t2": "test_probe.py::test_broken_reference_ua_is_caught",
    "flaky-cancel-unknown": "test_probe_verdicts.py (a failure that does not reproduce)",
    "stateless-503": "test_probe_verdicts.py (a refusal is inconclusive)",
    "wedge": "test_probe_hostile.py (a peer wedged by one malformed message)",
    **{
        hostile: "test_probe_hostile.py (no PASS against a hostile peer)"
        for hostile in ("garbage", "truncated", "flood", "silent")
    },
}


def probe_both_roles(flaws: frozenset[str]) -> dict[str, CheckResult]:
    """Every check, both roles, against the reference UA with ``flaws``: id -> result."""
    results: dict[str, CheckResult] = {}
    for role in ("client", "server"):
        cfg = ProbeConfig(role=role, flaws=flaws, max_examples=3, seed=1, virtual_clock=True)
        report = run(cfg, progress_stream=io.StringIO())
        assert report.stopped_by is None, report.stopped_by
        # no exchange raised: a flawed UA makes the probe find no bug of its own (ERROR)
        raised = {
            r.check.id: o.traceback
            for r in report.results
            for o in r.exchanges
            if o.verdict == "error"
        }
        assert not raised, raised
        results.update((r.check.id, r) for r in report.results)
    return results


def test_every_check_has_a_row() -> None:
    registered = {c.id for c in CHECKS}
    missing, unknown = registered - set(ROWS), set(ROWS) - registered
    assert not missing, f"checks with no flaw in {TABLE.name}: {sorted(missing)}"
    assert not unknown, f"rows of {TABLE.name} for no registered check: {sorted(unknown)}"


def test_every_flaw_is_known_and_used() -> None:
    used = [row["flaw"] for row in ROWS.values()]
    assert len(used) == len(set(used)), "one flaw per check"
    assert not set(used) & set(SEVERAL), "a flaw is a row or breaks several checks, not both"
    used += list(SEVERAL)
    for flaw, row in SEVERAL.items():
        assert len(row["checks"]) > 1, f"{flaw} breaks one check: make it a row"
        assert set(row["checks"]) <= set(ROWS), sorted(set(row["checks"]) - set(ROWS))
    assert set(used) <= set(FLAWS), sorted(set(used) - set(FLAWS))
    assert set(FLAWS) == set(used) | set(OTHER_FLAWS)
    assert all(CATALOGUE[f].section and CATALOGUE[f].what for f in FLAWS)


@pytest.mark.parametrize("check_id", sorted(ROWS))
def test_flaw_fails_its_check_and_no_other(check_id: str) -> None:
    row = ROWS[check_id]
    results = probe_both_roles(frozenset({row["flaw"]}))
    mine = results[check_id]
    assert mine.verdict == "fail", (row["flaw"], mine.verdict, mine.observed)
    assert row["observed"] in mine.observed, mine.observed
    others = {i: (r.verdict, r.observed) for i, r in results.items() if i != check_id}
    assert all(v == "pass" for v, _ in others.values()), others


@pytest.mark.parametrize("flaw", sorted(SEVERAL))
def test_flaw_fails_its_checks_and_no_other(flaw: str) -> None:
    """A flaw of [several]: each check it lists fails for that reason, every other passes."""
    row = SEVERAL[flaw]
    results = probe_both_roles(frozenset({flaw}))
    failed = {i: (r.verdict, r.observed) for i, r in results.items() if i in row["checks"]}
    assert all(v == "fail" and row["observed"] in o for v, o in failed.values()), failed
    others = {i: (r.verdict, r.observed) for i, r in results.items() if i not in row["checks"]}
    assert all(v == "pass" for v, _ in others.values()), others


def test_reference_ua_without_flaws_passes_both_roles() -> None:
    """The table's baseline: with no flaw, every check passes."""
    results = probe_both_roles(frozenset())
    assert {r.verdict for r in results.values()} == {"pass"}, {
        i: (r.verdict, r.observed) for i, r in results.items()
    }
