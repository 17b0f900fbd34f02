"""sipfsm: RFC 3261 SIP as data.

The grammar is the RFC's ABNF (``grammar/``), the state machines are data (``models/``), and
this package is the small engine that runs them. The public API is what this module exports;
every other module is private.
"""

from __future__ import annotations

__version__ = "0.1.0"

from sipfsm._build import build_ack, build_cancel, build_request, build_response
from sipfsm._dialog import Dialog, DialogID, DialogSet
from sipfsm._engine import Transaction
from sipfsm._errors import ModelError, ParseError, ProtocolError, SipfsmError
from sipfsm._model import Machine, load_models
from sipfsm._msgapi import canonical, same_message, serialize
from sipfsm._outputs import Output, Send, StateEntered, TimerEvent, ToTU
from sipfsm._parse import Limits, StreamFramer, parse
from sipfsm._timers import Timers
from sipfsm._txlayer import TransactionKey, TransactionLayer
from sipfsm._ua import UA, InviteSession, TUEvent
from sipfsm._uri import URI, URIError
from sipfsm._validate import Finding, validate
from sipfsm.message import Header, Message, Request, Response

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
