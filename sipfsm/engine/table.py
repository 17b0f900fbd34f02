"""Compile a model into a dispatch table: ``(state, event) -> Entry``, shared and immutable.

One table exists per (model, profile, transport reliability, T1/T2/T4): every transaction of that
kind points at it, so a transaction itself holds only its state, its timers and its messages.
Compiling resolves what is fixed for the table (rules of the profile, the ``reliable`` and
``unreliable`` guards, timer values from ``timers.toml``, constant outputs) and leaves only what
depends on time (RFC 4320's ``early_100``) to run time. Actions become small op tuples that
the engine (``sipfsm.engine.transaction``) interprets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from sipfsm.engine.outputs import Output, StateEntered, TimerEvent, ToTU, TUWhat
from sipfsm.errors import ModelError
from sipfsm.model.loader import (
    Action,
    Machine,
    Rule,
    TimerTable,
    Vocabulary,
    load_machine,
    load_timers,
    load_vocabulary,
    models_dir,
)
from sipfsm.model.timers import RELIABLE, Timers, cap, evaluate, initial_interval, time_until_at_cap

# Op codes: an op is (code, name, number, constant output or None, section).
SEND_REQUEST: Final = 0
RESEND_REQUEST: Final = 1
SEND_ACK: Final = 2
RESEND_ACK: Final = 3
SEND_RESPONSE: Final = 4
RESEND_RESPONSE: Final = 5
SEND_100: Final = 6
TO_TU: Final = 7
CONSTANT: Final = 8  # an output known at compile time: tu_timeout, tu_transport_error
START: Final = 9
STOP: Final = 10
BACKOFF: Final = 11
RESTART: Final = 12

Op = tuple[int, str, float, Output | None, str]

# Entry kinds.
TRANSITION: Final = 0
IGNORE: Final = 1
ERROR: Final = 2
_KIND = {"transition": TRANSITION, "ignore": IGNORE, "error": ERROR}

#: Guards the engine evaluates at run time (the others are fixed per table).
RUNTIME_GUARDS: Final = frozenset({"early_100", "late_100"})

_TU_WHAT: dict[str, TUWhat] = {
    "recv_request": "request",
    "request_from_tl": "request",
    "recv_ack": "ack",
}


class Entry:
    """How one (state, event) pair is decided: a resolved rule, or a runtime guard's choice."""

    __slots__ = (
        "alt",
        "dest",
        "enter",
        "event",
        "guard",
        "kind",
        "ops",
        "rule",
        "section",
        "source",
    )

    def __init__(
        self, rule: Rule, ops: tuple[Op, ...], guard: str | None = None, alt: Entry | None = None
    ) -> None:
        self.rule = rule
        self.source = rule.source
        self.event = rule.event
        self.kind: int = _KIND[rule.kind]
        self.dest = rule.dest
        self.ops = ops
        self.section = rule.section
        self.guard = guard
        #: With a runtime guard: the entry of its complement; else the entry itself.
        self.alt: Entry = alt if alt is not None else self
        moves = rule.dest is not None and rule.dest != rule.source
        self.enter = StateEntered(rule.dest, rule.section) if moves and rule.dest else None


@dataclass(eq=False, slots=True)
class Table:
    """A compiled model: everything a transaction of this kind shares."""

    machine: Machine
    profile: str
    reliable: bool
    base: Mapping[str, float]
    start_ops: tuple[Op, ...]
    pairs: dict[tuple[str, str], Entry]
    rows: dict[str, dict[str, Entry]]
    rule_ops: dict[Rule, tuple[Op, ...]]
    timer_event: dict[str, str]
    fired: dict[str, TimerEvent]
    tl_status: dict[int, str]
    tu_status: dict[int, str]
    terminal: frozenset[str]
    e_at_t2: float
    name: str = field(init=False)
    #: The timer events of the machine's alphabet (callers cannot inject them).
    timer_names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.machine.name
        self.timer_names = frozenset(e for e in self.machine.events if e.startswith("timer_"))


