"""Raw SIP bytes for the peer tests, until sipfsm's message builders and parser land.

:func:`request` writes a request with the mandatory headers of RFC 3261 section 8.1.1;
:func:`status` and :func:`header` read just enough of a response. Deliberately tiny: replace with
``sipfsm.parse`` and the builders when they exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

__all__ = ["header", "request", "sdp_offer", "status"]


def request(
    method: str,
    uri: str,
    *,
    via: tuple[str, str, int],
    to: str,
    from_: str,
    call_id: str,
    cseq: int,
    branch: str | None = None,
    headers: Sequence[str] = (),
    body: str = "",
) -> bytes:
    """A SIP request (RFC 3261 section 8.1.1: the seven mandatory headers), as bytes.

    ``via`` is (transport, host, port); the branch gets the magic cookie (8.1.1.7).
    """
    transport, host, port = via
    branch = branch or "z9hG4bK" + secrets.token_hex(8)
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/{transport.upper()} {host}:{port};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: {from_}",
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        *headers,
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def sdp_offer(host: str = "127.0.0.1", port: int = 40000) -> str:
    """A one-stream PCMU audio offer (RFC 4566 / 3264)."""
    return (
        "v=0\r\n"
        f"o=sipfsm 1 1 IN IP4 {host}\r\n"
        "s=-\r\n"
        f"c=IN IP4 {host}\r\n"
        "t=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=sendrecv\r\n"
    )


def status(message: bytes) -> int | None:
    """The status code of a response, None for a request."""
    first = message.split(b"\r\n", 1)[0].split(b" ")
    if first[0] != b"SIP/2.0" or len(first) < 2 or not first[1].isdigit():
        return None
    return int(first[1])


def header(message: bytes, name: str) -> list[str]:
    """Every value of header ``name`` (long form only), in order; comma lists not split."""
    head = message.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    out = []
    for line in head.split("\r\n")[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name.lower():
            out.append(value.strip())
    return out
