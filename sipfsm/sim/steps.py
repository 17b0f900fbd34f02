"""What a trace script can get wrong, and how its steps are printed (``sipfsm trace``).

Shared by the transaction traces (``sim.trace``) and the session and dialog traces
(``sim.session_trace``); a :class:`~sipfsm.engine.outputs.Step` is one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from sipfsm.engine.outputs import Step
from sipfsm.errors import ProtocolError, SipfsmError


class TraceInputError(SipfsmError):
    """A script word the trace cannot take (bad syntax, or not an event of the model)."""


class TraceRefused(SipfsmError):
    """The transaction refused an event (an ``error`` pair): the steps up to it, and why."""

    def __init__(self, steps: list[Step], error: ProtocolError) -> None:
        self.steps = steps
        self.error = error
        super().__init__(str(error))


def format_steps(steps: Sequence[Step]) -> list[str]:
    """Aligned lines: time (``  1.500``), what happened, state."""
    width = max((len(s.what) for s in steps), default=0)
    return [f"{s.t:8.3f}  {s.what:<{width}}  {s.state}" for s in steps]
