"""The sans-IO message layer (RFC 3261 sections 7, 18.3, 19, 20, 25): framing and parsing by the
compiled grammar, the message classes, their serializer and typed header views, URIs, the
builders of section 8 and the semantic checks.

Each module imports only those before it: ``constants``, ``numbers``, ``grammar`` (the compiled
ABNF and what it says: header names, compact forms, comma lists), ``limits``, ``fields``,
``values``, ``header``, ``rules``, ``startline``, ``strict``, ``framing``; ``split``, ``uri``,
``headers``, ``header_builders``, ``views``, ``serialize``, ``edit``; ``message``, ``parse``;
``build``, ``validate``."""

from sipfsm.message.header import Header
from sipfsm.message.message import Message, Request, Response

__all__ = ["Header", "Message", "Request", "Response"]
