"""Run any model with the ``transitions`` library, interpreting its rules and actions itself.

The reference the compiled table (``engine.table``) is tested against. Every rule of the model
under the profile becomes a ``transitions`` transition: source, trigger (the event),
destination, conditions (the rule's guard, asked of the runner at run time, including the
``reliable``/``unreliable`` guards the compiler resolves ahead of time) and a ``before``
callback that reads the rule's :class:`~sipfsm.model.loader.Action` list and works out, verb by
verb, what each does (the timer's interval from ``timers.toml`` for the transport, its window,
its cap; a section-17 send or a retransmission; the TU's share; a UA-core verb with the status
it responds with), independently of the compiler. ``ignore`` rules are internal transitions
with nothing to do; ``error`` rules raise :class:`~sipfsm.ProtocolError`. The state is the one
``transitions`` keeps.

What the two backends share is the executor of the primitive actions (the runner's timer store:
deadlines, intervals, the order of timers due at one instant; the transaction's sends) and the
guard evaluation: the differential test proves the dispatch and the meaning of every action of
every model; the executor is proved against the RFC oracles (``tests/lockstep.py``,
``tests/session_oracle.py``). It builds one ``transitions.Machine`` per machine, so it is not
the fast path. It uses only the public interface of the runner (:class:`Host`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol

from transitions import Machine as TMachine
from transitions import MachineError

from sipfsm.engine.outputs import TU_WHAT, Output, TimerEvent, ToTU
from sipfsm.engine.table import (
    BACKOFF,
    CONSTANT,
    DRAW,
    EMIT,
    KEEP,
    RESEND_ACK,
    RESEND_REQUEST,
    RESEND_RESPONSE,
    RESTART,
    SEND_100,
    SEND_ACK,
    SEND_REQUEST,
    SEND_RESPONSE,
    STOP,
    TO_TU,
    Op,
    Table,
)
from sipfsm.errors import ModelError, ProtocolError
from sipfsm.model.loader import Action, Rule
from sipfsm.model.timers import cap, evaluate, initial_interval


class Host(Protocol):
    """What the backend asks of the runner it decides for (all public)."""

    table: Table

    def guard(self, name: str, now: float, context: object = None) -> bool:
        """Whether a guard holds now."""

    def execute(
        self,
        ops: tuple[Op, ...],
        now: float,
        message: object,
        status: int | None,
        out: list[Output],
    ) -> None:
        """Carry out primitive actions in order."""

    def enter(self, state: str, section: str, out: list[Output]) -> None:
        """Enter a state."""

    def unknown(self, event: str) -> ProtocolError:
        """The refusal of an event outside the alphabet."""


class TransitionsDriver:
    """The ``transitions`` model object of one runner."""

    state: str
    trigger: Callable[..., bool]

    def __init__(self, host: Host) -> None:
        self.host = host
        self._ctx: tuple[float, object, int | None, list[Output]] = (0.0, None, None, [])
        self._taken: Rule | None = None
        table = host.table
        machine = table.machine
        self.machine = TMachine(
            model=self,
            states=list(machine.state_names(table.profile)),
            initial=machine.initial,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            send_event=False,
        )
        for rule in machine.rules_for(table.profile):
            self._add(rule)

    def _add(self, rule: Rule) -> None:
        conditions: list[str | Callable[..., bool | None]] = []
        if rule.guard:
            conditions.append(self._condition(rule.guard))
        verb = {"error": self._refuse, "ignore": self._ignore}.get(rule.kind, self._act)
        before: list[str | Callable[..., bool | None]] = [partial(verb, rule)]
        self.machine.add_transition(
            rule.event, rule.source, rule.dest, conditions=conditions, before=before
        )

    def _condition(self, guard: str) -> Callable[[], bool]:
        return lambda: self.host.guard(guard, self._ctx[0], self._ctx[1])

    def _act(self, rule: Rule) -> None:
        self._taken = rule
        now, message, status, out = self._ctx
        ops = self._ops(rule.actions, rule.event, rule.section, again=rule.source == rule.dest)
        self.host.execute(ops, now, message, status, out)

    def _ignore(self, rule: Rule) -> None:
        self._taken = rule

    def _refuse(self, rule: Rule) -> None:
        raise ProtocolError(self.host.table.name, rule.source, rule.event, rule.section, rule.doc)

    # --- the caller's interface ------------------------------------------------------------

    def start(self, now: float, context: object, out: list[Output]) -> None:
        """Run the model's start actions in its initial state."""
        start = self.host.table.machine.start
        ops = self._ops(start.actions, start.event, start.section, again=False)
        self.host.execute(ops, now, context, None, out)

    def dispatch(
        self, event: str, now: float, message: object, status: int | None, out: list[Output]
    ) -> None:
        """Trigger ``event`` on the ``transitions`` machine and mirror its state."""
        host = self.host
        machine = host.table.machine
        if event not in machine.events:
            raise host.unknown(event)
        self._ctx = (now, message, status, out)
        self._taken = None
        before = self.state
        try:
            done = self.trigger(event)
        except MachineError as exc:
            raise ProtocolError(host.table.name, before, event, machine.section, str(exc)) from None
        if not done or self._taken is None:
            raise ProtocolError(
                host.table.name,
                before,
                event,
                machine.section,
                "no rule's guard held (the model's guards must be complements)",
            )
        if self.state != before:
            host.enter(self.state, self._taken.section, out)

    # --- what each action means, read from the model's data --------------------------------

    def _ops(
        self, actions: tuple[Action, ...], event: str, section: str, *, again: bool
    ) -> tuple[Op, ...]:
        found = (self._meaning(a, event, section, again) for a in actions)
        return tuple(op for op in found if op is not None)

    def _meaning(self, action: Action, event: str, section: str, again: bool) -> Op | None:
        table = self.host.table
        verb = action.verb
        if action.timer is not None:
            return self._timer(action, section)
        if table.machine.kind != "transaction":
            return (EMIT, verb, 0.0, table.vocabulary.actions[verb].responds, section)
        if verb == "send_request":
            return (RESEND_REQUEST if again else SEND_REQUEST, "", 0.0, None, section)
        if verb == "send_ack":
            return (RESEND_ACK if again else SEND_ACK, "", 0.0, None, section)
        sends = {"send_response": SEND_RESPONSE, "resend_response": RESEND_RESPONSE}
        if verb in sends or verb == "send_100":
            return (sends.get(verb, SEND_100), "", 0.0, None, section)
        if verb == "pass_to_tu":
            return (TO_TU, TU_WHAT.get(event, "response"), 0.0, None, section)
        if verb == "tu_timeout":
            return (CONSTANT, "", 0.0, ToTU("timeout", None, None, section), section)
        if verb == "tu_transport_error":
            return (CONSTANT, "", 0.0, ToTU("transport_error", None, None, section), section)
        raise ModelError(
            "vocabulary.toml", f"actions.{verb}", "a transaction has no meaning for it"
        )

    def _timer(self, action: Action, section: str) -> Op | None:
        """``start``/``stop``/``backoff``/``restart`` of a timer of ``timers.toml``."""
        table = self.host.table
        name = action.timer or ""
        spec = table.timer_table.timers[name]
        if table.profile not in spec.profiles:
            return None  # a timer of another profile does not run under this one
        if action.verb == "stop":
            return (STOP, name, 0.0, TimerEvent("stop", name, None, section), section)
        if action.verb == "backoff":
            ceiling = cap(spec, table.base)
            return (BACKOFF, name, float("inf") if ceiling is None else ceiling, None, section)
        seconds = (
            evaluate(action.interval or "none", table.base)
            if action.verb == "restart"
            else initial_interval(spec, table.reliable, table.base, table.timer_table.timers)
        )
        if action.verb == "start" and name in table.timer_table.windows:
            return (DRAW, name, 0.0, table.timer_table.windows[name], section)
        if seconds is None:  # Table 4: not used on this transport
            return None
        code = RESTART if action.verb == "restart" else KEEP
        return (code, name, seconds, TimerEvent("start", name, seconds, section), section)
