"""SIP messages (RFC 3261 section 7): :class:`Request`, :class:`Response` and their
:class:`Header` fields.

A message keeps its header fields in order, with duplicates and the spelling used on the wire
(section 7.3.1 says order matters between fields of the same name), its ``body`` and the
``raw`` bytes it was parsed from. Header values are unfolded (section 7.3.1) and parsed by
their own ABNF rule on demand (:meth:`Header.tree`); ``sipfsm.parse(..., strict=True)`` does
that for all of them at once.

Text: header values and the start line are read as bytes; :attr:`Header.value` and
:attr:`Response.reason` decode them as UTF-8 (RFC 3261 section 7.3.1, TEXT-UTF8), keeping
undecodable octets as surrogate escapes. Splitting comma-separated values
(:meth:`Message.get_all`) happens only for the header fields whose ABNF is a comma list
(``x *(COMMA x)``, section 7.3.1); typed views of single fields belong to layers above.

:func:`from_frame` builds a message from what :mod:`sipfsm.message.framing` framed (the parser,
:mod:`sipfsm.message.parse`, hands it to the framer); the header fields are
:class:`~sipfsm.message.header.Header` objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from sipfsm.message import grammar as _grammar
from sipfsm.message.edit import MessageAPI
from sipfsm.message.fields import Field, cut_fields
from sipfsm.message.framing import Frame, parse_datagram
from sipfsm.message.header import Header, decode_text, header_of
from sipfsm.message.limits import DEFAULT_LIMITS, Limits
from sipfsm.message.serialize import limits_of
from sipfsm.message.startline import StartLine

__all__ = ["Header", "Message", "Request", "Response", "from_frame"]

M = TypeVar("M", bound=MessageAPI)


class Message(MessageAPI):
    """What requests and responses share (RFC 3261 section 7): header fields and a body.

    Typed header views (``msg.via``, ``msg.to.tag``, ``msg.cseq.seq``, ...), the serializer
    and the editing API come from :class:`sipfsm.message.edit.MessageAPI`."""

    __slots__ = (
        "_fields",
        "_head",
        "_headers",
        "_limits",
        "_line0",
        "_lines",
        "body",
        "raw",
        "version",
    )

    def __init__(
        self,
        version: str,
        head: str,
        line0: int,
        body: bytes,
        raw: bytes,
    ) -> None:
        self.version = version
        """The SIP-Version of the start line (``SIP/2.0``)."""
        self.body = body
        """The message body (exactly Content-Length octets when it is given)."""
        self.raw = raw
        """The bytes this message was parsed from (trailing datagram noise excluded)."""
        self._head = head  # the header section, start line first, octets as latin-1
        self._lines: list[str] | None = None  # _head split into lines, on first use
        self._fields: list[Field] | None = None  # the fields, cut on first use
        self._line0 = line0  # CRLF lines skipped before the start line
        self._headers: list[Header] | None = None
        self._limits: Limits | None = None  # the limits it was parsed with

    @property
    def headers(self) -> list[Header]:
        """Header fields in order, duplicates and spelling kept (RFC 3261 section 7.3.1).

        After a lazy ``parse``, the header lines are cut and checked here, on first access
        (each must be ``token *WSP ":" value`` or a folded continuation): a malformed line
        raises :class:`sipfsm.ParseError` here rather than in ``parse``."""
        if self._headers is None:
            self._headers = [self._header(f) for f in self._cut()]
        return self._headers

    def _cut(self) -> list[Field]:
        if self._fields is None:
            lines, fields = cut_fields(self._head, self._line0, self._limits or DEFAULT_LIMITS)
            self._lines = lines
            self._fields = fields
        return self._fields

    def _split(self) -> list[str]:
        if self._lines is None:
            self._lines = self._head.split("\r\n")
        return self._lines

    def _header(self, field: Field) -> Header:
        return header_of(field, self._split(), self._line0, self._limits)

    @property
    def start_line(self) -> str:
        """The first line, as text."""
        end = self._head.find("\r\n")
        return decode_text(self._head if end < 0 else self._head[:end])

    def _matching(self, name: str) -> Iterator[Header]:
        rule = _grammar.HEADERS.get(name.lower())
        key = rule.long_name.lower() if rule is not None else name.lower()
        for h in self.headers:
            if h.key == key:
                yield h

    def get(self, name: str) -> str | None:
        """The value of the first field called ``name`` (long or compact form, any case)."""
        for h in self._matching(name):
            return h.value
        return None

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``, in order. Fields whose ABNF is a comma list
        (``x *(COMMA x)``, RFC 3261 section 7.3.1) are split into their elements; other
        fields (and values that do not match their rule) are returned whole."""
        out: list[str] = []
        for h in self._matching(name):
            rule = h.rule
            if rule is None or rule.item is None:
                out.append(h.value)
                continue
            out.extend(decode_text(x) for x in _grammar.list_elements(h._text, rule))
        return out

    def header_names(self) -> list[str]:
        """Canonical names of the fields, in order (duplicates kept)."""
        return [h.canonical for h in self.headers]

    def _reparse(self: M, data: bytes) -> M:
        msg = parse_datagram(data, True, limits_of(self), from_frame)
        object.__setattr__(msg, "_edited", True)
        return msg  # type: ignore[return-value]


