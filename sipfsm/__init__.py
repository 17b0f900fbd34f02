"""sipfsm: RFC 3261 SIP as data.

The grammar is the RFC's ABNF (``grammar/``), the state machines are data (``models/``), and
this package is the small engine that runs them. The public API is what this module exports,
with :mod:`sipfsm.headers` (the typed header values a message hands out), :mod:`sipfsm.aio`
(sockets and the wall clock), :mod:`sipfsm.strategies` and :mod:`sipfsm.testing`; every other
module is private. ``scripts/api-docs`` writes their reference from the docstrings.

``import sipfsm`` loads the parser, the message classes and their typed header views (every
grammar terminal compiled at import, so that no view's first use pays for it: issue 11); every
other name is imported on first use (PEP 562 module ``__getattr__``), so that a process that
only parses messages does not pay for the transaction engine or the models.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from sipfsm.errors import ModelError, ParseError, ProtocolError, SipfsmError
from sipfsm.message.message import Header, Message, Request, Response
from sipfsm.message.parse import Limits, StreamFramer, parse

if TYPE_CHECKING:  # pragma: no cover
    from sipfsm.engine.outputs import CoreAction, Output, Send, StateEntered, TimerEvent, ToTU
    from sipfsm.engine.runner import Runner
    from sipfsm.engine.table import Entry, Table
    from sipfsm.engine.transaction import Transaction
    from sipfsm.engine.txlayer import HeaderSource, TransactionKey, TransactionLayer
    from sipfsm.message.build import build_ack, build_cancel, build_request, build_response
    from sipfsm.message.grammar import HeaderRule
    from sipfsm.message.serialize import Readable, canonical, same_message, serialize
    from sipfsm.message.uri import URI, URIError
    from sipfsm.message.validate import Finding, Role, validate
    from sipfsm.model.loader import load_models
    from sipfsm.model.machine import Action, Machine, Rule, Start, State
    from sipfsm.model.timer_table import Range, TimerSpec, TimerTable, Window
    from sipfsm.model.timers import Timers
    from sipfsm.model.vocabulary import Term, Vocabulary
    from sipfsm.ua.core import UA, InviteSession, TUEvent
    from sipfsm.ua.dialog import Dialog, DialogID, DialogSet, RequestParts
    from sipfsm.ua.session import SessionOwner

#: Names imported on first use -> the private module that defines them.
_LAZY: dict[str, str] = {
    "build_ack": "sipfsm.message.build",
    "build_cancel": "sipfsm.message.build",
    "build_request": "sipfsm.message.build",
    "build_response": "sipfsm.message.build",
    "Dialog": "sipfsm.ua.dialog",
    "DialogID": "sipfsm.ua.dialog",
    "DialogSet": "sipfsm.ua.dialog",
    "RequestParts": "sipfsm.ua.dialog",
    "Transaction": "sipfsm.engine.transaction",
    "Machine": "sipfsm.model.machine",
    "load_models": "sipfsm.model.loader",
    # what a Machine, a Transaction and Timers hand out (the model's parts, the compiled table)
    "Action": "sipfsm.model.machine",
    "Rule": "sipfsm.model.machine",
    "Start": "sipfsm.model.machine",
    "State": "sipfsm.model.machine",
    "Range": "sipfsm.model.timer_table",
    "TimerSpec": "sipfsm.model.timer_table",
    "TimerTable": "sipfsm.model.timer_table",
    "Window": "sipfsm.model.timer_table",
    "Term": "sipfsm.model.vocabulary",
    "Vocabulary": "sipfsm.model.vocabulary",
    "SessionOwner": "sipfsm.ua.session",
    "Entry": "sipfsm.engine.table",
    "Table": "sipfsm.engine.table",
    "Runner": "sipfsm.engine.runner",
    "HeaderRule": "sipfsm.message.grammar",
    "Readable": "sipfsm.message.serialize",
    "canonical": "sipfsm.message.serialize",
    "same_message": "sipfsm.message.serialize",
    "serialize": "sipfsm.message.serialize",
    "CoreAction": "sipfsm.engine.outputs",
    "Output": "sipfsm.engine.outputs",
    "Send": "sipfsm.engine.outputs",
    "StateEntered": "sipfsm.engine.outputs",
    "TimerEvent": "sipfsm.engine.outputs",
    "ToTU": "sipfsm.engine.outputs",
    "Timers": "sipfsm.model.timers",
    "TransactionKey": "sipfsm.engine.txlayer",
    "TransactionLayer": "sipfsm.engine.txlayer",
    "HeaderSource": "sipfsm.engine.txlayer",
    "UA": "sipfsm.ua.core",
    "InviteSession": "sipfsm.ua.core",
    "TUEvent": "sipfsm.ua.core",
    "URI": "sipfsm.message.uri",
    "URIError": "sipfsm.message.uri",
    "Finding": "sipfsm.message.validate",
    "Role": "sipfsm.message.validate",
    "validate": "sipfsm.message.validate",
}


#: Modules imported with a lazy module: the renderer registers the Jupyter diagram of a model
#: (``Machine._repr_svg_``), which the models themselves know nothing of.
_WITH: dict[str, str] = {
    "sipfsm.model.loader": "sipfsm.render.jupyter",
    "sipfsm.model.machine": "sipfsm.render.jupyter",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sipfsm' has no attribute {name!r}")
    if module in _WITH:
        import_module(_WITH[module])
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "UA",
    "URI",
    "Action",
    "CoreAction",
    "Dialog",
    "DialogID",
    "DialogSet",
    "Entry",
    "Finding",
    "Header",
    "HeaderRule",
    "HeaderSource",
    "InviteSession",
    "Limits",
    "Machine",
    "Message",
    "ModelError",
    "Output",
    "ParseError",
    "ProtocolError",
    "Range",
    "Readable",
    "Request",
    "RequestParts",
    "Response",
    "Role",
    "Rule",
    "Runner",
    "Send",
    "SessionOwner",
    "SipfsmError",
    "Start",
    "State",
    "StateEntered",
    "StreamFramer",
    "TUEvent",
    "Table",
    "Term",
    "TimerEvent",
    "TimerSpec",
    "TimerTable",
    "Timers",
    "ToTU",
    "Transaction",
    "TransactionKey",
    "TransactionLayer",
    "URIError",
    "Vocabulary",
    "Window",
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
