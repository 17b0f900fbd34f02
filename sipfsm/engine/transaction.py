"""The sans-IO transaction engine: RFC 3261 section 17 run from the models, on the caller's clock.

A :class:`Transaction` never reads a clock, owns no socket and calls no TU: time comes in as
``now`` (seconds, any origin), events come in as names of ``models/vocabulary.toml``, and what
to do goes out as records of ``engine.outputs``. The caller asks :meth:`Transaction.get_timer`
for the next deadline and calls :meth:`Transaction.handle_timer` when it is due (aioquic's
shape). Timers follow ``models/timers.toml``: ``start X`` takes Table 4's value for the
transport (a timer ``none`` there is not started; one of 0 s fires at the same instant),
``backoff X`` doubles the last interval up to the timer's cap, ``restart E T2`` sets it.

Two dispatchers decide each event, both from the same model data: by default a compiled table
(``sipfsm.engine.table``: a dict per state, shared by every transaction of its kind), or, with
``backend="transitions"``, a ``transitions.Machine`` built from the model's rules
(``engine.transitions_backend``). Both run the same compiled actions; a test proves the two
identical. An ``error`` pair of the model raises :class:`~sipfsm.ProtocolError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sipfsm.engine.outputs import Output, Send, TimerEvent, ToTU
from sipfsm.engine.table import (
    BACKOFF,
    CONSTANT,
    ERROR,
    RESEND_ACK,
    RESEND_REQUEST,
    RESEND_RESPONSE,
    RESTART,
    SEND_100,
    SEND_ACK,
    SEND_REQUEST,
    SEND_RESPONSE,
    START,
    STOP,
    TO_TU,
    TRANSITION,
    Entry,
    Op,
    Table,
    table_for,
)
from sipfsm.errors import ProtocolError
from sipfsm.model.loader import DEFAULT_PROFILE, Machine
from sipfsm.model.timers import Timers

if TYPE_CHECKING:
    from sipfsm.engine.transitions_backend import TransitionsDriver

Backend = Literal["compiled", "transitions"]
_NEVER = float("inf")
_DEFAULT_TIMERS = Timers()


class Transaction:
    """One client or server transaction (RFC 3261 17.1, 17.2) of a model in ``models/``.

    ``model`` is a model name (``"invite_client"``, ``"non_invite_server"`` ...) or a loaded
    :class:`~sipfsm.Machine`, or a compiled table. ``request`` is the caller's request object
    (sent by a client, received by a server); ``method`` names it in traces. Call
    :meth:`start` once, then :meth:`handle` / :meth:`handle_timer`.
    """

    __slots__ = (
        "_deadline",
        "_driver",
        "_due",
        "_interval",
        "_last",
        "_row",
        "method",
        "request",
        "state",
        "t0",
        "table",
    )

    def __init__(
        self,
        model: str | Machine | Table,
        request: object | None = None,
        *,
        transport: str = "udp",
        profile: str = DEFAULT_PROFILE,
        timers: Timers = _DEFAULT_TIMERS,
        method: str | None = None,
        backend: Backend = "compiled",
    ) -> None:
        table = model if isinstance(model, Table) else table_for(model, profile, transport, timers)
        self.table = table
        self.request = request
        self.method = method or table.machine.method or "request"
        self.state = table.machine.initial
        self.t0 = 0.0
        self._row: dict[str, Entry] = {}
        self._deadline: dict[str, float] = {}
        self._due = _NEVER  # no timer is due before this (a lower bound of the deadlines)
        self._interval: dict[str, float] = {}
        self._last: tuple[object | None, int | None] | None = None
        self._driver: TransitionsDriver | None = None
        if backend == "transitions":
            from sipfsm.engine.transitions_backend import TransitionsDriver

            self._driver = TransitionsDriver(self)

    # --- the caller's interface ----------------------------------------------------------

    def start(self, now: float, message: object | None = None) -> list[Output]:
        """Begin: a client sends its request (17.1), a server passes it to the TU (17.2).

        ``message`` is the request for a server transaction (default: ``request``).
        """
        if self._row or self.t0:
            raise ProtocolError(
                self.table.name,
                self.state,
                self.table.machine.start.event,
                self.table.machine.start.section,
                "started twice",
            )
        if message is not None:
            self.request = message
        self.t0 = now
        self._row = self.table.rows[self.state]
        out: list[Output] = []
        self._run(self.table.start_ops, now, self.request, None, out)
        if self._due <= now:
            self._fire_due(now, out)
        return out

    def handle(
        self, event: str, now: float, message: object | None = None, *, status: int | None = None
    ) -> list[Output]:
        """Take one event (a vocabulary name: ``recv_1xx``, ``tu_2xx``, ``transport_error`` ...).

        Timers overdue (due before ``now``) fire first, each at its deadline; timers due at
        ``now`` (a timer of 0 s) fire after the event, before this returns.
        """
        if event in self.table.timer_names:
            raise ProtocolError(
                self.table.name,
                self.state,
                event,
                self.table.machine.section,
                "timers are the transaction's own: they fire in handle_timer",
            )
        out: list[Output] = []
        if self._due < now:
            self._fire_due(now, out, before=True)
        self._dispatch(event, now, message, status, out)
        if self._due <= now:
            self._fire_due(now, out)
        return out

    def receive_response(
        self, status: int, now: float, message: object | None = None
    ) -> list[Output]:
        """A response with this status code arrives from the transport layer (17.1.1, 17.1.2)."""
        event = self.table.tl_status.get(status) or self._no_event(status, "recv")
        return self.handle(event, now, message, status=status)

    def respond(self, status: int, now: float, message: object | None = None) -> list[Output]:
        """The TU passes a response with this status code (17.2.1, 17.2.2)."""
        event = self.table.tu_status.get(status) or self._no_event(status, "tu")
        return self.handle(event, now, message, status=status)

    def get_timer(self) -> float | None:
        """The instant the next timer is due, or ``None`` when none runs."""
        deadlines = self._deadline
        return min(deadlines.values()) if deadlines else None

    def handle_timer(self, now: float) -> list[Output]:
        """Fire every timer due at or before ``now``, each at its own deadline, in order."""
        out: list[Output] = []
        if self._due <= now:
            self._fire_due(now, out)
        return out

    @property
    def terminated(self) -> bool:
        """Whether the transaction reached its terminal state (and must be destroyed)."""
        return self.state in self.table.terminal

    @property
    def timers(self) -> dict[str, float]:
        """The running timers and their deadlines (a copy)."""
        return dict(self._deadline)

    def __repr__(self) -> str:
        return f"<Transaction {self.table.name} {self.method} {self.state}>"

    # --- dispatch --------------------------------------------------------------------------

    def _dispatch(
        self, event: str, now: float, message: object | None, status: int | None, out: list[Output]
    ) -> None:
        if self._driver is not None:
            self._driver.dispatch(event, now, message, status, out)
            return
        entry = self._row.get(event)
        if entry is None:
            raise self._unknown(event)
        if entry.guard is not None and not self.guard(entry.guard, now):
            entry = entry.alt
        if entry.kind == TRANSITION:
            if entry.ops:
                self._run(entry.ops, now, message, status, out)
            if entry.enter is not None:
                out.append(entry.enter)
                self.state = entry.dest  # type: ignore[assignment]  # transitions have a dest
                self._row = self.table.rows[self.state]
        elif entry.kind == ERROR:
            raise self.refuse(entry)

    def _fire_due(self, now: float, out: list[Output], before: bool = False) -> None:
        """Fire due timers one by one, earliest first, each at its deadline (Table 4).

        Timers due at the same instant fire in the order they were first started; with
        ``before``, only timers due strictly before ``now``.
        """
        deadlines = self._deadline
        while deadlines:
            at = min(deadlines.values())
            if at > now or (before and at == now):
                self._due = at
                return
            timer = next(t for t, d in deadlines.items() if d == at)
            del deadlines[timer]
            out.append(self.table.fired[timer])
            self._dispatch(self.table.timer_event[timer], at, None, None, out)
        self._due = _NEVER

    def guard(self, name: str, now: float) -> bool:
        """Evaluate a guard of the vocabulary for this transaction at ``now``."""
        if name == "reliable":
            return self.table.reliable
        if name == "unreliable":
            return not self.table.reliable
        early = not self.table.reliable and now - self.t0 < self.table.e_at_t2
        return early if name == "early_100" else not early

    def refuse(self, entry: Entry) -> ProtocolError:
        """The exception for an ``error`` pair, naming machine, state, event and section."""
        return ProtocolError(
            self.table.name, entry.source, entry.event, entry.section, entry.rule.doc
        )

    def _unknown(self, event: str) -> ProtocolError:
        machine = self.table.machine
        if not self._row:
            return ProtocolError(
                machine.name,
                self.state,
                event,
                machine.start.section,
                "the transaction has not been started",
            )
        return ProtocolError(
            machine.name,
            self.state,
            event,
            machine.section,
            f"not an event of this machine (its events: {', '.join(machine.events)})",
        )

    def _no_event(self, status: int, origin: str) -> str:
        raise ProtocolError(
            self.table.name,
            self.state,
            f"{origin} {status}",
            self.table.machine.section,
            "no event of this machine takes that status code",
        )

    # --- actions ---------------------------------------------------------------------------

    def _run(
        self,
        ops: tuple[Op, ...],
        now: float,
        message: object | None,
        status: int | None,
        out: list[Output],
    ) -> None:
        """Carry out compiled actions in order (``sipfsm.engine.table`` op codes)."""
        for code, name, number, const, section in ops:
            if code == STOP:
                if self._deadline.pop(name, None) is not None:
                    out.append(const)  # type: ignore[arg-type]  # stop ops carry their output
            elif code in (START, RESTART):
                self._interval[name] = number
                self._deadline[name] = at = now + number
                if at < self._due:
                    self._due = at
                out.append(const)  # type: ignore[arg-type]  # start ops carry their output
            elif code == BACKOFF:
                interval = min(self._interval[name] * 2, number)
                self._interval[name] = interval
                self._deadline[name] = at = now + interval
                if at < self._due:
                    self._due = at
                out.append(TimerEvent("start", name, interval, section))
            elif code == TO_TU:
                out.append(ToTU(name, message, status, section))  # type: ignore[arg-type]
            elif code == CONSTANT:
                out.append(const)  # type: ignore[arg-type]  # constant outputs
            else:
                self._send(code, message, status, section, out)

    def _send(
        self, code: int, message: object | None, status: int | None, section: str, out: list[Output]
    ) -> None:
        if code in (SEND_REQUEST, RESEND_REQUEST):
            out.append(Send("request", self.request, None, code == RESEND_REQUEST, section))
        elif code in (SEND_ACK, RESEND_ACK):
            out.append(Send("ack", message, status, code == RESEND_ACK, section))
        elif code == SEND_RESPONSE:
            self._last = (message, status)
            out.append(Send("response", message, status, False, section))
        elif code == SEND_100:
            self._last = (None, 100)
            out.append(Send("response", None, 100, False, section))
        elif code == RESEND_RESPONSE and self._last is not None:
            out.append(Send("response", self._last[0], self._last[1], True, section))