class Request(Message):
    """A request (RFC 3261 section 7.1): ``Method SP Request-URI SP SIP-Version``."""

    __slots__ = ("method", "uri")

    def __init__(
        self,
        method: str,
        uri: str,
        version: str,
        head: str,
        line0: int,
        body: bytes,
        raw: bytes,
    ) -> None:
        super().__init__(version, head, line0, body, raw)
        self.method = method
        """The method, case-sensitive (section 7.1)."""
        self.uri = uri
        """The Request-URI as written."""

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.uri} {self.version}>"

    def _edited_start(
        self, method: str | None, uri: str | object | None, status: int | None, reason: str | None
    ) -> str:
        if status is not None or reason is not None:
            raise ValueError("status and reason belong to responses (7.2)")
        return f"{method or self.method} {uri or self.uri} {self.version}"


class Response(Message):
    """A response (RFC 3261 section 7.2): ``SIP-Version SP Status-Code SP Reason-Phrase``."""

    __slots__ = ("reason", "status")

    def __init__(
        self,
        version: str,
        status: int,
        reason: str,
        head: str,
        line0: int,
        body: bytes,
        raw: bytes,
    ) -> None:
        super().__init__(version, head, line0, body, raw)
        self.status = status
        """The Status-Code (100-699)."""
        self.reason = reason
        """The Reason-Phrase, UTF-8 decoded (may be empty)."""

    def __repr__(self) -> str:
        return f"<Response {self.version} {self.status} {self.reason}>"

    def _edited_start(
        self, method: str | None, uri: str | object | None, status: int | None, reason: str | None
    ) -> str:
        if method is not None or uri is not None:
            raise ValueError("method and Request-URI belong to requests (7.1)")
        code = self.status if status is None else status
        if not 100 <= code <= 699:
            raise ValueError(f"status {code} is outside 100-699 (7.2, 21)")
        return f"{self.version} {code} {self.reason if reason is None else reason}"


def from_frame(
    f: Frame, start: StartLine, body: bytes, raw: bytes, limits: Limits
) -> Request | Response:
    """The message framed as ``f`` (a :data:`~sipfsm.message.framing.Build` function): its
    start line ``start``, ``body`` and bytes ``raw``, parsed under ``limits``."""
    is_req, method, uri, version, status, reason = start
    msg: Request | Response
    if is_req:
        msg = Request(method, uri, version, f.head, f.line0, body, raw)
    else:
        msg = Response(version, status, decode_text(reason), f.head, f.line0, body, raw)
    msg._limits = limits
    if f.fields is not None:  # strict framing cut them
        msg._lines = f.lines
        msg._fields = f.fields
    return msg
