"""mutmut 3 over the core modules (:data:`tools.mutation.table.CORE`), in a copy of the tree.

mutmut reads its configuration from the ``pyproject.toml`` of the folder it runs in, copies
that folder's ``sipfsm/`` into ``mutants/`` and runs the tests there. Here that folder is a
copy, ``.mutation/mutmut-full`` (judged by the whole suite) or ``.mutation/mutmut-quick``
(judged by the table's tests of each module): its ``pyproject.toml`` gets the ``[tool.mutmut]``
written below, and ``mutants/`` keeps mutmut's cache between runs (unchanged functions keep
their results). What this project needs of mutmut (measured):

* ``also_copy`` the folders the package and the tests read (models, grammar, diagrams) and
  this tool (its pytest plugin);
* the links inside ``sipfsm/`` (``sipfsm/model/_models`` -> ``../../models``) made again in
  ``mutants/`` (mutmut copies files, not links);
* ``process_isolation = "forkserver"`` and no warm-up: with the default fork, every worker
  inherits the model tables the stats run cached, and mutmut stops with "unable to force test
  failures".
"""

from __future__ import annotations

import ast
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from tools.mutation import proc, workspace
from tools.mutation.reach import skipped_by_mutmut
from tools.mutation.table import CORE, PYTEST_ARGS, SEED, TEST_TIMEOUT

#: Statuses mutmut gives (its exit codes, ``mutmut.stats.status_by_exit_code`` of 3.8.1).
_STATUS = {
    None: "not checked",
    0: "survived",
    1: "killed",
    3: "killed",
    2: "interrupted",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    35: "suspicious",
    36: "timeout",
    37: "caught by type check",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    -11: "segfault",
    -9: "segfault",
}
#: What counts as a survivor (issue 22: a timed-out mutant and one no test covers do).
SURVIVOR = frozenset({"survived", "timeout", "no tests", "suspicious", "interrupted", "segfault"})


@dataclass(frozen=True, slots=True)
class Code:
    """One mutmut mutant and its verdict."""

    name: str
    path: str
    status: str
    line: int = 0
    before: str = ""
    after: str = ""


@dataclass(slots=True)
class FileResult:
    """The verdicts of one module's mutants."""

    path: str
    mutants: list[Code] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(m.status in statuses for m in self.mutants)


def core_files(root: Path = workspace.ROOT) -> list[str]:
    """Every file of :data:`CORE`, relative, sorted."""
    return sorted({str(p.relative_to(root)) for c in CORE for p in root.glob(c.glob)})


def shard_of(path: str) -> str:
    """The shard a core file is in."""
    return next(c.shard for c in CORE if fnmatch(path, c.glob))


def tests_of(paths: list[str]) -> tuple[str, ...]:
    """Quick mode's tests for these core files (their entries' tests, in table order)."""
    out: list[str] = []
    for c in CORE:
        if any(fnmatch(p, c.glob) for p in paths):
            out.extend(t for t in c.tests if t not in out)
    return tuple(out)


def patterns(path: str) -> list[str]:
    """mutmut's names for the mutants of one file: ``sipfsm.model.timers.x_cap__mutmut_1``."""
    module = path[:-3].replace("/", ".").removesuffix(".__init__")
    return [f"{module}.x_*", f"{module}.x\u01c1*"]


def _toml_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def config(tests: tuple[str, ...] | None) -> str:
    """The ``[tool.mutmut]`` table: every core file mutated; ``tests`` (None: all) judge."""
    globs = [c.glob for c in CORE]
    lines = [
        "[tool.mutmut]",
        'source_paths = ["sipfsm"]',
        f"only_mutate = {_toml_list(globs)}",
        f"also_copy = {_toml_list([n for n in _COPIED if n != 'tests'])}",
        f"pytest_add_cli_args = {_toml_list(PYTEST_ARGS)}",
        f"pytest_add_cli_args_test_selection = {_toml_list(tests or ('tests',))}",
        'process_isolation = "forkserver"',
        'forkserver_warmup = "none"',
        "use_git_change_detection = false",
        # A mutant may loop for ever (a doubling timer that never reaches its cap): mutmut's
        # CPU limit is (tests' seconds + constant) * multiplier * 2 (its default 15 waited 13
        # min), its wall limit half that: at least 1.5 * TEST_TIMEOUT, so that a hanging test
        # fails first (hypothesis_profile.py's bound) and the mutant counts as killed.
        "timeout_multiplier = 3.0",
        f"timeout_constant = {TEST_TIMEOUT / 2:.1f}",
    ]
    return "\n".join(lines) + "\n"


#: What mutmut copies into ``mutants/`` besides the package (``also_copy`` and its defaults).
_COPIED = ("tests", "models", "grammar", "diagrams", "tools", "scripts")


