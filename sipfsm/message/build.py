"""Builders of SIP messages that follow RFC 3261: requests (8.1.1), requests within a dialog
(12.2.1.1, the ACK of a 2xx of 13.2.2.4 among them), responses (8.2.6), the ACK of a non-2xx
final response (17.1.1.3) and CANCEL (9.1).

Each builder writes the message canonically and parses it back strictly, so it returns a real
:class:`sipfsm.Request` / :class:`sipfsm.Response` and can never return something the grammar
rejects. Impossible messages (a response to ACK, a status outside 100-699, a CANCEL of an
ACK, ...) raise ValueError. Randomness (branch, tag, Call-ID) comes from ``rng``: pass a
seeded ``random.Random`` for deterministic tests; the default is ``random.SystemRandom``,
which gives the cryptographic randomness 19.3 asks of tags.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sipfsm.message.constants import MAGIC_COOKIE, REASONS, SIP_VERSION
from sipfsm.message.serialize import header_items, write
from sipfsm.message.split import split_name_addr
from sipfsm.message.uri import URI

if TYPE_CHECKING:  # pragma: no cover
    from sipfsm.message.message import Request, Response

__all__ = [
    "build_ack",
    "build_cancel",
    "build_in_dialog",
    "build_request",
    "build_response",
]

#: Methods whose requests can establish a dialog, so need a Contact (8.1.1.8; RFC 3515, 6665).
_DIALOG_METHODS = frozenset({"INVITE", "SUBSCRIBE", "REFER", "NOTIFY"})


def _rand(rng: random.Random, bits: int = 64) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def _branch(rng: random.Random) -> str:
    """A fresh branch: the magic cookie and a random token (8.1.1.7)."""
    return MAGIC_COOKIE + _rand(rng)


def _rng(rng: random.Random | None) -> random.Random:
    return rng if rng is not None else random.SystemRandom()


def _addr(value: str | URI) -> str:
    """A name-addr value: a URI becomes ``<uri>`` (20.10: always safe with brackets)."""
    return f"<{value}>" if isinstance(value, URI) else value


def _has_tag(value: str) -> bool:
    _, _, params = split_name_addr(value)
    return any(n.lower() == "tag" for n, _ in params)


def _parse(data: bytes) -> Request | Response:
    from sipfsm.message.parse import parse

    return parse(data, strict=True)


def build_request(
    method: str,
    uri: str | URI,
    *,
    from_: str | URI,
    to: str | URI | None = None,
    call_id: str | None = None,
    cseq: int = 1,
    sent_by: str = "127.0.0.1",
    transport: str = "UDP",
    branch: str | None = None,
    contact: str | URI | None = None,
    max_forwards: int = 70,
    route: Sequence[str | URI] = (),
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
    rng: random.Random | None = None,
) -> Request:
    """A new request outside a dialog, per section 8.1.1: Request-URI (8.1.1.1), To (8.1.1.2,
    defaults to the Request-URI), From with a fresh tag (8.1.1.3), a fresh Call-ID (8.1.1.4),
    CSeq (8.1.1.5), Max-Forwards 70 (8.1.1.6), one Via with a fresh ``z9hG4bK`` branch
    (8.1.1.7; or ``branch``, which must start with it), Contact for dialog-creating methods
    (8.1.1.8; derived from From and ``sent_by`` when not given), optional Route set, extra
    headers, body with Content-Type and Content-Length.

    >>> import random
    >>> r = build_request("INVITE", "sip:bob@biloxi.example.com",
    ...                   from_="sip:alice@atlanta.example.com", rng=random.Random(1))
    >>> r.via[0].branch.startswith("z9hG4bK"), r.from_.tag is not None, r.max_forwards
    (True, True, 70)
    """
    if method in ("ACK", "CANCEL"):
        raise ValueError(f"build {method} with build_{method.lower()} (17.1.1.3, 9.1)")
    r = _rng(rng)
    ruri = URI.parse(str(uri))
    from_v = _addr(from_)
    if not _has_tag(from_v):
        from_v += f";tag={_rand(r, 32)}"
    # drawn before the Call-ID: seeds give what they gave
    branch = branch or _branch(r)
    host = sent_by.split(":")[0].strip("[]") or "host"
    return _compose(
        method,
        ruri,
        to=_addr(to) if to is not None else f"<{ruri}>",
        from_=from_v,
        call_id=call_id or f"{_rand(r, 96)}@{host}",
        cseq=cseq,
        sent_by=sent_by,
        transport=transport,
        branch=branch,
        contact=contact,
        max_forwards=max_forwards,
        route=route,
        headers=headers,
        body=body,
        content_type=content_type,
        rng=r,
    )


def build_in_dialog(
    method: str,
    uri: str | URI,
    *,
    to: str,
    from_: str,
    call_id: str,
    cseq: int,
    route: Sequence[str | URI] = (),
    sent_by: str = "127.0.0.1",
    transport: str = "UDP",
    branch: str | None = None,
    contact: str | URI | None = None,
    max_forwards: int = 70,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
    rng: random.Random | None = None,
) -> Request:
    """A request within a dialog, per section 12.2.1.1, from the parts the dialog state gives
    (:meth:`sipfsm.ua.dialog.Dialog.request` computes them): Request-URI and Route (loose or
    strict routing), To with the remote tag, From with the local tag, the Call-ID, the CSeq;
    then, as for any request, Max-Forwards and one Via with a new branch (8.1.1.6, 8.1.1.7)
    and Contact for a target refresh (INVITE ...: 8.1.1.8, 12.2.1.1).

    An ACK is allowed: the ACK of a 2xx is a request within the dialog with the INVITE's CSeq
    number (13.2.2.4). A CANCEL is not (9.1: :func:`build_cancel`), nor To or From without a
    tag (12: the dialog ID).
    """
    if method == "CANCEL":
        raise ValueError("a CANCEL copies its request: build_cancel (9.1)")
    if not (_has_tag(to) and _has_tag(from_)):
        raise ValueError("within a dialog To and From carry the dialog's tags (12.2.1.1)")
    return _compose(
        method,
        URI.parse(str(uri)),
        to=to,
        from_=from_,
        call_id=call_id,
        cseq=cseq,
        sent_by=sent_by,
        transport=transport,
        branch=branch,
        contact=contact,
        max_forwards=max_forwards,
        route=route,
        headers=headers,
        body=body,
        content_type=content_type,
        rng=_rng(rng),
    )


def _compose(
    method: str,
    ruri: URI,
    *,
    to: str,
    from_: str,
    call_id: str,
    cseq: int,
    sent_by: str,
    transport: str,
    branch: str | None,
    contact: str | URI | None,
    max_forwards: int,
    route: Sequence[str | URI],
    headers: Sequence[tuple[str, str]],
    body: bytes,
    content_type: str | None,
    rng: random.Random,
) -> Request:
    """Write a request from its parts (8.1.1) and parse it back strictly."""
    if not 0 <= max_forwards <= 255:
        raise ValueError("Max-Forwards must be 0-255 (20.22)")
    if cseq < 0 or cseq >= 2**31:
        raise ValueError("CSeq sequence number must be below 2**31 (8.1.1.5)")
    if branch is not None and not branch.startswith(MAGIC_COOKIE):
        raise ValueError(f"a branch starts with {MAGIC_COOKIE} (8.1.1.7)")
    pairs: list[tuple[str, str]] = [
        ("Via", f"{SIP_VERSION}/{transport} {sent_by};branch={branch or _branch(rng)}"),
        ("Max-Forwards", str(max_forwards)),
        *[("Route", _addr(x)) for x in route],
        ("To", to),
        ("From", from_),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} {method}"),
    ]
    if contact is not None:
        pairs.append(("Contact", _addr(contact)))
    elif method in _DIALOG_METHODS:
        _, furi, _ = split_name_addr(from_)
        user = URI.parse(furi).user
        pairs.append(("Contact", f"<sip:{user + '@' if user else ''}{sent_by}>"))
    pairs += list(headers)
    if content_type is not None:
        pairs.append(("Content-Type", content_type))
    elif body:
        raise ValueError("a body needs a Content-Type (7.4.1)")
    msg = _parse(write(f"{method} {ruri} {SIP_VERSION}", pairs, body))
    assert hasattr(msg, "method")
    return msg  # type: ignore[return-value]


def build_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    contact: str | URI | None = None,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
    rng: random.Random | None = None,
) -> Response:
    """A response to ``request`` per section 8.2.6: the Via values, From, Call-ID and CSeq
    copied (8.2.6.2), To copied with a fresh tag added when it has none, except for 100
    (8.2.6.2); Timestamp copied into a 100 (8.2.6.1); Record-Route copied into 101-299
    responses (12.1.1). Raises ValueError for a response to ACK (17.1.1.3, ACK has no
    response) or a status outside 100-699 (21).

    >>> import random, sipfsm
    >>> req = build_request("OPTIONS", "sip:b@b.example.com", from_="sip:a@a.example.com",
    ...                     rng=random.Random(2))
    >>> resp = build_response(req, 200, rng=random.Random(3))
    >>> resp.status, resp.to.tag is not None, resp.call_id == req.call_id
    (200, True, True)
    """
    if request.method == "ACK":
        raise ValueError("ACK is never answered (17.1.1.3, 17.2.1): no response to build")
    if not 100 <= status <= 699:
        raise ValueError(f"status {status} is outside 100-699 (7.2, 21)")
    pairs: list[tuple[str, str]] = []
    for h in request.headers:
        name = h.canonical
        if (
            name in ("Via", "From", "Call-ID", "CSeq")
            or (name == "Record-Route" and 101 <= status <= 299)
            or (name == "Timestamp" and status == 100)
        ):
            pairs += [(name, v) for v in header_items(h)]
        elif name == "To":
            value = h.value
            if status != 100 and not _has_tag(value):
                value += f";tag={to_tag or _rand(_rng(rng), 32)}"
            pairs.append(("To", value))
    if contact is not None:
        pairs.append(("Contact", _addr(contact)))
    pairs += list(headers)
    if content_type is not None:
        pairs.append(("Content-Type", content_type))
    elif body:
        raise ValueError("a body needs a Content-Type (7.4.1)")
    why = REASONS.get(status, "") if reason is None else reason
    msg = _parse(write(f"{SIP_VERSION} {status} {why}", pairs, body))
    assert hasattr(msg, "status")
    return msg  # type: ignore[return-value]


def _top_via(request: Request) -> str:
    for h in request.headers:
        if h.canonical == "Via":
            return header_items(h)[0]
    raise ValueError("the request has no Via (8.1.1.7)")


def build_ack(request: Request, response: Response) -> Request:
    """The ACK for a non-2xx final response to an INVITE, per section 17.1.1.3: same
    Request-URI, Call-ID, From and CSeq number as the INVITE, CSeq method ACK, To from the
    response (with its tag), one Via equal to the INVITE's top Via, the INVITE's Route headers.
    Raises ValueError for anything but an INVITE and a 300-699 response (the ACK of a 2xx is
    the UA core's, 13.2.2.4)."""
    if request.method != "INVITE":
        raise ValueError("only INVITE transactions are ACKed (17.1.1.3)")
    if not 300 <= response.status <= 699:
        raise ValueError("17.1.1.3 builds the ACK of a 300-699 response only (2xx: 13.2.2.4)")
    cseq = request.cseq
    if cseq is None or response.to is None:
        raise ValueError("INVITE without CSeq or response without To (8.1.1)")
    pairs: list[tuple[str, str]] = [("Via", _top_via(request))]
    for h in request.headers:
        if h.canonical in ("Route", "Max-Forwards", "Call-ID", "From"):
            pairs += [(h.canonical, v) for v in header_items(h)]
    pairs.append(("To", response.get("To") or ""))
    pairs.append(("CSeq", f"{cseq.seq} ACK"))
    msg = _parse(write(f"ACK {request.uri} {SIP_VERSION}", pairs, b""))
    return msg  # type: ignore[return-value]


def build_cancel(request: Request) -> Request:
    """The CANCEL of ``request``, per section 9.1: same Request-URI, Call-ID, To, From and CSeq
    number, CSeq method CANCEL, one Via equal to the request's top Via, its Route headers.
    Raises ValueError for ACK and CANCEL, which cannot be cancelled (9.1)."""
    if request.method in ("ACK", "CANCEL"):
        raise ValueError(f"a {request.method} cannot be cancelled (9.1)")
    cseq = request.cseq
    if cseq is None:
        raise ValueError("request without CSeq (8.1.1.5)")
    pairs: list[tuple[str, str]] = [("Via", _top_via(request))]
    for h in request.headers:
        if h.canonical in ("Route", "Max-Forwards", "To", "From", "Call-ID"):
            pairs += [(h.canonical, v) for v in header_items(h)]
    pairs.append(("CSeq", f"{cseq.seq} CANCEL"))
    msg = _parse(write(f"CANCEL {request.uri} {SIP_VERSION}", pairs, b""))
    return msg  # type: ignore[return-value]
