"""Load and validate the state machines of ``models/`` (format: ``models/SCHEMA.md``).

A model file is data: states, the events the machine handles, and rules deciding every
(state, event) pair: a transition (with guard, actions and destination), an explicit ignore,
or an explicit error. A model may include shared rule files (``include = ["shared/X.toml"]``):
their states and rules become the model's, checked like its own. This module reads the TOML,
checks it against the vocabulary (``models/vocabulary.toml``) and the timer table
(``models/timers.toml``), proves totality, and returns frozen dataclasses
(:mod:`sipfsm.model.machine`). Any mistake is a :class:`~sipfsm.ModelError` naming file, key
and reason.

This is the one loader of models: :func:`load_model` (by name), :func:`load_models` (a
folder), :func:`load_machine` (a path), all through the one cache of :mod:`sipfsm.model.cache`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sipfsm.errors import ModelError
from sipfsm.model.cache import cached
from sipfsm.model.machine import KINDS, Action, Kind, Machine, Rule, Start, State
from sipfsm.model.paths import model_paths, models_dir
from sipfsm.model.reading import (
    DEFAULT_PROFILE,
    PROFILES,
    check_keys,
    names,
    profiles,
    read_toml,
    text,
)
from sipfsm.model.timer_table import (
    Range,
    TimerSpec,
    TimerTable,
    Window,
    check_interval,
    load_timers,
    seconds,
)
from sipfsm.model.vocabulary import Term, Vocabulary, load_vocabulary

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "Action",
    "Kind",
    "Machine",
    "Range",
    "Rule",
    "Start",
    "State",
    "Term",
    "TimerSpec",
    "TimerTable",
    "Vocabulary",
    "Window",
    "check_interval",
    "load_machine",
    "load_model",
    "load_models",
    "load_timers",
    "load_vocabulary",
    "model_names",
    "models_dir",
    "seconds",
]


@dataclass(frozen=True, slots=True)
class _Scope:
    """What the rules of one file are checked against."""

    file: str
    states: frozenset[str]
    events: tuple[str, ...]
    vocab: Vocabulary
    timers: TimerTable


# --- actions and rules ----------------------------------------------------------------------


def _actions(scope: _Scope, key: str, raw: Any) -> tuple[Action, ...]:
    if raw is None:
        return ()
    file = scope.file
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        raise ModelError(file, key, "expected a list of action strings")
    out = []
    for i, action in enumerate(raw):
        akey = f"{key}[{i}]"
        parts = action.split()
        if not parts or parts[0] not in scope.vocab.actions:
            raise ModelError(file, akey, f"unknown action {action!r} (vocabulary.toml [actions])")
        term = scope.vocab.actions[parts[0]]
        want = 1 + term.takes_timer + term.takes_interval
        if len(parts) != want:
            raise ModelError(file, akey, f"{parts[0]!r} takes {want - 1} argument(s)")
        timer = parts[1] if term.takes_timer else None
        if timer is not None and timer not in scope.timers.timers:
            raise ModelError(file, akey, f"unknown timer {timer!r} (timers.toml)")
        interval = check_interval(file, akey, parts[2]) if term.takes_interval else None
        out.append(Action(parts[0], timer, interval))
    return tuple(out)


_RULE_KEYS = (
    "source",
    "event",
    "dest",
    "kind",
    "guard",
    "actions",
    "label",
    "section",
    "profiles",
    "doc",
    "fallback",
)


def _rules(scope: _Scope, idx: int, raw: Mapping[str, Any]) -> list[Rule]:
    file, key = scope.file, f"transitions[{idx}]"
    check_keys(file, key, raw, _RULE_KEYS)
    kind: Kind = raw.get("kind", "transition")
    if kind not in KINDS:
        raise ModelError(file, f"{key}.kind", f"expected one of {', '.join(KINDS)}")
    sources = names(file, f"{key}.source", raw.get("source"))
    sources = tuple(sorted(scope.states)) if sources == ("*",) else sources
    evs = names(file, f"{key}.event", raw.get("event"))
    evs = scope.events if evs == ("*",) else evs
    for s in sources:
        if s not in scope.states:
            raise ModelError(file, f"{key}.source", f"unknown state {s!r}")
    for e in evs:
        if e not in scope.events:
            raise ModelError(file, f"{key}.event", f"{e!r} is not in [machine].events")
    dest = raw.get("dest")
    if kind == "transition":
        if dest not in scope.states:
            raise ModelError(file, f"{key}.dest", f"unknown or missing state {dest!r}")
    elif dest is not None or raw.get("actions"):
        raise ModelError(file, key, f"a rule of kind {kind!r} has no dest and no actions")
    guard = raw.get("guard")
    if guard is not None and guard not in scope.vocab.guards:
        raise ModelError(file, f"{key}.guard", f"unknown guard {guard!r} (vocabulary.toml)")
    actions = _actions(scope, f"{key}.actions", raw.get("actions"))
    section = text(file, f"{key}.section", raw.get("section"))
    label = raw.get("label")
    if label is not None:
        label = text(file, f"{key}.label", label)
    in_force = profiles(file, f"{key}.profiles", raw.get("profiles"))
    doc = text(file, f"{key}.doc", raw.get("doc"), optional=True)
    fallback = bool(raw.get("fallback", False))
    return [
        Rule(
            source=s,
            event=e,
            kind=kind,
            section=section,
            dest=dest,
            guard=guard,
            actions=actions,
            label=label,
            doc=doc,
            profiles=in_force,
            fallback=fallback,
        )
        for s in sources
        for e in evs
    ]


def _states(file: str, raw_states: Any, *, required: bool = True) -> list[State]:
    if raw_states is None and not required:
        return []
    if not isinstance(raw_states, list) or not raw_states:
        raise ModelError(file, "states", "expected a non-empty list of [[states]]")
    states: list[State] = []
    for i, st in enumerate(raw_states):
        key = f"states[{i}]"
        check_keys(file, key, st, ("name", "section", "doc", "terminal", "profiles"))
        states.append(
            State(
                name=text(file, f"{key}.name", st.get("name")),
                section=text(file, f"{key}.section", st.get("section")),
                doc=text(file, f"{key}.doc", st.get("doc"), optional=True),
                terminal=bool(st.get("terminal", False)),
                profiles=profiles(file, f"{key}.profiles", st.get("profiles")),
            )
        )
    return states


def _transitions(scope: _Scope, raw_rules: Any) -> list[Rule]:
    if not isinstance(raw_rules, list):
        raise ModelError(scope.file, "transitions", "expected a list of [[transitions]]")
    rules: list[Rule] = []
    for i, raw in enumerate(raw_rules):
        if not isinstance(raw, dict):
            raise ModelError(scope.file, f"transitions[{i}]", "expected a table")
        rules.extend(_rules(scope, i, raw))
    return rules


# --- includes (models/shared/) --------------------------------------------------------------


def _includes(file: str, folder: Path, raw: Any) -> list[tuple[str, dict[str, Any]]]:
    """The shared rule files a model includes: (name as written, parsed TOML) each."""
    if raw is None:
        return []
    listed = names(file, "include", raw)
    out = []
    for i, name in enumerate(listed):
        key = f"include[{i}]"
        path = (folder / name).resolve()
        if path.parent != (folder / "shared").resolve() or path.suffix != ".toml":
            raise ModelError(file, key, f"{name!r}: an include is a file shared/NAME.toml")
        if not path.is_file():
            raise ModelError(file, key, f"{name!r}: no such file")
        data = read_toml(path)
        check_keys(name, "", data, ("shared", "states", "transitions"))
        head = data.get("shared")
        if not isinstance(head, dict):
            raise ModelError(name, "shared", "a shared rule file starts with a [shared] table")
        check_keys(name, "shared", head, ("title", "doc"))
        text(name, "shared.title", head.get("title"))
        out.append((name, data))
    if len(set(listed)) != len(listed):
        raise ModelError(file, "include", "a file is included twice")
    return out


# --- machines -------------------------------------------------------------------------------

_MACHINE_KEYS = (
    "name",
    "title",
    "kind",
    "role",
    "method",
    "section",
    "figure",
    "initial",
    "events",
)


def load_machine(path: Path) -> Machine:
    """Read and validate one model file; raise :class:`ModelError` on any mistake."""
    path = path.resolve()
    return cached("machine", path, lambda: _read_machine(path))


def _read_machine(path: Path) -> tuple[Machine, list[Path]]:
    data, file = read_toml(path), path.name
    folder = path.parent
    vocab = load_vocabulary(folder)
    timer_table = load_timers(folder)
    check_keys(file, "", data, ("machine", "start", "states", "transitions", "extra", "include"))
    head = data.get("machine")
    if not isinstance(head, dict):
        raise ModelError(file, "machine", "missing table")
    check_keys(file, "machine", head, _MACHINE_KEYS)
    events = names(file, "machine.events", head.get("events"))
    for e in events:
        if e not in vocab.events:
            raise ModelError(file, "machine.events", f"unknown event {e!r} (vocabulary.toml)")
    shared = _includes(file, folder, data.get("include"))
    states = _states(file, data.get("states"))
    for name, body in shared:
        states += _states(name, body.get("states"), required=False)
    state_names = [s.name for s in states]
    if len(set(state_names)) != len(state_names):
        raise ModelError(file, "states", "a state name is used twice (with its includes)")
    initial = text(file, "machine.initial", head.get("initial"))
    if initial not in state_names:
        raise ModelError(file, "machine.initial", f"unknown state {initial!r}")
    scope = _Scope(file, frozenset(state_names), events, vocab, timer_table)
    start = _start(scope, data.get("start"))
    rules = _transitions(scope, data.get("transitions"))
    for name, body in shared:
        rules += _transitions(
            _Scope(name, scope.states, events, vocab, timer_table), body.get("transitions", [])
        )
    machine = Machine(
        name=text(file, "machine.name", head.get("name")),
        title=text(file, "machine.title", head.get("title")),
        kind=text(file, "machine.kind", head.get("kind")),
        role=text(file, "machine.role", head.get("role")),
        section=text(file, "machine.section", head.get("section")),
        figure=text(file, "machine.figure", head.get("figure"), optional=True),
        initial=initial,
        events=events,
        start=start,
        states=tuple(states),
        rules=tuple(rules),
        file=file,
        method=head.get("method"),
        extra=data.get("extra", {}),
        includes=tuple(name for name, _ in shared),
    )
    if machine.name != path.stem:
        raise ModelError(file, "machine.name", f"must equal the file name {path.stem!r}")
    for profile in PROFILES:
        _check_total(machine, profile, vocab)
    read = [path, folder / "vocabulary.toml", folder / "timers.toml"]
    return machine, read + [(folder / name).resolve() for name, _ in shared]


def _start(scope: _Scope, raw: Any) -> Start:
    file = scope.file
    if not isinstance(raw, dict):
        raise ModelError(file, "start", "missing table")
    check_keys(file, "start", raw, ("event", "actions", "section", "label"))
    event = text(file, "start.event", raw.get("event"))
    if event not in scope.vocab.events:
        raise ModelError(file, "start.event", f"unknown event {event!r}")
    return Start(
        event=event,
        actions=_actions(scope, "start.actions", raw.get("actions")),
        section=text(file, "start.section", raw.get("section")),
        label=raw.get("label"),
    )


def _check_total(machine: Machine, profile: str, vocab: Vocabulary) -> None:
    """Every (state, event) pair under ``profile`` is decided exactly once (per guard)."""
    live = set(machine.state_names(profile))
    for rule in machine.rules_for(profile):
        if rule.dest is not None and rule.dest not in live:
            raise ModelError(
                machine.file,
                f"{rule.source} x {rule.event}",
                f"uses a state that does not exist under profile {profile}",
            )
    for state in machine.state_names(profile):
        for event in machine.events:
            decided = machine.decide(state, event, profile)
            if not decided:
                raise ModelError(
                    machine.file,
                    f"{state} x {event}",
                    f"undecided under profile {profile} (totality, SCHEMA.md)",
                )
            guards = [r.guard for r in decided]
            if len(decided) > 1 and (None in guards or len(set(guards)) != len(guards)):
                raise ModelError(
                    machine.file, f"{state} x {event}", f"decided twice under profile {profile}"
                )
            if guards != [None] and not _complementary(guards, vocab):
                raise ModelError(
                    machine.file,
                    f"{state} x {event}",
                    f"under profile {profile} the guards {guards} are not a guard "
                    "and its complement (one must hold at any time)",
                )


def _complementary(guards: list[str | None], vocab: Vocabulary) -> bool:
    """Exactly two guards, each the other's complement (vocabulary.toml)."""
    if len(guards) != 2 or None in guards:
        return False
    first, second = guards
    return first is not None and vocab.guards[first].complement == second


# --- by name and by folder ------------------------------------------------------------------


def model_names(directory: Path | None = None) -> list[str]:
    """The names of the model files in ``directory`` (default :func:`models_dir`)."""
    return [p.stem for p in model_paths(directory)]


def load_model(name: str, directory: Path | None = None) -> Machine:
    """Load one model by name (only that file and what it includes: another model being
    edited cannot break it)."""
    folder = directory or models_dir()
    path = folder / f"{name}.toml"
    if path not in model_paths(folder) or not path.is_file():
        known = ", ".join(model_names(directory))
        raise ModelError(f"{name}.toml", "-", f"unknown model {name!r} (known: {known})")
    return load_machine(path)


def load_models(directory: Path | None = None) -> dict[str, Machine]:
    """Every model in ``directory`` (default :func:`models_dir`), by name, sorted by file name."""
    return {p.stem: load_machine(p) for p in model_paths(directory)}