def _tidy(mutants: Path, folder: Path) -> None:
    """mutmut copies a file only where ``mutants/`` has none yet, so whatever it copied before
    stays as it was: remove the copies of the folders (a test file deleted since must not run),
    every file of the package that mutmut does not mutate (a module or the generated grammar
    changed since would run in its old version; mutmut copies them again), and the mutated
    files whose source is gone. (mutmut makes a mutated file again when its source is newer.)"""
    for name in _COPIED:
        shutil.rmtree(mutants / name, ignore_errors=True)
    for path in sorted(mutants.glob("sipfsm/**/*")):
        rel = str(path.relative_to(mutants))
        source = folder / rel.removesuffix(".meta").removesuffix(".spans")
        if not path.is_file() or path.is_symlink():
            continue
        mutated = rel.endswith((".meta", ".spans")) or any(fnmatch(rel, c.glob) for c in CORE)
        if not (source.exists() and mutated):
            path.unlink()


def prepare(folder: Path, tests: tuple[str, ...] | None) -> None:
    """Bring the copy up to date, write its configuration, make the links in ``mutants/``."""
    workspace.sync(folder)
    workspace.link_shared(folder)  # the tests run in folder/mutants: ROOT.parent is folder
    _tidy(folder / "mutants", folder)
    pyproject = folder / "pyproject.toml"
    text = (workspace.ROOT / "pyproject.toml").read_text()
    text = text.split("\n[tool.mutmut]\n")[0].rstrip("\n") + "\n\n" + config(tests)
    if pyproject.read_text() != text:
        pyproject.write_text(text)
    for name in workspace.tree_files():
        src = workspace.ROOT / name
        if name.startswith("sipfsm/") and src.is_symlink():
            link = folder / "mutants" / name
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink():
                os.symlink(os.readlink(src), link)


def mutable(path: str, root: Path = workspace.ROOT) -> bool:
    """Whether mutmut can make a mutant of ``path``: it has an undecorated function (or one
    whose only decorator is ``@staticmethod`` / ``@classmethod``) at module or class level."""
    tree = ast.parse((root / path).read_text())
    bodies = [tree.body] + [n.body for n in tree.body if isinstance(n, ast.ClassDef)]
    return any(
        isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and not skipped_by_mutmut(f)
        for body in bodies
        for f in body
    )


#: mutmut's own first step of ``mutmut run`` (3.8.1, ``mutmut.__main__._run``): the mutants
#: and their ``.meta`` files in ``mutants/``, without the stats run (which runs the tests).
_GENERATE = """
import os
from mutmut.__main__ import (copy_also_copy_files, copy_src_dir, create_mutants,
    setup_source_paths, store_lines_covered_by_tests)
from mutmut.mutation.trampoline import set_mutant_under_test
os.makedirs("mutants", exist_ok=True)
set_mutant_under_test("mutant_generation")
copy_src_dir()
copy_also_copy_files()
setup_source_paths()
store_lines_covered_by_tests()
create_mutants(1)
"""


def generate(folder: Path) -> None:
    """Make (or bring up to date) every mutant in ``folder/mutants`` without judging any."""
    ran = subprocess.run(
        [sys.executable, "-c", _GENERATE],
        cwd=folder,
        capture_output=True,
        text=True,
        env=workspace.env(folder),
        check=False,
    )
    if ran.returncode != 0:
        raise SystemExit(f"mutation: mutmut could not make the mutants:\n{ran.stderr[-2000:]}")


def names_of(folder: Path, path: str) -> list[str]:
    """mutmut's names of every mutant of ``path`` (known once :func:`generate` ran)."""
    meta = folder / "mutants" / (path + ".meta")
    return sorted(json.loads(meta.read_text())["exit_code_by_key"]) if meta.exists() else []


def sample(folder: Path, paths: list[str], count: int) -> list[str]:
    """A seeded draw of ``count`` mutants from each shard's files among ``paths`` (all of a
    shard's mutants when it has fewer): the same tree and count always give the same names,
    and a larger count gives a superset."""
    out: list[str] = []
    for shard in sorted({shard_of(p) for p in paths}):
        names = [n for p in paths if shard_of(p) == shard for n in names_of(folder, p)]
        order = random.Random(f"{SEED}/mutmut/{shard}").sample(names, len(names))
        out += order[:count]
    return out


#: What mutmut says when the names match no mutant (then there is nothing to run).
NOTHING_MATCHES = "Filtered for specific mutants, but nothing matches"


