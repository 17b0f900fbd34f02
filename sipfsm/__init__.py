"""sipfsm: RFC 3261 SIP as data.

The grammar is the RFC's ABNF (``grammar/``), the state machines are data (``models/``), and
this package is the small engine that runs them. The public API is what this module exports;
every other module is private.

``import sipfsm`` loads only the parser and the message classes; every other name is imported
on first use (PEP 562 module ``__getattr__``), so that a process that only parses messages
does not pay for the transaction engine, the models or the typed header views.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from sipfsm._errors import ModelError, ParseError, ProtocolError, SipfsmError
from sipfsm._parse import Limits, StreamFramer, parse
from sipfsm.message import Header, Message, Request, Response

if TYPE_CHECKING:  # pragma: no cover
    from sipfsm._build import build_ack, build_cancel, build_request, build_response
    from sipfsm._dialog import Dialog, DialogID, DialogSet
    from sipfsm._engine import Transaction
    from sipfsm._model import Machine, load_models
    from sipfsm._msgapi import canonical, same_message, serialize
    from sipfsm._outputs import Output, Send, StateEntered, TimerEvent, ToTU
    from sipfsm._timers import Timers
    from sipfsm._txlayer import TransactionKey, TransactionLayer
    from sipfsm._ua import UA, InviteSession, TUEvent
    from sipfsm._uri import URI, URIError
    from sipfsm._validate import Finding, validate

#: Names imported on first use -> the private module that defines them.
_LAZY: dict[str, str] = {
    "build_ack": "sipfsm._build",
    "build_cancel": "sipfsm._build",
    "build_request": "sipfsm._build",
    "build_response": "sipfsm._build",
    "Dialog": "sipfsm._dialog",
    "DialogID": "sipfsm._dialog",
    "DialogSet": "sipfsm._dialog",
    "Transaction": "sipfsm._engine",
    "Machine": "sipfsm._model",
    "load_models": "sipfsm._model",
    "canonical": "sipfsm._msgapi",
    "same_message": "sipfsm._msgapi",
    "serialize": "sipfsm._msgapi",
    "Output": "sipfsm._outputs",
    "Send": "sipfsm._outputs",
    "StateEntered": "sipfsm._outputs",
    "TimerEvent": "sipfsm._outputs",
    "ToTU": "sipfsm._outputs",
    "Timers": "sipfsm._timers",
    "TransactionKey": "sipfsm._txlayer",
    "TransactionLayer": "sipfsm._txlayer",
    "UA": "sipfsm._ua",
    "InviteSession": "sipfsm._ua",
    "TUEvent": "sipfsm._ua",
    "URI": "sipfsm._uri",
    "URIError": "sipfsm._uri",
    "Finding": "sipfsm._validate",
    "validate": "sipfsm._validate",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sipfsm' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "UA",
    "URI",
    "Dialog",
    "DialogID",
    "DialogSet",
    "Finding",
    "Header",
    "InviteSession",
    "Limits",
    "Machine",
    "Message",
    "ModelError",
    "Output",
    "ParseError",
    "ProtocolError",
    "Request",
    "Response",
    "Send",
    "SipfsmError",
    "StateEntered",
    "StreamFramer",
    "TUEvent",
    "TimerEvent",
    "Timers",
    "ToTU",
    "Transaction",
    "TransactionKey",
    "TransactionLayer",
    "URIError",
    "__version__",
    "build_ack",
    "build_cancel",
    "build_request",
    "build_response",
    "canonical",
    "load_models",
    "parse",
    "same_message",
    "serialize",
    "validate",
]
