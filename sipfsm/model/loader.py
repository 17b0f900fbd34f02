"""Load and validate the state machines of ``models/`` (format: ``models/SCHEMA.md``).

A model file is data: states, the events the machine handles, and rules deciding every
(state, event) pair: a transition (with guard, actions and destination), an explicit ignore,
or an explicit error. This module reads the TOML, checks it against the vocabulary
(``models/vocabulary.toml``) and the timer table (``models/timers.toml``), and returns frozen
dataclasses. Any mistake is a :class:`~sipfsm.ModelError` naming file, key and reason.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from sipfsm.errors import ModelError

#: The profiles every model is read under: RFC 3261 as published, and as amended.
PROFILES: tuple[str, ...] = ("rfc3261", "rfc6026")
#: The default profile: the standard as amended (RFC 6026, RFC 4320).
DEFAULT_PROFILE = "rfc6026"

Kind = Literal["transition", "ignore", "error"]
_KINDS: tuple[str, ...] = ("transition", "ignore", "error")


def models_dir() -> Path:
    """The folder holding the model files: ``models/`` of the checkout, which the package
    reaches through its ``_models`` link (a wheel carries the files themselves there)."""
    return (Path(__file__).parent / "_models").resolve()


@dataclass(frozen=True, slots=True)
class Term:
    """One name of the vocabulary: an event, a guard or an action verb."""

    name: str
    label: str
    doc: str
    takes_timer: bool = False
    takes_interval: bool = False
    #: Response events: where the response comes from ("tl" or "tu") and its status range.
    origin: str | None = None
    status: tuple[int, int] | None = None
    #: Guards: the guard that holds exactly when this one does not.
    complement: str | None = None


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """``models/vocabulary.toml``: every event, guard and action a model may name."""

    events: Mapping[str, Term]
    guards: Mapping[str, Term]
    actions: Mapping[str, Term]


@dataclass(frozen=True, slots=True)
class Action:
    """One action of a transition: a verb, with a timer letter and an interval if it takes them."""

    verb: str
    timer: str | None = None
    interval: str | None = None

    def __str__(self) -> str:
        return " ".join(p for p in (self.verb, self.timer, self.interval) if p)


@dataclass(frozen=True, slots=True)
class State:
    """A state of a machine; ``terminal`` states end it (drawn as a double octagon)."""

    name: str
    section: str
    doc: str = ""
    terminal: bool = False
    profiles: frozenset[str] = frozenset(PROFILES)


@dataclass(frozen=True, slots=True)
class Rule:
    """How one (state, event) pair is decided under some profiles, optionally behind a guard."""

    source: str
    event: str
    kind: Kind
    section: str
    dest: str | None = None
    guard: str | None = None
    actions: tuple[Action, ...] = ()
    label: str | None = None
    doc: str = ""
    profiles: frozenset[str] = frozenset(PROFILES)
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class Start:
    """How the machine begins: the creating event, its actions, and the initial state."""

    event: str
    actions: tuple[Action, ...]
    section: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Machine:
    """A validated model: the data every engine, renderer and test reads."""

    name: str
    title: str
    kind: str
    role: str
    section: str
    figure: str
    initial: str
    events: tuple[str, ...]
    start: Start
    states: tuple[State, ...]
    rules: tuple[Rule, ...]
    file: str
    method: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def state_names(self, profile: str) -> tuple[str, ...]:
        """The states that exist under ``profile``, in file order."""
        return tuple(s.name for s in self.states if profile in s.profiles)

    def rules_for(self, profile: str) -> tuple[Rule, ...]:
        """The rules in force under ``profile``: explicit ones, then fallbacks for open pairs."""
        return _resolve(self, profile)

    def decide(self, state: str, event: str, profile: str) -> tuple[Rule, ...]:
        """The rules for one (state, event) pair under ``profile`` (several only with guards)."""
        return tuple(r for r in self.rules_for(profile) if r.source == state and r.event == event)

    def _repr_svg_(self) -> str | None:
        """Jupyter: the diagram under the default profile, drawn by the renderer that
        registered itself (:func:`set_svg_renderer`; ``sipfsm.render`` does when imported);
        None without one, or when it cannot draw (Graphviz missing)."""
        return None if _svg_renderer is None else _svg_renderer(self)


#: Draws a machine as SVG for :meth:`Machine._repr_svg_`. The renderer registers it: the
#: models do not depend on their pictures.
_svg_renderer: Callable[[Machine], str | None] | None = None


def set_svg_renderer(draw: Callable[[Machine], str | None]) -> None:
    """Make ``draw`` the SVG of every :class:`Machine` in Jupyter."""
    global _svg_renderer
    _svg_renderer = draw


@dataclass(frozen=True, slots=True)
class TimerSpec:
    """One row of RFC 3261 Table 4 (or Timer C of 16.6, L and M of RFC 6026)."""

    name: str
    unreliable: str
    reliable: str
    section: str
    meaning: str
    backoff: str | None = None
    cap: str | None = None
    profiles: frozenset[str] = frozenset(PROFILES)


@dataclass(frozen=True, slots=True)
class Window:
    """A timer started at a random instant (``[windows.NAME]`` of ``timers.toml``).

    14.1: the re-INVITE after a 491 is retried after a random time in ``owner`` = [low, high]
    when this UA generated the Call-ID, in ``other`` otherwise, in units of ``granularity``
    seconds. Bounds and granularity are interval expressions (``2.1``, ``T1`` ...).
    """

    name: str
    owner: tuple[str, str]
    other: tuple[str, str]
    granularity: str
    section: str


@dataclass(frozen=True, slots=True)
class TimerTable:
    """``models/timers.toml``: T1, T2, T4, the timers as interval expressions, and the random
    windows of the timers started at a random instant (14.1)."""

    base: Mapping[str, float]
    timers: Mapping[str, TimerSpec]
    base_doc: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    windows: Mapping[str, Window] = field(default_factory=dict)


# --- reading helpers ------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ModelError(str(path), "-", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(str(path), "-", f"not valid TOML: {exc}") from None


def _str(file: str, key: str, value: Any, *, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str) or (not value and not optional):
        raise ModelError(file, key, f"expected a non-empty string, got {value!r}")
    return value


def _names(file: str, key: str, value: Any) -> tuple[str, ...]:
    """A string or a list of strings, as a tuple."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ModelError(file, key, f"expected a name or a list of names, got {value!r}")


