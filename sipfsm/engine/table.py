"""Compile a model into a dispatch table: ``(state, event) -> Entry``, shared and immutable.

One compile step for every model kind (transactions, the dialog, the INVITE sessions): the
model, its profile, the transport's reliability, T1/T2/T4, the timer table and the vocabulary go
in; a :class:`Table` comes out, shared by every machine of that kind, so a running machine
(``engine.runner``) holds only its state, its timers and its messages. Compiling resolves what
is fixed for the table: the rules of the profile, the guards that depend on the transport only
(``reliable``, ``unreliable``, and RFC 4320's ``early_100``/``late_100`` on a reliable one),
timer values from ``timers.toml``, constant outputs, the status code -> event maps of the
vocabulary. What depends on time or on a message (``early_100`` over UDP, the dialog's
``cseq_in_order``) is left to the runner's guard evaluation.

Actions become small op tuples ``(code, name, number, constant, section)``. A transaction's
verbs (section 17: ``send_request``, ``send_ack``, ``pass_to_tu`` ...) become their own ops;
in a dialog or session model every verb but the timer ones is the UA core's and becomes an
``EMIT`` op, a :class:`~sipfsm.engine.outputs.CoreAction` record for the owner to carry out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from sipfsm.engine.outputs import TU_WHAT, StateEntered, TimerEvent, ToTU, TUWhat
from sipfsm.errors import ModelError
from sipfsm.model.loader import (
    Action,
    Machine,
    Rule,
    TimerTable,
    Vocabulary,
    load_model,
    load_timers,
    load_vocabulary,
)
from sipfsm.model.timers import (
    Timers,
    cap,
    evaluate,
    initial_interval,
    time_until_at_cap,
    transport_reliable,
)
from sipfsm.model.vocabulary import ORIGINS

# Op codes: an op is (code, name, number, constant or None, section). The section-17 verbs of a
# transaction come first (the runner hands codes below TO_TU to the transaction).
SEND_REQUEST: Final = 0
RESEND_REQUEST: Final = 1
SEND_ACK: Final = 2
RESEND_ACK: Final = 3
SEND_RESPONSE: Final = 4
RESEND_RESPONSE: Final = 5
SEND_100: Final = 6
TO_TU: Final = 7
CONSTANT: Final = 8  # an output known at compile time: tu_timeout, tu_transport_error
START: Final = 9  # start a timer (constant: its TimerEvent)
KEEP: Final = 10  # start a timer the machine backs off later: its interval is kept
STOP: Final = 11
BACKOFF: Final = 12
RESTART: Final = 13
DRAW: Final = 14  # start a timer at a random instant of its window (constant: the Window)
EMIT: Final = 15  # a verb of the UA core (constant: the status code it responds with, or None)

Op = tuple[int, str, float, object, str]

# Entry kinds.
TRANSITION: Final = 0
IGNORE: Final = 1
ERROR: Final = 2
_KIND = {"transition": TRANSITION, "ignore": IGNORE, "error": ERROR}

#: Guards fixed by the transport: their value when the transport is reliable.
TRANSPORT_GUARDS: Final = {"reliable": True, "unreliable": False}
#: Guards that depend on the time since the machine started (RFC 4320 4.1).
TIME_GUARDS: Final = frozenset({"early_100", "late_100"})
#: The timer verbs, the same for every model kind.
TIMER_VERBS: Final = frozenset({"start", "stop", "backoff", "restart"})
#: The section-17 verbs of a transaction and their op codes (first send, then a resend).
TX_VERBS: Final = {
    "send_request": (SEND_REQUEST, RESEND_REQUEST),
    "send_ack": (SEND_ACK, RESEND_ACK),
    "send_response": (SEND_RESPONSE, SEND_RESPONSE),
    "resend_response": (RESEND_RESPONSE, RESEND_RESPONSE),
    "send_100": (SEND_100, SEND_100),
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
    """A compiled model: everything the machines of this kind share."""

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
    #: Status code -> the narrowest response event of the alphabet, by origin (vocabulary).
    status_events: dict[str, dict[int, str]]
    terminal: frozenset[str]
    e_at_t2: float
    timer_table: TimerTable
    vocabulary: Vocabulary
    #: Whether this side generated the Call-ID (14.1 picks the glare window by it).
    owner: bool = True
    name: str = field(init=False)
    #: The timer events of the machine's alphabet (callers cannot inject them).
    timer_names: frozenset[str] = field(init=False)
    tl_status: dict[int, str] = field(init=False)
    tu_status: dict[int, str] = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.machine.name
        self.timer_names = frozenset(e for e in self.machine.events if e.startswith("timer_"))
        self.tl_status = self.status_events["tl"]
        self.tu_status = self.status_events["tu"]


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What the actions of one table are compiled against."""

    transaction: bool
    timers: TimerTable
    vocab: Vocabulary
    reliable: bool
    base: Mapping[str, float]
    kept: frozenset[str]  # timers the machine backs off: their interval is kept
    profile: str


