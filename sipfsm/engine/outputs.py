"""What a transaction asks its caller to do: small immutable records, each citing its section.

A transaction (``engine.transaction``) never sends, reads a clock or calls the TU; it returns these
in order and the caller acts on them (RFC 3261 17: the transaction layer sits between the
transport layer and the TU). Four record types cover every verb of ``models/vocabulary.toml``:

- :class:`Send`: pass a request, an ACK (17.1.1.3) or a response to the transport layer, or a
  retransmission of one (``retransmission=True``);
- :class:`ToTU`: pass a response, request or ACK up to the TU, or tell it of a timeout or a
  transport error (17.1.4, 17.2.4);
- :class:`TimerEvent`: a timer of Table 4 started, stopped or fired;
- :class:`StateEntered`: the machine entered a state.

They are plain slotted dataclasses, not frozen ones (a frozen dataclass costs four times as
much to build, and the engine builds several per event): treat them as read-only; many are
shared constants of a compiled table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SendWhat = Literal["request", "ack", "response"]
TUWhat = Literal["response", "request", "ack", "timeout", "transport_error"]
TimerAction = Literal["start", "stop", "fire"]


@dataclass(slots=True)
class Send:
    """Pass a message to the transport layer.

    ``message`` is the caller's object (the request, the response being ACKed for an ACK, or the
    TU's response); ``status`` is the response's code (for an ACK: the code being ACKed).
    """

    what: SendWhat
    message: object | None
    status: int | None
    retransmission: bool
    section: str


@dataclass(slots=True)
class ToTU:
    """Pass something up to the TU: a message, or news of a timeout or a transport error."""

    what: TUWhat
    message: object | None
    status: int | None
    section: str


@dataclass(slots=True)
class TimerEvent:
    """A timer started (with its interval in seconds), stopped, or fired."""

    action: TimerAction
    timer: str
    interval: float | None
    section: str


@dataclass(slots=True)
class StateEntered:
    """The machine entered ``state`` (a terminal state means the transaction is destroyed)."""

    state: str
    section: str


Output = Send | ToTU | TimerEvent | StateEntered


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
    return f"enter {output.state}"
