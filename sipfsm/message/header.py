"""A header field of a SIP message (RFC 3261 section 7.3) as it appeared on the wire:
:class:`Header`, built from the :data:`~sipfsm.message.fields.Field` the framer cut
(:func:`header_of`).

Its value is unfolded (section 7.3.1) and parsed by its own ABNF rule on demand
(:meth:`Header.tree`, :func:`sipfsm.message.values.check_header`). Text is read as octets;
:attr:`Header.value` decodes it as UTF-8 (section 7.3.1, TEXT-UTF8), keeping undecodable octets
as surrogate escapes (:func:`decode_text`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sipfsm.message.values import check_header

if TYPE_CHECKING:  # pragma: no cover
    from lark import Token, Tree

    from sipfsm.message.fields import Field
    from sipfsm.message.grammar import HeaderRule
    from sipfsm.message.limits import Limits

__all__ = ["Header", "decode_text", "header_of"]


def decode_text(text: str) -> str:
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

    __slots__ = (
        "_li",
        "_limits",
        "_line0",
        "_lines",
        "_nl",
        "_text",
        "_tree",
        "key",
        "name",
        "rule",
    )

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
        limits: Limits | None = None,
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
        self._limits = limits  # the limits the message was parsed with (None: the default)

    @property
    def canonical(self) -> str:
        """The long name (``Via`` for ``v``), or the name as written when unknown."""
        return self.rule.long_name if self.rule is not None else self.name

    @property
    def value(self) -> str:
        """The value, unfolded (folding CRLFs removed), without leading/trailing white space."""
        return decode_text(self._text)

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
            self._tree = check_header(self, self._limits)
        return self._tree

    def __repr__(self) -> str:
        return f"Header({self.name!r}, {self.value!r})"


def header_of(field: Field, lines: list[str], line0: int, limits: Limits | None = None) -> Header:
    """The :class:`Header` of ``field``, cut from the header section split into ``lines``
    (``line0`` lines skipped before the start line, section 7.5), of a message parsed under
    ``limits`` (None: the default ones)."""
    li, nl, _colon, name, rule, key, text = field
    return Header(name, text, lines, li, nl, line0, rule, key, limits)
