"""pytest plugin of ``scripts/mutation`` (``-p tools.mutation.hypothesis_profile``): the
Hypothesis profile ``mutation`` is the suite's deterministic ``ci`` profile (which
``tests/conftest.py`` registers and, with ``HYPOTHESIS_PROFILE=ci``, loads) without shrinking.
A mutant is killed by the first failing example; shrinking it would only cost time."""

from __future__ import annotations

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
