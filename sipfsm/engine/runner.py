"""The sans-IO engine of the dialog and session models (RFC 3261 12-15), on the caller's clock.

The transaction engine (``engine.transaction``) knows the verbs of section 17 only; the dialog and
session models (``models/dialog.toml``, ``models/invite_session_*.toml``) name the verbs of
the UA core (``send_ack_2xx``, ``send_bye``, ``respond_487`` ...). A :class:`Runner` runs one
such model the same way: a compiled table ``state -> event -> rules`` shared by every machine
of its kind (totality was proved by the loader, so every pair has an entry), guards evaluated
by the host, timers kept here from ``models/timers.toml`` (``start``, ``stop``, ``backoff``
doubling up to the cap, ``restart``), and an ``error`` pair refused with
:class:`~sipfsm.ProtocolError`. Every other action is handed to the host (the UA core,
``sipfsm.ua.core``) in order; the host carries it out against the dialog and the transactions.

A timer with a ``[windows.NAME]`` table in ``timers.toml`` (the 491 retry timer of 14.1) is
started at a random instant of its window (:attr:`TimerTable.windows
<sipfsm.model.loader.TimerTable>`), drawn by the host's injected random source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from sipfsm.errors import ModelError, ProtocolError
from sipfsm.model.loader import (
    DEFAULT_PROFILE,
    Action,
    Machine,
    Rule,
    TimerTable,
    Window,
    load_machine,
    load_timers,
    load_vocabulary,
    models_dir,
    seconds,
)
from sipfsm.model.timers import Timers, cap, evaluate, initial_interval

_TIMER_VERBS = frozenset({"start", "stop", "backoff", "restart"})


class Host(Protocol):
    """What a :class:`Runner` asks of the object that owns it (the UA core)."""

    def guard(self, name: str, context: object) -> bool:
        """Whether the vocabulary guard ``name`` holds for the event's ``context``."""

    def act(self, action: Action, context: object, now: float) -> None:
        """Carry out one non-timer action of a rule, at ``now``."""


def draw(window: Window, owner: bool, unit: float, base: Mapping[str, float]) -> float:
    """A retry time of ``window`` from ``unit`` in [0, 1): low + a multiple of the window's
    granularity, at most high (14.1: "in units of 10 ms"). Every number is ``timers.toml``'s."""
    low, high = (seconds(e, base) for e in (window.owner if owner else window.other))
    step = seconds(window.granularity, base)
    steps = round((high - low) / step)
    pick = min(int(unit * (steps + 1)), steps)
    return round(low + pick * step, 6)


@dataclass(frozen=True, slots=True)
class Compiled:
    """A model compiled for one profile: ``rows[state][event]`` -> its rules (one, or two
    guarded by a guard and its complement)."""

    machine: Machine
    profile: str
    rows: Mapping[str, Mapping[str, tuple[Rule, ...]]]
    terminal: frozenset[str]
    status_events: Mapping[str, tuple[tuple[int, int, str], ...]]


@cache
def _compile(machine: Machine, profile: str) -> Compiled:
    rows: dict[str, dict[str, tuple[Rule, ...]]] = {s: {} for s in machine.state_names(profile)}
    for rule in machine.rules_for(profile):
        row = rows[rule.source]
        row[rule.event] = (*row.get(rule.event, ()), rule)
    vocab = load_vocabulary()
    by_origin: dict[str, list[tuple[int, int, str]]] = {"tl": [], "tu": []}
    for event in machine.events:
        term = vocab.events[event]
        if term.origin is not None and term.status is not None:
            by_origin[term.origin].append((term.status[0], term.status[1], event))
    return Compiled(
        machine,
        profile,
        rows,
        frozenset(s.name for s in machine.states if s.terminal),
        {k: tuple(v) for k, v in by_origin.items()},
    )


def compiled(model: str | Machine, profile: str = DEFAULT_PROFILE) -> Compiled:
    """The shared compiled table of a model (by name from ``models/``, or a loaded Machine)."""
    machine = model if isinstance(model, Machine) else _load(model)
    return _compile(machine, profile)


@cache
def _load(name: str) -> Machine:
    path = models_dir() / f"{name}.toml"
    if not path.exists():
        raise ModelError(path.name, "-", f"unknown model {name!r}")
    return load_machine(path)


