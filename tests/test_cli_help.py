"""What a newcomer reads first (issue 13, CLI defects): ``sipfsm models`` fits 100 columns with
the details in ``--long`` and ``--json``; every ``--help`` fits 100 columns and shows no raw
backticks; ``demo --help`` names the demo's steps; trace's usage names MODEL."""

from __future__ import annotations

import json

import pytest

from sipfsm.cli.demo import STEPS
from sipfsm.cli.main import SUBCOMMANDS
from sipfsm.cli.main import main as cli_main

WIDTH = 100
COMMANDS = [name.rsplit(".", 1)[1] for name in SUBCOMMANDS]


def _out(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli_main(list(argv)) == 0
    return capsys.readouterr().out


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as done:
        cli_main([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def _too_wide(text: str) -> list[str]:
    return [line for line in text.splitlines() if len(line) > WIDTH]


def test_model_list_fits_100_columns(capsys: pytest.CaptureFixture[str]) -> None:
    short = _out(capsys, "models")
    assert _too_wide(short) == []
    assert short.splitlines()[0].split() == ["MODEL", "TITLE", "SECTION", "STATES"]
    assert "invite_client" in short and "Proceeding" not in short  # the states: --long
    long = _out(capsys, "models", "--long")
    assert _too_wide(long) == []
    assert "Accepted (rfc6026 only)" in long and "RFC 3261 Figure 5" in long
    assert "timer_A" in long  # the events
    listed = json.loads(_out(capsys, "models", "--json"))
    client = next(m for m in listed if m["name"] == "invite_client")
    accepted = next(s for s in client["states"] if s["name"] == "Accepted")
    assert accepted == {
        "name": "Accepted",
        "section": accepted["section"],
        "terminal": False,
        "profiles": ["rfc6026"],
    }
    assert "timer_B" in client["events"] and client["figure"].startswith("RFC 3261 Figure 5")


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_fits_and_shows_no_markup(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    text = _help(capsys, *([command] if command else []))
    assert "`" not in text
    assert _too_wide(text) == []


def test_demo_help_names_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join(_help(capsys, "demo").split())
    for step in STEPS:
        assert step.title in text
    assert "probe" in text


def test_trace_usage_names_model_and_events(capsys: pytest.CaptureFixture[str]) -> None:
    usage = _help(capsys, "trace").splitlines()[0]
    assert usage.endswith(" MODEL [EVENT ...]"), usage
    with pytest.raises(SystemExit) as done:
        cli_main(["trace"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.splitlines()[-1].endswith("required: MODEL")


def test_bare_probe_says_how_long_it_will_take(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the default T1 (0.5 s) a bare ``sipfsm probe`` waits out 64*T1 = 32 s windows for
    each of its 5 examples: it says so before the run (the run itself is stubbed out here)."""
    from sipfsm.cli import probe as cli_probe

    def stopped(_cfg: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_probe, "run_probe", stopped)
    assert cli_main(["probe"]) == 130
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("sipfsm probe: expect up to about 160 s:"), first
    assert "64*T1 = 32 s" in first and "--virtual-clock" in first
    for quick in (["--virtual-clock"], ["--t1", "0.05"]):
        assert cli_main(["probe", *quick]) == 130
        assert "expect" not in capsys.readouterr().err
