"""The builders of the typed header views (:mod:`sipfsm.message.headers`): each takes one comma
item (or the whole value for single-value headers), already accepted by the header's grammar
rule, and returns the view (RFC 3261 section 20 and the extension headers of ``grammar/``).
Views never re-validate; :mod:`sipfsm.message.views` says which builder reads which header.
"""

from __future__ import annotations

import email.utils
from datetime import datetime

from sipfsm.message.headers import (
    AuthParams,
    Challenge,
    ContentDisposition,
    Credentials,
    CSeq,
    DeltaParams,
    Event,
    InfoItem,
    LanguageRange,
    MediaType,
    NameAddr,
    RAck,
    ReasonValue,
    SipDate,
    SubscriptionState,
    Timestamp,
    Token,
    Via,
    Warning,
    Wildcard,
)
from sipfsm.message.numbers import decimal
from sipfsm.message.split import Param, parse_params, split_name_addr, split_top, strip_lws, unquote
from sipfsm.message.uri import URI


def build_via(item: str) -> Via:
    """``via-parm`` (20.42)."""
    head, params = parse_params(item)
    proto_text, sent_by = _split_sent_protocol(head)
    protocol, version, transport = (strip_lws(p) for p in proto_text.split("/"))
    host, port = _split_hostport(strip_lws(sent_by))
    return Via(params, protocol, version, transport, host, port)


def _split_sent_protocol(head: str) -> tuple[str, str]:
    # sent-protocol = name SLASH version SLASH transport; SLASH may carry LWS, so the
    # sent-by starts after the second slash's transport token.
    first = head.index("/")
    second = head.index("/", first + 1)
    rest = head[second + 1 :].lstrip(" \t")
    cut = 0
    while cut < len(rest) and rest[cut] not in " \t":
        cut += 1
    return head[: second + 1] + rest[:cut], rest[cut:]


def _split_hostport(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        end = text.index("]") + 1
        host, tail = text[:end], text[end:]
    else:
        host, _, port = text.partition(":")
        tail = ":" + port if port else ""
    tail = strip_lws(tail)
    if tail.startswith(":"):
        return strip_lws(host), decimal(strip_lws(tail[1:]))
    return strip_lws(host), None


def build_name_addr(item: str) -> NameAddr:
    """``(name-addr / addr-spec) *(SEMI param)`` (20.10, 20.20, 20.39)."""
    display, uri, params = split_name_addr(item)
    return NameAddr(params, display, URI.parse(uri))


def build_contact(item: str) -> NameAddr | Wildcard:
    """Contact item or ``*`` (20.10)."""
    return Wildcard() if strip_lws(item) == "*" else build_name_addr(item)


def build_cseq(value: str) -> CSeq:
    """CSeq (20.16)."""
    seq, method = value.split()
    return CSeq(decimal(seq), method)


def build_media_type(item: str) -> MediaType:
    """``media-type`` / ``media-range`` (20.15, 20.1)."""
    head, params = parse_params(item)
    t, _, s = head.partition("/")
    return MediaType(params, strip_lws(t), strip_lws(s))


def build_token(item: str) -> Token:
    """``token *(SEMI param)`` item."""
    head, params = parse_params(item)
    return Token(params, head)


def build_language(item: str) -> LanguageRange:
    """Accept-Language item (20.3)."""
    head, params = parse_params(item)
    return LanguageRange(params, head)


def build_disposition(value: str) -> ContentDisposition:
    """Content-Disposition (20.11)."""
    head, params = parse_params(value)
    return ContentDisposition(params, head)


def _auth(value: str) -> tuple[str, tuple[Param, ...]]:
    v = strip_lws(value)
    cut = 0
    while cut < len(v) and v[cut] not in " \t\r\n":
        cut += 1
    scheme, rest = v[:cut], v[cut:]
    params: list[Param] = []
    for item in split_top(rest, ","):
        if not item:
            continue
        name, eq, val = item.partition("=")
        params.append((strip_lws(name), strip_lws(val) if eq else None))
    return scheme, tuple(params)


def build_credentials(value: str) -> Credentials:
    """Authorization / Proxy-Authorization (20.7, 20.28)."""
    return Credentials(*_auth(value))


def build_challenge(value: str) -> Challenge:
    """WWW-Authenticate / Proxy-Authenticate (20.44, 20.27)."""
    return Challenge(*_auth(value))


def build_auth_info(value: str) -> AuthParams:
    """Authentication-Info (20.6): its ``ainfo`` items (one, or several comma-separated), as
    auth-params without a scheme."""
    _, params = _auth("- " + value)
    return AuthParams("", params)


def build_warning(item: str) -> Warning:
    """``warning-value`` (20.43)."""
    v = strip_lws(item)
    code, rest = v.split(None, 1)
    agent, text = strip_lws(rest).split(None, 1)
    return Warning(decimal(code), agent, unquote(text))


def build_date(value: str) -> SipDate:
    """Date (20.17)."""
    text = " ".join(value.split())
    try:
        dt: datetime | None = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        dt = None
    return SipDate(text, dt)


def build_timestamp(value: str) -> Timestamp:
    """Timestamp (20.38)."""
    parts = value.split()
    return Timestamp(parts[0], parts[1] if len(parts) > 1 else None)


def build_info(item: str) -> InfoItem:
    """Alert-Info / Call-Info / Error-Info item (20.4, 20.9, 20.18)."""
    _, uri, params = split_name_addr(item)
    return InfoItem(params, URI.parse(uri))


def build_rack(value: str) -> RAck:
    """RAck (RFC 3262)."""
    rnum, cnum, method = value.split()
    return RAck(decimal(rnum), decimal(cnum), method)


def build_reason(item: str) -> ReasonValue:
    """Reason item (RFC 3326)."""
    head, params = parse_params(item)
    return ReasonValue(params, head)


def build_delta_params(value: str) -> DeltaParams:
    """Session-Expires / Min-SE (RFC 4028)."""
    head, params = parse_params(value)
    return DeltaParams(params, decimal(head))


def build_event(value: str) -> Event:
    """Event (RFC 6665)."""
    head, params = parse_params(value)
    return Event(params, head)


def build_subscription_state(value: str) -> SubscriptionState:
    """Subscription-State (RFC 6665)."""
    head, params = parse_params(value)
    return SubscriptionState(params, head)
