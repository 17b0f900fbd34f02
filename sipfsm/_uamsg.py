"""Minimal message construction for the UA core (RFC 3261 8.1.1, 8.2.6, 12.2.1.1, 13.2.2.4, 9.1).

A thin seam: the message-model engineer's builders are not in the tree yet, so the UA core
(``sipfsm._ua``) writes its requests and responses here as bytes and parses them back with
:func:`sipfsm.parse` (strict), so every message it handles is one the grammar accepts. When
``build_request`` / ``build_response`` land, only this module changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sipfsm._parse import parse
from sipfsm.message import Request, Response

#: Reason phrases of section 21 for the codes the UA core uses (any other: the class name).
REASONS: dict[int, str] = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 302: "Moved Temporarily",
    400: "Bad Request", 404: "Not Found", 408: "Request Timeout",
    481: "Call/Transaction Does Not Exist", 486: "Busy Here", 487: "Request Terminated",
    491: "Request Pending", 500: "Server Internal Error", 503: "Service Unavailable",
    600: "Busy Everywhere", 603: "Decline",
}
_CLASS = {1: "Provisional", 2: "Success", 3: "Redirection", 4: "Client Error",
          5: "Server Error", 6: "Global Failure"}

Headers = Sequence[tuple[str, str]]


def reason(status: int) -> str:
    """The reason phrase the UA core writes for ``status`` (21)."""
    return REASONS.get(status, _CLASS[status // 100])


def _write(start: str, headers: Headers, body: bytes) -> bytes:
    lines = [start, *(f"{name}: {value}" for name, value in headers),
             f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body


def request(method: str, request_uri: str, headers: Headers, body: bytes = b"",
            *, strict: bool = True) -> Request:
    """A request: the start line (7.1), the header fields in order, Content-Length, body."""
    msg = parse(_write(f"{method} {request_uri} SIP/2.0", headers, body), strict=strict)
    assert isinstance(msg, Request)
    return msg


def response(req: Any, status: int, *, to_tag: str | None = None, headers: Headers = (),
             record_route: bool = False, body: bytes = b"", strict: bool = True) -> Response:
    """A response to ``req`` per 8.2.6.2: Via (all values, in order), From, Call-ID and CSeq
    copied; To copied, with ``to_tag`` added when it has no tag yet. ``record_route`` copies
    the Record-Route values too (12.1.1: responses that create a dialog)."""
    copied: list[tuple[str, str]] = [("Via", v) for v in req.get_all("Via")]
    to = req.get("To") or ""
    if to_tag and (req.to is None or not req.to.tag):
        to = f"{to};tag={to_tag}"
    copied += [("From", req.get("From") or ""), ("To", to),
               ("Call-ID", req.get("Call-ID") or ""), ("CSeq", req.get("CSeq") or "")]
    if record_route:
        copied += [("Record-Route", v) for v in req.get_all("Record-Route")]
    msg = parse(_write(f"SIP/2.0 {status} {reason(status)}", [*copied, *headers], body),
                strict=strict)
    assert isinstance(msg, Response)
    return msg
