"""Framing (RFC 3261 sections 7, 7.5, 18.3): where a message starts and ends, its header
section, its Content-Length and its body.

:func:`parse_datagram` frames one datagram: it skips CRLFs before the start line (section
7.5), finds the empty line ending the header section, applies the :class:`Limits`, reads
Content-Length (section 20.14; on a datagram the body otherwise runs to its end, section
18.3), matches the start line (:mod:`sipfsm.message.startline`) and, with ``strict``, every
header value (:mod:`sipfsm.message.strict`). It hands the parts to a ``build`` function,
so that this module needs nothing of the message classes built on it
(``sipfsm.message.message.from_frame``). :class:`sipfsm.StreamFramer` cuts streams with
:func:`frame_head` and :func:`finish`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from sipfsm.errors import ParseError
from sipfsm.message.fields import WSP, Field, bare_cr_lf, line_col, parse_error, position
from sipfsm.message.grammar import COMPACT_OF
from sipfsm.message.limits import Limits
from sipfsm.message.numbers import max_digits, significant
from sipfsm.message.rules import check_request_uri_port
from sipfsm.message.startline import StartLine, start_line
from sipfsm.message.strict import cut_strict, validate_fields

__all__ = [
    "Build",
    "Frame",
    "bare_lf",
    "crlf_lines",
    "find_bare_lf",
    "finish",
    "frame_head",
    "parse_datagram",
]

T = TypeVar("T")


class Frame:
    """The header section of one message, framed: its start line, Content-Length and, in
    strict mode, its lines and fields (the doubtful ones apart)."""

    __slots__ = (
        "cl_first",
        "cl_long",
        "cl_where",
        "content_length",
        "doubtful",
        "fields",
        "head",
        "line0",
        "lines",
        "start_line",
    )

    def __init__(self, head: str, start_line: str, line0: int) -> None:
        self.head = head
        self.start_line = start_line
        self.line0 = line0
        self.content_length: int | None = None
        self.cl_first = ""  # the significant digits of the first Content-Length
        #: the first Content-Length value: its offset in head, or its field (strict framing)
        self.cl_where: int | Field = 0
        #: (offset, digits) of the first Content-Length too long to read as a number
        self.cl_long: tuple[int, int] | None = None
        self.lines: list[str] | None = None  # head split into lines (when cut at once)
        self.fields: list[Field] | None = None  # the header fields (when cut at once)
        self.doubtful: list[Field] = []  # fields that need the full checks (strict)

    @property
    def cl_at(self) -> tuple[int, int]:
        """(line, column) of the first Content-Length value."""
        return line_col(self.head, self.offset(self.cl_where), self.line0)

    def offset(self, where: int | Field) -> int:
        """The offset in head of a value given by its offset or by its field: where its
        first octet after the colon and the white space (folds included) is."""
        if isinstance(where, int):
            return where
        assert self.lines is not None  # a field was cut from them
        li, nl, colon = where[0], where[1], where[2]
        start = sum(len(line) + 2 for line in self.lines[:li]) + colon + 1
        raw = "\r\n".join(self.lines[li : li + nl])[colon + 1 :]
        return start + len(raw) - len(raw.lstrip(" \t\r\n"))


#: A Content-Length (or ``l``) field, any case: name, optional SP/HTAB, the colon and the
#: (folded) value as group 1. Lines start with CRLF, so one search finds them all in order.
_CL_NAMES = "|".join(re.escape(n) for n in ("Content-Length", COMPACT_OF["Content-Length"]))
_CL_FIELD = re.compile(
    rf"\r\n(?:{_CL_NAMES})[ \t]*+:([^\r\n]*+(?:\r\n[ \t][^\r\n]*+)*+)", re.I | re.A
)


#: Significant digits of a Content-Length read as such; a longer one is :data:`_TOO_LONG`, an
#: octet count beyond every message (any leading zeros, in linear time: no int() of it).
_CL_DIGITS = 18
_TOO_LONG = 10**_CL_DIGITS


#: An LF that is not the end of a CRLF (RFC 3261 section 7: every line ends in CRLF).
_BARE_LF = re.compile(rb"(?<!\r)\n")
#: The first empty line, LF alone or CRLF: where a header section typed by hand ends.
_EMPTY_LINE = re.compile(rb"\n\r?\n")
#: CRLFs (or LFs) before the start line (section 7.5).
_LEADING_LINES = re.compile(rb"(?:\r?\n)*+")


def find_bare_lf(data: bytes | bytearray, start: int = 0) -> int:
    """Offset of the first LF of ``data`` (from ``start``) that does not end a CRLF, or -1."""
    m = _BARE_LF.search(data, start)
    return -1 if m is None else m.start()


def bare_lf(head: str, offset: int) -> ParseError:
    """``bare-lf`` at the LF at ``offset`` of ``head``: the lines end in LF alone."""
    return parse_error(
        "bare-lf",
        "the line ends in LF alone, not CRLF (RFC 3261 section 7); to read such a message, "
        "parse it with lenient_line_endings=True (sipfsm parse --lenient)",
        *position(head, offset),
        "CRLF",
    )


def crlf_lines(data: bytes) -> bytes:
    """``data`` with every line of its header section ending in CRLF: an LF alone (a file
    typed by hand) becomes CRLF, up to the first empty line; the body is left as it is. Lenient
    reading only, never strict: RFC 3261 section 7 says lines end in CRLF.

    >>> crlf_lines(b"OPTIONS sip:a@b SIP/2.0\\nl: 2\\n\\nb\\n")
    b'OPTIONS sip:a@b SIP/2.0\\r\\nl: 2\\r\\n\\r\\nb\\n'
    """
    lead = _LEADING_LINES.match(data)
    start = lead.end() if lead is not None else 0
    empty = _EMPTY_LINE.search(data, start)  # CRLF CRLF holds one too
    if empty is None:
        return data  # no end of the header section: the parser says what is wrong
    lines = [line.removesuffix(b"\r") for line in data[start : empty.start()].split(b"\n")]
    before = b"\r\n" * data.count(b"\n", 0, start)
    return before + b"\r\n".join(lines) + b"\r\n\r\n" + data[empty.end() :]


def _skip_crlf(data: bytes) -> int:
    i = 0
    n = len(data)
    while i + 1 < n and data[i] == 0x0D and data[i + 1] == 0x0A:
        i += 2
    return i


def frame_head(head: str, line0: int, limits: Limits, shape: bool) -> Frame:
    """Frame the header section ``head`` (start line first, without the final CRLF CRLF):
    the start line's length, the number of lines and Content-Length; with ``shape`` (strict),
    also cut the header fields, checking every header line and matching every value
    (:func:`cut_strict`), which lazy parsing leaves to the first access of the fields."""
    sl_end = head.find("\r\n")
    if sl_end < 0:
        sl_end = len(head)
    start_line = head[:sl_end]
    maxlen = limits.max_header_line
    if sl_end > maxlen:
        raise parse_error(
            "header-line-too-long",
            f"start line longer than {maxlen} octets",
            line0 + 1,
            maxlen + 1,
            "Status-Line" if start_line.startswith("SIP/") else "Request-Line",
        )
    if "\r" in start_line or "\n" in start_line:
        bare_cr_lf([start_line], line0)
    f = Frame(head, start_line, line0)
    if shape:
        method = None if start_line.startswith("SIP/") else start_line.partition(" ")[0]
        f.lines, f.fields, f.doubtful = cut_strict(head, line0, limits, method)
    # Two CRLFs in a row end the header section, so it holds at most (len + 1) / 3 of them.
    if len(head) >= 3 * limits.max_headers and head.count("\r\n") > limits.max_headers:
        lines = head.split("\r\n")
        seen = 0
        for li in range(1, len(lines)):
            if lines[li][:1] not in (" ", "\t"):
                seen += 1
                if seen > limits.max_headers:
                    raise parse_error(
                        "too-many-headers",
                        f"more than {limits.max_headers} header fields",
                        line0 + li + 1,
                        1,
                        "message-header",
                    )
    # Content-Length (section 20.14), once or more.
    if f.fields is None:
        _search_lengths(f, sl_end)
    else:
        _field_lengths(f, f.fields)
    return f


def _search_lengths(f: Frame, sl_end: int) -> None:
    """Lazy framing: the Content-Length fields, found with one search of the header section
    after the start line, then read."""
    for m in _CL_FIELD.finditer(f.head, sl_end):
        raw = m.group(1)
        text = raw.replace("\r\n", "").strip(WSP) if "\r" in raw else raw.strip(WSP)
        _take_length(f, text, m.start(1) + len(raw) - len(raw.lstrip(" \t\r\n")))


def _field_lengths(f: Frame, fields: list[Field]) -> None:
    """Strict framing: the Content-Length fields among those cut (a field named
    Content-Length or ``l`` is a line the search of :func:`_search_lengths` finds, and its
    value is the same), then read; their offsets are worked out only when needed."""
    for fld in fields:
        if fld[5] == "content-length":
            _take_length(f, fld[6], fld)


def _take_length(f: Frame, text: str, where: int | Field) -> None:
    """Read one Content-Length value, ``1*DIGIT`` (section 20.14), at ``where`` (see
    :meth:`Frame.offset`): the first gives the length, a later one that differs makes it
    -1 (conflicting)."""
    if not (text.isdigit() and text.isascii()):  # 1*DIGIT
        raise parse_error(
            "bad-content-length",
            f"Content-Length {text[:20]!r} is not a non-negative decimal number (section 20.14)",
            *line_col(f.head, f.offset(where), f.line0),
            "Content-Length",
        )
    sig = significant(text)
    if len(sig) > _CL_DIGITS and len(sig) > max_digits() and f.cl_long is None:
        f.cl_long = (f.offset(where), len(sig))
    if f.content_length is None:
        f.cl_first = sig
        # A number too long for any message is still one (it fails the size checks).
        f.content_length = int(sig) if len(sig) <= _CL_DIGITS else _TOO_LONG
        f.cl_where = where
    elif sig != f.cl_first:
        f.content_length = -1  # conflicting values


def _unreadable_length(f: Frame) -> ParseError:
    """Strict parsing of a datagram: a Content-Length of more significant digits than a
    number is read with (:func:`sipfsm.message.numbers.max_digits`) is ``value-out-of-range``:
    it counts more octets than any message holds (section 20.14), and the typed view could not
    read it. (A second, conflicting Content-Length is not used for framing a datagram, RFC
    4475 3.3.9: without this check strict parsing would accept a value its view cannot read.
    On a stream every such Content-Length is a framing error already: message-too-large or
    content-length-conflict.)"""
    assert f.cl_long is not None
    offset, digits = f.cl_long
    return parse_error(
        "value-out-of-range",
        f"Content-Length of {digits} digits: more octets than any message holds (section 20.14)",
        *line_col(f.head, offset, f.line0),
        "Content-Length",
    )


#: What :func:`finish` hands the message's parts to (the message classes' ``from_frame``):
#: the frame, its start line, the body, the bytes of the message and the limits applied.
Build = Callable[[Frame, StartLine, bytes, bytes, Limits], T]


def finish(
    data: bytes,
    f: Frame,
    strict: bool,
    limits: Limits,
    body_start: int,
    body_end: int,
    build: Build[T],
) -> T:
    """Match the start line of the framed message ``data[:body_end]`` and, when ``strict``,
    the doubtful header values (:mod:`sipfsm.message.strict`); then ``build`` it."""
    start = start_line(f.start_line, f.line0)
    if strict and start[0]:
        check_request_uri_port(start[2], f.line0 + 1, len(start[1]) + 2)
    if strict and f.doubtful:
        assert f.lines is not None  # strict framing cut them
        validate_fields(f.lines, f.line0, f.doubtful, start[1] if start[0] else None, limits)
    return build(f, start, data[body_start:body_end], data[:body_end], limits)


def parse_datagram(
    data: bytes, strict: bool, limits: Limits, build: Build[T], lenient: bool = False
) -> T:
    """Frame and check one datagram (see the module docstring) and ``build`` the message;
    with ``lenient``, header lines ending in LF alone are read as ending in CRLF
    (:func:`crlf_lines`).

    Raises :class:`ParseError`, and nothing else, for any malformed input: any other error
    (a bug, a RecursionError, a MemoryError) becomes one."""
    try:
        if type(data) is not bytes:
            if not isinstance(data, bytes | bytearray | memoryview):
                raise parse_error("bad-input", "parse() takes bytes", 1, 1, "SIP-message")
            data = bytes(data)
        if lenient:
            data = crlf_lines(data)
        return _datagram(data, strict, limits, build)
    except ParseError:
        raise
    except RecursionError:
        raise parse_error(
            "nesting-too-deep", "input nested too deeply", 1, 1, "SIP-message"
        ) from None
    except MemoryError:
        raise parse_error("message-too-large", "out of memory", 1, 1, "SIP-message") from None
    except Exception as exc:  # the contract: only ParseError escapes
        raise parse_error(
            "internal-error", f"{type(exc).__name__}: {exc}", 1, 1, "SIP-message"
        ) from None


def _datagram(data: bytes, strict: bool, limits: Limits, build: Build[T]) -> T:
    if len(data) > limits.max_message_size:
        raise parse_error(
            "message-too-large",
            f"{len(data)} octets is more than {limits.max_message_size}",
            1,
            1,
            "SIP-message",
        )
    start = _skip_crlf(data) if data.startswith(b"\r\n") else 0
    hend = data.find(b"\r\n\r\n", start)
    if hend < 0:
        head = data.decode("latin-1")
        if not data[start:]:
            raise parse_error(
                "empty-message", "no start line", *position(head, start), "SIP-message"
            )
        lf = find_bare_lf(data, start)
        if lf >= 0:
            raise bare_lf(head, lf)
        raise parse_error(
            "incomplete-message",
            "no empty line ends the header section (section 7)",
            *position(head, len(head)),
            "SIP-message",
        )
    f = frame_head(data[start:hend].decode("latin-1"), start // 2, limits, strict)
    body_start = hend + 4
    if strict and f.cl_long is not None:
        raise _unreadable_length(f)
    cl = f.content_length
    if cl is None or cl < 0:
        # Section 18.3: without a (usable) Content-Length, a datagram's body runs to its end.
        body_end = len(data)
    else:
        body_end = body_start + cl
        if body_end > len(data):
            line, col = f.cl_at
            raise parse_error(
                "content-length-mismatch",
                f"Content-Length {cl} but only {len(data) - body_start} octets follow "
                "the header section (section 18.3)",
                line,
                col,
                "Content-Length",
            )
    return finish(data, f, strict, limits, body_start, body_end, build)
