"""Packaging (issue 13, CLI defects): building the wheel and the editable wheel prints no
setuptools warning (a newcomer's ``scripts/setup`` is clean), and the wheel still ships what
the package reads at run time: the grammar compiled to Lark, the models, the RFC 4475 corpus.

The builds run on a copy of the project's packaging inputs under ``tmp_path`` (a build writes
``build/`` and ``*.egg-info`` beside ``pyproject.toml``), with the test environment's setuptools
(the ``test`` extra pins the version ``[build-system]`` asks for).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Both builds, as pip runs them; every Python warning they raise (what pip shows of a build at
#: its default verbosity, setuptools' log lines being hidden) printed as a WARNING line.
_BUILD = """\
import sys, warnings
from setuptools import build_meta
out = sys.argv[1]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("WHEEL", build_meta.build_wheel(out))
    print("EDITABLE", build_meta.build_editable(out))
for w in caught:
    print("WARNING", w.category.__name__, str(w.message).strip().splitlines()[0])
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel built from a scratch copy of the project, and the warnings of both builds."""
    project = tmp_path_factory.mktemp("project")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(ROOT / "models", project / "models")
    shutil.copytree(ROOT / "grammar", project / "grammar")  # sipfsm/data/_grammar -> it
    shutil.copytree(
        ROOT / "sipfsm",
        project / "sipfsm",
        symlinks=True,  # sipfsm/model/_models -> ../../models, as in a checkout
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-c", _BUILD, str(out)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    wheel = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("WHEEL "))
    warned = [line for line in done.stdout.splitlines() if line.startswith("WARNING ")]
    return out / wheel, "\n".join(warned)


def test_builds_print_no_warning(built: tuple[Path, str]) -> None:
    """Neither build warns: no package left out of ``packages`` while its files ship, no
    "Editable installation" notice (issue 13: about 100 such lines at set-up)."""
    _, warned = built
    assert warned == "", warned


def test_wheel_ships_grammar_models_and_corpus(built: tuple[Path, str]) -> None:
    wheel, _ = built
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"sipfsm/py.typed", "sipfsm/message/_generated/sip.lark"}
    expected |= {
        f"sipfsm/model/_models/{p.relative_to(ROOT / 'models').as_posix()}"
        for p in (ROOT / "models").rglob("*.toml")
    }
    expected |= {f"sipfsm/data/_grammar/{p.name}" for p in (ROOT / "grammar").glob("*.abnf")}
    expected |= {"sipfsm/site/assets/site.js", "sipfsm/site/assets/site.css"}
    corpus = ROOT / "sipfsm" / "data" / "rfc4475"
    expected |= {f"sipfsm/data/rfc4475/{p.name}" for p in corpus.iterdir() if p.is_file()}
    assert len(expected) > 40 and expected <= names, sorted(expected - names)
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "sipfsm").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    assert not {n for n in names if n.startswith(("tests/", "tools/", "bench/", "scripts/"))}
