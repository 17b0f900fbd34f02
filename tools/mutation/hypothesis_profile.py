"""pytest plugin of ``scripts/mutation`` (``-p tools.mutation.hypothesis_profile``): the
Hypothesis profile ``mutation`` is the suite's deterministic ``ci`` profile (which
``tests/conftest.py`` registers and, with ``HYPOTHESIS_PROFILE=ci``, loads) without shrinking.
A mutant is killed by the first failing example; shrinking it would only cost time.

With ``SIPFSM_MUTATION_CURRENT`` naming a file, the node id of each test is written there as
it starts: when a mutant's run times out, the report names the test that hung.

pytest-timeout (``--timeout``) bounds each test, not the collection: a mutant that hangs while
a test module is imported (a table compiled at import) would only time out. So collection gets
the same bound here: past it, the traceback is printed and the run ends with exit code 1 (a
failure, so the mutant is killed)."""

from __future__ import annotations

import contextlib
import faulthandler
import os
from pathlib import Path

import pytest
from hypothesis import Phase, settings

_BOUND: list[float] = []


def pytest_configure(config: pytest.Config) -> None:
    """Register (from ``tests/conftest.py``'s ``ci``, loaded before this hook) and load the
    ``mutation`` profile; note the per-test bound (``--timeout``)."""
    settings.register_profile(
        "mutation",
        parent=settings.get_profile("ci"),
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
        database=None,
    )
    settings.load_profile("mutation")
    bound = config.getoption("timeout", None)
    if bound:
        _BOUND[:] = [float(bound)]


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Bound the collection of each test module (see the module docstring)."""
    if _BOUND and isinstance(collector, pytest.Module):
        # mutmut replaces sys.stderr by objects without a file descriptor: write to fd 2
        with contextlib.suppress(ValueError, OSError):
            faulthandler.dump_traceback_later(_BOUND[0], exit=True, file=2)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """The module is collected: the bound is lifted."""
    if _BOUND:
        faulthandler.cancel_dump_traceback_later()


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Note the test that starts (see the module docstring)."""
    current = os.environ.get("SIPFSM_MUTATION_CURRENT")
    if current:
        Path(current).write_text(nodeid)
