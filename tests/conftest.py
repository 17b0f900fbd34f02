"""Shared test set-up: Hypothesis profiles and the path of the shared RFC 4475 corpus."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

#: Project root (the folder holding pyproject.toml).
ROOT = Path(__file__).resolve().parent.parent
#: The RFC 4475 torture messages, read in place by the tests (the package ships a byte-exact
#: copy in sipfsm/data/rfc4475, checked by test_corpus_data.py).
CORPUS = ROOT.parent / "shared" / "corpus" / "rfc4475"
#: The modules a user imports from; every other sipfsm module is private (issue 10).
PUBLIC_MODULES = ("sipfsm", "sipfsm.headers", "sipfsm.aio", "sipfsm.strategies", "sipfsm.testing")

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
