"""The mutation tool's own operators and bookkeeping (``tools/mutation``, ``scripts/mutation``).

These run no mutant: they check that every operator makes the edit it names and nothing else,
that the lists are seeded (the same tree gives the same mutants), and that copies are made
outside the working tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT

from sipfsm.abnf.reader import parse_abnf
from tools.mutation import abnf_ops, data, model_ops, mutmut_run, report, workspace
from tools.mutation.__main__ import quick_sample
from tools.mutation.edits import Context
from tools.mutation.table import CORE, DATA, FULL_CAP, NOT_DATA_JUDGES, QUICK_SAMPLE

CTX = Context(22, frozenset({"rfc3261", "rfc6026"}))
DATA_FILES = [path for path, _ in data.data_files()]


@pytest.mark.parametrize(
    ("repeat", "mutated"),
    [
        ("3", "3*4"),
        ("1*", "*"),
        ("*", "1*"),
        ("0*", "1*"),
        ("2*", "1*"),
        ("*3", "*4"),
        ("1*3", "1*4"),
    ],
)
def test_repetitions_widen_or_narrow(repeat: str, mutated: str) -> None:
    assert abnf_ops.widen_or_narrow(repeat) == mutated


def test_abnf_operators_on_a_small_grammar() -> None:
    text = 'a = "x" / 3DIGIT / [b] ; note\nb = 1*c\n   / %x41-5A\nc = "y"\nb =/ "z"\n'
    dropped = [m.apply(text) for m in abnf_ops.drop_alternatives("t", text, CTX)]
    assert dropped == [
        'a = 3DIGIT / [b] ; note\nb = 1*c\n   / %x41-5A\nc = "y"\nb =/ "z"\n',
        'a = "x" / [b] ; note\nb = 1*c\n   / %x41-5A\nc = "y"\nb =/ "z"\n',
        'a = "x" / 3DIGIT ; note\nb = 1*c\n   / %x41-5A\nc = "y"\nb =/ "z"\n',
        'a = "x" / 3DIGIT / [b] ; note\nb = %x41-5A\nc = "y"\nb =/ "z"\n',
        'a = "x" / 3DIGIT / [b] ; note\nb = 1*c\nc = "y"\nb =/ "z"\n',
        'a = "x" / 3DIGIT / [b] ; note\nb = 1*c\n   / %x41-5A\nc = "y"\n',
    ]
    reps = {
        m.description: m.apply(text).split("\n")[:2] for m in abnf_ops.repetitions("t", text, CTX)
    }
    assert reps == {
        "a: 3DIGIT -> 3*4DIGIT": ['a = "x" / 3*4DIGIT / [b] ; note', "b = 1*c"],
        "a: [b] -> (b)": ['a = "x" / 3DIGIT / (b) ; note', "b = 1*c"],
        "b: 1*c -> *c": ['a = "x" / 3DIGIT / [b] ; note', "b = *c"],
    }


@pytest.mark.parametrize("path", [p for p in DATA_FILES if p.endswith(".abnf")])
def test_grammar_mutants_are_abnf_and_one_edit_each(path: str) -> None:
    text = (ROOT / path).read_text()
    for m in data.mutants_of(path, FULL_CAP):
        mutated = m.apply(text)
        assert mutated != text and text[m.start : m.end] in text
        parse_abnf(mutated)  # still ABNF: a mutant is judged by the tests, not refused


@pytest.mark.parametrize("path", [p for p in DATA_FILES if p.endswith(".toml")])
def test_model_mutants_change_one_line_and_stay_toml(path: str) -> None:
    text = (ROOT / path).read_text()
    mutants = data.mutants_of(path, FULL_CAP)
    assert mutants, f"no operator applies to {path}"
    for m in mutants:
        before, after = text.split("\n"), m.apply(text).split("\n")
        assert len(before) == len(after)
        assert [n + 1 for n, (a, b) in enumerate(zip(before, after, strict=True)) if a != b] == [
            m.line
        ]
        tomllib.loads(m.apply(text))


def test_timer_numbers_are_the_default_values() -> None:
    text = (ROOT / "models/timers.toml").read_text()
    got = {m.description for m in model_ops.timer_numbers("models/timers.toml", text, CTX)}
    assert "Timer K unreliable: T4 -> 5" in got
    assert "Timer B unreliable: 64*T1 -> 32" in got
    assert "Timer E cap: T2 -> 4" in got


def test_redirects_go_to_states_of_the_rules_profiles() -> None:
    text = (ROOT / "models/invite_client.toml").read_text()
    model = tomllib.loads(text)
    profiles = {s["name"]: set(s.get("profiles", CTX.profiles)) for s in model["states"]}
    for m in model_ops.redirects("models/invite_client.toml", text, CTX):
        old, new = m.description.rsplit(" -> ", 1)[0].rsplit(" ", 1)[1], m.replacement
        assert new != old and new in profiles


def test_mutant_lists_are_seeded_and_nested() -> None:
    for path in DATA_FILES:
        small, large = data.mutants_of(path, 2), data.mutants_of(path, FULL_CAP)
        assert small == data.mutants_of(path, 2)
        assert set(small) <= set(large)
        keys = [m.key for m in data.mutants_of(path, None)]
        assert len(keys) == len(set(keys)), f"two mutants of {path} share a name"


def test_quick_sample_takes_every_operator() -> None:
    sample = quick_sample()
    assert len(sample) == QUICK_SAMPLE and sample == quick_sample()
    every = {op for p in DATA_FILES for op in data.operators(p) if data.mutants_of(p, 1)}
    assert {m.operator for m, _ in sample} == every


def test_copies_keep_links_and_leave_the_tree_alone(tmp_path: Path) -> None:
    files = workspace.tree_files()
    assert "sipfsm/model/_models" in files and ".mutation" not in {f.split("/")[0] for f in files}
    copy = tmp_path / "copy"
    workspace.fresh_copy(copy)
    link = copy / "sipfsm/model/_models"
    assert link.is_symlink() and os.readlink(link) == os.readlink(ROOT / "sipfsm/model/_models")
    assert (link / "timers.toml").read_text() == (ROOT / "models/timers.toml").read_text()
    (copy / "models/timers.toml").write_text("changed")
    assert (ROOT / "models/timers.toml").read_text() != "changed"


def test_mutmut_configuration() -> None:
    text = mutmut_run.config(("tests/test_tx_models.py",))
    config = tomllib.loads(text)["tool"]["mutmut"]
    assert config["process_isolation"] == "forkserver" and config["forkserver_warmup"] == "none"
    assert config["only_mutate"] == [c.glob for c in CORE]
    assert {"models", "grammar", "diagrams", "tools"} <= set(config["also_copy"])
    assert config["pytest_add_cli_args_test_selection"] == ["tests/test_tx_models.py"]
    assert mutmut_run.patterns("sipfsm/engine/__init__.py")[0] == "sipfsm.engine.x_*"
    want = {"sipfsm/model/timers.py", "sipfsm/probe/checks/registry.py"}
    assert set(mutmut_run.core_files()) >= want


def test_a_survivor_is_located_from_its_diff() -> None:
    diff = (
        "--- a\n+++ a\n@@ -3,4 +3,4 @@\n     x = 1\n-    return a < b\n+    return a <= b\n     y"
    )
    assert mutmut_run._changed(diff) == ("return a < b", "return a <= b", 4)


def test_report_renders_and_keeps_the_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = {
        "core": {
            "sipfsm/model/timers.py": {
                "date": "d",
                "commit": "c" * 40,
                "command": "x",
                "seconds": 60,
                "tests": "whole suite",
                "counts": {"killed": 9, "survived": 1},
                "survivors": [{"line": 3, "before": "a", "after": "b", "status": "survived"}],
            }
        },
        "data": {},
    }
    monkeypatch.setattr(report, "RESULTS", tmp_path / "m.json")
    monkeypatch.setattr(report, "REPORT", tmp_path / "m.md")
    report.write(results)
    text = (tmp_path / "m.md").read_text()
    assert "- core `model`: 9 of 10 killed (90%): met" in text
    assert "`sipfsm/model/timers.py:3` (survived) `a` -> `b`: **OPEN**" in text
    (tmp_path / "m.md").write_text(text + "my notes\n")
    report.write(results)
    assert (tmp_path / "m.md").read_text().endswith(report.NOTES_MARKER + "\nmy notes\n")


def test_every_test_file_judges_data_mutants_or_says_why_not() -> None:
    """A new test file must go into a selection of tools/mutation/table.py's DATA (else the
    data mutants it would kill survive) or into NOT_DATA_JUDGES with the reason."""
    chosen = {t for entry in DATA for t in entry.tests} | set(NOT_DATA_JUDGES)
    files = {f"tests/{p.name}" for p in (ROOT / "tests").glob("test_*.py")}
    assert files - chosen == set()
    assert chosen - files == set(), "the table names a test file that is not there"


def test_a_sampled_shard_reports_its_estimate_with_the_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shard judged on a sample says so, with the Wilson interval of the killed fraction."""
    entry = {"date": "d", "commit": "c" * 40, "command": "x", "seconds": 60, "tests": "t"}
    counts = {"killed": 27, "survived": 3, "not checked": 70}
    results = {"core": {"sipfsm/model/timers.py": {**entry, "counts": counts, "survivors": []}}}
    monkeypatch.setattr(report, "RESULTS", tmp_path / "m.json")
    monkeypatch.setattr(report, "REPORT", tmp_path / "m.md")
    report.write({**results, "data": {}})
    text = (tmp_path / "m.md").read_text()
    assert "27 of 30 killed (90%): met by the estimate, 95% interval 74-97%" in text
    assert "(a sample: 30 of its 100 mutants judged)" in text
    low, high = report.wilson(30, 30)
    assert high == 1.0 and 0.88 < low < 0.89


