"""``sipfsm trace`` and :func:`sipfsm.sim.trace.run_trace`."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from sipfsm.cli import trace as _cli_trace
from sipfsm.errors import SipfsmError
from sipfsm.sim.trace import Step, TraceRefused, run_trace

ROOT = Path(__file__).resolve().parent.parent


def trace(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the subcommand as sipfsm.cli.main does (SipfsmError: exit 2)."""
    parser = argparse.ArgumentParser(prog="sipfsm")
    _cli_trace.register(parser.add_subparsers(dest="command"))
    try:
        args = parser.parse_args(["trace", *argv])
        code = args.func(args)
    except SipfsmError as exc:
        print(f"sipfsm trace: {exc}", file=__import__("sys").stderr)
        code = 2
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_invite_client_trace_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = trace(capsys, "invite_client", "+0.5", "recv=180", "recv=486", "+40")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("# invite_client over UDP")
    assert lines[1].split() == ["0.000", "send", "INVITE", "Calling"]
    assert "   0.500  fire A" in out and "start B 32.0" in out and "send ACK" in out
    assert lines[-1].split() == ["33.500", "enter", "Terminated", "Terminated"]


def test_json_and_options_after_events(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = trace(
        capsys, "invite_server", "tu=404", "--transport", "tcp", "recv=ACK", "--json"
    )
    steps = json.loads(out)
    assert code == 0 and set(steps[0]) == {"t", "what", "state"}
    assert [s["what"] for s in steps][-2:] == ["fire I", "enter Terminated"]


def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = trace(capsys, "no_such_model")
    assert code == 2 and "invite_client" in err  # the known models are listed
    code, _, err = trace(capsys, "invite_client", "tu=200")
    assert code == 2 and "bad event" in err
    code, _, err = trace(capsys, "invite_client", "+x")
    assert code == 2


def test_error_pair_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = trace(capsys, "non_invite_server", "tu=408")
    assert code == 1 and "RFC 4320 4.2" in err and "tu OPTIONS" not in out


def test_run_trace_for_the_demo() -> None:
    steps = run_trace("non_invite_client", ["recv=200"], transport="tcp")
    assert [s.what for s in steps][-1] == "enter Terminated" and steps[-1].t == 0.0
    with pytest.raises(TraceRefused) as refused:
        run_trace("non_invite_server", ["tu=180"])
    assert refused.value.steps and refused.value.error.section == "RFC 4320 4.1"


def _models_with_t1(tmp_path: Path, t1: str | None = None) -> Path:
    folder = tmp_path / "models"
    shutil.copytree(ROOT / "models", folder)
    if t1 is None:
        return folder
    path = folder / "timers.toml"
    text = path.read_text(encoding="utf-8")
    changed = text.replace("T1 = { value = 0.5,", f"T1 = {{ value = {t1},", 1)
    assert changed != text
    path.write_text(changed, encoding="utf-8")
    return folder


@pytest.mark.parametrize("model", ["invite_client", "invite_session_client"])
def test_models_dir_and_env(
    model: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trace`` reads another models folder like ``models`` and ``diagram`` do: from
    ``--models-dir`` (also among the events) or ``$SIPFSM_MODELS``, its timers.toml included."""
    folder = _models_with_t1(tmp_path, "1.0")
    code, out, _ = trace(capsys, model, "+2", "--models-dir", str(folder))
    assert code == 0 and "T1=1.0" in out.splitlines()[0]
    assert "   1.000  " in out and "   0.500  " not in out  # the first retransmission at T1
    monkeypatch.setenv("SIPFSM_MODELS", str(folder))
    code, env_out, _ = trace(capsys, model, "+2")
    assert code == 0 and env_out == out
    monkeypatch.setenv("SIPFSM_MODELS", str(tmp_path / "nowhere"))
    code, _, err = trace(capsys, model, "+2")
    assert code == 2 and "nowhere" in err


def test_models_dir_with_a_broken_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = _models_with_t1(tmp_path)
    path = folder / "invite_client.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('dest = "Proceeding"', 'dest = "Proceding"', 1),
        encoding="utf-8",
    )
    code, _, err = trace(capsys, "--models-dir", str(folder), "invite_client", "+1")
    assert code == 2 and "invite_client.toml" in err and "Proceding" in err


def test_rfc3261_retransmitted_invite_after_2xx_is_a_new_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """RFC 3261 17.2.1: a 2xx from the TU sends the INVITE server transaction to Terminated,
    destroyed at once; 18.2.1: a request that matches no server transaction is passed to the
    core, which constructs a new server transaction for it. So under rfc3261 the retransmitted
    INVITE reaches the TU again as a new request (a second session): the known flaw RFC 6026
    fixes (its Accepted state absorbs the retransmission). The trace shows what the RFC
    prescribes, marks it as that flaw, and exits 0; an ACK then goes to the core (18.2.1)."""
    code, out, err = trace(
        capsys, "invite_server", "--profile", "rfc3261", "tu=200", "recv=request"
    )
    assert code == 0, err
    lines = out.splitlines()
    end = next(i for i, line in enumerate(lines) if "enter Terminated" in line)
    after = lines[end + 1 :]
    assert any("recv INVITE" in line for line in after), out
    assert any("tu INVITE" in line for line in after), out  # to the TU again: a new request
    assert any("send 100" in line for line in after), out  # the new transaction's 17.2.1 100
    assert "RFC 6026" in out and "flaw" in out
    assert "refused" not in out + err
    code, out, err = trace(capsys, "invite_server", "tu=200", "recv=request")
    assert code == 0 and out.count("tu INVITE") == 1 and "flaw" not in out, out + err
    code, out, err = trace(capsys, "invite_server", "--profile", "rfc3261", "tu=200", "recv=ACK")
    assert code == 0 and "to the core" in out.splitlines()[-1], out + err


def _flaw_shown(steps: list[Step]) -> bool:
    """The RFC 3261 flaw as the named test above reads it: after Terminated, the INVITE goes
    to the TU again through a new transaction, marked as what RFC 6026 fixes."""
    whats = [s.what for s in steps]
    end = next((i for i, w in enumerate(whats) if w == "enter Terminated"), len(whats))
    after = whats[end + 1 :]
    return "tu INVITE" in after and any("RFC 6026" in w and "flaw" in w for w in after)


def test_a_hidden_rfc3261_flaw_is_caught() -> None:
    """Deviation 11 reintroduced in the data: an rfc3261 INVITE server that no longer ends on
    its 2xx (it absorbs the retransmission as RFC 6026's Accepted does) no longer shows the
    flaw, and the reading of the named test says so; the real model shows it."""
    import dataclasses

    from sipfsm.model.loader import load_model

    machine = load_model("invite_server")
    assert _flaw_shown(run_trace(machine, ["tu=200", "recv=request"], profile="rfc3261"))
    rules = tuple(
        dataclasses.replace(r, dest="Proceeding")
        if r.event == "tu_2xx" and r.dest == "Terminated" and "rfc3261" in r.profiles
        else r
        for r in machine.rules
    )
    broken = dataclasses.replace(machine, rules=rules)
    steps = run_trace(broken, ["tu=200", "recv=request"], profile="rfc3261")
    assert not _flaw_shown(steps)
