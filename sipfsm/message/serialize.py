"""Serializer and editing API of SIP messages (RFC 3261 sections 7, 7.3.1, 7.4.1, 20.14).

* :func:`serialize` gives the exact bytes a message was parsed from when it is untouched, and
  the canonical form of an edited message.
* :func:`canonical` writes any message canonically: the start line, every header field with its
  long name (7.3.3), one value per line for comma-list headers (7.3.1 allows splitting them
  into lines), unfolded values, exactly one Content-Length equal to the body length (20.14),
  then the body.
* Editing is immutable: ``msg.with_header(...)``, ``replace_header``, ``without_header``,
  ``with_body`` and ``evolve`` return a *new* message, built by writing the edited message
  canonically and parsing it back strictly (so an edit can never produce a message the grammar
  rejects: it raises :class:`sipfsm.ParseError` instead). The new message's ``edited`` is True.

:class:`MessageAPI` is the mix-in that :class:`sipfsm.Message` inherits these methods and the
typed header views (:class:`sipfsm.message.views.HeaderViews`) from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sipfsm.message.grammar import LIST_HEADERS
from sipfsm.message.split import split_top
from sipfsm.message.views import HeaderViews, canonical_name

if TYPE_CHECKING:  # pragma: no cover
    from sipfsm.message.message import Header, Message

__all__ = ["MessageAPI", "canonical", "header_items", "same_message", "serialize"]

M = TypeVar("M", bound="MessageAPI")

_CRLF = "\r\n"


def _enc(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _is_list(h: Header) -> bool:
    return h.key in LIST_HEADERS


def header_items(h: Header) -> list[str]:
    """The values of one header field line: its comma items for a comma-list header (7.3.1),
    otherwise the whole unfolded value."""
    if not _is_list(h):
        return [h.value]
    items = [i for i in split_top(h.value, ",") if i]
    return items or [""]


def _start_line(m: Message) -> str:
    from sipfsm.message.message import Request, Response

    if isinstance(m, Request):
        return f"{m.method} {m.uri} {m.version}"
    assert isinstance(m, Response)
    return f"{m.version} {m.status} {m.reason}"


def _canonical_lines(
    pairs: Iterable[tuple[str, str]], body: bytes, *, split_lists: bool = True
) -> list[str]:
    lines: list[str] = []
    cl_done = False
    for name, value in pairs:
        long = canonical_name(name)
        if long == "Content-Length":
            if not cl_done:
                lines.append(f"Content-Length: {len(body)}")
                cl_done = True
            continue
        values = [value]
        if split_lists and long.lower() in LIST_HEADERS:
            values = [i for i in split_top(value, ",") if i] or [""]
        for v in values:
            lines.append(f"{long}: {v}" if v else f"{long}:")
    if not cl_done:
        lines.append(f"Content-Length: {len(body)}")
    return lines


def _write(start: str, pairs: Iterable[tuple[str, str]], body: bytes) -> bytes:
    lines = [start, *_canonical_lines(pairs, body)]
    return _enc(_CRLF.join(lines) + _CRLF + _CRLF) + body


def _pairs(m: Message) -> list[tuple[str, str]]:
    return [(h.canonical, v) for h in m.headers for v in header_items(h)]


def canonical(m: Message) -> bytes:
    """The canonical form of ``m`` (see the module docstring).

    >>> import sipfsm
    >>> m = sipfsm.parse(b"OPTIONS sip:b@b.example.com SIP/2.0\\r\\n"
    ...     b"v: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP g;branch=z9hG4bK2\\r\\n"
    ...     b"l: 0\\r\\n\\r\\n")
    >>> print(canonical(m).decode())  # doctest: +NORMALIZE_WHITESPACE
    OPTIONS sip:b@b.example.com SIP/2.0
    Via: SIP/2.0/UDP h;branch=z9hG4bK1
    Via: SIP/2.0/UDP g;branch=z9hG4bK2
    Content-Length: 0
    """
    return _write(_start_line(m), _pairs(m), m.body)


def serialize(m: Message) -> bytes:
    """The bytes of ``m``: exactly what it was parsed from (``m.raw``) when untouched, its
    canonical form (:func:`canonical`) when it was produced by an edit.

    ``serialize(parse(b)) == b`` for every message ``b`` (trailing datagram noise after the
    body excluded, RFC 3261 18.3 / RFC 4475 3.1.1.8), and ``parse(serialize(m))`` reads the
    same as ``m`` (:func:`same_message`).
    """
    if getattr(m, "_edited", False):
        return m.raw  # an edited message was built from its canonical bytes
    return m.raw


def same_message(a: Message, b: Message) -> bool:
    """True when ``a`` and ``b`` read the same: same start line fields, the same header values
    in the same order per name group (spelling, compact forms, line splitting and folding
    ignored, 7.3.1), the same body; Content-Length compared through the body."""
    return _key(a) == _key(b)


def _key(m: Message) -> tuple[Any, ...]:
    start = (
        getattr(m, "method", None),
        getattr(m, "uri", None),
        getattr(m, "status", None),
        getattr(m, "reason", None),
        m.version,
    )
    items = tuple(
        (h.canonical.lower(), " ".join(v.split()))
        for h in m.headers
        if h.canonical.lower() != "content-length"
        for v in header_items(h)
    )
    return (type(m).__name__, start, items, m.body)


def _reparse(data: bytes) -> Any:
    from sipfsm.message.parse import parse

    msg = parse(data, strict=True)
    object.__setattr__(msg, "_edited", True)
    return msg


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
        """:func:`serialize` of this message."""
        return serialize(self)  # type: ignore[arg-type]

    def canonical(self) -> bytes:
        """:func:`canonical` of this message."""
        return canonical(self)  # type: ignore[arg-type]

    def same_as(self, other: Message) -> bool:
        """:func:`same_message`."""
        return same_message(self, other)  # type: ignore[arg-type]

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
        from sipfsm.message.message import Request, Response

        if isinstance(self, Request):
            if status is not None or reason is not None:
                raise ValueError("status and reason belong to responses (7.2)")
            start = f"{method or self.method} {uri or self.uri} {self.version}"
        else:
            assert isinstance(self, Response)
            if method is not None or uri is not None:
                raise ValueError("method and Request-URI belong to requests (7.1)")
            code = self.status if status is None else status
            if not 100 <= code <= 699:
                raise ValueError(f"status {code} is outside 100-699 (7.2, 21)")
            start = f"{self.version} {code} {self.reason if reason is None else reason}"
        pairs = _pairs(self) if headers is None else list(headers)  # type: ignore[arg-type]
        return _reparse(_write(start, pairs, self.body if body is None else body))  # type: ignore[no-any-return]

    def with_header(self: M, name: str, value: str, *, first: bool = False) -> M:
        """A copy with header ``name: value`` added last (or first, e.g. a new top Via,
        16.6 step 8)."""
        pairs = _pairs(self)  # type: ignore[arg-type]
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
        for n, v in _pairs(self):  # type: ignore[arg-type]
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
        pairs = _pairs(self)  # type: ignore[arg-type]
        return self.evolve(headers=[(n, v) for n, v in pairs if n.lower() != want])

    def with_body(self: M, body: bytes, content_type: str | None = None) -> M:
        """A copy with ``body`` (and Content-Type when given); Content-Length follows
        (20.14)."""
        msg = self.evolve(body=body)
        return msg.replace_header("Content-Type", content_type) if content_type else msg
