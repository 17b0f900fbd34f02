"""The scripts of ``sipfsm trace``: the words every script shares, what a script can get
wrong, and how its steps are printed (an output of a transaction as one short line:
:func:`describe`).

Shared by the transaction traces (``sim.trace``), the session traces (``sim.session_trace``)
and the dialog trace (``sim.dialog_trace``); a :class:`~sipfsm.engine.outputs.Step` is one line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from sipfsm.engine.outputs import CoreAction, Output, Send, Step, TimerEvent, ToTU
from sipfsm.errors import ProtocolError, SipfsmError
from sipfsm.model.vocabulary import load_vocabulary


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


# --------------------------------------------------------------------------- structured fields

#: ``send 180``, ``resend INVITE``, ``recv 200 (BYE)``, ``send ACK (486)``, ``recv INVITE again``,
#: ``recv ACK (absorbed)``, ``send 500 (BYE): CSeq out of order``: a message line of any trace.
_MESSAGE_LINE = re.compile(
    r"(?P<kind>send|resend|recv|tu|stray) (?P<what>[A-Za-z0-9-]+)(?P<again> again)?"
    r"(?: \((?P<paren>[^)]*)\))?(?: (?P<rest>dropped|discarded.*))?(?:: (?P<note>.*))?"
)
_TIMER_LINE = re.compile(r"(?P<action>start|stop|fire) (?P<timer>\S+)(?: (?P<seconds>[0-9.]+))?")
#: What the TU is told that is not a message (17.1.4, 17.2.4; the session's end).
_TU_NEWS = {
    "tu timeout": "timeout",
    "tu transport-error": "transport_error",
    "tu session over": "session_over",
}


def step_fields(step: Step, directory: Path | None = None) -> dict[str, object]:
    """The prose of a trace line as fields, beside it in ``sipfsm trace --json``.

    ``kind`` is always there: ``send``, ``recv``, ``tu`` (a message sent, received, passed
    up), ``timer`` (with ``action`` start/stop/fire, ``timer`` and, when started, ``seconds``),
    ``enter`` (the state is the step's), ``event`` / ``action`` (a name of
    ``models/vocabulary.toml``), ``absorbed`` (an event the model ignores), ``timeout``,
    ``transport_error``, ``refused``, ``stray`` (a response no transaction takes) or ``note``
    (prose only). A message line adds ``message`` (a method, or ``ACK``) or ``status``, and what
    its parenthesis says: ``cseq_method``, ``acks`` (the status an ACK acknowledges, 17.1.1.3),
    ``cseq``, ``to_tag``; ``retransmission``, ``absorbed`` and ``again`` when true. The names
    are those of ``directory``'s vocabulary (default: ``models/``).
    """
    what = step.what
    timer = _TIMER_LINE.fullmatch(what)
    if timer:
        out: dict[str, object] = {
            "kind": "timer",
            "action": timer["action"],
            "timer": timer["timer"],
        }
        if timer["seconds"] is not None:
            out["seconds"] = float(timer["seconds"])
        return out
    if what.startswith("enter "):
        return {"kind": "enter"}
    if what.startswith("refused "):
        return {"kind": "refused", **_message_fields(what[len("refused ") :].partition(":")[0])}
    if what == "transport-error":
        return {"kind": "transport_error"}
    if what in _TU_NEWS:
        return {"kind": "tu", "news": _TU_NEWS[what]}
    line = _MESSAGE_LINE.fullmatch(what)
    if line:
        return _message_line(line)
    return _word_fields(what, directory)


def _message_line(line: re.Match[str]) -> dict[str, object]:
    kind, word = line["kind"], line["what"]
    out: dict[str, object] = {"kind": "send" if kind == "resend" else kind}
    out.update(_message_fields(word))
    if kind == "resend":
        out["retransmission"] = True
    if line["again"]:
        out["again"] = True
    paren = line["paren"]
    if paren:
        out.update(_paren_fields(paren, out))
    if line["note"]:
        out["note"] = line["note"]
    return out


def _message_fields(word: str) -> dict[str, object]:
    """``180`` is a status (7.2), anything else a request's method (7.1) or ``ACK``."""
    return {"status": int(word)} if is_status_code(word) else {"message": word}


def _paren_fields(paren: str, line: dict[str, object]) -> dict[str, object]:
    if paren == "absorbed":
        return {"absorbed": True}
    if paren.startswith("CSeq ") and paren[5:].isdigit():
        return {"cseq": int(paren[5:])}
    if paren.startswith("To tag "):
        return {"to_tag": paren[len("To tag ") :]}
    if is_status_code(paren) and line.get("message") == "ACK":
        return {"acks": int(paren)}
    if paren.isalpha() and paren.isupper():
        return {"cseq_method": paren}
    return {"note": paren}


def _word_fields(what: str, directory: Path | None) -> dict[str, object]:
    """A bare name of the vocabulary (an event, a verb), ``absorbed EVENT`` or prose."""
    vocabulary = load_vocabulary(directory)
    head, _, name = what.partition(" ")
    if head == "absorbed" and name in vocabulary.events:
        return {"kind": "absorbed", "event": name}
    if what in vocabulary.events:
        return {"kind": "event", "event": what}
    if what in vocabulary.actions:
        return {"kind": "action", "verb": what}
    if what.startswith("ACK absorbed"):  # 17.2.1: the ACK ends at the transaction
        return {"kind": "absorbed", "message": "ACK"}
    if head == "timeout":  # 12.2.1.2: no response to our request within the dialog
        return {"kind": "timeout", "cseq_method": name.strip("()")}
    return {"kind": "note"}