def _profiles(file: str, key: str, value: Any) -> frozenset[str]:
    if value is None:
        return frozenset(PROFILES)
    names = _names(file, key, value)
    for n in names:
        if n not in PROFILES:
            raise ModelError(file, key, f"unknown profile {n!r} (known: {', '.join(PROFILES)})")
    return frozenset(names)


def _check_keys(file: str, key: str, table: Mapping[str, Any], allowed: Iterable[str]) -> None:
    extra = sorted(set(table) - set(allowed))
    if extra:
        where = f"{key}.{extra[0]}" if key else extra[0]
        raise ModelError(file, where, "unknown key (see models/SCHEMA.md)")


def _table(file: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelError(file, key, "expected a table")
    return value


# --- vocabulary and timers ------------------------------------------------------------------


@cache
def load_vocabulary(directory: Path | None = None) -> Vocabulary:
    """Read ``vocabulary.toml`` from ``directory`` (default: :func:`models_dir`)."""
    path = (directory or models_dir()) / "vocabulary.toml"
    data, file = _read_toml(path), path.name
    sections: dict[str, dict[str, Term]] = {}
    for section in ("events", "guards", "actions"):
        table = data.get(section)
        if not isinstance(table, dict):
            raise ModelError(file, section, "missing table")
        terms = {}
        for name, body in table.items():
            key = f"{section}.{name}"
            if not isinstance(body, dict):
                raise ModelError(file, key, "expected a table")
            _check_keys(
                file,
                key,
                body,
                ("label", "doc", "takes_timer", "takes_interval", "origin", "status", "complement"),
            )
            terms[name] = Term(
                name=name,
                label=_str(file, f"{key}.label", body.get("label")),
                doc=_str(file, f"{key}.doc", body.get("doc")),
                takes_timer=bool(body.get("takes_timer", False)),
                takes_interval=bool(body.get("takes_interval", False)),
                origin=_origin(file, key, body),
                status=_status(file, key, body),
                complement=body.get("complement"),
            )
        sections[section] = terms
    for name, term in sections["guards"].items():
        other = sections["guards"].get(term.complement or "")
        if other is None or other.complement != name:
            raise ModelError(
                file,
                f"guards.{name}.complement",
                "every guard names a complement that names it back",
            )
    return Vocabulary(sections["events"], sections["guards"], sections["actions"])


def _origin(file: str, key: str, body: Mapping[str, Any]) -> str | None:
    origin = body.get("origin")
    if origin not in (None, "tl", "tu"):
        raise ModelError(file, f"{key}.origin", "expected 'tl' or 'tu'")
    if (origin is None) != (body.get("status") is None):
        raise ModelError(file, key, "a response event has both origin and status")
    return origin


def _status(file: str, key: str, body: Mapping[str, Any]) -> tuple[int, int] | None:
    raw = body.get("status")
    if raw is None:
        return None
    ok = (
        isinstance(raw, list)
        and len(raw) == 2
        and all(isinstance(v, int) for v in raw)
        and 100 <= raw[0] <= raw[1] <= 699
    )
    if not ok:
        raise ModelError(file, f"{key}.status", "expected [low, high] within 100-699")
    return (raw[0], raw[1])


def check_interval(file: str, key: str, expr: str, *, allow_none: bool = False) -> str:
    """Check an interval expression: seconds (``33``), ``T1``/``T2``/``T4`` or ``N*T1``."""
    if allow_none and expr == "none":
        return expr
    head, _, tail = expr.partition("*")
    base = tail if tail else head
    factor = head if tail else "1"
    ok = base in ("T1", "T2", "T4") or (not tail and _is_number(base))
    if not ok or not _is_number(factor):
        raise ModelError(file, key, f"bad interval {expr!r}: use seconds, T1, T2, T4 or N*T1")
    return expr


def _is_number(text: str) -> bool:
    try:
        return float(text) >= 0
    except ValueError:
        return False


@cache
def load_timers(directory: Path | None = None) -> TimerTable:
    """Read ``timers.toml`` (RFC 3261 Table 4 plus C, L, M, the UA core's timers and the
    random windows of 14.1); any unknown table or key is a :class:`ModelError`."""
    path = (directory or models_dir()) / "timers.toml"
    data, file = _read_toml(path), path.name
    _check_keys(file, "", data, ("base", "timers", "windows"))
    base_raw = data.get("base")
    if not isinstance(base_raw, dict) or set(base_raw) != {"T1", "T2", "T4"}:
        raise ModelError(file, "base", "must define exactly T1, T2 and T4")
    base: dict[str, float] = {}
    for name, row in base_raw.items():
        _check_keys(
            file, f"base.{name}", _table(file, f"base.{name}", row), ("value", "section", "meaning")
        )
        value = row.get("value")
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ModelError(file, f"base.{name}.value", "expected a positive number of seconds")
        base[name] = float(value)
    timers: dict[str, TimerSpec] = {}
    raw = data.get("timers")
    if not isinstance(raw, dict) or not raw:
        raise ModelError(file, "timers", "missing table")
    allowed = ("unreliable", "reliable", "backoff", "cap", "section", "meaning", "profiles")
    for name, row in raw.items():
        key = f"timers.{name}"
        _check_keys(file, key, _table(file, key, row), allowed)
        backoff = row.get("backoff")
        if backoff not in (None, "double"):
            raise ModelError(file, f"{key}.backoff", "only 'double' is known")
        cap = row.get("cap")
        timers[name] = TimerSpec(
            name=name,
            unreliable=check_interval(
                file,
                f"{key}.unreliable",
                _str(file, f"{key}.unreliable", row.get("unreliable")),
                allow_none=True,
            ),
            reliable=check_interval(
                file,
                f"{key}.reliable",
                _str(file, f"{key}.reliable", row.get("reliable")),
                allow_none=True,
            ),
            section=_str(file, f"{key}.section", row.get("section")),
            meaning=_str(file, f"{key}.meaning", row.get("meaning")),
            backoff=backoff,
            cap=None if cap is None else check_interval(file, f"{key}.cap", cap),
            profiles=_profiles(file, f"{key}.profiles", row.get("profiles")),
        )
    windows = {
        name: _window(file, name, row, timers, base)
        for name, row in _table(file, "windows", data.get("windows", {})).items()
    }
    base_doc = {
        k: {kk: str(vv) for kk, vv in v.items() if kk != "value"} for k, v in base_raw.items()
    }
    return TimerTable(base=base, timers=timers, base_doc=base_doc, windows=windows)


def seconds(expr: str, base: Mapping[str, float]) -> float:
    """The seconds of a checked interval expression (not ``none``) under ``base`` (T1, T2,
    T4)."""
    head, _, tail = expr.partition("*")
    if tail:
        return float(head) * base[tail]
    return base[head] if head in base else float(head)


def _window(
    file: str, name: str, raw: Any, timers: Mapping[str, TimerSpec], base: Mapping[str, float]
) -> Window:
    """One ``[windows.NAME]``: the random interval of timer NAME (14.1)."""
    key = f"windows.{name}"
    _check_keys(file, key, _table(file, key, raw), ("owner", "other", "granularity", "section"))
    spec = timers.get(name)
    if spec is None:
        raise ModelError(file, key, f"no timer {name!r} in [timers] to draw at random")
    bounds: dict[str, tuple[str, str]] = {}
    for side in ("owner", "other"):
        value = raw.get(side)
        if not (
            isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)
        ):
            raise ModelError(
                file,
                f"{key}.{side}",
                f"expected [low, high] as two interval expressions, got {value!r}",
            )
        low, high = (check_interval(file, f"{key}.{side}", v) for v in value)
        if seconds(low, base) > seconds(high, base):
            raise ModelError(file, f"{key}.{side}", f"low {low} is above high {high}")
        bounds[side] = (low, high)
    granularity = check_interval(
        file, f"{key}.granularity", _str(file, f"{key}.granularity", raw.get("granularity"))
    )
    if seconds(granularity, base) <= 0:
        raise ModelError(file, f"{key}.granularity", "expected a positive number of seconds")
    top = max(seconds(hi, base) for _, hi in bounds.values())
    for transport in ("unreliable", "reliable"):
        expr = getattr(spec, transport)
        if expr == "none" or abs(seconds(expr, base) - top) > 1e-9:
            raise ModelError(
                file,
                f"timers.{name}.{transport}",
                f"a timer drawn from [{key}] has the window's upper bound, {top:g} s",
            )
    return Window(
        name=name,
        owner=bounds["owner"],
        other=bounds["other"],
        granularity=granularity,
        section=_str(file, f"{key}.section", raw.get("section")),
    )


