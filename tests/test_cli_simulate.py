"""``sipfsm simulate``: the ladder on stdout, ``--json``, ``--ladder FILE.txt``, ``--loss`` and
``--seed``, and the usage errors (exit code 2, one line, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sipfsm.cli.main import main


def test_the_ladder_is_printed_and_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ladder.txt"
    assert main(["simulate", "trapezoid", "--ladder", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("RFC 3261 Figure 1")
    assert out.read_text(encoding="utf-8") == printed
    assert "F14 200 OK" in printed


def test_json_lists_every_message_with_its_figure_number(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate", "trapezoid", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = data["messages"]
    assert data["scenario"] == "trapezoid" and len(rows) == 15
    assert rows[0]["first_line"] == "INVITE sip:bob@biloxi.com SIP/2.0"
    assert [r["figure"] for r in rows if r["figure"]] == [f"F{n}" for n in range(1, 15)]
    assert all(r["message"].endswith("\r\n\r\n") and not r["lost"] for r in rows)


def test_loss_and_seed_change_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "lossy-trapezoid", "--json", "--loss", "0.3", "--seed", "7"]) == 0
    rows = json.loads(capsys.readouterr().out)["messages"]
    assert any(r["lost"] for r in rows)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["simulate", "nope"], "unknown scenario 'nope'"),
        (["simulate", "trapezoid", "--ladder", "x.png"], "a .txt or .svg file"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert says in capsys.readouterr().err


def test_a_loss_outside_0_1_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["simulate", "trapezoid", "--loss", "1.5"])
    assert caught.value.code == 2
    assert "a probability" in capsys.readouterr().err


def test_an_svg_ladder_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ladder.svg"
    assert main(["simulate", "trapezoid", "--ladder", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<?xml")
    assert capsys.readouterr().out.startswith("RFC 3261 Figure 1")