def _op(
    action: Action,
    rule_event: str,
    section: str,
    timers: TimerTable,
    reliable: bool,
    base: Mapping[str, float],
    again: bool,
) -> Op | None:
    """Compile one action; ``None`` when it does nothing here (a timer unused on the transport)."""
    verb, timer = action.verb, action.timer or ""
    if verb in ("start", "restart", "backoff", "stop"):
        return _timer_op(action, section, timers, reliable, base)
    simple = {
        "send_request": RESEND_REQUEST if again else SEND_REQUEST,
        "send_ack": RESEND_ACK if again else SEND_ACK,
        "send_response": SEND_RESPONSE,
        "resend_response": RESEND_RESPONSE,
        "send_100": SEND_100,
    }
    if verb in simple:
        return (simple[verb], timer, 0.0, None, section)
    if verb == "pass_to_tu":
        return (TO_TU, _TU_WHAT.get(rule_event, "response"), 0.0, None, section)
    if verb in ("tu_timeout", "tu_transport_error"):
        what: TUWhat = "timeout" if verb == "tu_timeout" else "transport_error"
        return (CONSTANT, "", 0.0, ToTU(what, None, None, section), section)
    raise ModelError("vocabulary.toml", f"actions.{verb}", "the engine has no meaning for it")


def _timer_op(
    action: Action, section: str, timers: TimerTable, reliable: bool, base: Mapping[str, float]
) -> Op | None:
    timer = action.timer or ""
    spec = timers.timers[timer]
    base_d = dict(base)
    if action.verb == "stop":
        return (STOP, timer, 0.0, TimerEvent("stop", timer, None, section), section)
    if action.verb == "backoff":
        ceiling = cap(spec, base_d)
        return (BACKOFF, timer, float("inf") if ceiling is None else ceiling, None, section)
    if action.verb == "restart":
        seconds = evaluate(action.interval or "none", base_d)
        if seconds is None:
            return None
        return (RESTART, timer, seconds, TimerEvent("start", timer, seconds, section), section)
    seconds = initial_interval(spec, reliable, base_d)
    if seconds is None:
        return None
    return (START, timer, seconds, TimerEvent("start", timer, seconds, section), section)


def _ops(
    actions: tuple[Action, ...],
    event: str,
    section: str,
    timers: TimerTable,
    reliable: bool,
    base: Mapping[str, float],
    again: bool,
) -> tuple[Op, ...]:
    ops = (_op(a, event, section, timers, reliable, base, again) for a in actions)
    return tuple(op for op in ops if op is not None)


def _static_guard(guard: str, reliable: bool) -> bool | None:
    """A guard's value fixed by the table, or ``None`` when it depends on time."""
    if guard == "reliable":
        return reliable
    if guard == "unreliable":
        return not reliable
    if guard == "early_100":
        return False if reliable else None
    if guard == "late_100":
        return True if reliable else None
    raise ModelError("vocabulary.toml", f"guards.{guard}", "the engine has no evaluator for it")


def _entry(rules: list[Rule], rule_ops: dict[Rule, tuple[Op, ...]], reliable: bool) -> Entry:
    """One pair's entry: its rule, or between two guarded rules the one that holds."""
    if len(rules) == 1:
        return Entry(rules[0], rule_ops[rules[0]])
    first, second = rules
    held = _static_guard(first.guard or "", reliable)
    if held is None:
        return Entry(first, rule_ops[first], first.guard, Entry(second, rule_ops[second]))
    chosen = first if held else second
    return Entry(chosen, rule_ops[chosen])


def _status_map(machine: Machine, origin: str, vocab: Vocabulary) -> dict[int, str]:
    """Status code -> the narrowest response event of this origin in the machine's alphabet."""
    ranged: list[tuple[int, int, str]] = []
    for e in machine.events:
        term = vocab.events[e]
        if term.origin == origin and term.status is not None:
            ranged.append((term.status[0], term.status[1], e))
    out: dict[int, str] = {}
    for code in range(100, 700):
        fits = [(hi - lo, e) for lo, hi, e in ranged if lo <= code <= hi]
        if fits:
            out[code] = min(fits)[1]
    return out


