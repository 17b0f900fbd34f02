"""The one runtime of every model: a machine's state and timers on the caller's clock, sans-IO.

A :class:`Runner` runs a compiled :class:`~sipfsm.engine.table.Table` of any model kind: the
transactions (as :class:`~sipfsm.Transaction`, which adds the interface of section 17), the
dialog (``ua.dialog``) and the INVITE sessions (``ua.core``). It never reads a clock: time comes
in as ``now``; events come in as names of ``models/vocabulary.toml``; what to do goes out as the
records of ``engine.outputs``, in order, for the owner to carry out (a session's
:class:`~sipfsm.engine.outputs.CoreAction` records: ``send_invite``, ``respond_487`` ...).

Timers follow ``models/timers.toml``: ``start X`` takes its value for the transport (a timer
``none`` there is not started; one of 0 s is due at once), ``backoff X`` doubles the last
interval up to the timer's cap, ``restart X I`` sets it, ``stop X`` cancels it; a timer with a
``[windows.X]`` table (the glare timer of 14.1) starts at an instant of its window drawn from
the injected ``random`` source. :meth:`Runner.get_timer` gives the next deadline and
:meth:`Runner.pop_due` / :meth:`Runner.handle_timer` take what is due (aioquic's shape).

Guards are evaluated by one mechanism, :meth:`Runner.guard`: the transport's (``reliable``)
were resolved by the compiler, the time-dependent ones (RFC 4320's ``early_100``) are computed
from the start time, and any other (the dialog's ``cseq_in_order``) is asked of the injected
``guards`` evaluator with the event's context. An ``error`` pair raises
:class:`~sipfsm.ProtocolError`.

Two dispatchers decide each event, both from the same model data: the compiled table (the
default), or, with ``backend="transitions"``, a ``transitions.Machine`` that interprets the
model's rules and actions itself (``engine.transitions_backend``); a test proves them equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from sipfsm.engine.outputs import CoreAction, Output, StateEntered, TimerEvent, ToTU
from sipfsm.engine.table import (
    BACKOFF,
    CONSTANT,
    DRAW,
    EMIT,
    ERROR,
    KEEP,
    RESTART,
    START,
    STOP,
    TIME_GUARDS,
    TO_TU,
    TRANSITION,
    TRANSPORT_GUARDS,
    Entry,
    Op,
    Table,
)
from sipfsm.errors import ProtocolError
from sipfsm.model.loader import Window

if TYPE_CHECKING:
    from sipfsm.engine.transitions_backend import TransitionsDriver

Backend = Literal["compiled", "transitions"]
#: Evaluates a guard of the vocabulary that depends on the event's context.
GuardEvaluator = Callable[[str, object], bool]
NEVER = float("inf")
#: The row of a machine not yet started (no event is taken before :meth:`Runner.start`).
NOT_STARTED: dict[str, Entry] = {}


class Runner:
    """One running machine of a compiled table: its state and its timers.

    ``random`` gives numbers in [0, 1) for windowed timers (inject a fixed one for
    determinism); ``guards`` evaluates the guards that depend on the event's context. Call
    :meth:`start` once, then :meth:`handle` for each event and :meth:`pop_due` /
    :meth:`handle_timer` as the clock moves.
    """

    __slots__ = (
        "_deadline",
        "_driver",
        "_due",
        "_interval",
        "_row",
        "guards",
        "random",
        "state",
        "t0",
        "table",
    )

    def __init__(
        self,
        table: Table,
        random: Callable[[], float] | None = None,
        guards: GuardEvaluator | None = None,
        backend: Backend = "compiled",
    ) -> None:
        self.table = table
        self.state = table.machine.initial
        self.t0 = 0.0
        self.random = random
        self.guards = guards
        self._row = NOT_STARTED
        self._deadline: dict[str, float] = {}
        self._due = NEVER  # no timer is due before this (a lower bound of the deadlines)
        self._interval: dict[str, float] | None = None  # of the timers backed off, once started
        self._driver: TransitionsDriver | None = None
        if backend == "transitions":
            from sipfsm.engine.transitions_backend import TransitionsDriver

            self._driver = TransitionsDriver(self)

    # --- the owner's interface -----------------------------------------------------------

    @property
    def name(self) -> str:
        """The model's name."""
        return self.table.name

    @property
    def terminated(self) -> bool:
        """Whether the machine reached a terminal state."""
        return self.state in self.table.terminal

    @property
    def timers(self) -> dict[str, float]:
        """The running timers and their deadlines (a copy)."""
        return dict(self._deadline)

    def start(self, now: float, context: object = None) -> list[Output]:
        """Take the model's start event: run its actions in the initial state."""
        if self._row is not NOT_STARTED:
            raise self._started_twice()
        self.t0 = now
        self._row = self.table.rows[self.state]
        out: list[Output] = []
        if self._driver is not None:
            self._driver.start(now, context, out)
        else:
            self._run(self.table.start_ops, now, context, None, out)
        return out

    def handle(self, event: str, now: float, context: object = None) -> list[Output]:
        """Take one event: run the actions of the rule that decides it, then enter its
        destination. Timers are not fired here (:meth:`pop_due`, :meth:`handle_timer`)."""
        out: list[Output] = []
        self._dispatch(event, now, context, None, out)
        return out

    def decide(self, event: str, now: float, context: object = None) -> Entry:
        """The compiled entry that decides ``event`` now (its guard evaluated), without taking
        it: its ``kind`` says ``ignore`` before :meth:`take` runs it."""
        entry = self._row.get(event)
        if entry is None:
            raise self.unknown(event)
        if entry.guard is not None and not self.guard(entry.guard, now, context):
            entry = entry.alt
        return entry

    def take(self, entry: Entry, now: float, context: object = None) -> list[Output]:
        """Take an entry :meth:`decide` gave for the current state."""
        out: list[Output] = []
        self._take(entry, now, context, None, out)
        return out

    def event_for_status(self, status: int, origin: str) -> str | None:
        """The narrowest response event of this origin (``tl``, ``tu``, ``dialog``) in the
        alphabet for ``status`` (``vocabulary.toml``)."""
        return self.table.status_events.get(origin, {}).get(status)

    def get_timer(self) -> float | None:
        """The instant the next timer is due, or ``None`` when none runs."""
        deadlines = self._deadline
        return min(deadlines.values()) if deadlines else None

    def pop_due(self, now: float, before: bool = False) -> tuple[str, float] | None:
        """Remove and return the earliest timer due by ``now`` (strictly before it with
        ``before``) and its deadline; timers due at one instant go in the order they were
        first started (Table 4)."""
        deadlines = self._deadline
        if not deadlines:
            self._due = NEVER
            return None
        at = min(deadlines.values())
        if at > now or (before and at == now):
            self._due = at
            return None
        timer = next(t for t, d in deadlines.items() if d == at)
        del deadlines[timer]
        return timer, at

    def handle_timer(self, now: float) -> list[Output]:
        """Fire every timer due at or before ``now``, each at its own deadline, in order."""
        out: list[Output] = []
        if self._due <= now:
            self._fire_due(now, out)
        return out

    # --- guards (one mechanism for every model) -------------------------------------------

    def guard(self, name: str, now: float, context: object = None) -> bool:
        """Evaluate a guard of the vocabulary for this machine at ``now``."""
        table = self.table
        if name in TRANSPORT_GUARDS:
            return TRANSPORT_GUARDS[name] == table.reliable
        if name in TIME_GUARDS:
            early = not table.reliable and now - self.t0 < table.e_at_t2  # RFC 4320 4.1
            return early if name == "early_100" else not early
        if self.guards is None:
            raise ProtocolError(
                table.name, self.state, name, table.machine.section, "no evaluator for this guard"
            )
        return self.guards(name, context)

    # --- refusals --------------------------------------------------------------------------

    def refuse(self, entry: Entry) -> ProtocolError:
        """The exception for an ``error`` pair, naming machine, state, event and section."""
        return ProtocolError(
            self.table.name, entry.source, entry.event, entry.section, entry.rule.doc
        )

    def unknown(self, event: str) -> ProtocolError:
        """The exception for an event that is not in the alphabet (or comes before start)."""
        machine = self.table.machine
        if self._row is NOT_STARTED:
            kind = "transaction" if machine.kind == "transaction" else "machine"
            return ProtocolError(
                machine.name,
                self.state,
                event,
                machine.start.section,
                f"the {kind} has not been started",
            )
        return ProtocolError(
            machine.name,
            self.state,
            event,
            machine.section,
            f"not an event of this machine (its events: {', '.join(machine.events)})",
        )

    def _started_twice(self) -> ProtocolError:
        start = self.table.machine.start
        return ProtocolError(
            self.table.name, self.state, start.event, start.section, "started twice"
        )

    # --- what the transitions backend drives (public, so it needs nothing private) --------

    def execute(
        self,
        ops: tuple[Op, ...],
        now: float,
        message: object,
        status: int | None,
        out: list[Output],
    ) -> None:
        """Carry out ops in order (codes of ``engine.table``): the executor of every action."""
        self._run(ops, now, message, status, out)

    def enter(self, state: str, section: str, out: list[Output]) -> None:
        """Enter ``state`` (a transition's destination under the rule of ``section``)."""
        out.append(StateEntered(state, section))
        self.state = state
        self._row = self.table.rows[state]

    # --- dispatch --------------------------------------------------------------------------

    def _dispatch(
        self, event: str, now: float, message: object, status: int | None, out: list[Output]
    ) -> None:
        if self._driver is not None:
            if self._row is NOT_STARTED:
                raise self.unknown(event)
            self._driver.dispatch(event, now, message, status, out)
            return
        entry = self._row.get(event)
        if entry is None:
            raise self.unknown(event)
        if entry.guard is not None and not self.guard(entry.guard, now, message):
            entry = entry.alt
        # _take, inlined: the hot path of every transaction
        kind = entry.kind
        if kind == TRANSITION:
            if entry.ops:
                self._run(entry.ops, now, message, status, out)
            if entry.enter is not None:
                out.append(entry.enter)
                self.state = entry.dest  # type: ignore[assignment]  # transitions have a dest
                self._row = self.table.rows[self.state]
        elif kind == ERROR:
            raise self.refuse(entry)

    def _take(
        self, entry: Entry, now: float, message: object, status: int | None, out: list[Output]
    ) -> None:
        kind = entry.kind
        if kind == TRANSITION:
            if entry.ops:
                self._run(entry.ops, now, message, status, out)
            if entry.enter is not None:
                out.append(entry.enter)
                self.state = entry.dest  # type: ignore[assignment]  # transitions have a dest
                self._row = self.table.rows[self.state]
        elif kind == ERROR:
            raise self.refuse(entry)

    def _fire_due(self, now: float, out: list[Output], before: bool = False) -> None:
        """Fire due timers one by one, earliest first, each at its deadline (Table 4);
        with ``before``, only timers due strictly before ``now`` (:meth:`pop_due` in a loop,
        inlined: the hot path of every transaction)."""
        deadlines = self._deadline
        table = self.table
        while deadlines:
            at = min(deadlines.values())
            if at > now or (before and at == now):
                self._due = at
                return
            timer = next(t for t, d in deadlines.items() if d == at)
            del deadlines[timer]
            out.append(table.fired[timer])
            self._dispatch(table.timer_event[timer], at, None, None, out)
        self._due = NEVER

    # --- actions ---------------------------------------------------------------------------

    def _run(
        self,
        ops: tuple[Op, ...],
        now: float,
        message: object,
        status: int | None,
        out: list[Output],
    ) -> None:
        """Carry out compiled actions in order (``sipfsm.engine.table`` op codes)."""
        for code, name, number, const, section in ops:
            if code < TO_TU:
                self._send(code, message, status, section, out)
            elif code == START:
                self._deadline[name] = at = now + number
                if at < self._due:
                    self._due = at
                out.append(const)  # type: ignore[arg-type]  # start ops carry their output
            elif code == STOP:
                if self._deadline.pop(name, None) is not None:
                    out.append(const)  # type: ignore[arg-type]  # stop ops carry their output
            elif code in (KEEP, RESTART):
                intervals = self._interval
                if intervals is None:
                    self._interval = intervals = {}
                intervals[name] = number
                self._deadline[name] = at = now + number
                if at < self._due:
                    self._due = at
                out.append(const)  # type: ignore[arg-type]  # start ops carry their output
            elif code == BACKOFF:
                intervals = self._intervals()
                intervals[name] = interval = min(intervals[name] * 2, number)
                self._deadline[name] = at = now + interval
                if at < self._due:
                    self._due = at
                out.append(TimerEvent("start", name, interval, section))
            elif code == TO_TU:
                out.append(ToTU(name, message, status, section))  # type: ignore[arg-type]
            elif code == CONSTANT:
                out.append(const)  # type: ignore[arg-type]  # constant outputs
            elif code == EMIT:
                out.append(CoreAction(name, section, const, message))  # type: ignore[arg-type]
            elif code == DRAW:
                interval = self._draw(const)  # type: ignore[arg-type]  # draw ops: the window
                self._set(name, interval, now)
                out.append(TimerEvent("start", name, interval, section))

    def _intervals(self) -> dict[str, float]:
        """The intervals kept (of the timers backed off), made on first use."""
        if self._interval is None:
            self._interval = {}
        return self._interval

    def _set(self, name: str, interval: float, now: float) -> None:
        """Start timer ``name`` for ``interval`` seconds from ``now``, keeping the interval."""
        self._intervals()[name] = interval
        self._deadline[name] = at = now + interval
        if at < self._due:
            self._due = at

    def _draw(self, window: Window) -> float:
        """A start instant of ``window`` (14.1) from the injected random source."""
        unit = self.random() if self.random is not None else 0.5
        return window.draw(self.table.owner, unit, self.table.base)

    def _send(
        self, code: int, message: object, status: int | None, section: str, out: list[Output]
    ) -> None:
        """The section-17 ops of a transaction (:class:`~sipfsm.Transaction`)."""
        raise ProtocolError(
            self.table.name, self.state, f"op {code}", section, "only a transaction sends"
        )
