"""Framing of SIP messages on stream transports (RFC 3261 section 18.3): Content-Length
delimits the body, so a TCP byte stream is cut into messages by a :class:`Framer`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Protocol

from sipfsm.errors import ParseError, SipfsmError
from sipfsm.message.parse import Limits as ParseLimits
from sipfsm.message.parse import StreamFramer

__all__ = ["Framer", "FramingError", "SipStreamFramer"]


class FramingError(SipfsmError):
    """A stream could not be cut into SIP messages (RFC 3261 section 18.3)."""


class Framer(Protocol):
    """Cuts a byte stream into SIP messages (RFC 3261 section 18.3)."""

    def feed(self, data: bytes) -> list[bytes]:
        """Take more bytes; return every message now complete, in order.

        Raises :class:`FramingError` when the stream cannot be framed any more.
        """
        ...


class SipStreamFramer:
    """:class:`Framer` over the parser's :class:`~sipfsm.StreamFramer` (section 18.3), giving
    each message's raw bytes as they arrived.

    A message framed correctly but malformed inside is skipped by the parser: its
    :class:`~sipfsm.ParseError` goes to ``on_error`` and framing goes on. A framing error (no
    or conflicting Content-Length, too large) cannot be recovered from on a stream: it is
    raised as :class:`FramingError` (after the messages framed before it are returned).
    """

    def __init__(
        self,
        max_message_size: int = 65_535,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self._framer = StreamFramer(limits=ParseLimits(max_message_size=max_message_size))
        self._on_error = on_error

    def feed(self, data: bytes) -> list[bytes]:
        """Take more bytes; return every message now complete."""
        out: list[bytes] = []
        while True:
            try:
                out += [m.raw for m in self._framer.feed(data)]
                return out
            except ParseError as exc:
                if self._framer.broken is exc:  # raised again by every later feed
                    with contextlib.suppress(ParseError):  # framed before it
                        out += [m.raw for m in self._framer.feed(b"")]
                    if out:
                        return out  # the next feed raises the FramingError
                    raise FramingError(str(exc)) from exc
                if self._on_error is not None:  # each error, even when another follows
                    self._on_error(exc)
                data = b""  # what follows the message in error: the next call
