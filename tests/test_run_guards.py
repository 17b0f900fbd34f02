"""The run's own guards can fail (tests/conftest.py, issue 22 items 3 and 10).

Each test builds a scratch project in a temporary folder (a copy of ``tests/conftest.py``, an
allow-list, one or two tests), runs pytest on it in a child process and reads its verdict.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

SKIPPING = """
import pytest

def test_runs() -> None:
    pass

def test_skips() -> None:
    pytest.skip("the peer is not installed")
"""

WRITING = """
from pathlib import Path

def test_writes_into_the_tree() -> None:
    (Path(__file__).parent / "{name}").write_text("{text}")
"""


def _project(tmp: Path, tests: dict[str, str], allowed: str = "") -> Path:
    (tmp / "tests").mkdir()
    shutil.copy(HERE / "conftest.py", tmp / "tests" / "conftest.py")
    (tmp / "tests" / "skips.toml").write_text(f"[allowed]\n{allowed}")
    for name, text in tests.items():
        (tmp / "tests" / name).write_text(text)
    return tmp


def _pytest(project: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _git(project: Path, *args: str) -> None:
    ident = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", *ident, *args], cwd=project, check=True, capture_output=True)


def _commit(project: Path) -> None:
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "scratch")


# --- item 10: with CI=true, only planned skips -------------------------------------------------

COLLECTION_SKIP = 'import pytest\npytest.importorskip("no_such_module_here")\n'
SKIPS = {"test_s.py": SKIPPING, "test_m.py": COLLECTION_SKIP}


def test_unplanned_skips_fail_a_ci_run_and_every_skip_is_printed(tmp_path: Path) -> None:
    """A skip in a test and one at collection: each printed with its reason; CI fails."""
    project = _project(tmp_path, SKIPS)
    ci, local = _pytest(project, ci=True), _pytest(project, ci=False)
    for done in (ci, local):
        assert "SKIP tests/test_s.py::test_skips: the peer is not installed" in done.stdout
        assert "SKIP tests/test_m.py: could not import 'no_such_module_here'" in done.stdout
        assert done.stdout.count("NOT PLANNED") == 2
    assert ci.returncode == 1 and "2 unplanned skip(s) fail the run" in ci.stdout, ci.stdout
    assert local.returncode == 0 and "unplanned skip(s) fail" not in local.stdout


def test_planned_skips_pass_a_ci_run_with_their_reasons(tmp_path: Path) -> None:
    """Planned in the allow-list: printed with the plan, the CI run passes. In a clean git
    checkout the working-tree guard is on and a run that writes nothing passes it."""
    allowed = '"tests/test_s.py::test_sk*" = "no peer on this runner"\n'
    allowed += '"tests/test_m.py" = "an optional module"\n'
    project = _project(tmp_path, SKIPS, allowed)
    _commit(project)
    done = _pytest(project, ci=True)
    assert done.returncode == 0, done.stdout
    assert "[planned: no peer on this runner]" in done.stdout
    assert "[planned: an optional module]" in done.stdout
    assert "working-tree guard: on" in done.stdout


def test_a_planned_skip_needs_a_reason(tmp_path: Path) -> None:
    done = _pytest(_project(tmp_path, {"test_s.py": SKIPPING}, '"tests/*" = ""\n'), ci=True)
    assert done.returncode != 0 and "has no reason" in done.stdout + done.stderr


# --- item 3: no test writes into the working tree ----------------------------------------------


def test_tests_writing_into_the_tree_fail_the_run_with_the_paths(tmp_path: Path) -> None:
    """A new file, a rewritten tracked file and a changed untracked file are named; a
    file git ignores is not."""
    writes = {
        f"test_w{i}.py": WRITING.format(name=name, text="new")
        for i, name in enumerate(["new.txt", "skips.toml", "draft.txt", "out.log"])
    }
    project = _project(tmp_path, writes)
    (project / ".gitignore").write_text("*.log\n__pycache__/\n")
    _commit(project)
    (project / "tests" / "draft.txt").write_text("untracked before the run")
    done = _pytest(project, ci=False)
    assert done.returncode == 1, done.stdout
    changed = "tests/draft.txt, tests/new.txt, tests/skips.toml"
    assert f"the tests changed the working tree: {changed}\n" in done.stdout, done.stdout


def test_outside_a_git_checkout_the_guard_checks_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path, {"test_w.py": WRITING.format(name="new.txt", text="x")})
    done = _pytest(project, ci=False)
    assert done.returncode == 0, done.stdout
    assert "working-tree guard: off (not a git checkout)" in done.stdout
