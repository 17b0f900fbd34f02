"""UAS behaviour (RFC 3261 section 8.2): the checks a request passes before the UA core.

A UAS looks at a request in the order of section 8.2 before any dialog or session sees it:
the method (8.2.1: 405 with an Allow header, 501 for a method it does not know), the
Request-URI scheme (8.2.2.1: 416), merged requests (8.2.2.2: 482), extensions in Require
(8.2.2.3: 420 listing them in Unsupported), the body (8.2.3: 415); a header whose value breaks
its ABNF is answered 400 (21.4.1), a message that does not parse at all 400, or 505 for
another SIP version (21.5.7; RFC 4475 3.1.2). Each such answer is sent statelessly (8.2.6).

The rules themselves are :func:`sipfsm.message.validate.validate`'s; this module decides what
a UAS does with them, sans-IO:

* :func:`screen` takes a parsed :class:`~sipfsm.message.message.Request` and returns the
  :class:`Rejection` to send, or None when the request goes on to the UA core;
* :func:`rejection` builds that response (None for an ACK, which is never answered, 17.1.1.3);
* :func:`unparsable` is the answer to bytes that do not parse, copied from their text;
* :class:`UasBehaviour` puts these in front of a :class:`~sipfsm.ua.core.UA`, as an element
  with the UA's own shape (``receive``, ``drain``, ``get_timer``, ``handle_timer``) that
  :class:`sipfsm.net.server.Server` binds to sockets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sipfsm.errors import ParseError
from sipfsm.message.build import build_response
from sipfsm.message.constants import REASONS
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.message.validate import Finding, validate
from sipfsm.message.views import canonical_name
from sipfsm.ua.core import UA

__all__ = ["UA_METHODS", "Rejection", "UasBehaviour", "rejection", "screen", "unparsable"]

#: The methods the UA core implements (8.2.1): what ``Allow`` lists in a 405.
UA_METHODS: tuple[str, ...] = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS")
#: The To tag of the UAS's stateless rejections (8.2.6.2: a response adds one).
REJECT_TAG = "refrej"

Message = Request | Response


@dataclass(frozen=True, slots=True)
class Rejection:
    """A response the UAS sends statelessly instead of passing the request on (8.2)."""

    status: int
    #: Header fields the rule requires: ``Unsupported`` for 420 (8.2.2.3), ``Allow`` for 405
    #: (8.2.1).
    headers: tuple[tuple[str, str], ...] = ()
    #: Where the RFC says so.
    section: str = ""
    #: A header field breaks its ABNF: the response is copied from the request's text.
    textual: bool = False


def screen(req: Request, *, methods: Sequence[str] = UA_METHODS) -> Rejection | None:
    """The :class:`Rejection` 8.2 prescribes for ``req``, or None to pass it to the UA core.

    The first ``reject`` finding of :func:`~sipfsm.message.validate.validate` decides; an ACK
    is never rejected for a finding (it is never answered, 17.1.1.3), but an ACK whose header
    fields do not parse goes no further either.
    """
    try:  # validate reads every header it judges, the Via that routes the response too
        findings = validate(req, "uas", methods=methods)
    except ParseError:  # a header's value breaks its ABNF: 400 (21.4.1)
        return Rejection(400, section="21.4.1", textual=True)
    if req.method == "ACK":
        return None
    for finding in findings:
        if finding.action == "reject" and finding.response:
            return Rejection(finding.response, _required_headers(finding, methods), finding.section)
    return None


def _required_headers(finding: Finding, methods: Sequence[str]) -> tuple[tuple[str, str], ...]:
    if finding.response == 420 and finding.unsupported:  # 8.2.2.3: list what is not supported
        return (("Unsupported", ", ".join(finding.unsupported)),)
    if finding.response == 405:  # 8.2.1: a 405 MUST list the methods supported
        return (("Allow", ", ".join(methods)),)
    return ()


def rejection(req: Request, rej: Rejection, to_tag: str = REJECT_TAG) -> bytes | None:
    """The bytes of the response ``rej`` to ``req`` (8.2.6), or None for an ACK."""
    if req.method == "ACK":
        return None
    if not rej.textual:
        try:
            return build_response(req, rej.status, to_tag=to_tag, headers=rej.headers).raw
        except (ParseError, ValueError):  # a copied header field does not parse after all
            pass
    return stateless_copy(req.raw, rej.status)


def unparsable(data: bytes, error: ParseError) -> bytes | None:
    """The answer to bytes that do not parse as SIP (RFC 4475 3.1.2): 505 when the version
    is not SIP/2.0 (21.5.7), else 400 (21.4.1); None when no response can be addressed."""
    return stateless_copy(data, 505 if error.code == "bad-version" else 400)


#: One header field line: its name, and its value after the colon.
_FIELD = re.compile(rb"^([^\s:]+)[ \t]*:[ \t]*(.*)$")
#: The fields a response copies from its request (8.2.6.2).
_COPIED = ("Via", "From", "To", "Call-ID", "CSeq")
_SENT_BY = re.compile(rb"SIP/2\.0/\w+\s+\S")


def stateless_copy(data: bytes, status: int) -> bytes | None:
    """A response with the Via, From, To, Call-ID and CSeq lines of ``data`` copied as text
    (8.2.6.2), for a request whose fields cannot all be read; None for a response (RFC 4475
    3.1.2.19: dropped) or when no Via says where to send it (18.2.2)."""
    lines = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    if not lines or lines[0].startswith(b"SIP/"):
        return None
    kept: list[bytes] = []
    have_via = False
    for line in lines[1:]:
        m = _FIELD.match(line)
        name = canonical_name(m.group(1).decode("latin-1")) if m else ""
        if m is None or name not in _COPIED:
            continue
        if name == "Via":
            if not _SENT_BY.search(m.group(2)):
                continue
            have_via = True
        kept.append(name.encode() + b": " + m.group(2))
    if not have_via:
        return None
    reason = REASONS.get(status, "").encode()
    return (
        b"SIP/2.0 %d %s\r\n" % (status, reason)
        + b"\r\n".join(kept)
        + b"\r\nContent-Length: 0\r\n\r\n"
    )


class UasBehaviour:
    """A :class:`~sipfsm.ua.core.UA` behind the checks of 8.2, sans-IO, in the UA's shape.

    A request :func:`screen` rejects is answered here (:func:`rejection`) and never reaches
    the UA; every other message goes to it parsed, as it arrived. ``receive`` takes bytes;
    ``receive_message`` and ``receive_malformed`` take what a transport already parsed, so
    that each datagram is parsed once (:class:`sipfsm.net.server.Server`).
    """

    def __init__(self, ua: UA, *, methods: Sequence[str] = UA_METHODS) -> None:
        self.ua = ua
        self.methods = tuple(methods)
        #: The stateless responses of 8.2 not yet taken by :meth:`drain`.
        self.outbox: list[bytes] = []

    def receive(self, data: bytes, now: float) -> None:
        """A datagram arrives (18.1.2, 18.2.1): parse it once and handle it."""
        try:
            msg = parse(data, strict=self.ua.strict)
        except ParseError as exc:
            self.receive_malformed(data, exc, now)
            return
        self.receive_message(msg, now)

    def receive_malformed(self, data: bytes, error: ParseError, now: float) -> None:
        """Bytes that do not parse: the stateless answer of RFC 4475 3.1.2, if any."""
        answer = unparsable(data, error)
        if answer is not None:
            self.outbox.append(answer)

    def receive_message(self, msg: Message, now: float) -> None:
        """A parsed message: a request passes :func:`screen` first, then the UA has it."""
        if isinstance(msg, Request):
            rej = screen(msg, methods=self.methods)
            if rej is not None:
                answer = rejection(msg, rej)
                if answer is not None:
                    self.outbox.append(answer)
                return
        deliver(self.ua, msg, now)

    def drain(self) -> list[bytes]:
        """The bytes to send, in order: the stateless answers, then the UA's."""
        out, self.outbox = self.outbox, []
        return out + self.ua.drain()

    def get_timer(self) -> float | None:
        """The UA's next deadline (the stateless answers keep no state, 8.2.6)."""
        return self.ua.get_timer()

    def handle_timer(self, now: float) -> None:
        """Fire the UA's timers due by ``now``."""
        self.ua.handle_timer(now)


def deliver(ua: UA, msg: Message, now: float) -> None:
    """Hand a parsed message to the UA core without parsing it again."""
    ua.receive_message(msg, now)