def _op(action: Action, rule_event: str, section: str, inputs: _Inputs, again: bool) -> Op | None:
    """Compile one action; ``None`` when it does nothing here (a timer unused on the transport)."""
    verb, timer = action.verb, action.timer or ""
    if verb in TIMER_VERBS:
        return _timer_op(action, section, inputs)
    if not inputs.transaction:
        return (EMIT, verb, 0.0, inputs.vocab.actions[verb].responds, section)
    if verb in TX_VERBS:
        return (TX_VERBS[verb][again], timer, 0.0, None, section)
    if verb == "pass_to_tu":
        return (TO_TU, TU_WHAT.get(rule_event, "response"), 0.0, None, section)
    if verb in ("tu_timeout", "tu_transport_error"):
        what: TUWhat = "timeout" if verb == "tu_timeout" else "transport_error"
        return (CONSTANT, "", 0.0, ToTU(what, None, None, section), section)
    raise ModelError("vocabulary.toml", f"actions.{verb}", "a transaction has no meaning for it")


def _timer_op(action: Action, section: str, inputs: _Inputs) -> Op | None:
    timer = action.timer or ""
    spec = inputs.timers.timers[timer]
    if inputs.profile not in spec.profiles:
        return None  # a timer of another profile (timers.toml `profiles`) does not run here
    if action.verb == "stop":
        return (STOP, timer, 0.0, TimerEvent("stop", timer, None, section), section)
    if action.verb == "backoff":
        ceiling = cap(spec, inputs.base)
        return (BACKOFF, timer, float("inf") if ceiling is None else ceiling, None, section)
    if action.verb == "restart":
        seconds = evaluate(action.interval or "none", inputs.base)
        if seconds is None:
            return None
        return (RESTART, timer, seconds, TimerEvent("start", timer, seconds, section), section)
    window = inputs.timers.windows.get(timer)
    if window is not None:
        return (DRAW, timer, 0.0, window, section)
    seconds = initial_interval(spec, inputs.reliable, inputs.base, inputs.timers.timers)
    if seconds is None:
        return None
    code = KEEP if timer in inputs.kept else START
    return (code, timer, seconds, TimerEvent("start", timer, seconds, section), section)


def _ops(
    actions: tuple[Action, ...], event: str, section: str, inputs: _Inputs, again: bool
) -> tuple[Op, ...]:
    ops = (_op(a, event, section, inputs, again) for a in actions)
    return tuple(op for op in ops if op is not None)


