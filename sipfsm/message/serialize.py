"""The serializer of SIP messages (RFC 3261 sections 7, 7.3.1, 7.4.1, 20.14).

* :func:`serialize` gives the exact bytes a message was parsed from when it is untouched, and
  the canonical form of an edited message.
* :func:`canonical` writes any message canonically: the start line, every header field with its
  long name (7.3.3), one value per line for comma-list headers (7.3.1 allows splitting them
  into lines), unfolded values, exactly one Content-Length equal to the body length (20.14),
  then the body.
* :func:`same_message` compares two messages as they read.

The functions read a message through :class:`Readable` (what :class:`sipfsm.Message` has), so
this module needs nothing of the message classes; the editing API that writes with them is
:class:`sipfsm.message.edit.MessageAPI`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from sipfsm.message.grammar import LIST_HEADERS
from sipfsm.message.split import split_top
from sipfsm.message.views import canonical_name

if TYPE_CHECKING:  # pragma: no cover
    from sipfsm.message.header import Header

__all__ = ["Readable", "canonical", "header_items", "same_message", "serialize"]

_CRLF = "\r\n"


class Readable(Protocol):
    """What the serializer reads of a message: its header fields, body and bytes, and the
    start line's parts (``method`` and ``uri`` of a request, ``status`` and ``reason`` of a
    response, read with ``getattr``)."""

    raw: bytes
    body: bytes
    version: str

    @property
    def headers(self) -> list[Header]: ...


def _enc(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def header_items(h: Header) -> list[str]:
    """The values of one header field line: its comma items for a comma-list header (7.3.1),
    otherwise the whole unfolded value."""
    if h.key not in LIST_HEADERS:
        return [h.value]
    items = [i for i in split_top(h.value, ",") if i]
    return items or [""]


def start_line(m: Readable) -> str:
    """The start line of ``m`` as its parts give it (7.1, 7.2)."""
    method = getattr(m, "method", None)
    if method is not None:
        return f"{method} {getattr(m, 'uri', '')} {m.version}"
    return f"{m.version} {getattr(m, 'status', '')} {getattr(m, 'reason', '')}"


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


def write(start: str, pairs: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """The canonical bytes of a message with start line ``start``, header fields ``pairs``
    (``(name, value)``, in order) and ``body``."""
    lines = [start, *_canonical_lines(pairs, body)]
    return _enc(_CRLF.join(lines) + _CRLF + _CRLF) + body


def pairs_of(m: Readable) -> list[tuple[str, str]]:
    """``(long name, value)`` of every header field item of ``m``, in order."""
    return [(h.canonical, v) for h in m.headers for v in header_items(h)]


def canonical(m: Readable) -> bytes:
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
    return write(start_line(m), pairs_of(m), m.body)


def serialize(m: Readable) -> bytes:
    """The bytes of ``m``: exactly what it was parsed from (``m.raw``) when untouched, its
    canonical form (:func:`canonical`) when it was produced by an edit.

    ``serialize(parse(b)) == b`` for every message ``b`` (trailing datagram noise after the
    body excluded, RFC 3261 18.3 / RFC 4475 3.1.1.8), and ``parse(serialize(m))`` reads the
    same as ``m`` (:func:`same_message`).
    """
    if getattr(m, "_edited", False):
        return m.raw  # an edited message was built from its canonical bytes
    return m.raw


def same_message(a: Readable, b: Readable) -> bool:
    """True when ``a`` and ``b`` read the same: same start line fields, the same header values
    in the same order per name group (spelling, compact forms, line splitting and folding
    ignored, 7.3.1), the same body; Content-Length compared through the body."""
    return _key(a) == _key(b)


def _key(m: Readable) -> tuple[Any, ...]:
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
