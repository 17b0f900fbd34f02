"""pytest plugin of ``scripts/mutation`` (``-p tools.mutation.hypothesis_profile``): the
Hypothesis profile ``mutation`` is the suite's deterministic ``ci`` profile (which
``tests/conftest.py`` registers and, with ``HYPOTHESIS_PROFILE=ci``, loads) without shrinking.
A mutant is killed by the first failing example; shrinking it would only cost time.

With ``SIPFSM_MUTATION_CURRENT`` naming a file, the node id of each test is written there as
it starts: when a mutant's run times out, the report names the test that hung."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import Phase, settings


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


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Note the test that starts (see the module docstring)."""
    current = os.environ.get("SIPFSM_MUTATION_CURRENT")
    if current:
        Path(current).write_text(nodeid)
