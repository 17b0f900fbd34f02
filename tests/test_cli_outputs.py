"""Output paths of the command line (issue 13, CLI defects): every path a subcommand writes is
checked before the work starts; one that cannot be written exits 2 with one line, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipfsm.cli.main import main as cli_main
from sipfsm.cli.outputs import output_file, output_folder, writing
from sipfsm.errors import SipfsmError


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _unwritable(tmp_path: Path) -> list[Path]:
    """Paths no folder can be made at: under a regular file, and (on Linux) under /proc."""
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    paths = [a_file, a_file / "sub"]
    if Path("/proc/self").is_dir():
        paths.append(Path("/proc/sipfsm-no-such-folder"))
    return paths


def _one_line_usage_error(code: int, out: str, err: str, command: str, path: Path) -> None:
    assert code == 2, (code, err)
    assert err.count("\n") == 1 and err.startswith(f"sipfsm {command}: "), err
    assert str(path) in err and "Traceback" not in err
    assert out == ""  # nothing was done before the check


def test_diagram_out_that_cannot_be_a_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for path in _unwritable(tmp_path):
        code, out, err = _run(capsys, "diagram", "--format", "dot", "--out", str(path))
        _one_line_usage_error(code, out, err, "diagram", path)


def test_demo_out_checked_before_the_first_step(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for path in _unwritable(tmp_path):
        code, out, err = _run(capsys, "demo", "--out", str(path))
        _one_line_usage_error(code, out, err, "demo", path)
    # a part of the demo's folder that is a file (OUT/diagrams) is caught as early
    out_dir = tmp_path / "demo"
    out_dir.mkdir()
    (out_dir / "diagrams").write_text("x")
    code, out, err = _run(capsys, "demo", "--out", str(out_dir))
    _one_line_usage_error(code, out, err, "demo", out_dir / "diagrams")


def test_probe_json_is_checked_before_the_probe_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--json DIR`` was an IsADirectoryError after the whole probe ran, exit 1 ("a check
    failed"), the report lost. The probe does not start: no verdict table is printed."""
    probe = ("probe", "--virtual-clock", "--max-examples", "1", "--checks", "cancel")
    code, out, err = _run(capsys, *probe, "--json", str(tmp_path))
    _one_line_usage_error(code, out, err, "probe", tmp_path)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for bad in (a_file / "report.json", Path("/proc/sipfsm-no-such-folder/report.json")):
        if bad.parts[1] == "proc" and not Path("/proc/self").is_dir():
            continue
        code, out, err = _run(capsys, *probe, "--json", str(bad))
        _one_line_usage_error(code, out, err, "probe", bad.parent)
    code, out, err = _run(capsys, *probe, "--report-dir", str(a_file))
    _one_line_usage_error(code, out, err, "probe", a_file)


def test_output_file_is_not_created_by_the_check(tmp_path: Path) -> None:
    target = tmp_path / "new" / "report.json"
    assert output_file(target, "--json") == target
    assert target.parent.is_dir() and not target.exists()
    assert list(target.parent.iterdir()) == []  # the scratch file of the check is gone


def test_output_folder_is_made_and_left_empty(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    assert output_folder(target, "--out") == target
    assert target.is_dir() and list(target.iterdir()) == []


def test_writing_turns_an_os_error_into_one_line(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "x"
    with (
        pytest.raises(SipfsmError, match=r"^--json '.*x': cannot write: No such file"),
        writing(path, "--json"),
    ):
        path.write_text("")