def run(
    folder: Path,
    paths: list[str],
    max_children: int,
    deadline: float | None,
    only: list[str] | None = None,
) -> proc.Ran:
    """``mutmut run`` for the mutants of ``paths``, or only the mutants named in ``only``
    (log: ``folder/mutmut.log``)."""
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    names = only if only is not None else [p for f in paths if mutable(f) for p in patterns(f)]
    if not names:
        return proc.Ran(0, NOTHING_MATCHES, 0.0)
    cmd = [mutmut, "run", "--max-children", str(max_children), *names]
    timeout = 1e9 if deadline is None else deadline - time.monotonic()
    return proc.run(cmd, folder, workspace.env(folder), timeout, log=folder / "mutmut.log")


#: What mutmut says when the unmutated tests fail in ``mutants/`` (it shows none of their output).
STATS_FAILED = "failed to collect stats"


def rerun_clean(folder: Path, tests: tuple[str, ...] | None, deadline: float | None) -> str:
    """The tail of the tests mutmut's stats run ran, run again by pytest itself in
    ``folder/mutants`` (same arguments, no mutant active): why that run failed."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-rs", *PYTEST_ARGS, *(tests or ("tests",))]
    env = workspace.env(folder / "mutants")
    env["PYTHONPATH"] = os.pathsep.join([str(folder / "mutants"), str(folder)])
    timeout = 900.0 if deadline is None else max(deadline - time.monotonic(), 60.0)
    ran = proc.run(cmd, folder / "mutants", env, timeout)
    return "\n".join(ran.output.splitlines()[-30:]) or f"(pytest exit {ran.returncode})"


def results(folder: Path, paths: list[str]) -> list[FileResult]:
    """The verdicts mutmut recorded for ``paths`` (survivors with their line and change)."""
    out = []
    for path in paths:
        meta = folder / "mutants" / (path + ".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        out.append(
            FileResult(
                path,
                [Code(n, path, _STATUS.get(c, "suspicious")) for n, c in sorted(codes.items())],
            )
        )
    survivors = [m for r in out for m in r.mutants if m.status in SURVIVOR]
    detail = _diffs(folder, [m.name for m in survivors])
    for r in out:
        r.mutants = [
            _located(folder, m, detail.get(m.name, "")) if m.status in SURVIVOR else m
            for m in r.mutants
        ]
    return out


def census(folder: Path) -> dict[str, int]:
    """The number of mutants mutmut generated for every core file (it mutates them all)."""
    out = {}
    for path in core_files():
        meta = folder / "mutants" / (path + ".meta")
        if meta.exists():
            out[path] = len(json.loads(meta.read_text())["exit_code_by_key"])
    return out


_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
out = {}
for name in json.loads(sys.stdin.read()):
    try:
        out[name] = get_diff_for_mutant(name)
    except Exception as e:
        out[name] = f"(no diff: {e})"
print(json.dumps(out))
"""


def _diffs(folder: Path, names: list[str]) -> dict[str, str]:
    """mutmut's diff of each named mutant (one process for all)."""
    if not names:
        return {}
    ran = subprocess.run(
        [sys.executable, "-c", _DIFFS],
        cwd=folder,
        input=json.dumps(names),
        capture_output=True,
        text=True,
        env=workspace.env(folder),
        check=False,
    )
    try:
        return dict(json.loads(ran.stdout.strip().splitlines()[-1]))
    except (json.JSONDecodeError, IndexError):
        return {}


def _function_span(source: str, mangled: str) -> tuple[int, int]:
    """The lines of the function mutmut names ``x_f`` or ``x<sep>Class<sep>f``."""
    sep = "\u01c1"
    cls, func = (
        [*mangled[2:].strip(sep).split(sep), ""][:2] if sep in mangled else ("", mangled[2:])
    )
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.ClassDef) and node.name == cls) or (
            not cls and isinstance(node, ast.Module)
        ):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == func:
                    return item.lineno, item.end_lineno or item.lineno
    return 0, 0


def _changed(diff: str) -> tuple[str, str, int]:
    """The first removed and added line of a unified diff, and the removed line's number."""
    before, after, line, first = "", "", 0, 0
    for text in diff.splitlines():
        if text.startswith("@@"):
            line = int(text.split()[1].split(",")[0].lstrip("-"))
        elif not line:
            continue
        elif text.startswith("-"):
            if not before:
                before, first = text[1:].strip(), line
            line += 1
        elif text.startswith("+"):
            after = after or text[1:].strip()
        else:
            line += 1
    return before, after, first


def _located(folder: Path, m: Code, diff: str) -> Code:
    """``m`` with the file line and the before/after text of its change."""
    before, after, first = _changed(diff)
    mangled = m.name.rpartition(".")[2].partition("__mutmut_")[0]
    lines = (folder / m.path).read_text().splitlines()
    start, end = _function_span("\n".join(lines), mangled)
    guess = start + max(first, 1) - 1
    same = [n for n in range(start, end + 1) if before and lines[n - 1].strip() == before]
    line = min(same, key=lambda n: abs(n - guess)) if same else start
    return Code(m.name, m.path, m.status, line, before, after)