# --- machines -------------------------------------------------------------------------------


def _actions(
    file: str, key: str, raw: Any, vocab: Vocabulary, timers: TimerTable
) -> tuple[Action, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        raise ModelError(file, key, "expected a list of action strings")
    out = []
    for i, text in enumerate(raw):
        akey = f"{key}[{i}]"
        parts = text.split()
        if not parts or parts[0] not in vocab.actions:
            raise ModelError(file, akey, f"unknown action {text!r} (vocabulary.toml [actions])")
        term = vocab.actions[parts[0]]
        want = 1 + term.takes_timer + term.takes_interval
        if len(parts) != want:
            raise ModelError(file, akey, f"{parts[0]!r} takes {want - 1} argument(s)")
        timer = parts[1] if term.takes_timer else None
        if timer is not None and timer not in timers.timers:
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


def _rules(
    file: str,
    idx: int,
    raw: Mapping[str, Any],
    states: set[str],
    events: tuple[str, ...],
    vocab: Vocabulary,
    timers: TimerTable,
) -> list[Rule]:
    key = f"transitions[{idx}]"
    _check_keys(file, key, raw, _RULE_KEYS)
    kind = raw.get("kind", "transition")
    if kind not in _KINDS:
        raise ModelError(file, f"{key}.kind", f"expected one of {', '.join(_KINDS)}")
    sources = _names(file, f"{key}.source", raw.get("source"))
    sources = tuple(sorted(states)) if sources == ("*",) else sources
    evs = _names(file, f"{key}.event", raw.get("event"))
    evs = events if evs == ("*",) else evs
    for s in sources:
        if s not in states:
            raise ModelError(file, f"{key}.source", f"unknown state {s!r}")
    for e in evs:
        if e not in events:
            raise ModelError(file, f"{key}.event", f"{e!r} is not in [machine].events")
    dest = raw.get("dest")
    if kind == "transition":
        if dest not in states:
            raise ModelError(file, f"{key}.dest", f"unknown or missing state {dest!r}")
    elif dest is not None or raw.get("actions"):
        raise ModelError(file, key, f"a rule of kind {kind!r} has no dest and no actions")
    guard = raw.get("guard")
    if guard is not None and guard not in vocab.guards:
        raise ModelError(file, f"{key}.guard", f"unknown guard {guard!r} (vocabulary.toml)")
    actions = _actions(file, f"{key}.actions", raw.get("actions"), vocab, timers)
    section = _str(file, f"{key}.section", raw.get("section"))
    label = raw.get("label")
    if label is not None:
        label = _str(file, f"{key}.label", label)
    profiles = _profiles(file, f"{key}.profiles", raw.get("profiles"))
    doc = _str(file, f"{key}.doc", raw.get("doc"), optional=True)
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
            profiles=profiles,
            fallback=fallback,
        )
        for s in sources
        for e in evs
    ]


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
    data, file = _read_toml(path), path.name
    vocab = load_vocabulary(path.parent)
    timers = load_timers(path.parent)
    _check_keys(file, "", data, ("machine", "start", "states", "transitions", "extra"))
    head = data.get("machine")
    if not isinstance(head, dict):
        raise ModelError(file, "machine", "missing table")
    _check_keys(file, "machine", head, _MACHINE_KEYS)
    events = _names(file, "machine.events", head.get("events"))
    for e in events:
        if e not in vocab.events:
            raise ModelError(file, "machine.events", f"unknown event {e!r} (vocabulary.toml)")
    raw_states = data.get("states")
    if not isinstance(raw_states, list) or not raw_states:
        raise ModelError(file, "states", "expected a non-empty list of [[states]]")
    states: list[State] = []
    for i, st in enumerate(raw_states):
        key = f"states[{i}]"
        _check_keys(file, key, st, ("name", "section", "doc", "terminal", "profiles"))
        states.append(
            State(
                name=_str(file, f"{key}.name", st.get("name")),
                section=_str(file, f"{key}.section", st.get("section")),
                doc=_str(file, f"{key}.doc", st.get("doc"), optional=True),
                terminal=bool(st.get("terminal", False)),
                profiles=_profiles(file, f"{key}.profiles", st.get("profiles")),
            )
        )
    names = [s.name for s in states]
    if len(set(names)) != len(names):
        raise ModelError(file, "states", "a state name is used twice")
    initial = _str(file, "machine.initial", head.get("initial"))
    if initial not in names:
        raise ModelError(file, "machine.initial", f"unknown state {initial!r}")
    start_raw = data.get("start")
    if not isinstance(start_raw, dict):
        raise ModelError(file, "start", "missing table")
    _check_keys(file, "start", start_raw, ("event", "actions", "section", "label"))
    start_event = _str(file, "start.event", start_raw.get("event"))
    if start_event not in vocab.events:
        raise ModelError(file, "start.event", f"unknown event {start_event!r}")
    start = Start(
        event=start_event,
        actions=_actions(file, "start.actions", start_raw.get("actions"), vocab, timers),
        section=_str(file, "start.section", start_raw.get("section")),
        label=start_raw.get("label"),
    )
    raw_rules = data.get("transitions")
    if not isinstance(raw_rules, list):
        raise ModelError(file, "transitions", "expected a list of [[transitions]]")
    rules: list[Rule] = []
    for i, raw in enumerate(raw_rules):
        if not isinstance(raw, dict):
            raise ModelError(file, f"transitions[{i}]", "expected a table")
        rules.extend(_rules(file, i, raw, set(names), events, vocab, timers))
    machine = Machine(
        name=_str(file, "machine.name", head.get("name")),
        title=_str(file, "machine.title", head.get("title")),
        kind=_str(file, "machine.kind", head.get("kind")),
        role=_str(file, "machine.role", head.get("role")),
        section=_str(file, "machine.section", head.get("section")),
        figure=_str(file, "machine.figure", head.get("figure"), optional=True),
        initial=initial,
        events=events,
        start=start,
        states=tuple(states),
        rules=tuple(rules),
        file=file,
        method=head.get("method"),
        extra=data.get("extra", {}),
    )
    if machine.name != path.stem:
        raise ModelError(file, "machine.name", f"must equal the file name {path.stem!r}")
    for profile in PROFILES:
        _check_total(machine, profile, vocab)
    return machine


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


@cache
def _resolve_cached(machine: Machine, profile: str) -> tuple[Rule, ...]:
    live = set(machine.state_names(profile))
    rules = [r for r in machine.rules if profile in r.profiles and r.source in live]
    explicit = [r for r in rules if not r.fallback]
    taken = {(r.source, r.event) for r in explicit}
    fallbacks = [r for r in rules if r.fallback and (r.source, r.event) not in taken]
    return tuple(explicit + fallbacks)


def _resolve(machine: Machine, profile: str) -> tuple[Rule, ...]:
    if profile not in PROFILES:
        raise ModelError(machine.file, "profile", f"unknown profile {profile!r}")
    return _resolve_cached(machine, profile)


def load_models(directory: Path | None = None) -> dict[str, Machine]:
    """Every model in ``directory`` (default :func:`models_dir`), by name, sorted by file name."""
    folder = directory or models_dir()
    skip = {"vocabulary.toml", "timers.toml"}
    return {p.stem: load_machine(p) for p in sorted(folder.glob("*.toml")) if p.name not in skip}
