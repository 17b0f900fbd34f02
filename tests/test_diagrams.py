"""The pictures of the state machines, and the ``models``, ``diagram`` and ``demo`` commands.

The committed ``diagrams/MODEL.PROFILE.dot`` files are golden files: regenerated here from
``models/`` and compared byte for byte. SVGs are not compared (fonts differ between machines)
but must exist for every model and profile.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sipfsm import ModelError
from sipfsm.cli import main as cli
from sipfsm.model.loader import PROFILES, Machine, load_models, load_vocabulary
from sipfsm.render import diagram

ROOT = Path(__file__).resolve().parent.parent

MODELS = load_models()
PAIRS = [(name, profile) for name in MODELS for profile in PROFILES]
DIAGRAMS = ROOT / "diagrams"
REGEN = "scripts/regen-diagrams (or: sipfsm diagram --format dot,svg --out diagrams)"
HAS_DOT = shutil.which("dot") is not None


def _edge_lines(dot: str, source: str, dest: str) -> list[str]:
    prefix = f"  {diagram._q(source)} -> {diagram._q(dest)} "
    return [line for line in dot.splitlines() if line.startswith(prefix)]


def _node_line(dot: str, state: str) -> str:
    return next(x for x in dot.splitlines() if x.startswith(f"  {diagram._q(state)} ["))


# --- golden files ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "profile"), PAIRS)
def test_committed_dot_is_current(name: str, profile: str) -> None:
    path = DIAGRAMS / f"{name}.{profile}.dot"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run {REGEN}"
    fresh = diagram.to_dot(MODELS[name], profile)
    assert path.read_text(encoding="utf-8") == fresh, (
        f"{path.relative_to(ROOT)} differs from what models/{name}.toml gives: run {REGEN}"
    )


@pytest.mark.parametrize(("name", "profile"), PAIRS)
def test_committed_svg_exists(name: str, profile: str) -> None:
    path = DIAGRAMS / f"{name}.{profile}.svg"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run {REGEN}"
    assert "<svg" in path.read_text(encoding="utf-8")


def test_no_stale_diagrams() -> None:
    expected = {f"{n}.{p}.{ext}" for n, p in PAIRS for ext in ("dot", "svg")}
    present = {p.name for p in DIAGRAMS.iterdir() if p.suffix in (".dot", ".svg")}
    assert not present - expected, f"stale files in diagrams/: {sorted(present - expected)}"


@pytest.mark.parametrize(("name", "profile"), PAIRS)
def test_dot_is_byte_stable(name: str, profile: str) -> None:
    assert diagram.to_dot(MODELS[name], profile) == diagram.to_dot(MODELS[name], profile)


# --- what the pictures show -----------------------------------------------------------------


@pytest.mark.parametrize(("name", "profile"), PAIRS)
def test_every_transition_is_an_edge(name: str, profile: str) -> None:
    machine = MODELS[name]
    vocab = load_vocabulary()
    dot = diagram.to_dot(machine, profile)
    drawn = diagram.drawn_edges(machine, profile, vocab)
    for rule in machine.rules_for(profile):
        if rule.kind != "transition":
            continue
        assert rule.dest is not None
        label = diagram.rule_label(rule, vocab)
        assert any(rule in e.rules and e.label == label for e in drawn), rule
        if rule.source == rule.dest:
            # Loops are drawn inside their state: "↻ event / action", linked to the section.
            lines = [_node_line(dot, rule.source)]
            loop = diagram._h(f"↻ {label.event} / {label.action}")
            assert loop in lines[0], f"{name}/{profile}: no loop drawn for {rule}"
            assert f'HREF="{diagram.section_url(rule.section)}"' in lines[0]
        else:
            lines = _edge_lines(dot, rule.source, rule.dest)
            assert any(
                diagram._h(label.event) in line and diagram._h(label.action) in line
                for line in lines
            ), f"{name}/{profile}: no edge drawn for {rule}"
        if label.timers:
            assert any(diagram._h(label.timers) in line for line in lines)


@pytest.mark.parametrize(("name", "profile"), PAIRS)
def test_ignore_and_error_rules_are_not_edges(name: str, profile: str) -> None:
    machine = MODELS[name]
    dot = diagram.to_dot(machine, profile)
    transitions = {(r.source, r.dest) for r in machine.rules_for(profile) if r.kind == "transition"}
    if profile != diagram.BASE_PROFILE:
        transitions |= {
            (r.source, r.dest)
            for r in machine.rules_for(diagram.BASE_PROFILE)
            if r.kind == "transition"
        }
    for line in dot.splitlines():
        m = re.match(r'  "([^"]+)" -> "([^"]+)" ', line)
        if m and m.group(1) != "__start__":
            assert (m.group(1), m.group(2)) in transitions, line
            assert m.group(1) != m.group(2), "loops are drawn inside their state"


@pytest.mark.parametrize(("name", "profile"), PAIRS)
def test_sections_are_tooltips_and_links(name: str, profile: str) -> None:
    machine = MODELS[name]
    dot = diagram.to_dot(machine, profile)
    for line in dot.splitlines():
        if re.match(r'  "[^"]+" (->|\[)', line) or line.startswith("  __start__"):
            assert 'URL="https://www.rfc-editor.org/rfc/rfc' in line, line
            assert 'tooltip="' in line and "RFC " in line, line
    for state in machine.states:
        if profile in state.profiles:
            assert diagram.section_url(state.section) in dot
    for rule in machine.rules_for(profile):
        if rule.kind == "transition":
            assert diagram.section_title(rule.section) in dot


@pytest.mark.parametrize("name", list(MODELS))
def test_start_and_terminal_states(name: str) -> None:
    machine = MODELS[name]
    dot = diagram.to_dot(machine)
    assert '__start__ [shape="point"' in dot
    assert f"__start__ -> {diagram._q(machine.initial)}" in dot
    for state in machine.states:
        if state.terminal:
            line = _node_line(dot, state.name)
            assert "doubleoctagon" in line


def test_section_urls() -> None:
    assert diagram.section_url("17.1.1.2") == (
        "https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2"
    )
    assert diagram.section_url("RFC 6026 8.4") == (
        "https://www.rfc-editor.org/rfc/rfc6026#section-8.4"
    )
    assert diagram.section_url("RFC 6026 8.7 (17.2.1)") == (
        "https://www.rfc-editor.org/rfc/rfc6026#section-8.7"
    )
    assert diagram.section_title("RFC 4320 4.2") == "RFC 4320 §4.2"


def test_invite_client_profiles() -> None:
    """RFC 6026 adds Accepted (blue) and replaces 2xx -> Terminated (dashed grey)."""
    machine = MODELS["invite_client"]
    amended = diagram.to_dot(machine, "rfc6026")
    published = diagram.to_dot(machine, "rfc3261")
    accepted = _node_line(amended, "Accepted")
    assert diagram.ADDED in accepted and "added by RFC 6026" in accepted
    replaced = [x for x in _edge_lines(amended, "Calling", "Terminated") if "2xx" in x]
    assert replaced and all('style="dashed"' in x and "RFC 3261 only" in x for x in replaced)
    assert '"Accepted"' not in published
    assert diagram.ADDED not in published.split("subgraph", 1)[1]
    assert "start A, B" in published and "stop A, B · start D" in published


def test_highlight() -> None:
    machine = MODELS["invite_client"]
    dot = diagram.to_dot(machine, "rfc6026", "Proceeding")
    node = _node_line(dot, "Proceeding")
    assert diagram.HIGHLIGHT in node
    assert all('penwidth="3"' in x for x in _edge_lines(dot, "Proceeding", "Completed"))
    with pytest.raises(ModelError, match="unknown state 'Nowhere'"):
        diagram.to_dot(machine, "rfc6026", "Nowhere")
    with pytest.raises(ModelError, match="Accepted"):
        diagram.to_dot(machine, "rfc3261", "Accepted")


def test_dot_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)  # the one diagram calls
    with pytest.raises(diagram.DotMissingError, match="graphviz"):
        diagram.render("digraph {}", "svg")
    assert MODELS["invite_client"]._repr_svg_() is None


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz dot is not installed")
def test_repr_svg() -> None:
    svg = MODELS["invite_client"]._repr_svg_()
    assert svg is not None and "<svg" in svg and "rfc-editor.org" in svg


# --- the command line -----------------------------------------------------------------------


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", ["models", "diagram", "demo"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main([command, "--help"])
    assert exc.value.code == 0
    assert command in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert re.match(r"sipfsm \d", capsys.readouterr().out)


def test_models_list(capsys: pytest.CaptureFixture[str]) -> None:
    """The list names every model with its title and number of states; --long its states."""
    code, out, _ = _run(["models"], capsys)
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    for machine in MODELS.values():
        assert machine.title in rows[machine.name]
        assert rows[machine.name].split()[-1] == str(len(machine.states))
    code, out, _ = _run(["models", "--long"], capsys)
    assert code == 0
    for machine in MODELS.values():
        assert f"{machine.name}: {machine.title}" in out
        assert all(s.name in out for s in machine.states)


@pytest.mark.parametrize(("name", "profile"), PAIRS)
def test_models_table_is_total(name: str, profile: str, capsys: pytest.CaptureFixture[str]) -> None:
    machine: Machine = MODELS[name]
    code, out, _ = _run(["models", "--table", name, "--profile", profile], capsys)
    assert code == 0
    rows = out.splitlines()[4:]
    pairs = {(s, e) for s in machine.state_names(profile) for e in machine.events}
    assert len(rows) >= len(pairs)
    state = ""
    seen = set()
    for row in rows:
        cells = row.split()
        if row[0] != " ":
            state, cells = cells[0], cells[1:]
        seen.add((state, cells[0]))
        assert cells[1] in ("ignore", "error", "->")
    assert seen == pairs


def test_unknown_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(["diagram", "no-such-model", "--out", str(tmp_path)], capsys)
    assert code == 2
    assert "no-such-model" in err and "invite_client" in err and "Traceback" not in err
    code, _, err = _run(["models", "--table", "no-such-model"], capsys)
    assert code == 2 and "invite_client" in err


def test_unknown_highlight(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(
        [
            "diagram",
            "invite_client",
            "--highlight",
            "Nowhere",
            "--out",
            str(tmp_path),
            "--format",
            "dot",
        ],
        capsys,
    )
    assert code == 2 and "Nowhere" in err and "Calling" in err


def test_highlight_over_every_model_and_profile(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--highlight`` with all models and both profiles: drawn where the state exists (its
    name in any case), the other drawings plain; an error only when no drawing has it."""
    code, out, err = _run(
        ["diagram", "--highlight", "accepted", "--format", "dot", "--out", str(tmp_path)], capsys
    )
    assert code == 0, err
    names = {Path(line).name for line in out.splitlines()}
    having = {
        (n, p)
        for n, p in PAIRS
        if any(s.name == "Accepted" for s in MODELS[n].states if p in s.profiles)
    }
    assert having and having != set(PAIRS)  # RFC 6026's Accepted: only some drawings have it
    assert names == {
        f"{n}.{p}.Accepted.dot" if (n, p) in having else f"{n}.{p}.dot" for n, p in PAIRS
    }
    for n, p in having:
        text = (tmp_path / f"{n}.{p}.Accepted.dot").read_text(encoding="utf-8")
        assert text == diagram.to_dot(MODELS[n], p, "Accepted")
    code, _, err = _run(["diagram", "--highlight", "Nowhere", "--out", str(tmp_path)], capsys)
    assert code == 2 and "Nowhere" in err and "Calling" in err and "Confirmed" in err


