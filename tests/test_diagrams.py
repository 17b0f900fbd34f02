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
from models_by_name import Models

from sipfsm import ModelError
from sipfsm.cli import main as cli
from sipfsm.model.loader import PROFILES, Machine, load_vocabulary
from sipfsm.render import diagram

ROOT = Path(__file__).resolve().parent.parent

MODELS = Models()  # loaded by the tests, not at import (tests/models_by_name.py)
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
    site = tmp_path / "site"  # the teaching site, and how to open it
    assert (site / "index.html").is_file() and (site / "zh" / "model-invite_client.html").is_file()
    assert f"Open {(site / 'index.html').resolve().as_uri()} in a browser" in out
    assert re.search(r"\n(\d+) passed, 0 failed, 0 skipped", out), "the reference UA passes"
    assert "exit code 0" in out


# --- labels never disagree with the rules they draw (issue 12, deviation 9) -----------------

_CLASS = re.compile(r"\b([1-6])xx\b")
_SPAN = re.compile(r"\b([1-6]\d\d)-([1-6]\d\d)\b")
_CODE = re.compile(r"(?<![-\d])([1-6]\d\d)(?![-\d])")


def _named_codes(text: str) -> set[int]:
    """The status codes a label's words name: ``1xx``, ``300-699``, ``491``."""
    codes: set[int] = set()
    for m in _CLASS.finditer(text):
        codes |= set(range(int(m.group(1)) * 100, int(m.group(1)) * 100 + 100))
    for m in _SPAN.finditer(text):
        codes |= set(range(int(m.group(1)), int(m.group(2)) + 1))
    for m in _CODE.finditer(_SPAN.sub("", text)):
        codes.add(int(m.group(1)))
    return codes


def _exact_codes(text: str) -> set[int]:
    """The single status codes a label names (``send 100``), not its classes or spans."""
    return {int(m.group(1)) for m in _CODE.finditer(_SPAN.sub("", text))}


def _label_faults(edge: diagram.Edge, machine: Machine) -> list[str]:
    """Where an edge's label says something else than the rules it draws do."""
    vocab = load_vocabulary()
    head, _, guard_text = edge.label.event.partition(" [")
    faults: list[str] = []
    ranges = [vocab.events[r.event].status for r in edge.rules]
    codes = {c for lo_hi in ranges if lo_hi for c in range(lo_hi[0], lo_hi[1] + 1)}
    if any(ranges) and _named_codes(head) != codes:
        faults.append(
            f"event {head!r} names other codes than {sorted({r.event for r in edge.rules})}"
        )
    guards = {r.guard for r in edge.rules}
    drawn_guard = guard_text.removesuffix("]") if guard_text else None
    wanted = {None if g is None else vocab.guards[g].label for g in guards}
    if wanted != {drawn_guard}:
        faults.append(f"guard [{drawn_guard}] but the rules have {sorted(map(str, guards))}")
    for rule in edge.rules:
        acts = [a.verb for a in rule.actions if not vocab.actions[a.verb].takes_timer]
        fixed = {c for v in acts if (c := vocab.actions[v].responds) is not None}
        fixed |= {100} if "send_100" in acts else set()
        said = _named_codes(edge.label.action)
        if edge.label.action == "-" and acts:
            faults.append(f"action '-' but the rule does {acts}")
        elif edge.label.action != "-" and not rule.actions:
            faults.append(f"action {edge.label.action!r} but the rule does nothing")
        elif (fixed and said != fixed) or (not fixed and _exact_codes(edge.label.action)):
            faults.append(
                f"action {edge.label.action!r} names {sorted(said)}, sends {sorted(fixed)}"
            )
    return [f"{machine.name} {edge.source} -> {edge.dest}: {f}" for f in faults]


@pytest.mark.parametrize(("name", "profile"), PAIRS)
def test_every_label_matches_the_rule_it_draws(name: str, profile: str) -> None:
    """Issue 12 (9): a drawn label's event (the status codes it names), its guard and its
    actions (the status codes it says are sent) are those of every rule the edge draws: the
    rfc6026 non-INVITE server once said "1xx from TU" where the rule (RFC 4320 4.1) takes 100
    only. The pictures are the RFC figures' wording (17, Figures 5-8), never a different rule."""
    machine = MODELS[name]
    faults = [
        f
        for e in diagram.drawn_edges(machine, profile, load_vocabulary())
        for f in _label_faults(e, machine)
    ]
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("mutation", ["1xx label", "wrong guard", "send_100 -> send_response"])
def test_a_label_that_lies_is_caught(mutation: str) -> None:
    """Deviation 9 reintroduced: the rfc6026 non-INVITE server's 100 rule labelled "1xx from
    TU" again, its guard drawn as another one, or the 100 of RFC 4320 4.1 drawn over a rule
    that sends the TU's response: the label check names each."""
    import dataclasses

    from sipfsm.model.loader import Action, Rule

    machine = MODELS["non_invite_server"]

    def mutate(rule: Rule) -> Rule:
        if mutation == "1xx label" and rule.event == "tu_100" and rule.guard == "late_100":
            return dataclasses.replace(rule, label="1xx from TU / send response")
        if mutation == "wrong guard" and rule.guard == "late_100":
            return dataclasses.replace(rule, label="100 from TU [reliable] / send response")
        if mutation == "send_100 -> send_response" and rule.event == "timer_trying":
            acts = tuple(
                Action("send_response") if a.verb == "send_100" else a for a in rule.actions
            )
            return dataclasses.replace(rule, actions=acts)
        return rule

    broken = dataclasses.replace(machine, rules=tuple(mutate(r) for r in machine.rules))
    edges = diagram.drawn_edges(broken, "rfc6026", load_vocabulary())
    assert [f for e in edges for f in _label_faults(e, broken)]
    assert not [
        f
        for e in diagram.drawn_edges(machine, "rfc6026", load_vocabulary())
        for f in _label_faults(e, machine)
    ]
