"""``sipfsm trace`` and :func:`sipfsm.sim.trace.run_trace`."""

from __future__ import annotations

import argparse
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sipfsm.cli import trace as _cli_trace
from sipfsm.errors import SipfsmError
from sipfsm.sim.trace import Step, Trace, TraceRefused, run_trace

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
    assert code == 0 and {"t", "what", "state", "kind"} <= set(steps[0])
    assert [s["what"] for s in steps][-2:] == ["fire I", "enter Terminated"]


def test_json_steps_carry_structured_fields(capsys: pytest.CaptureFixture[str]) -> None:
    """Beside the prose, each JSON step says what it is: timers with their seconds (Table 4),
    messages by method or status, retransmissions, the ACK of a non-2xx (17.1.1.3)."""
    code, out, _ = trace(capsys, "invite_client", "+0.5", "recv=180", "recv=486", "--json")
    rows = {s["what"]: {k: v for k, v in s.items() if k not in ("t", "what", "state")}
            for s in json.loads(out)}  # fmt: skip
    assert code == 0
    assert rows["send INVITE"] == {"kind": "send", "message": "INVITE"}
    assert rows["start A 0.5"] == {"kind": "timer", "action": "start", "timer": "A", "seconds": 0.5}
    assert rows["start B 32.0"]["seconds"] == 32.0
    assert rows["fire A"] == {"kind": "timer", "action": "fire", "timer": "A"}
    assert rows["resend INVITE"] == {"kind": "send", "message": "INVITE", "retransmission": True}
    assert rows["recv 486"] == {"kind": "recv", "status": 486}
    assert rows["tu 180"] == {"kind": "tu", "status": 180}
    assert rows["send ACK"] == {"kind": "send", "message": "ACK"}
    assert rows["enter Completed"] == {"kind": "enter"}
    code, out, _ = trace(capsys, "invite_session_client", "recv=486", "--json")
    rows = {s["what"]: s for s in json.loads(out)}
    assert rows["send ACK (486)"]["acks"] == 486 and rows["send ACK (486)"]["message"] == "ACK"
    assert rows["tu session over"]["news"] == "session_over"


#: Scripts reaching every kind of line the traces print (transactions, sessions, the dialog).
_SCRIPTS = {
    "invite_client": ["+0.5", "recv=180", "recv=486", "+40"],
    "non_invite_client": ["+5", "recv=200", "+10"],
    "invite_server": ["tu=180", "recv=request", "tu=404", "+1", "recv=ACK", "+10"],
    "non_invite_server": ["tu=200", "recv=request", "+40"],
    "invite_session_client": ["recv=180", "recv=200", "+1", "recv=BYE", "+40"],
    "invite_session_server": ["tu=180", "tu=200", "+40"],
    "dialog": ["recv=180", "recv=200", "send=INFO", "recv=200", "recv=BYE"],
}


@pytest.mark.parametrize("model", sorted(_SCRIPTS))
def test_step_fields_agree_with_the_prose(model: str) -> None:
    """Every message line names its message or status, every timer line its timer, and the
    fields say what the prose says (the number, the method, a retransmission)."""
    from sipfsm.sim.steps import step_fields

    steps = run_trace(model, _SCRIPTS[model])
    for step in steps:
        fields = step_fields(step)
        words = step.what.split()
        if fields["kind"] in ("send", "recv", "tu") and "news" not in fields:
            named = fields.get("message", fields.get("status"))
            assert str(named) == words[1], (step, fields)
            assert fields.get("retransmission", False) == (words[0] == "resend"), (step, fields)
        elif fields["kind"] == "timer":
            assert [fields["action"], fields["timer"]] == words[:2], (step, fields)
            assert ("seconds" in fields) == (words[0] == "start"), (step, fields)
            if words[0] == "start":
                assert fields["seconds"] == float(words[2])
        elif fields["kind"] == "enter":
            assert step.state == words[1]
        else:
            assert words[0] not in ("send", "resend", "recv", "start", "fire", "enter"), step
    kinds = {step_fields(s)["kind"] for s in steps}
    assert {"send", "timer", "enter"} <= kinds or {"recv", "enter"} <= kinds, kinds


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


_SVG = "{http://www.w3.org/2000/svg}"


def _ladder(steps: list[Step], svg: str) -> tuple[list[str], list[tuple[str, float, float]]]:
    """The participants' names and each arrow (its label, from x, to x) of a ladder's SVG."""
    root = ET.fromstring(svg)
    assert root.tag == f"{_SVG}svg"
    names = [t.text or "" for t in root.iter(f"{_SVG}text") if t.get("class") == "participant"]
    lines = [e for e in root.iter(f"{_SVG}line") if e.get("class") == "message"]
    labels = [t.text or "" for t in root.iter(f"{_SVG}text") if t.get("class") == "message"]
    arrows = [
        (label, float(line.get("x1", "nan")), float(line.get("x2", "nan")))
        for label, line in zip(labels, lines, strict=True)
    ]
    return names, arrows


@pytest.mark.parametrize(
    ("model", "script"),
    [
        ("invite_client", ["+0.5", "recv=180", "recv=486", "+40"]),
        ("invite_session_server", ["tu=180", "tu=200", "+1", "recv=ACK"]),
    ],
)
def test_a_trace_shows_itself_as_a_ladder(model: str, script: list[str]) -> None:
    """In a notebook a trace is a ladder (``_repr_svg_``, ``_repr_html_``): the TU, the machine
    and the peer; one arrow per message sent, received or passed up, in order, each labelled
    with its time and the trace's prose, towards the peer, the machine or the TU."""
    from sipfsm.sim.steps import step_fields

    steps = run_trace(model, script)
    names, arrows = _ladder(steps, steps._repr_svg_())
    assert names == ["TU", model, "peer"]
    tu, machine, peer = 90.0, 330.0, 570.0
    towards = {"send": (machine, peer), "recv": (peer, machine), "tu": (machine, tu)}
    messages = [(s, towards[str(step_fields(s)["kind"])]) for s in steps
                if step_fields(s)["kind"] in towards]  # fmt: skip
    assert len(messages) >= 3
    assert arrows == [(f"{s.t:.3f}  {s.what}", a, b) for s, (a, b) in messages]
    page = ET.fromstring(steps._repr_html_())  # XHTML: parses as XML
    assert page.find(f"{_SVG}svg") is not None
    rows = [[td.text for td in tr] for tr in page.iter("tr")][1:]
    assert rows == [[f"{s.t:.3f}", s.what, s.state] for s in steps]


def test_a_refused_trace_is_drawn_too() -> None:
    with pytest.raises(TraceRefused) as refused:
        run_trace("non_invite_server", ["tu=180"])
    steps = refused.value.steps
    assert isinstance(steps, Trace)
    names, _ = _ladder(steps, steps._repr_svg_())
    assert names == ["TU", "non_invite_server", "peer"]
