"""Semantic checks: what is syntactically valid SIP but wrong for a UA, proxy or registrar
(RFC 3261 sections 8.1.1, 8.2, 10.3, 16.3, 17.2.3, 18.2; RFC 4475 section 3.3).

:func:`validate` returns a list of :class:`Finding`: each has a stable ``code``, the RFC
section, a reason, what the element does (``action``: ``reject`` with ``response``, ``drop``
silently, or ``note`` = accept and handle as described) and, for 420, the option-tags to list
in Unsupported. An empty list means: process normally.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sipfsm.message.constants import MAGIC_COOKIE
from sipfsm.message.headers import Wildcard
from sipfsm.message.message import Message, Request, Response

__all__ = ["Finding", "Role", "validate"]

Role = Literal["uas", "proxy", "registrar"]
Action = Literal["reject", "drop", "note"]

#: Headers that may appear at most once (everything not a comma list, 7.3.1); the ones an
#: element must read to process a request.
_SINGLE = ("To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Type", "Expires")
_MANDATORY_REQUEST = ("To", "From", "CSeq", "Call-ID", "Via")
_MANDATORY_RESPONSE = ("Via", "From", "To", "Call-ID", "CSeq")
#: The methods of RFC 3261 and its extensions this library knows (a request with another
#: method is answered 501, 8.2.1); ``sipfsm.testing.strategies`` draws its methods from here too.
KNOWN_METHODS: tuple[str, ...] = (
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "OPTIONS",
    "REGISTER",
    "INFO",  # RFC 6086
    "PRACK",  # RFC 3262
    "SUBSCRIBE",  # RFC 6665
    "NOTIFY",
    "REFER",  # RFC 3515
    "MESSAGE",  # RFC 3428
    "UPDATE",  # RFC 3311
    "PUBLISH",  # RFC 3903
)
_KNOWN_METHODS = frozenset(KNOWN_METHODS)
_BROADCAST = "255.255.255.255"


@dataclass(frozen=True)
class Finding:
    """One semantic problem of a message, for one role.

    ``code``: stable kebab-case name; ``section``: where RFC 3261 (or RFC 4475) says so;
    ``reason``: one line for people; ``action``: ``reject`` (send ``response``), ``drop``
    (discard silently) or ``note`` (accept, handling it as described); ``response``: the status
    code to send, or None; ``header``: the header concerned, if any; ``unsupported``: the
    option-tags to list in the Unsupported header of a 420 (8.2.2.3, 16.3 step 5).
    """

    code: str
    section: str
    reason: str
    action: Action = "reject"
    response: int | None = None
    header: str | None = None
    unsupported: tuple[str, ...] = ()


def validate(
    message: Request | Response,
    role: Role = "uas",
    *,
    schemes: Iterable[str] = ("sip", "sips", "tel"),
    supported: Iterable[str] = (),
    content_types: Iterable[str] = ("application/sdp",),
    methods: Iterable[str] = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"),
    authenticate: bool = False,
) -> list[Finding]:
    """Check ``message`` (a :class:`sipfsm.Request` or :class:`sipfsm.Response`) for what an
    element in ``role`` must reject, drop or specially handle.

    ``schemes``: Request-URI schemes the element understands (8.2.2.1, 16.3 step 2);
    ``supported``: option-tags it supports (8.2.2.3); ``content_types``: bodies it accepts and
    produces (8.2.3, 21.4.7); ``methods``: methods a UAS implements (8.2.1; a registrar also
    takes REGISTER); ``authenticate``: whether a registrar challenges (10.3 step 2, 22).

    >>> import sipfsm
    >>> m = sipfsm.parse(b"OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0\\r\\nTo: sip:u@e.com\\r\\n"
    ...     b"From: sip:c@e.net;tag=1\\r\\nMax-Forwards: 3\\r\\nCall-ID: x\\r\\n"
    ...     b"CSeq: 1 OPTIONS\\r\\nVia: SIP/2.0/TCP h;branch=z9hG4bKa\\r\\nl: 0\\r\\n\\r\\n")
    >>> [(f.code, f.response) for f in validate(m)]
    [('unsupported-uri-scheme', 416)]
    """
    if role not in ("uas", "proxy", "registrar"):
        raise ValueError(f"role must be uas, proxy or registrar, not {role!r}")
    if isinstance(message, Request):
        return _request(
            message,
            role,
            {s.lower() for s in schemes},
            {s.lower() for s in supported},
            {c.lower() for c in content_types},
            set(methods),
            authenticate,
        )
    return _response(message, role)


def _count(m: Message, name: str) -> int:
    """Values of ``name``: lines times comma items for list headers; lines otherwise."""
    return sum(1 for h in m.headers if h.canonical == name)


def _common(m: Message, mandatory: tuple[str, ...]) -> list[Finding]:
    out: list[Finding] = []
    missing = [n for n in mandatory if _count(m, n) == 0]
    if missing:
        out.append(
            Finding(
                "missing-mandatory-header",
                "8.1.1; RFC 4475 3.3.1",
                f"missing {', '.join(missing)}",
                "reject",
                400,
                missing[0],
            )
        )
    for name in _SINGLE:
        n = _count(m, name)
        if n > 1:
            out.append(
                Finding(
                    "multiple-values",
                    "7.3.1, 20; RFC 4475 3.3.8",
                    f"{name} appears {n} times but takes one value",
                    "reject",
                    400,
                    name,
                )
            )
    if _count(m, "Content-Length") > 1:
        out.append(
            Finding(
                "multiple-content-length",
                "18.3, 20.14; RFC 4475 3.3.9",
                "several Content-Length values: the message cannot be framed",
                "reject",
                400,
                "Content-Length",
            )
        )
    return out


def _request(
    m: Request,
    role: Role,
    schemes: set[str],
    supported: set[str],
    content_types: set[str],
    methods: set[str],
    authenticate: bool,
) -> list[Finding]:
    method: str = m.method
    uri: str = m.uri
    out = _common(m, _MANDATORY_REQUEST)
    if _count(m, "Max-Forwards") == 0:
        out.append(
            Finding(
                "missing-max-forwards",
                "8.1.1.6, 16.3 step 3; RFC 4475 3.4.1",
                "no Max-Forwards (RFC 2543 request): process as if it were 70",
                "note",
                header="Max-Forwards",
            )
        )
    vias = m.via
    if vias:
        branch = vias[0].branch
        if branch == MAGIC_COOKIE:
            out.append(
                Finding(
                    "branch-without-id",
                    "17.2.3; RFC 4475 3.2.1",
                    "branch is the magic cookie alone: match transactions the RFC 2543 way",
                    "note",
                    header="Via",
                )
            )
        elif branch is None or not branch.startswith(MAGIC_COOKIE):
            out.append(
                Finding(
                    "rfc2543-branch",
                    "17.2.3; RFC 4475 3.4.1",
                    "no z9hG4bK branch: match transactions the RFC 2543 way",
                    "note",
                    header="Via",
                )
            )
    scheme = uri.split(":", 1)[0].lower()
    if scheme not in schemes:
        out.append(
            Finding(
                "unsupported-uri-scheme",
                "8.2.2.1, 16.3 step 2; RFC 4475 3.3.2, 3.3.3",
                f"Request-URI scheme {scheme!r} is not understood",
                "reject",
                416,
            )
        )
    if role == "proxy":
        mf = m.max_forwards
        if mf == 0:
            out.append(
                Finding(
                    "too-many-hops",
                    "16.3 step 3; RFC 4475 3.3.11",
                    "Max-Forwards is 0: do not forward",
                    "reject",
                    483,
                    "Max-Forwards",
                )
            )
        out += _bad_extension(m.proxy_require, "Proxy-Require", "16.3 step 5", supported, method)
        return out
    # UAS and registrar (a registrar is a UAS, 10.3)
    if role == "registrar" and method != "REGISTER":
        return out
    allowed = methods | ({"REGISTER"} if role == "registrar" else set())
    if method not in allowed:
        known = method in _KNOWN_METHODS
        out.append(
            Finding(
                "method-not-allowed" if known else "method-not-implemented",
                "8.2.1; RFC 4475 3.3.7" if known else "8.2.1",
                f"{method} is {'not allowed here' if known else 'not implemented'}",
                "reject",
                405 if known else 501,
            )
        )
        return out
    out += _bad_extension(m.require, "Require", "8.2.2.3", supported, method)
    ctype = m.content_type
    if m.body and ctype is not None and ctype.mime not in content_types:
        out.append(
            Finding(
                "unsupported-media-type",
                "8.2.3; RFC 4475 3.3.6",
                f"body of type {ctype.mime} is not understood",
                "reject",
                415,
                "Content-Type",
            )
        )
    accept = m.accept
    if (
        method == "INVITE"
        and accept
        and not any(a.matches(c) for a in accept for c in content_types)
    ):
        out.append(
            Finding(
                "not-acceptable",
                "21.4.7; RFC 4475 3.3.15",
                "Accept allows no body type this UA can answer with (add Warning 399)",
                "reject",
                406,
                "Accept",
            )
        )
    if role == "registrar":
        out += _registrar(m, authenticate)
    return out


def _bad_extension(
    tags: Iterable[str], header: str, section: str, supported: set[str], method: str
) -> list[Finding]:
    """420 for option-tags of Require / Proxy-Require not supported (8.2.2.3, 16.3 step 5);
    ACK and CANCEL are never rejected for them."""
    unknown = tuple(t for t in tags if t.lower() not in supported)
    if not unknown or method in ("ACK", "CANCEL"):
        return []
    return [
        Finding(
            "bad-extension",
            f"{section}; RFC 4475 3.3.5",
            f"{header} lists unsupported {', '.join(unknown)}",
            "reject",
            420,
            header,
            unknown,
        )
    ]


def _registrar(m: Request, authenticate: bool) -> list[Finding]:
    out: list[Finding] = []
    to = m.to
    if to is not None and not to.uri.is_sip:
        out.append(
            Finding(
                "aor-not-sip",
                "10.3 step 5; RFC 4475 3.3.4",
                f"To ({to.uri}) is not a SIP or SIPS address-of-record",
                "reject",
                400,
                "To",
            )
        )
    contacts = m.contact
    if any(isinstance(c, Wildcard) for c in contacts) and (len(contacts) > 1 or m.expires != 0):
        out.append(
            Finding(
                "bad-wildcard-contact",
                "10.3 step 6",
                "Contact * needs Expires: 0 and no other Contact",
                "reject",
                400,
                "Contact",
            )
        )
    creds = m.authorization
    if any(c.scheme.lower() != "digest" for c in creds):
        if authenticate:
            out.append(
                Finding(
                    "unknown-auth-scheme",
                    "10.3 step 2, 22.4; RFC 4475 3.3.7",
                    "Authorization scheme not understood: challenge again with Digest",
                    "reject",
                    401,
                    "Authorization",
                )
            )
        else:
            out.append(
                Finding(
                    "unknown-auth-scheme",
                    "10.3 step 2; RFC 4475 3.3.7",
                    "Authorization scheme not understood: ignored (no authentication here)",
                    "note",
                    header="Authorization",
                )
            )
    elif authenticate and not creds:
        out.append(
            Finding(
                "authentication-required",
                "10.3 step 2, 22.1",
                "no credentials: challenge",
                "reject",
                401,
                "Authorization",
            )
        )
    return out


def _response(m: Response, role: Role) -> list[Finding]:
    out = _common(m, _MANDATORY_RESPONSE)
    vias = m.via
    if role != "proxy" and len(vias) > 1:
        out.append(
            Finding(
                "response-with-several-vias",
                "8.1.3.3; RFC 4475 3.3.10",
                "a UAC discards a response with more than one Via",
                "drop",
                header="Via",
            )
        )
    for v in vias[1:] if role == "proxy" else vias:
        if _BROADCAST in (v.host, v.received, v.maddr):
            out.append(
                Finding(
                    "broadcast-via",
                    "18.2.2; RFC 4475 3.3.10",
                    "a Via names the broadcast address: never send there",
                    "drop",
                    header="Via",
                )
            )
            break
    return out
