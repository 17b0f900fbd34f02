"""The editing API of SIP messages (RFC 3261 sections 7.3.1, 20.14): :class:`MessageAPI`.

Editing is immutable: ``msg.with_header(...)``, ``replace_header``, ``without_header``,
``with_body`` and ``evolve`` return a *new* message, built by writing the edited message
canonically (:mod:`sipfsm.message.serialize`) and parsing it back strictly, under the limits
the message was parsed with (so an edit can never produce a message the grammar or those
limits reject: it raises :class:`sipfsm.ParseError` instead). The new message's ``edited`` is
True and it keeps those limits.

:class:`MessageAPI` is the mix-in that :class:`sipfsm.Message` inherits these methods, the
serializer's and the typed header views (:class:`sipfsm.message.views.HeaderViews`) from. What
depends on the kind of message (its start line, how it is parsed back) is asked of the
subclass: :meth:`MessageAPI._edited_start` and :meth:`MessageAPI._reparse`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from sipfsm.message.serialize import (
    canonical,
    limits_of,
    pairs_of,
    same_message,
    serialize,
    write,
)
from sipfsm.message.views import HeaderViews, canonical_name

if TYPE_CHECKING:  # pragma: no cover
    from sipfsm.message.serialize import Readable

__all__ = ["MessageAPI"]

M = TypeVar("M", bound="MessageAPI")


class MessageAPI(HeaderViews):
    """Serializer, editing API and typed header views of :class:`sipfsm.Message`."""

    __slots__ = ("_edited",)

    if TYPE_CHECKING:  # pragma: no cover
        raw: bytes
        body: bytes
        version: str

    @property
    def edited(self) -> bool:
        """True for a message produced by an edit (its bytes are canonical, not received)."""
        return bool(getattr(self, "_edited", False))

    def serialize(self) -> bytes:
        """:func:`~sipfsm.message.serialize.serialize` of this message."""
        return serialize(self)

    def canonical(self) -> bytes:
        """:func:`~sipfsm.message.serialize.canonical` of this message."""
        return canonical(self)

    def same_as(self, other: Readable) -> bool:
        """:func:`~sipfsm.message.serialize.same_message`."""
        return same_message(self, other)

    # -- what the subclasses say
    def _edited_start(
        self, method: str | None, uri: str | object | None, status: int | None, reason: str | None
    ) -> str:
        """The start line of a copy with the given parts replaced (None: kept)."""
        raise NotImplementedError  # pragma: no cover - Request and Response define it

    def _reparse(self: M, data: bytes) -> M:
        """``data`` parsed strictly into a message marked ``edited``."""
        raise NotImplementedError  # pragma: no cover - Message defines it

    # -- editing (immutable: each returns a new, strictly re-parsed message)
    def evolve(
        self: M,
        *,
        method: str | None = None,
        uri: str | object | None = None,
        status: int | None = None,
        reason: str | None = None,
        headers: Sequence[tuple[str, str]] | None = None,
        body: bytes | None = None,
    ) -> M:
        """A copy with the given parts replaced (``headers`` as ``(name, value)`` pairs, in
        order); Content-Length is recomputed (20.14). Raises ParseError when the result is not
        a valid message, ValueError when a request part is given to a response or vice versa.

        >>> import sipfsm
        >>> m = sipfsm.parse(b"OPTIONS sip:b@b.example.com SIP/2.0\\r\\nl: 0\\r\\n\\r\\n")
        >>> m.evolve(body=b"hi").body, m.evolve(body=b"hi").content_length
        (b'hi', 2)
        """
        start = self._edited_start(method, uri, status, reason)
        pairs = pairs_of(self) if headers is None else list(headers)
        data = write(start, pairs, self.body if body is None else body, limits_of(self))
        return self._reparse(data)

    def with_header(self: M, name: str, value: str, *, first: bool = False) -> M:
        """A copy with header ``name: value`` added last (or first, e.g. a new top Via,
        16.6 step 8)."""
        pairs = pairs_of(self)
        pairs = [(name, value), *pairs] if first else [*pairs, (name, value)]
        return self.evolve(headers=pairs)

    def replace_header(self: M, name: str, value: str | Sequence[str]) -> M:
        """A copy where every field called ``name`` (any spelling) is replaced by ``value``
        (or one line per value of a sequence) at the position of the first; appended when
        absent."""
        want = canonical_name(name).lower()
        values = [value] if isinstance(value, str) else list(value)
        out: list[tuple[str, str]] = []
        placed = False
        for n, v in pairs_of(self):
            if n.lower() == want:
                if not placed:
                    out += [(name, x) for x in values]
                    placed = True
                continue
            out.append((n, v))
        if not placed:
            out += [(name, x) for x in values]
        return self.evolve(headers=out)

    def without_header(self: M, name: str) -> M:
        """A copy without any field called ``name`` (any spelling)."""
        want = canonical_name(name).lower()
        return self.evolve(headers=[(n, v) for n, v in pairs_of(self) if n.lower() != want])

    def with_body(self: M, body: bytes, content_type: str | None = None) -> M:
        """A copy with ``body`` (and Content-Type when given); Content-Length follows
        (20.14)."""
        msg = self.evolve(body=body)
        return msg.replace_header("Content-Type", content_type) if content_type else msg
