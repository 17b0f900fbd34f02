"""The serializer of SIP messages (RFC 3261 sections 7, 7.3.1, 7.4.1, 20.14).

* :func:`serialize` gives the exact bytes a message was parsed from when it is untouched, and
  the canonical form of an edited message.
* :func:`canonical` writes any message canonically: the start line, every header field with its
  long name (7.3.3), one value per line for comma-list headers (7.3.1 allows splitting them
  into lines), unfolded values, exactly one Content-Length equal to the body length (20.14),
  then the body; unless that would break the :class:`~sipfsm.message.limits.Limits` the
  message was parsed with (too many lines, too long a line or message): then it is written
  more compactly (:func:`write`), so that what the serializer writes parses under them.
* :func:`same_message` compares two messages as they read.

The functions read a message through :class:`Readable` (what :class:`sipfsm.Message` has), so
this module needs nothing of the message classes; the editing API that writes with them is
:class:`sipfsm.message.edit.MessageAPI`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from sipfsm.message.grammar import COMPACT_OF, LIST_HEADERS
from sipfsm.message.limits import DEFAULT_LIMITS, Limits
from sipfsm.message.split import split_top
from sipfsm.message.views import canonical_name

if TYPE_CHECKING:  # pragma: no cover
    from sipfsm.message.header import Header

__all__ = [
    "Readable",
    "canonical",
    "header_items",
    "limits_of",
    "same_message",
    "serialize",
    "write",
]

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


#: How the header fields are written, tried in turn until the message fits its
#: :class:`~sipfsm.message.limits.Limits`: (one line per value of a comma list, compact
#: names, white space after the colon, a line too long folded). The canonical form comes
#: first; each later one is no longer than the one before (section 7.3.1 lets a list be split
#: or joined and a line be folded before white space, 7.3.3 use the compact form, and the
#: colon take no white space).
_STYLES = (
    (True, False, " ", False),
    (False, False, " ", False),
    (False, True, " ", False),
    (False, True, "", False),
    (False, True, "", True),
)


def _canonical_lines(
    pairs: Iterable[tuple[str, str]],
    body: bytes,
    *,
    split_lists: bool = True,
    compact: bool = False,
    space: str = " ",
    fold: int = 0,
) -> list[str]:
    lines: list[str] = []
    cl_done = False
    for name, value in pairs:
        long = canonical_name(name)
        written = COMPACT_OF.get(long, long) if compact else long
        if long == "Content-Length":
            if not cl_done:
                lines.append(f"{written}:{space}{len(body)}")
                cl_done = True
            continue
        values = [value]
        if split_lists and long.lower() in LIST_HEADERS:
            values = [i for i in split_top(value, ",") if i] or [""]
        for v in values:
            line = f"{written}:{space}{v}" if v else f"{written}:"
            if fold and len(line) > fold // 4:
                line = _folded(f"{written}:", f"{space}{v}", fold)
            lines.append(line)
    if not cl_done:
        written = COMPACT_OF["Content-Length"] if compact else "Content-Length"
        lines.append(f"{written}:{space}{len(body)}")
    return lines


def _folded(name: str, value: str, maxlen: int) -> str:
    """The header line ``name`` (``Via:``) ``value`` folded (section 7.3.1: CRLF before white
    space, and after the colon: ``HCOLON`` ends in ``SWS``) so that no physical line is longer
    than ``maxlen`` octets, where the value's white space allows; unfolding gives the value
    back."""
    rest = name + value
    if len(_enc(rest)) <= maxlen:
        return rest
    out: list[str] = []
    first = True
    while len(_enc(rest)) > maxlen:
        cut = _fold_point(rest, len(name) if first else 1, maxlen)
        if cut <= 0 and first:
            out.append(name)  # fold right after the colon
            rest = value if value[:1] in (" ", "\t") else " " + value
        elif cut <= 0:
            break  # no white space to fold at: the re-parse says the line is too long
        else:
            out.append(rest[:cut])
            rest = rest[cut:]
        first = False
    out.append(rest)
    return _CRLF.join(out)


def _fold_point(text: str, low: int, maxlen: int) -> int:
    """The last SP or HTAB of ``text`` at ``low`` or after with at most ``maxlen`` octets
    before it (0 when there is none)."""
    hi = maxlen + 1
    while hi > low:
        cut = max(text.rfind(" ", low, hi), text.rfind("\t", low, hi))
        if cut < low:
            return 0
        if len(_enc(text[:cut])) <= maxlen:
            return cut
        hi = cut
    return 0


def _fits(lines: list[str], size: int, limits: Limits) -> bool:
    """True when a message of ``size`` octets with the start line and header fields ``lines``
    (folded ones hold CRLFs) keeps ``limits`` (a line is measured whole, name included: on the
    safe side)."""
    if size > limits.max_message_size or len(lines) - 1 > limits.max_headers:
        return False
    maxlen = limits.max_header_line
    return all(
        len(line) * 4 <= maxlen or all(len(_enc(x)) <= maxlen for x in line.split(_CRLF))
        for line in lines
    )


def write(
    start: str, pairs: Iterable[tuple[str, str]], body: bytes, limits: Limits | None = None
) -> bytes:
    """The canonical bytes of a message with start line ``start``, header fields ``pairs``
    (``(name, value)``, in order) and ``body``, or, when those would not keep ``limits``
    (default :data:`~sipfsm.message.limits.DEFAULT_LIMITS`), the first of the more compact
    forms of :data:`_STYLES` that does: comma lists kept on the lines they came on, then
    compact names, then no white space after the colon, then lines too long folded at their
    white space. What is read under some limits is so written under them again (but a
    Content-Length the message lacked adds a line, and a value longer than a line with too
    little white space to fold at cannot be written: the re-parse raises)."""
    pairs = list(pairs)
    lim = limits or DEFAULT_LIMITS
    data = b""
    for split, compact, space, fold in _STYLES:
        width = lim.max_header_line if fold else 0
        fields = _canonical_lines(
            pairs, body, split_lists=split, compact=compact, space=space, fold=width
        )
        lines = [start, *fields]
        data = _enc(_CRLF.join(lines) + _CRLF + _CRLF) + body
        if _fits(lines, len(data), lim):
            break
    return data


def pairs_of(m: Readable) -> list[tuple[str, str]]:
    """``(long name, value)`` of every header field of ``m``, in order (a comma list whole, as
    it came: :func:`write` splits it)."""
    return [(h.canonical, h.value) for h in m.headers]


def limits_of(m: Readable) -> Limits:
    """The limits ``m`` was parsed with (the default ones for anything else)."""
    got = getattr(m, "_limits", None)
    return got if isinstance(got, Limits) else DEFAULT_LIMITS


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
    return write(start_line(m), pairs_of(m), m.body, limits_of(m))


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
