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
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sipfsm.message import grammar as _grammar
from sipfsm.message.serialize import MessageAPI

if TYPE_CHECKING:  # pragma: no cover
    from lark import Token, Tree

    from sipfsm.message.grammar import HeaderRule
    from sipfsm.message.parse import Limits

__all__ = ["Header", "Message", "Request", "Response"]

#: A header field as cut by the framer: (first line, line count, colon offset, name as
#: written, rule, key, unfolded value).
_Field = tuple[int, int, int, str, "HeaderRule | None", str, str]


def _decode(text: str) -> str:
    """Octets held as latin-1 text -> UTF-8 text (surrogate escapes for bad octets)."""
    if text.isascii():
        return text
    return text.encode("latin-1").decode("utf-8", "surrogateescape")


class Header:
    """One header field (RFC 3261 section 7.3), as it appeared in the message.

    ``name`` is as written (``v``, ``MaX-fOrWaRdS``); ``canonical`` is the long name for the
    header fields the grammar knows (section 7.3.3 compact forms mapped: ``v`` -> ``Via``),
    otherwise the name as written (an ``extension-header``, kept verbatim).
    """

    __slots__ = ("_li", "_line0", "_lines", "_nl", "_text", "_tree", "key", "name", "rule")

    def __init__(
        self,
        name: str,
        text: str,
        lines: list[str],
        li: int,
        nl: int,
        line0: int,
        rule: HeaderRule | None,
        key: str,
    ) -> None:
        self.name = name
        """The field name as written."""
        self.rule = rule
        """How the grammar parses this field (None for extension headers)."""
        self.key = key
        """``canonical`` lower-cased: names compare case-insensitively (section 7.3.1)."""
        self._text = text  # unfolded value, octets as latin-1
        self._lines = lines  # the physical lines of the header section
        self._li = li  # index of this field's first line in _lines
        self._nl = nl  # number of physical lines (more than 1 when folded)
        self._line0 = line0  # lines skipped before the start line (CRLFs, section 7.5)
        self._tree: Tree[Token] | None = None

    @property
    def canonical(self) -> str:
        """The long name (``Via`` for ``v``), or the name as written when unknown."""
        return self.rule.long_name if self.rule is not None else self.name

    @property
    def value(self) -> str:
        """The value, unfolded (folding CRLFs removed), without leading/trailing white space."""
        return _decode(self._text)

    @property
    def raw(self) -> bytes:
        """The original line(s) of this field, folding kept, without the final CRLF."""
        return "\r\n".join(self._lines[self._li : self._li + self._nl]).encode("latin-1")

    @property
    def line(self) -> int:
        """1-based line of the field in the message."""
        return self._line0 + self._li + 1

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), 1-based, of octet ``offset`` of :attr:`value` in the message."""
        src = "\r\n".join(self._lines[self._li : self._li + self._nl])
        end = len(src)
        i = src.index(":") + 1
        # Skip the white space (and folds) before the value.
        i = end - len(src[i:].lstrip(" \t\r\n"))
        # Then ``offset`` octets of the value, line by line (folding CRLFs do not count).
        remaining = offset
        while i < end and remaining > 0:
            nxt = src.find("\r\n", i)
            if nxt < 0:
                nxt = end
            if remaining <= nxt - i:
                i += remaining
                break
            remaining -= nxt - i
            i = nxt + 2 if nxt < end else end
        while src.startswith("\r\n", i):
            i += 2
        line_start = src.rfind("\r\n", 0, i)
        line_start = 0 if line_start < 0 else line_start + 2
        return self.line + src.count("\r\n", 0, i), i - line_start + 1

    def tree(self) -> Tree[Token]:
        """The value parsed by its ABNF rule (cached). Raises :class:`sipfsm.ParseError`.

        A regular rule compiles to one terminal, so its tree is ``Tree(rule, [Token])``
        (e.g. ``Tree('via', [Token('VIA', ...)])``); the non-regular ones (Server,
        User-Agent, Retry-After, which nest ``comment``) get a full LALR tree. Unknown
        fields are ``Tree('extension_header', [Token('HEADER_VALUE', ...)])``.
        """
        if self._tree is None:
            from sipfsm.message.parse import check_header

            self._tree = check_header(self)
        return self._tree

    def __repr__(self) -> str:
        return f"Header({self.name!r}, {self.value!r})"


class Message(MessageAPI):
    """What requests and responses share (RFC 3261 section 7): header fields and a body.

    Typed header views (``msg.via``, ``msg.to.tag``, ``msg.cseq.seq``, ...), the serializer
    and the editing API come from :class:`sipfsm.message.serialize.MessageAPI`."""

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
        self._fields: list[_Field] | None = None  # the fields, cut on first use
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

    def _cut(self) -> list[_Field]:
        if self._fields is None:
            from sipfsm.message.parse import DEFAULT_LIMITS, cut_fields

            lines, fields = cut_fields(self._head, self._line0, self._limits or DEFAULT_LIMITS)
            self._lines = lines
            self._fields = fields
        return self._fields

    def _split(self) -> list[str]:
        if self._lines is None:
            self._lines = self._head.split("\r\n")
        return self._lines

    def _header(self, field: _Field) -> Header:
        li, nl, _colon, name, rule, key, text = field
        return Header(name, text, self._split(), li, nl, self._line0, rule, key)

    @property
    def start_line(self) -> str:
        """The first line, as text."""
        end = self._head.find("\r\n")
        return _decode(self._head if end < 0 else self._head[:end])

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
            out.extend(_decode(x) for x in _split(h._text, rule))
        return out

    def header_names(self) -> list[str]:
        """Canonical names of the fields, in order (duplicates kept)."""
        return [h.canonical for h in self.headers]


def _split(text: str, rule: HeaderRule) -> list[str]:
    """The elements of a comma-list value (``rule.item`` is set); the whole value when it does
    not match its rule."""
    assert rule.item is not None
    if rule.comma_split:  # section 20.10: every top-level comma separates elements
        return [p for _, p in _grammar.top_pieces(text)]
    pat = _grammar.list_splitter(rule.item)
    pos, n = 0, len(text)
    out: list[str] = []
    while pos < n:
        m = pat.match(text, pos)
        if m is None or m.end() == pos:
            return [text]
        out.append(m.group(1))
        pos = m.end()
    return out or [text]


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