class Runner:
    """One running dialog or session model: its state and its timers (sans-IO).

    ``host`` evaluates guards and carries out actions; ``random`` gives numbers in [0, 1) for
    windowed timers (inject a fixed one for determinism); ``owner`` says whether this UA
    generated the Call-ID (14.1 picks the window by it). ``timer_table`` is the
    ``timers.toml`` the model's timers come from (default: that of ``models/``; tests pass a
    mutated one).
    """

    __slots__ = (
        "_deadline",
        "_interval",
        "base",
        "host",
        "owner",
        "random",
        "reliable",
        "state",
        "table",
        "timer_table",
    )

    def __init__(
        self,
        model: str | Machine,
        host: Host,
        *,
        profile: str = DEFAULT_PROFILE,
        timers: Timers | None = None,
        reliable: bool = False,
        random: Callable[[], float] | None = None,
        owner: bool = True,
        timer_table: TimerTable | None = None,
    ) -> None:
        self.table = compiled(model, profile)
        self.host = host
        self.state = self.table.machine.initial
        self.timer_table = timer_table or load_timers()
        self.base = (timers or Timers()).base(self.timer_table)
        self.reliable = reliable
        self.random = random or (lambda: 0.5)
        self.owner = owner
        self._deadline: dict[str, float] = {}
        self._interval: dict[str, float] = {}

    @property
    def name(self) -> str:
        """The model's name."""
        return self.table.machine.name

    @property
    def terminated(self) -> bool:
        """Whether the machine reached a terminal state."""
        return self.state in self.table.terminal

    def start(self, now: float, context: object = None) -> None:
        """Take the model's start event: run its actions in the initial state."""
        self._run(self.table.machine.start.actions, context, now)

    def event_for_status(self, status: int, origin: str) -> str | None:
        """The narrowest response event of this origin in the alphabet for ``status``."""
        fits = [
            (hi - lo, e)
            for lo, hi, e in self.table.status_events.get(origin, ())
            if lo <= status <= hi
        ]
        return min(fits)[1] if fits else None

    def decide(self, event: str, context: object = None) -> Rule:
        """The rule that decides ``event`` now (guards evaluated); refuses unknown events."""
        rules = self.table.rows[self.state].get(event)
        machine = self.table.machine
        if rules is None:
            raise ProtocolError(
                machine.name,
                self.state,
                event,
                machine.section,
                f"not an event of this machine (its events: {', '.join(machine.events)})",
            )
        if len(rules) == 1:
            return rules[0]
        first, second = rules
        return first if self.host.guard(first.guard or "", context) else second

    def handle(self, event: str, now: float, context: object = None) -> Rule:
        """Take one event: run the rule's actions in order, then enter its destination.

        Returns the rule taken (``kind`` ``ignore``: nothing happened). An ``error`` pair
        raises :class:`ProtocolError` naming machine, state, event and section.
        """
        rule = self.decide(event, context)
        if rule.kind == "error":
            raise ProtocolError(self.name, self.state, event, rule.section, rule.doc)
        if rule.kind == "transition":
            self._run(rule.actions, context, now)
            assert rule.dest is not None
            self.state = rule.dest
            if self.terminated:
                self._deadline.clear()
        return rule

    # --- timers ----------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """The instant the next timer is due, or ``None``."""
        return min(self._deadline.values()) if self._deadline else None

    @property
    def timers(self) -> dict[str, float]:
        """The running timers and their deadlines (a copy)."""
        return dict(self._deadline)

    def pop_due(self, now: float) -> tuple[str, float] | None:
        """Remove and return the earliest timer due by ``now`` (first started wins ties)."""
        if not self._deadline:
            return None
        at = min(self._deadline.values())
        if at > now:
            return None
        name = next(t for t, d in self._deadline.items() if d == at)
        del self._deadline[name]
        return name, at

    def _run(self, actions: tuple[Action, ...], context: object, now: float) -> None:
        for action in actions:
            if action.verb in _TIMER_VERBS:
                self._timer(action, now)
            else:
                self.host.act(action, context, now)

    def _timer(self, action: Action, now: float) -> None:
        name = action.timer or ""
        spec = self.timer_table.timers[name]
        window = self.timer_table.windows.get(name)
        if action.verb == "stop":
            if self._deadline.pop(name, None) is not None:
                self.host.act(action, None, now)
            return
        if action.verb == "backoff":
            ceiling = cap(spec, self.base)
            interval = self._interval[name] * 2
            if ceiling is not None:
                interval = min(interval, ceiling)
        elif action.verb == "restart":
            interval = evaluate(action.interval or "none", self.base) or 0.0
        elif window is not None:
            interval = draw(window, self.owner, self.random(), self.base)
        else:
            value = initial_interval(spec, self.reliable, self.base)
            if value is None:
                return
            interval = value
        self._interval[name] = interval
        self._deadline[name] = now + interval
        self.host.act(Action("start", name, f"{interval}"), None, now)