def _static_guard(guard: str, reliable: bool) -> bool | None:
    """A guard's value fixed by the transport, or ``None`` when it is evaluated at run time."""
    if guard in TRANSPORT_GUARDS:
        return TRANSPORT_GUARDS[guard] == reliable
    if guard in TIME_GUARDS and reliable:
        return guard == "late_100"  # RFC 4320 4.1: over a reliable transport, never early
    return None


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
    *,
    owner: bool = True,
) -> Table:
    """Compile ``machine`` under ``profile`` for one kind of transport and one T1/T2/T4.

    ``timer_table`` and ``vocabulary`` default to those of ``models/``; pass others to run a
    model from another folder (tests run deliberately mutated models this way). ``owner``
    says whether this side generated the Call-ID (the glare window of 14.1).
    """
    ttable = timer_table or load_timers()
    vocab = vocabulary or load_vocabulary()
    base = timers.base(ttable)
    every = [a for r in machine.rules for a in r.actions] + list(machine.start.actions)
    kept = frozenset(a.timer or "" for a in every if a.verb == "backoff")
    inputs = _Inputs(machine.kind == "transaction", ttable, vocab, reliable, base, kept, profile)
    rules = machine.rules_for(profile)
    rule_ops = {r: _ops(r.actions, r.event, r.section, inputs, r.source == r.dest) for r in rules}
    grouped: dict[tuple[str, str], list[Rule]] = {}
    for r in rules:
        grouped.setdefault((r.source, r.event), []).append(r)
    pairs = {k: _entry(v, rule_ops, reliable) for k, v in grouped.items()}
    rows: dict[str, dict[str, Entry]] = {s: {} for s in machine.state_names(profile)}
    for (state, event), entry in pairs.items():
        rows[state][event] = entry
    start = machine.start
    timer_event = _timer_events(machine)
    e_spec = ttable.timers.get("E")
    return Table(
        machine=machine,
        profile=profile,
        reliable=reliable,
        base=base,
        start_ops=_ops(start.actions, start.event, start.section, inputs, False),
        pairs=pairs,
        rows=rows,
        rule_ops=rule_ops,
        timer_event=timer_event,
        fired={t: TimerEvent("fire", t, None, ttable.timers[t].section) for t in timer_event},
        status_events={o: _status_map(machine, o, vocab) for o in ORIGINS},
        terminal=frozenset(s.name for s in machine.states if s.terminal),
        e_at_t2=time_until_at_cap(e_spec, base) if e_spec else float("inf"),
        timer_table=ttable,
        vocabulary=vocab,
        owner=owner,
    )


def _timer_events(machine: Machine) -> dict[str, str]:
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


def compiled(
    model: str | Machine,
    *,
    profile: str,
    reliable: bool,
    timers: Timers,
    timer_table: TimerTable | None = None,
    owner: bool = True,
) -> Table:
    """The shared compiled table of a model (by name from ``models/``, or a loaded Machine)."""
    ident: object = model if isinstance(model, str) else id(model)
    key = (ident, profile, reliable, timers, id(timer_table), owner)
    table = _CACHE.get(key)
    stale = table is not None and (
        (not isinstance(model, str) and table.machine is not model)
        or (timer_table is not None and table.timer_table is not timer_table)
    )
    if table is None or stale:
        machine = model if not isinstance(model, str) else load_model(model)
        table = compile_table(machine, profile, reliable, timers, timer_table, owner=owner)
        _CACHE[key] = table
    return table


_BY_TRANSPORT: dict[tuple[object, ...], Table] = {}


def table_for(model: str | Machine, profile: str, transport: str, timers: Timers) -> Table:
    """The shared compiled table of a transaction model for a transport (``udp``, ``tcp`` ...):
    :func:`compiled`, looked up first by the transport's name (every transaction asks)."""
    ident = model if isinstance(model, str) else id(model)
    key = (ident, profile, transport, timers.t1, timers.t2, timers.t4)
    table = _BY_TRANSPORT.get(key)
    if table is None or (not isinstance(model, str) and table.machine is not model):
        reliable = transport_reliable(transport)
        table = compiled(model, profile=profile, reliable=reliable, timers=timers)
        _BY_TRANSPORT[key] = table
    return table


__all__ = [
    "ERROR",
    "IGNORE",
    "TRANSITION",
    "Entry",
    "Op",
    "Table",
    "compile_table",
    "compiled",
    "table_for",
    "transport_reliable",
]