def compile_table(
    machine: Machine,
    profile: str,
    reliable: bool,
    timers: Timers,
    timer_table: TimerTable | None = None,
    vocabulary: Vocabulary | None = None,
) -> Table:
    """Compile ``machine`` under ``profile`` for one kind of transport and one T1/T2/T4.

    ``timer_table`` and ``vocabulary`` default to those of ``models/``; pass others to run a
    model from another folder (tests run deliberately mutated models this way).
    """
    ttable = timer_table or load_timers()
    vocab = vocabulary or load_vocabulary()
    base = timers.base(ttable)
    rules = machine.rules_for(profile)
    rule_ops = {
        r: _ops(r.actions, r.event, r.section, ttable, reliable, base, again=r.source == r.dest)
        for r in rules
    }
    grouped: dict[tuple[str, str], list[Rule]] = {}
    for r in rules:
        grouped.setdefault((r.source, r.event), []).append(r)
    pairs = {k: _entry(v, rule_ops, reliable) for k, v in grouped.items()}
    rows: dict[str, dict[str, Entry]] = {s: {} for s in machine.state_names(profile)}
    for (state, event), entry in pairs.items():
        rows[state][event] = entry
    start = machine.start
    start_ops = _ops(start.actions, start.event, start.section, ttable, reliable, base, False)
    timer_event = _timer_events(machine, ttable)
    e_spec = ttable.timers.get("E")
    return Table(
        machine=machine,
        profile=profile,
        reliable=reliable,
        base=base,
        start_ops=start_ops,
        pairs=pairs,
        rows=rows,
        rule_ops=rule_ops,
        timer_event=timer_event,
        fired={t: TimerEvent("fire", t, None, ttable.timers[t].section) for t in timer_event},
        tl_status=_status_map(machine, "tl", vocab),
        tu_status=_status_map(machine, "tu", vocab),
        terminal=frozenset(s.name for s in machine.states if s.terminal),
        e_at_t2=time_until_at_cap(e_spec, base) if e_spec else float("inf"),
    )


def _timer_events(machine: Machine, ttable: TimerTable) -> dict[str, str]:
    """Every timer the machine starts, with the event its firing is (``timer_X``)."""
    out: dict[str, str] = {}
    actions = [a for r in machine.rules for a in r.actions] + list(machine.start.actions)
    for a in actions:
        if a.timer and a.verb in ("start", "restart", "backoff"):
            event = f"timer_{a.timer}"
            if event not in machine.events:
                raise ModelError(
                    machine.file,
                    "machine.events",
                    f"starts Timer {a.timer} but does not handle {event}",
                )
            out[a.timer] = event
    return out


_CACHE: dict[tuple[object, ...], Table] = {}


def table_for(model: str | Machine, profile: str, transport: str, timers: Timers) -> Table:
    """The shared compiled table for a model (by name from ``models/``, or a loaded Machine)."""
    ident: object = model if isinstance(model, str) else id(model)
    key = (ident, profile, transport, timers.t1, timers.t2, timers.t4)
    table = _CACHE.get(key)
    if table is None or (not isinstance(model, str) and table.machine is not model):
        machine = model if not isinstance(model, str) else load_model(model)
        table = compile_table(machine, profile, transport_reliable(transport), timers)
        _CACHE[key] = table
    return table


def transport_reliable(transport: str) -> bool:
    """Whether a transport name is reliable (Table 4: TCP, TLS, SCTP) or not (UDP)."""
    try:
        return RELIABLE[transport.lower()]
    except KeyError:
        known = ", ".join(RELIABLE)
        raise ModelError(
            "-", "transport", f"unknown transport {transport!r} (known: {known})"
        ) from None


def load_model(name: str) -> Machine:
    """Load one model by name (only that file: another model being edited cannot break it)."""
    if name not in _LOADED:
        path = models_dir() / f"{name}.toml"
        if name in _NOT_MODELS or not path.is_file():
            known = ", ".join(model_names())
            raise ModelError(f"{name}.toml", "-", f"unknown model {name!r} (known: {known})")
        _LOADED[name] = load_machine(path)
    return _LOADED[name]


_LOADED: dict[str, Machine] = {}
_NOT_MODELS = ("vocabulary", "timers")


def model_names() -> list[str]:
    """The names of the model files in ``models/``."""
    return sorted(p.stem for p in models_dir().glob("*.toml") if p.stem not in _NOT_MODELS)