def test_mutmut_samples_are_seeded_and_nested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same count gives the same names, a larger count a superset, per shard."""
    names = {
        "sipfsm/model/timers.py": [f"sipfsm.model.timers.x_f__mutmut_{i}" for i in range(40)],
        "sipfsm/engine/runner.py": [f"sipfsm.engine.runner.x_g__mutmut_{i}" for i in range(3)],
    }
    monkeypatch.setattr(mutmut_run, "names_of", lambda folder, path: names.get(path, []))
    paths = sorted(names)
    small = mutmut_run.sample(tmp_path, paths, 5)
    assert small == mutmut_run.sample(tmp_path, paths, 5)
    assert set(small) <= set(mutmut_run.sample(tmp_path, paths, 10))
    assert sum(n.startswith("sipfsm.model.") for n in small) == 5
    assert {n for n in small if n.startswith("sipfsm.engine.")} == set(names[paths[0]])


def test_a_module_that_cannot_be_collected_fails_a_mutation_run(tmp_path: Path) -> None:
    """Asked for node ids of a module whose import fails, pytest alone stops with a usage
    error (4), which mutmut reports as a timeout; with the mutation plugin the run fails (1),
    which mutmut counts as a kill."""
    (tmp_path / "conftest.py").write_text(
        "from hypothesis import settings\nsettings.register_profile('ci')\n"
    )
    (tmp_path / "test_broken.py").write_text(
        "raise RuntimeError('a mutant broke the import')\n\ndef test_x() -> None:\n    pass\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("SIPFSM_MUTATION_BOUND", None)

    def run(*plugin: str) -> int:
        args = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *plugin]
        done = subprocess.run(
            [*args, "test_broken.py::test_x"], cwd=tmp_path, env=env, capture_output=True
        )
        return done.returncode

    assert run() == 4
    assert run("-p", "tools.mutation.hypothesis_profile") == 1


def test_tidy_drops_stale_copies_of_what_mutmut_does_not_mutate(tmp_path: Path) -> None:
    """mutmut copies a file only where mutants/ has none: an unmutated module or the generated
    grammar copied before must go (so that it is copied again), mutated files and their
    records stay, a mutated file whose source is gone goes."""
    folder, mutants = tmp_path / "copy", tmp_path / "copy" / "mutants"
    for rel in ("sipfsm/engine/runner.py", "sipfsm/message/grammar.py", "sipfsm/x/sip.lark"):
        for base in (folder, mutants):
            (base / rel).parent.mkdir(parents=True, exist_ok=True)
            (base / rel).write_text("old" if base == mutants else "new")
    (mutants / "sipfsm/engine/runner.py.meta").write_text("{}")
    (mutants / "sipfsm/engine/gone.py").write_text("old")
    (mutants / "tests").mkdir()
    mutmut_run._tidy(mutants, folder)
    left = sorted(str(p.relative_to(mutants)) for p in mutants.rglob("*") if p.is_file())
    assert left == ["sipfsm/engine/runner.py", "sipfsm/engine/runner.py.meta"]
    assert not (mutants / "tests").exists()
