"""Parse SIP messages: framing (RFC 3261 sections 7, 18.3), the grammar, message-level rules.

``parse(data)`` frames one message received as a datagram; :class:`StreamFramer` cuts a byte
stream (TCP, TLS) into messages. Both:

1. skip CRLFs before the start line (section 7.5), find the empty line ending the header
   section, check every header line has the shape ``token *WSP ":" value`` with folded
   continuation lines (section 7.3.1), and apply the :class:`Limits`;
2. match the start line against ``Method``, ``Request-URI`` and ``SIP-Version`` (or
   ``SIP-Version``, ``Status-Code`` and ``Reason-Phrase``), as compiled from the ABNF;
3. take the body by Content-Length (section 18.3 and 20.14);
4. with ``strict=True``, match every header value against its own ABNF rule and apply the
   message-level rules the ABNF cannot say (each cites its section): scalar ranges, the CSeq
   method, no URI headers in a Request-URI, a URI with ``?`` only inside ``<>``.

Without ``strict`` (lazy), header values are only parsed when :meth:`Header.tree` is called.
Whatever the bytes, only :class:`ParseError` escapes.

The steps live in their own modules, each depending only on those before it: the bounds
(:mod:`~sipfsm.message.limits`), the header fields (:mod:`~sipfsm.message.fields`), the start
line (:mod:`~sipfsm.message.startline`), header values (:mod:`~sipfsm.message.values`), the
message-level rules (:mod:`~sipfsm.message.rules`), strict mode
(:mod:`~sipfsm.message.strict`) and framing (:mod:`~sipfsm.message.framing`); this module
joins them to the message classes.
"""

from __future__ import annotations

from sipfsm.errors import ParseError
from sipfsm.message.fields import parse_error
from sipfsm.message.framing import (
    Frame,
    bare_lf,
    find_bare_lf,
    finish,
    frame_head,
    parse_datagram,
)
from sipfsm.message.limits import DEFAULT_LIMITS, STREAM_LIMITS, Limits
from sipfsm.message.message import Request, Response, from_frame

__all__ = ["DEFAULT_LIMITS", "STREAM_LIMITS", "Limits", "StreamFramer", "parse"]


def parse(
    data: bytes,
    *,
    strict: bool = False,
    limits: Limits | None = None,
    lenient_line_endings: bool = False,
) -> Request | Response:
    """Parse one SIP message received as a datagram (UDP); see the module docstring.

    Returns a :class:`Request` or :class:`Response`; raises :class:`ParseError` (and nothing
    else) for any malformed input. Octets after Content-Length octets of body are discarded
    (section 18.3); without Content-Length the body runs to the end of ``data``.

    Lines end in CRLF (section 7): a message whose lines end in LF alone is ``bare-lf``.
    ``lenient_line_endings=True`` reads such a message (a file typed by hand) as if its
    header lines ended in CRLF: the message's ``raw`` is then that CRLF form. It is never
    applied in strict mode (ValueError).
    """
    if lenient_line_endings and strict:
        raise ValueError("lenient_line_endings is never applied in strict mode (section 7)")
    return parse_datagram(data, strict, limits or DEFAULT_LIMITS, from_frame, lenient_line_endings)


