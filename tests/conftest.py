"""Shared test set-up: Hypothesis profiles and the path of the shared RFC 4475 corpus."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

#: Project root (the folder holding pyproject.toml).
ROOT = Path(__file__).resolve().parent.parent
#: The read-only shared folder beside the project; SIPFSM_SHARED names it when the tests run
#: in a copy elsewhere (scripts/mutation).
SHARED = Path(os.environ.get("SIPFSM_SHARED", ROOT.parent / "shared"))
#: The RFC 4475 torture messages, read in place (never copied into the project).
CORPUS = SHARED / "corpus" / "rfc4475"

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