def test_bad_format(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(["diagram", "--format", "gif", "--out", str(tmp_path)], capsys)
    assert code == 2 and "gif" in err


def test_diagram_dot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = _run(["diagram", "--format", "dot", "--out", str(tmp_path)], capsys)
    assert code == 0
    written = {Path(line).name for line in out.splitlines()}
    assert written == {f"{n}.{p}.dot" for n, p in PAIRS}
    for name, profile in PAIRS:
        text = (tmp_path / f"{name}.{profile}.dot").read_text(encoding="utf-8")
        assert text == diagram.to_dot(MODELS[name], profile)


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz dot is not installed")
def test_diagram_svg_png_highlight(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = _run(
        [
            "diagram",
            "invite_client",
            "--format",
            "svg,png",
            "--profile",
            "rfc3261",
            "--highlight",
            "Calling",
            "--out",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 0
    svg = tmp_path / "invite_client.rfc3261.Calling.svg"
    png = tmp_path / "invite_client.rfc3261.Calling.png"
    assert out.split() == [str(svg), str(png)]
    assert "rfc3261#section-17.1.1.2" in svg.read_text(encoding="utf-8")
    assert png.read_bytes().startswith(b"\x89PNG")


def test_diagram_without_dot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)  # the one diagram calls
    code, _, err = _run(["diagram", "--out", str(tmp_path)], capsys)
    assert code == 2 and "graphviz" in err and "Traceback" not in err


def _broken_models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    shutil.copytree(ROOT / "models", folder)
    path = folder / "invite_client.toml"
    text = path.read_text(encoding="utf-8")
    broken = text.replace('dest = "Proceeding"', 'dest = "Proceding"', 1)
    assert broken != text
    path.write_text(broken, encoding="utf-8")
    return folder


@pytest.mark.parametrize("command", [["models"], ["diagram", "--format", "dot"], ["demo"]])
def test_bad_model_file(
    command: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = _broken_models(tmp_path)
    argv = [*command, "--models-dir", str(folder)]
    if command[0] != "models":
        argv += ["--out", str(tmp_path / "out")]
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert "invite_client.toml" in err and ".dest" in err and "Proceding" in err
    assert "Traceback" not in err


def test_models_env(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIPFSM_MODELS", str(_broken_models(tmp_path)))
    code, _, err = _run(["models"], capsys)
    assert code == 2 and "invite_client.toml" in err
    monkeypatch.setenv("SIPFSM_MODELS", str(tmp_path / "nowhere"))
    code, _, err = _run(["models"], capsys)
    assert code == 2 and "nowhere" in err


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz dot is not installed")
def test_demo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The README's first command: pictures (DOT and SVG under --out/diagrams, PNG under
    --out/png; the committed diagrams/ untouched), the RFC 4475 corpus parsed, two transaction
    traces, a whole call, and a probe of the embedded reference UA that passes every check."""
    before = {p.name: p.read_bytes() for p in DIAGRAMS.glob("*.dot")}
    svgs = {p.name: p.stat().st_mtime_ns for p in DIAGRAMS.glob("*.svg")}
    code, out, _ = _run(["demo", "--out", str(tmp_path)], capsys)
    assert code == 0
    for name, profile in PAIRS:
        assert (tmp_path / "png" / f"{name}.{profile}.png").exists()
        for ext in ("dot", "svg"):
            assert (DIAGRAMS / f"{name}.{profile}.{ext}").exists()
            assert (tmp_path / "diagrams" / f"{name}.{profile}.{ext}").exists()
        assert (tmp_path / "diagrams" / f"{name}.{profile}.dot").read_bytes() == before[
            f"{name}.{profile}.dot"
        ]
    assert {p.name: p.read_bytes() for p in DIAGRAMS.glob("*.dot")} == before
    assert {p.name: p.stat().st_mtime_ns for p in DIAGRAMS.glob("*.svg")} == svgs
    assert str(tmp_path) in out and "invite_client" in out
    assert "30 parse, 19 are rejected" in out  # the copy shipped in sipfsm/data
    assert "resend ACK" in out and "fire J" in out
    assert "alice <--- bob  SIP/2.0 180 Ringing" in out
    assert "final states: alice Terminated, bob Terminated" in out
    assert re.search(r"\n(\d+) passed, 0 failed, 0 skipped", out), "the reference UA passes"
    assert "exit code 0" in out
