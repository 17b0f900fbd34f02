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


def test_an_unplanned_skip_fails_a_ci_run_and_is_printed(tmp_path: Path) -> None:
    done = _pytest(_project(tmp_path, {"test_s.py": SKIPPING}), ci=True)
    assert done.returncode == 1, done.stdout
    assert "SKIP tests/test_s.py::test_skips: the peer is not installed" in done.stdout
    assert "NOT PLANNED" in done.stdout and "1 unplanned skip(s) fail the run" in done.stdout


def test_an_unplanned_skip_outside_ci_is_printed_but_passes(tmp_path: Path) -> None:
    done = _pytest(_project(tmp_path, {"test_s.py": SKIPPING}), ci=False)
    assert done.returncode == 0, done.stdout
    assert "SKIP tests/test_s.py::test_skips: the peer is not installed" in done.stdout


def test_a_planned_skip_passes_a_ci_run_with_its_reason(tmp_path: Path) -> None:
    allowed = '"tests/test_s.py::test_sk*" = "no peer on this runner"\n'
    done = _pytest(_project(tmp_path, {"test_s.py": SKIPPING}, allowed), ci=True)
    assert done.returncode == 0, done.stdout
    assert "[planned: no peer on this runner]" in done.stdout


def test_a_skip_at_collection_counts_too(tmp_path: Path) -> None:
    module = 'import pytest\npytest.importorskip("no_such_module_here")\n'
    done = _pytest(_project(tmp_path, {"test_m.py": module}), ci=True)
    assert done.returncode != 0, done.stdout
    assert "SKIP tests/test_m.py: could not import 'no_such_module_here'" in done.stdout


def test_a_planned_skip_needs_a_reason(tmp_path: Path) -> None:
    done = _pytest(_project(tmp_path, {"test_s.py": SKIPPING}, '"tests/*" = ""\n'), ci=True)
    assert done.returncode != 0 and "has no reason" in done.stdout + done.stderr


# --- item 3: no test writes into the working tree ----------------------------------------------


def test_a_test_writing_a_new_file_into_the_tree_fails_the_run(tmp_path: Path) -> None:
    project = _project(tmp_path, {"test_w.py": WRITING.format(name="new.txt", text="x")})
    _commit(project)
    done = _pytest(project, ci=False)
    assert done.returncode == 1, done.stdout
    assert "working-tree guard: on" in done.stdout
    assert "the tests changed the working tree: tests/new.txt" in done.stdout


def test_a_test_rewriting_a_tracked_file_fails_the_run(tmp_path: Path) -> None:
    project = _project(tmp_path, {"test_w.py": WRITING.format(name="skips.toml", text="")})
    _commit(project)
    done = _pytest(project, ci=False)
    assert done.returncode == 1, done.stdout
    assert "the tests changed the working tree: tests/skips.toml" in done.stdout


def test_a_test_changing_an_already_changed_file_fails_the_run(tmp_path: Path) -> None:
    project = _project(tmp_path, {"test_w.py": WRITING.format(name="draft.txt", text="new")})
    _commit(project)
    (project / "tests" / "draft.txt").write_text("untracked before the run")
    done = _pytest(project, ci=False)
    assert done.returncode == 1, done.stdout
    assert "the tests changed the working tree: tests/draft.txt" in done.stdout


def test_an_ignored_file_and_a_clean_run_pass(tmp_path: Path) -> None:
    project = _project(tmp_path, {"test_w.py": WRITING.format(name="out.log", text="x")})
    (project / ".gitignore").write_text("*.log\n__pycache__/\n")
    _commit(project)
    done = _pytest(project, ci=False)
    assert done.returncode == 0, done.stdout


def test_outside_a_git_checkout_the_guard_checks_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path, {"test_w.py": WRITING.format(name="new.txt", text="x")})
    done = _pytest(project, ci=False)
    assert done.returncode == 0, done.stdout
    assert "working-tree guard: off (not a git checkout)" in done.stdout
