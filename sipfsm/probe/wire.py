"""Messages the probe sends, written byte by byte (RFC 3261 8.1.1, 17.1.1.3, 13.2.2.4, 9.1,
8.2.6), and what it makes of what it receives.

The probe writes its own requests rather than using a UA: a property test must be able to send
exactly one retransmission, withhold an ACK, or send a request the RFC forbids. Every request
carries a fresh branch (8.1.1.7), Call-ID (8.1.1.4) and From tag (8.1.1.3), and each check
its own From user and source port (:class:`Local`), so the exchanges of concurrent checks never
meet in the target.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sipfsm.errors import ParseError
from sipfsm.message.constants import DEFAULT_PORT, MAGIC_COOKIE, REASONS
from sipfsm.message.headers import Via
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.message.serialize import header_items
from sipfsm.probe import sdp

__all__ = ["Call", "Local", "Msg", "branch", "hostport", "response_to", "summary", "token"]


def token(n: int = 6) -> str:
    """A random token (19.3: tags and Call-IDs must be globally unique)."""
    return secrets.token_hex(n)


def branch() -> str:
    """A fresh RFC 3261 branch (8.1.1.7: starts with the magic cookie)."""
    return MAGIC_COOKIE + "sfp" + token(8)


def hostport(host: str, port: int | None) -> str:
    """``host:port`` as 17.1.3 compares a sent-by: the host without case, the port 5060 when
    absent (18.1.1 and 19.1.2: the default of SIP over UDP and TCP)."""
    return f"{host.lower()}:{port if port is not None else DEFAULT_PORT}"


@dataclass(frozen=True, slots=True)
class Local:
    """Our side of an exchange: where the target reaches us (Via sent-by, Contact)."""

    transport: str  # "udp" or "tcp"
    host: str
    port: int
    contact_port: int | None = None  # TCP: our listener (the Via carries the connection's)
    #: Our user in From and Contact (8.1.1.3): each check has its own (issue 13, defect 4).
    user: str = "probe"

    @property
    def sent_by(self) -> str:
        """The sent-by of our Via, as :func:`hostport` writes it."""
        return hostport(self.host, self.port)

    @property
    def contact(self) -> str:
        """Our Contact URI."""
        port = self.contact_port or self.port
        suffix = ";transport=tcp" if self.transport == "tcp" else ""
        return f"sip:{self.user}@{self.host}:{port}{suffix}"


@dataclass(frozen=True, slots=True)
class Msg:
    """One message received (or sent), parsed when possible."""

    t: float
    data: bytes
    transport: str
    peer: tuple[str, int]
    msg: Request | Response | None
    error: str | None = None

    @classmethod
    def of(cls, t: float, data: bytes, transport: str, peer: tuple[str, int]) -> Msg:
        """Parse ``data`` leniently; keep the error when it does not parse."""
        try:
            return cls(t, data, transport, peer, parse(data))
        except ParseError as exc:
            return cls(t, data, transport, peer, None, exc.code)

    @property
    def response(self) -> Response | None:
        """The message if it is a response."""
        return self.msg if isinstance(self.msg, Response) else None

    @property
    def request(self) -> Request | None:
        """The message if it is a request."""
        return self.msg if isinstance(self.msg, Request) else None

    @property
    def status(self) -> int:
        """Its status code (0 for a request or an unparsable message)."""
        r = self.response
        return r.status if r is not None else 0

    @property
    def method(self) -> str:
        """Its method (the CSeq method for a response)."""
        if isinstance(self.msg, Request):
            return self.msg.method
        cseq = _quiet(lambda: self.msg.cseq if self.msg is not None else None)
        return cseq.method if cseq is not None else "?"

    @property
    def to_tag(self) -> str | None:
        """The To tag."""
        to = _quiet(lambda: self.msg.to if self.msg is not None else None)
        return to.tag if to is not None else None

    @property
    def top_via(self) -> str | None:
        """The text of the top Via value (17.1.3 matches on it alone): the first item of the
        first Via line."""
        msg = self.msg
        first = next((h for h in msg.headers if h.canonical == "Via"), None) if msg else None
        return header_items(first)[0] if first is not None else None

    def _top_via_view(self) -> Via | None:
        """The top Via through the message's Via view; when some Via value breaks the ABNF,
        the top value read on its own (None when that one breaks it too)."""
        vias = _quiet(lambda: self.msg.via if self.msg is not None else None)
        if vias:
            return vias[0]
        top = self.top_via
        return _quiet(lambda: _lone_via(top)) if top is not None else None

    @property
    def branch(self) -> str | None:
        """The top Via's branch: read through the Via view, or, when the value breaks the ABNF
        (a torture request's Via that the peer echoes, 8.2.6.2), found in its text."""
        via = self._top_via_view()
        if via is not None:
            return via.branch
        top = self.top_via
        if top is None:
            return None
        found = _BRANCH_TEXT.search(top)
        return found.group(1) if found else None

    @property
    def sent_by(self) -> str | None:
        """The top Via's sent-by, as :func:`hostport` writes it (found in the text when the
        value breaks the ABNF, as for :attr:`branch`)."""
        via = self._top_via_view()
        if via is not None:
            return hostport(via.host, via.port)
        top = self.top_via
        if top is None:
            return None
        found = _SENT_BY_TEXT.match(top)
        if found is None:
            return None
        port = found.group(2)
        return hostport(found.group(1), int(port) if port and len(port) <= 5 else None)

    @property
    def call_id(self) -> str | None:
        """Its Call-ID."""
        return _quiet(lambda: self.msg.call_id if self.msg is not None else None)

    def summary(self) -> str:
        """One line for traces and ladders."""
        return summary(self.data, self.msg)


T = TypeVar("T")


def _lone_via(value: str) -> Via | None:
    """One ``via-parm`` read on its own (raises ParseError when it breaks the ABNF)."""
    vias = parse(f"SIP/2.0 100 Trying\r\nVia: {value}\r\n\r\n".encode()).via
    return vias[0] if vias else None


#: The branch and sent-by of a Via value that breaks the ABNF, found in its text (20.42).
_BRANCH_TEXT = re.compile(r";[ \t]*branch[ \t]*=[ \t]*([^;, \t]+)", re.IGNORECASE)
_SENT_BY_TEXT = re.compile(
    r"SIP[ \t]*/[ \t]*[^/]+/[ \t]*\S+[ \t]+(\[[^\]]*\]|[^:;, \t]+)(?::(\d+))?", re.I
)


def _quiet(get: Callable[[], T | None]) -> T | None:
    """A typed view, or None when its header breaks the ABNF (views parse lazily)."""
    try:
        return get()
    except (ParseError, ValueError, IndexError):
        return None


def summary(data: bytes, msg: Request | Response | None = None) -> str:
    """``INVITE sip:x`` / ``404 Not Found (INVITE)`` / ``unparsable (code)``."""
    if msg is None:
        try:
            msg = parse(data)
        except ParseError:
            first = data.split(b"\r\n", 1)[0][:60].decode("latin-1")
            return f"malformed: {first}"
    m = msg
    cseq = _quiet(lambda: m.cseq)
    if isinstance(msg, Request):
        return f"{msg.method} {str(msg.uri)[:48]}" + (f" (CSeq {cseq.seq})" if cseq else "")
    method = cseq.method if cseq else "?"
    to = _quiet(lambda: m.to)
    tag = to.tag if to is not None else None
    return f"{msg.status} {msg.reason} ({method})" + (f" tag={tag[:10]}" if tag else "")


def _lines(start: str, headers: Sequence[tuple[str, str]], body: bytes = b"") -> bytes:
    out = [start, *(f"{k}: {v}" for k, v in headers), f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(out).encode() + body


@dataclass
class Call:
    """The identifiers of one exchange of ours (8.1.1): Request-URI, Call-ID, From tag,
    CSeq, and the branch of the transaction in progress."""

    ruri: str
    local: Local
    call_id: str = field(default_factory=lambda: f"sfp-{token(8)}@sipfsm.probe")
    from_tag: str = field(default_factory=token)
    cseq: int = 1
    branch: str = field(default_factory=branch)
    #: Route set and remote target once a 2xx made a dialog (12.1.2).
    route: list[str] = field(default_factory=list)
    remote_target: str | None = None
    remote_tag: str | None = None
    #: The branch of the latest request sent of each method: its client transaction (17.1.3).
    branches: dict[str, str] = field(default_factory=dict)
    #: The session description offered in our INVITEs (13.2.1); empty: no offer.
    offer: bytes = b""

    def matches(self, m: Msg, method: str) -> bool:
        """17.1.3: whether ``m`` is a response of our latest ``method`` client transaction:
        the top Via's branch is that request's, its sent-by ours, and the CSeq method
        ``method`` (a CANCEL has the INVITE's branch: the method tells them apart). The
        Call-ID plays no part."""
        br = self.branches.get(method)
        return (
            br is not None
            and m.response is not None
            and m.branch == br
            and m.sent_by == self.local.sent_by
            and m.method == method
        )

    def _via(self, br: str) -> str:
        return (
            f"SIP/2.0/{self.local.transport.upper()} {self.local.host}:{self.local.port}"
            f";branch={br};rport"
        )

    def _from(self) -> str:
        return f"<sip:{self.local.user}@{self.local.host}:{self.local.port}>;tag={self.from_tag}"

    def _to(self, tag: str | None = None) -> str:
        uri = self.ruri
        return f"<{uri}>" + (f";tag={tag}" if tag else "")

    def request(
        self,
        method: str,
        *,
        extra: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        new_branch: bool = True,
    ) -> bytes:
        """A request outside any dialog (8.1.1): INVITE, OPTIONS, REGISTER, MESSAGE."""
        if new_branch:
            self.branch = branch()
        self.branches[method] = self.branch
        if method == "INVITE" and self.offer and not body:  # 13.2.1: the offer, every copy
            body, extra = self.offer, [*extra, ("Content-Type", sdp.MIME)]
        headers = [
            ("Via", self._via(self.branch)),
            ("Max-Forwards", "70"),
            ("From", self._from()),
            ("To", self._to()),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self.cseq} {method}"),
            ("Contact", f"<{self.local.contact}>"),
            ("User-Agent", "sipfsm-probe"),
            *extra,
        ]
        return _lines(f"{method} {self.ruri} SIP/2.0", headers, body)

    def ack_non_2xx(self, resp: Response) -> bytes:
        """17.1.1.3: the ACK of a non-2xx final response: the INVITE's Request-URI, Call-ID,
        From, CSeq number and top Via (same branch), the response's To (with its tag)."""
        headers = [
            ("Via", self._via(self.branch)),
            ("Max-Forwards", "70"),
            ("From", self._from()),
            ("To", resp.get("To") or self._to()),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self.cseq} ACK"),
        ]
        return _lines(f"ACK {self.ruri} SIP/2.0", headers)

    def dialog_from(self, resp: Response) -> None:
        """12.1.2: remote target from the 2xx's Contact, route set from its Record-Route
        (reversed), remote tag from its To."""
        contacts = [c for c in resp.contact if hasattr(c, "uri")]
        self.remote_target = str(contacts[0].uri) if contacts else self.ruri
        self.route = list(reversed(resp.get_all("Record-Route")))
        self.remote_tag = resp.to.tag if resp.to is not None else None

    def ack_2xx(self, resp: Response) -> bytes:
        """13.2.2.4: the ACK of a 2xx (the dialog taken from it first, 12.1.2): the INVITE's
        CSeq number, a new branch, and the answer when the 2xx carries the offer (we made
        none)."""
        self.dialog_from(resp)
        if self.offer or not sdp.carries_sdp(resp):
            return self.in_dialog("ACK", cseq=self.cseq)
        return self.in_dialog("ACK", cseq=self.cseq, body=sdp.answer(resp.body, self.local.host))

    def in_dialog(self, method: str, cseq: int | None = None, body: bytes = b"") -> bytes:
        """12.2.1.1 / 13.2.2.4: a request within the dialog; an ACK of a 2xx has the INVITE's
        CSeq number and a new branch. ``body``: a session description."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        br = branch()
        if method != "ACK":
            self.branch = br
            self.branches[method] = br
        target = self.remote_target or self.ruri
        route = list(self.route)
        if route and ";lr" not in route[0]:  # 12.2.1.1 strict routing: first route is R-URI
            target, route = route[0].strip("<>"), [*route[1:], f"<{target}>"]
        headers = [
            ("Via", self._via(br)),
            ("Max-Forwards", "70"),
            *(("Route", r) for r in route),
            ("From", self._from()),
            ("To", self._to(self.remote_tag)),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
            *([("Content-Type", sdp.MIME)] if body else []),
        ]
        return _lines(f"{method} {target} SIP/2.0", headers, body)

    def cancel(self) -> bytes:
        """9.1: Request-URI, Call-ID, To, From, CSeq number and top Via of the INVITE."""
        self.branches["CANCEL"] = self.branch
        headers = [
            ("Via", self._via(self.branch)),
            ("Max-Forwards", "70"),
            ("From", self._from()),
            ("To", self._to()),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self.cseq} CANCEL"),
        ]
        return _lines(f"CANCEL {self.ruri} SIP/2.0", headers)


def response_to(
    req: Request,
    status: int,
    *,
    to_tag: str | None = None,
    contact: str | None = None,
    reason: str | None = None,
) -> bytes:
    """8.2.6.2: a response copying Via (all), From, Call-ID, CSeq; To with ``to_tag`` added
    (unless it has one, or the response is a 100)."""
    headers = [("Via", v) for v in req.get_all("Via")]
    to = req.get("To") or ""
    if to_tag and status != 100 and (req.to is None or not req.to.tag):
        to = f"{to};tag={to_tag}"
    headers += [
        ("From", req.get("From") or ""),
        ("To", to),
        ("Call-ID", req.get("Call-ID") or ""),
        ("CSeq", req.get("CSeq") or ""),
    ]
    if 200 <= status < 300:
        headers += [("Record-Route", rr) for rr in req.get_all("Record-Route")]
    if contact:
        headers.append(("Contact", f"<{contact}>"))
    phrase = reason or REASONS.get(status, "Probe")
    return _lines(f"SIP/2.0 {status} {phrase}", headers)
