"""The bounds a received message must keep (RFC 3261 sections 18.1.1, 18.3): :class:`Limits`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "STREAM_LIMITS", "Limits"]


@dataclass(frozen=True)
class Limits:
    """Bounds on what a message may be; going past one is a :class:`ParseError` with its own
    ``code``, never a hang or a MemoryError.

    The datagram default is the largest UDP payload (65,535 octets; RFC 3261 section 18.1.1
    keeps UDP messages well below that); :class:`StreamFramer` defaults to 1 MiB.
    """

    max_message_size: int = 65535
    """Octets in one message, body included (``message-too-large``)."""
    max_headers: int = 256
    """Header fields in one message (``too-many-headers``)."""
    max_header_line: int = 16384
    """Octets in one header field, folded lines included (``header-line-too-long``)."""
    max_nesting: int = 32
    """Depth of nested comments ``( ( ) )`` in a value (``nesting-too-deep``). Up to 32 a
    value is validated by one regex (the ``@unrolled`` terminal); raised beyond, by the LALR
    parser, whose time and memory stay linear in the value at any depth, but at tens of
    microseconds per nesting level (depth 8,000: about 0.6 s a pass, measured by
    tests/test_comment_nesting.py's shapes): raise it only as far as needed."""


DEFAULT_LIMITS = Limits()
STREAM_LIMITS = Limits(max_message_size=1 << 20)
