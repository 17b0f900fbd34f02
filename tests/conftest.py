"""Shared test set-up: Hypothesis profiles, the path of the shared RFC 4475 corpus, and two
guards of the run itself (issue 22): no test writes into the working tree, and with ``CI=true``
no test is skipped unless ``tests/skips.toml`` plans it."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

#: Project root (the folder holding pyproject.toml).
ROOT = Path(__file__).resolve().parent.parent
#: The read-only shared folder beside the project; SIPFSM_SHARED names it when the tests run
#: in a copy elsewhere (scripts/mutation).
SHARED = Path(os.environ.get("SIPFSM_SHARED", ROOT.parent / "shared"))
#: The RFC 4475 torture messages, read in place by the tests (the package ships a byte-exact
#: copy in sipfsm/data/rfc4475, checked by test_corpus_data.py).
CORPUS = SHARED / "corpus" / "rfc4475"
#: The modules a user imports from; every other sipfsm module is private (issue 10).
PUBLIC_MODULES = ("sipfsm", "sipfsm.headers", "sipfsm.aio", "sipfsm.strategies", "sipfsm.testing")
#: The one allow-list of planned skips: test node id pattern (fnmatch) -> reason.
SKIPS = Path(__file__).resolve().parent / "skips.toml"

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


# --- no test writes into the working tree ------------------------------------------------------


def _git(*args: str) -> str | None:
    """``git -C ROOT args`` output, or None when git is missing or ROOT is no git checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _tree_state() -> dict[str, tuple[str, str]] | None:
    """Each path ``git status`` lists under ROOT (tracked and changed, or untracked and not
    ignored), with its status and a digest of its content; None outside a git checkout."""
    top = _git("rev-parse", "--show-toplevel")
    status = _git("status", "--porcelain=v1", "-z", "--untracked-files=all", "--", ".")
    if top is None or status is None:
        return None
    state: dict[str, tuple[str, str]] = {}
    entries = iter(status.split("\0"))
    for entry in entries:
        if not entry:
            continue
        code, path = entry[:2], entry[3:]
        if code[0] in "RC":
            next(entries, None)  # the rename's source path
        file = Path(top.strip()) / path
        digest = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else ""
        state[path] = (code, digest)
    return state


@pytest.fixture(scope="session", autouse=True)
def working_tree_unchanged() -> Iterator[None]:
    """Fails the run if ``git status`` (paths and the content of each path listed) differs at
    the end from the start: a test wrote into the working tree. Outside a git checkout (or
    without git) it checks nothing; the report header says which."""
    before = _tree_state()
    yield
    after = _tree_state()
    if before is None or after is None:
        return
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    if changed:
        pytest.fail(f"the tests changed the working tree: {', '.join(changed)}", pytrace=False)


def pytest_report_header(config: pytest.Config) -> str:
    if _git("rev-parse", "--show-toplevel") is None:
        return "working-tree guard: off (not a git checkout)"
    return "working-tree guard: on (git status must not change during the run)"


# --- with CI=true, only planned skips ----------------------------------------------------------

_skipped: list[tuple[str, str]] = []  # (node id, reason) of every skip, in order


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _planned() -> dict[str, str]:
    """``tests/skips.toml``'s ``[allowed]`` table; every reason must be written out."""
    allowed: dict[str, str] = tomllib.loads(SKIPS.read_text())["allowed"]
    for pattern, why in allowed.items():
        assert isinstance(why, str) and why.strip(), f"{SKIPS.name}: {pattern} has no reason"
    return allowed


def _plan_for(nodeid: str, allowed: dict[str, str]) -> str | None:
    return next((why for pat, why in allowed.items() if fnmatch.fnmatchcase(nodeid, pat)), None)


def _record_skip(report: pytest.CollectReport | pytest.TestReport) -> None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    _skipped.append((report.nodeid, reason.removeprefix("Skipped: ")))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _record_skip(report)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _record_skip(report)


def _unplanned() -> list[tuple[str, str]]:
    allowed = _planned()
    return [(nodeid, why) for nodeid, why in _skipped if _plan_for(nodeid, allowed) is None]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _in_ci() and _unplanned() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Every skip, one line each, with whether ``tests/skips.toml`` plans it."""
    if not _skipped:
        return
    allowed = _planned()
    terminalreporter.section(f"skips ({len(_skipped)})")
    for nodeid, reason in _skipped:
        plan = _plan_for(nodeid, allowed)
        mark = f"planned: {plan}" if plan else "NOT PLANNED in tests/skips.toml"
        terminalreporter.write_line(f"SKIP {nodeid}: {reason} [{mark}]")
    unplanned = _unplanned()
    if unplanned and _in_ci():
        terminalreporter.write_line(
            f"CI=true: {len(unplanned)} unplanned skip(s) fail the run", red=True, bold=True
        )