class StreamFramer:
    """Cut a byte stream (TCP, TLS, ...) into SIP messages (RFC 3261 section 18.3).

    ``feed(data)`` takes any number of octets and returns the messages completed so far
    (possibly none, possibly several). On streams, Content-Length is mandatory (sections 18.3
    and 20.14). A framing error (no or conflicting Content-Length, an over-long header section
    or message) cannot be recovered from: it is raised, and so is every later ``feed``. A
    message that is framed correctly but malformed inside (``strict``) is skipped and its
    ParseError raised; messages framed before it in the same call are returned by the next
    ``feed`` call, also when the error ends the stream (then the calls after that raise it).
    A call raises one error at most: what follows the message in error is taken by the next
    call, so a reader feeds ``b""`` after a ParseError until a call raises none (or the stream
    is broken). Read that way, the messages and the errors are the same however the stream
    is cut (``sipfsm.testing.fuzz``).

    Linear time however the stream is cut: each search for the empty line ending a header
    section resumes where the last one stopped, a header section is framed once however its
    body trickles in, and the octets of the messages taken are dropped from the buffer once
    per call.
    """

    def __init__(self, *, strict: bool = False, limits: Limits | None = None) -> None:
        self.strict = strict
        self.limits = limits or STREAM_LIMITS
        self._buf = bytearray()
        self._pos = 0  # where the next message starts in _buf (what is before is taken)
        self._scan = 0  # where the search for CRLF CRLF resumes (none starts before it)
        self._framed: tuple[Frame, int, int] | None = None  # (frame, body start, end)
        self._ready: list[Request | Response] = []
        self._broken: ParseError | None = None

    @property
    def broken(self) -> ParseError | None:
        """The framing error that ended the stream (every later ``feed`` raises it), or None."""
        return self._broken

    @property
    def buffered(self) -> int:
        """Octets received but not yet part of a complete message."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> list[Request | Response]:
        """Add ``data``; return every message now complete, in order."""
        if self._broken is not None:
            if self._ready:  # framed before the error that ended the stream
                out, self._ready = self._ready, []
                return out
            raise self._broken
        self._buf += data
        try:
            while True:
                msg = self._next()
                if msg is None:
                    break
                self._ready.append(msg)
        except ParseError as exc:
            if exc.code in _FATAL:
                self._break(exc)
            raise
        except Exception as exc:
            err = parse_error("internal-error", f"{type(exc).__name__}: {exc}", 1, 1, "SIP-message")
            self._break(err)
            raise err from None
        finally:
            self._compact()
        out, self._ready = self._ready, []
        return out

    def _break(self, err: ParseError) -> None:
        self._broken = err
        self._buf.clear()
        self._pos = self._scan = 0
        self._framed = None

    def _compact(self) -> None:
        """Drop the octets of the messages taken (once per feed: linear time)."""
        if self._pos:
            del self._buf[: self._pos]
            self._scan = max(self._scan - self._pos, 0)
            self._pos = 0

    def _next(self) -> Request | Response | None:
        buf = self._buf
        if self._framed is None:
            # Section 7.5: CRLFs before the start line are ignored (and keep-alives).
            pos, n = self._pos, len(buf)
            while pos + 1 < n and buf[pos] == 0x0D and buf[pos + 1] == 0x0A:
                pos += 2
            self._pos = pos
            self._scan = max(self._scan, pos)
            if not self._frame():
                return None
        assert self._framed is not None
        f, body_start, total = self._framed
        pos = self._pos
        if len(buf) - pos < total:
            return None
        whole = bytes(buf[pos : pos + total])
        self._pos = self._scan = pos + total
        self._framed = None
        return finish(whole, f, self.strict, self.limits, body_start, total, from_frame)

    def _frame(self) -> bool:
        """Find and frame the header section of the message at ``_pos``; False while it is
        incomplete."""
        buf, pos, lim = self._buf, self._pos, self.limits
        hend = buf.find(b"\r\n\r\n", max(self._scan - 3, pos))
        if hend < 0:
            lf = buf.find(b"\n\n", max(self._scan - 1, pos))  # never in a header section
            if lf >= 0:
                raise bare_lf(buf[pos : lf + 1].decode("latin-1"), find_bare_lf(buf, pos) - pos)
            self._scan = len(buf)
            if len(buf) - pos > lim.max_message_size:
                raise parse_error(
                    "message-too-large",
                    f"no end of header section within {lim.max_message_size} octets",
                    1,
                    1,
                    "SIP-message",
                )
            return False
        # An empty line of LF alone before the CRLF CRLF: a trickled stream would have met it
        # first, so it is what ends this header section however the stream is cut.
        lf = buf.find(b"\n\n", max(self._scan - 1, pos), hend)
        if lf >= 0:
            raise bare_lf(buf[pos : lf + 1].decode("latin-1"), find_bare_lf(buf, pos) - pos)
        f = frame_head(buf[pos:hend].decode("latin-1"), 0, lim, self.strict)
        cl = f.content_length
        if cl is None:
            raise parse_error(
                "missing-content-length",
                "Content-Length is mandatory on a stream (section 18.3, 20.14)",
                1,
                1,
                "Content-Length",
            )
        if cl < 0:
            line, col = f.cl_at
            raise parse_error(
                "content-length-conflict",
                "several different Content-Length values: the stream cannot be framed",
                line,
                col,
                "Content-Length",
            )
        body_start = hend + 4 - pos
        total = body_start + cl
        if total > lim.max_message_size:
            raise parse_error(
                "message-too-large",
                f"{total} octets is more than {lim.max_message_size}",
                1,
                1,
                "SIP-message",
            )
        self._framed = (f, body_start, total)
        return True


_FATAL = frozenset(
    {
        "message-too-large",
        "missing-content-length",
        "content-length-conflict",
        "bad-content-length",
        "too-many-headers",
        "header-line-too-long",
        "bad-line-ending",
        "bad-folding",
        "bad-header-line",
        "bad-header-name",
        "bare-lf",
        "internal-error",
    }
)
