"""pytest plugin of ``scripts/mutation`` (``-p tools.mutation.hypothesis_profile``).

* The Hypothesis profile ``mutation``: the suite's deterministic ``ci`` profile (which
  ``tests/conftest.py`` registers and, with ``HYPOTHESIS_PROFILE=ci``, loads) without
  shrinking. A mutant is killed by the first failing example; shrinking it only costs time.
* With ``SIPFSM_MUTATION_BOUND`` (seconds), collecting a test module and running a test are
  each bounded: past the bound, ``faulthandler`` prints the stacks and ends the run with exit
  code 1, a failure, so a mutant that makes the code hang is killed, not timed out. Not
  pytest-timeout: its signal method raises inside a Hypothesis test, which then replays the
  example (and hangs again), and neither of its methods can interrupt a regular expression
  that backtracks for minutes in C (``faulthandler``'s watchdog needs no GIL).
* A test module that cannot be collected (a mutant broke what it computes at import) ends
  the run with exit code 1, a failure. Without this, pytest, asked by mutmut for node ids of
  that module, stops with a usage error (exit 4: "found no collectors"); mutmut turns that
  into exit 255, which it reports as a timeout, so a mutant the suite plainly catches would
  count as a survivor.
* With ``SIPFSM_MUTATION_CURRENT`` naming a file, each test's node id is written there as it
  starts: when a mutant's run times out, the report names the test that hung.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
from pathlib import Path

import pytest
from hypothesis import Phase, settings


def _bound() -> float | None:
    value = os.environ.get("SIPFSM_MUTATION_BOUND")
    return float(value) if value else None


def _arm() -> None:
    bound = _bound()
    if bound:  # fd 2: mutmut replaces sys.stderr by objects without a file descriptor
        with contextlib.suppress(ValueError, OSError):
            faulthandler.dump_traceback_later(bound, exit=True, file=2)


def _disarm() -> None:
    if _bound():
        faulthandler.cancel_dump_traceback_later()


def pytest_configure(config: pytest.Config) -> None:
    """Register (from ``tests/conftest.py``'s ``ci``, loaded before this hook) and load the
    ``mutation`` profile."""
    settings.register_profile(
        "mutation",
        parent=settings.get_profile("ci"),
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
        database=None,
    )
    settings.load_profile("mutation")


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Bound the import of each test module."""
    if isinstance(collector, pytest.Module):
        _arm()


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """Unbound the import; a module that fails to be collected fails the run (exit 1)."""
    _disarm()
    if report.failed:
        pytest.exit(f"mutation: collecting {report.nodeid} failed", returncode=1)


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Note the test that starts, and bound it."""
    current = os.environ.get("SIPFSM_MUTATION_CURRENT")
    if current:
        Path(current).write_text(nodeid)
    _arm()


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    _disarm()
