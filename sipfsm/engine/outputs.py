"""What a machine asks its owner to do: small records, each citing its section.

No machine of the engine (``engine.runner``) sends, reads a clock, calls the TU or touches a
dialog: it returns these in order and its owner acts on them (RFC 3261 17: the transaction
layer sits between the transport layer and the TU; 12-15: the UA core carries out what the
dialog and session models decide). Five record types cover every verb of
``models/vocabulary.toml``:

- :class:`Send`: pass a request, an ACK (17.1.1.3) or a response to the transport layer, or a
  retransmission of one (``retransmission=True``);
- :class:`ToTU`: pass a response, request or ACK up to the TU, or tell it of a timeout or a
  transport error (17.1.4, 17.2.4);
- :class:`TimerEvent`: a timer of ``timers.toml`` started, stopped or fired;
- :class:`StateEntered`: the machine entered a state;
- :class:`CoreAction`: a verb of the UA core (``send_invite``, ``send_ack_2xx``,
  ``respond_487``, ``create_dialog`` ...), from the dialog and session models (12-15, 9).

:class:`Step` is one line of a trace of what happened (the UA's log, ``sipfsm trace``).

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

#: What ``pass_to_tu`` passes up, by the event that brought it (17.2: a server transaction passes
#: the request, 17.2.1 the ACK; otherwise the response).
TU_WHAT: dict[str, TUWhat] = {
    "recv_request": "request",
    "request_from_tl": "request",
    "recv_ack": "ack",
}


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


@dataclass(slots=True)
class CoreAction:
    """A verb of the UA core for the dialog or the session that ran it (12-15, 9).

    ``verb`` is the vocabulary's action (``send_bye``, ``respond_487``, ``set_remote_cseq``
    ...), ``section`` the rule's; ``status`` is the status code of the response the verb sends
    (``responds`` in ``vocabulary.toml``: 487 for ``respond_487``), else ``None``; ``context`` is
    what came with the event (the message, and whatever else its owner passed).
    """

    verb: str
    section: str
    status: int | None
    context: object | None


Output = Send | ToTU | TimerEvent | StateEntered | CoreAction


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a trace: when, what happened, and the state after it."""

    t: float
    what: str
    state: str
