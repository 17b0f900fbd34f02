"""Run a transaction's model with the ``transitions`` library (the declared machine).

Every rule of the model under the profile becomes a ``transitions`` transition: source, trigger
(the event), destination, conditions (the rule's guard, evaluated at run time, including the
``reliable``/``unreliable`` guards the compiled table resolves ahead of time) and a ``before``
callback that runs the rule's compiled actions. ``ignore`` rules are internal transitions with
nothing to do; ``error`` rules raise :class:`~sipfsm.ProtocolError`. The state is the one
``transitions`` keeps. This is the reference the compiled table is tested against; it builds
one ``transitions.Machine`` per transaction, so it is not the fast path.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from transitions import Machine as TMachine
from transitions import MachineError

from sipfsm.engine.outputs import Output, StateEntered
from sipfsm.errors import ProtocolError
from sipfsm.model.loader import Rule

if TYPE_CHECKING:
    from collections.abc import Callable

    from sipfsm.engine.transaction import Transaction


class TransitionsDriver:
    """The ``transitions`` model object of one transaction."""

    state: str
    trigger: Callable[..., bool]

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self._ctx: tuple[float, object | None, int | None, list[Output]] = (0.0, None, None, [])
        self._taken: Rule | None = None
        table = tx.table
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
        return lambda: self.tx.guard(guard, self._ctx[0])

    def _act(self, rule: Rule) -> None:
        self._taken = rule
        now, message, status, out = self._ctx
        self.tx._run(self.tx.table.rule_ops[rule], now, message, status, out)

    def _ignore(self, rule: Rule) -> None:
        self._taken = rule

    def _refuse(self, rule: Rule) -> None:
        raise ProtocolError(self.tx.table.name, rule.source, rule.event, rule.section, rule.doc)

    def dispatch(
        self, event: str, now: float, message: object | None, status: int | None, out: list[Output]
    ) -> None:
        """Trigger ``event`` on the ``transitions`` machine and mirror its state."""
        tx = self.tx
        if event not in tx.table.machine.events:
            raise tx._unknown(event)
        self._ctx = (now, message, status, out)
        self._taken = None
        before = self.state
        try:
            done = self.trigger(event)
        except MachineError as exc:
            raise ProtocolError(
                tx.table.name, before, event, tx.table.machine.section, str(exc)
            ) from None
        if not done or self._taken is None:
            raise ProtocolError(
                tx.table.name,
                before,
                event,
                tx.table.machine.section,
                "no rule's guard held (the model's guards must be complements)",
            )
        if self.state != before:
            out.append(StateEntered(self.state, self._taken.section))
            tx.state = self.state
            tx._row = tx.table.rows[self.state]
