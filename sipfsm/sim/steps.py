"""The scripts of ``sipfsm trace``: the words every script shares, what a script can get
wrong, and how its steps are printed (an output of a transaction as one short line:
:func:`describe`).

Shared by the transaction traces (``sim.trace``), the session traces (``sim.session_trace``)
and the dialog trace (``sim.dialog_trace``); a :class:`~sipfsm.engine.outputs.Step` is one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from sipfsm.engine.outputs import CoreAction, Output, Send, Step, TimerEvent, ToTU
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


def clock_advance(word: str) -> float:
    """The seconds of a ``+S`` word (finite, not negative); :class:`TraceInputError` else."""
    try:
        seconds = float(word[1:])
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise TraceInputError(f"bad clock advance {word!r}: use +SECONDS, like +0.5")
    return seconds


def is_status_code(arg: str) -> bool:
    """Whether a script argument is a status code, 100-699 (RFC 3261 7.2, 21)."""
    return arg.isdigit() and 100 <= int(arg) <= 699


def describe(output: Output, method: str = "request") -> str:
    """One short line for an output, as ``sipfsm trace`` prints it (``send ACK``, ``fire A``)."""
    if isinstance(output, Send):
        verb = "resend" if output.retransmission else "send"
        if output.what == "request":
            return f"{verb} {method}"
        if output.what == "ack":
            return f"{verb} ACK"
        return f"{verb} {output.status}"
    if isinstance(output, ToTU):
        if output.what == "response":
            return f"tu {output.status}"
        if output.what == "request":
            return f"tu {method}"
        return "tu " + {"ack": "ACK", "timeout": "timeout"}.get(output.what, "transport-error")
    if isinstance(output, TimerEvent):
        tail = f" {output.interval}" if output.action == "start" else ""
        return f"{output.action} {output.timer}{tail}"
    if isinstance(output, CoreAction):
        return output.verb
    return f"enter {output.state}"
