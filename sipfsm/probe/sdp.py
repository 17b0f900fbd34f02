"""The session descriptions the probe sends, so that it is a correct UA (13.2.1, 13.2.2.4):
an offer in every INVITE, and an answer in the ACK of a 2xx that carries the offer.

The probe exchanges no media: the offer is one audio stream (RFC 4566 syntax) with the
static payload types 0 and 8 (PCMU, PCMA) on the discard port 9; an answer (RFC 3264 section
6) keeps every media line of the offer, in order, with its first format, on the same port.
"""

from __future__ import annotations

from sipfsm.errors import ParseError
from sipfsm.message.message import Request, Response

__all__ = ["MIME", "answer", "carries_sdp", "offer"]

#: The media type of a session description (RFC 4566 section 8.1).
MIME = "application/sdp"


def _session(host: str, media: list[str]) -> bytes:
    """v=, o=, s=, c=, t= (RFC 4566 section 5) and the media lines."""
    family = "IP6" if ":" in host else "IP4"
    lines = [
        "v=0",
        f"o=sipfsm-probe 1 1 IN {family} {host}",
        "s=sipfsm probe",
        f"c=IN {family} {host}",
        "t=0 0",
        *media,
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def offer(host: str) -> bytes:
    """An offer (RFC 3264 section 5): one audio stream, PCMU and PCMA, send and receive."""
    return _session(
        host,
        ["m=audio 9 RTP/AVP 0 8", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=sendrecv"],
    )


def answer(body: bytes, host: str) -> bytes:
    """An answer to the offer ``body`` (RFC 3264 section 6): one m= line per offered one, in
    the same order, with its first format; a line with no format is rejected (port 0)."""
    media = []
    for line in body.decode("latin-1").splitlines():
        if not line.startswith("m="):
            continue
        words = line[2:].split()
        if len(words) < 4:
            media.append(f"m={words[0] if words else 'audio'} 0 RTP/AVP 0")
            continue
        kind, _port, proto, fmt = words[:4]
        media.append(f"m={kind} 9 {proto} {fmt}")
    return _session(host, media or ["m=audio 0 RTP/AVP 0"])


def carries_sdp(msg: Request | Response) -> bool:
    """Whether ``msg`` has a body of type ``application/sdp`` (20.15)."""
    try:
        ctype = msg.content_type
    except (ParseError, ValueError):
        return False
    return bool(msg.body) and ctype is not None and ctype.mime == MIME
