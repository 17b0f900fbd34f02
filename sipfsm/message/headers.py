"""Typed views of SIP header field values (RFC 3261 section 20 and the extension headers).

Every class here is a frozen dataclass describing one header field value (or one comma item of a
list header), with the section of RFC 3261 that defines it. Views never re-validate: the value
they read has been accepted by the header's ABNF rule (``Header.tree()``), and they are built
from the rule-named nodes of that tree where the grammar gives structure and otherwise from the
generic splitter of :mod:`sipfsm.message.split` (the builders of
:mod:`sipfsm.message.header_builders`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sipfsm.message.constants import MAGIC_COOKIE
from sipfsm.message.numbers import decimal
from sipfsm.message.split import Param, unquote
from sipfsm.message.uri import URI

__all__ = [
    "AuthParams",
    "CSeq",
    "Challenge",
    "ContentDisposition",
    "Credentials",
    "DeltaParams",
    "Event",
    "HeaderParams",
    "InfoItem",
    "LanguageRange",
    "MediaType",
    "NameAddr",
    "RAck",
    "ReasonValue",
    "RetryAfter",
    "SipDate",
    "SubscriptionState",
    "Timestamp",
    "Token",
    "Via",
    "Warning",
    "Wildcard",
]


def _find(params: Iterable[Param], name: str) -> str | None:
    low = name.lower()
    for n, v in params:
        if n.lower() == low:
            return "" if v is None else unquote(v)
    return None


@dataclass(frozen=True)
class HeaderParams:
    """Mix-in for values carrying ``*( SEMI generic-param )`` (25.1).

    ``params`` keeps names and values as written (quoted values keep their quotes);
    :meth:`param` looks a name up case-insensitively and unquotes the value.
    """

    params: tuple[Param, ...]

    def param(self, name: str) -> str | None:
        """Value of parameter ``name`` (unquoted; ``""`` for a flag parameter) or None."""
        return _find(self.params, name)

    def has_param(self, name: str) -> bool:
        """True when parameter ``name`` is present (names are case-insensitive, 7.3.1)."""
        return any(n.lower() == name.lower() for n, _ in self.params)


def _int_or_none(v: str | None) -> int | None:
    """A parameter's value as a number; None when absent or not a number it can read
    (:func:`sipfsm.message.numbers.decimal`)."""
    if v is None:
        return None
    try:
        return decimal(v)
    except ValueError:
        return None


#: A number as ``qvalue`` writes one (section 25.1: ``"0" [ "." 0*3DIGIT ]`` and the like),
#: read loosely: any digits, an optional fraction.
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?")


def _qvalue(v: str | None) -> float | None:
    """A ``q`` parameter's value as a number; None when absent or not a number (a ``q`` can
    be a generic-param of any token or quoted string)."""
    if v is None or _DECIMAL.fullmatch(v) is None:
        return None
    return float(v)


@dataclass(frozen=True)
class Via(HeaderParams):
    """One ``via-parm`` of a Via header (section 20.42): ``sent-protocol LWS sent-by *(SEMI
    via-params)``. The branch (8.1.1.7), received (18.2.1), rport (RFC 3581), maddr and ttl
    parameters have accessors."""

    protocol: str
    version: str
    transport: str
    host: str
    port: int | None

    @property
    def branch(self) -> str | None:
        """``branch`` (8.1.1.7); RFC 3261 branches start with ``z9hG4bK``."""
        return self.param("branch")

    @property
    def received(self) -> str | None:
        """``received`` (18.2.1)."""
        return self.param("received")

    @property
    def rport(self) -> int | bool | None:
        """``rport`` (RFC 3581): None when absent, True when present without a value."""
        v = self.param("rport")
        if v is None:
            return None
        n = _int_or_none(v)
        return True if n is None else n

    @property
    def maddr(self) -> str | None:
        """``maddr`` (18.2.2)."""
        return self.param("maddr")

    @property
    def ttl(self) -> int | None:
        """``ttl`` (20.42)."""
        return _int_or_none(self.param("ttl"))

    @property
    def sent_by(self) -> str:
        """``sent-by`` as ``host[:port]`` (20.42)."""
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def is_rfc3261_branch(self) -> bool:
        """True when the branch has the magic cookie ``z9hG4bK`` (8.1.1.7, 17.2.3)."""
        b = self.branch
        return b is not None and b.startswith(MAGIC_COOKIE)


@dataclass(frozen=True)
class NameAddr(HeaderParams):
    """``(name-addr / addr-spec) *(SEMI param)`` of To (20.39), From (20.20), Contact (20.10),
    Route (20.34), Record-Route (20.30) and Reply-To (20.31). ``display_name`` is unquoted
    (None when absent); ``params`` are the *header* parameters, never uri-parameters."""

    display_name: str | None
    uri: URI

    @property
    def tag(self) -> str | None:
        """``tag`` (19.3; 8.2.6.2)."""
        return self.param("tag")

    @property
    def q(self) -> float | None:
        """Contact ``q`` (20.10)."""
        v = self.param("q")
        return _qvalue(v)

    @property
    def expires(self) -> int | None:
        """Contact ``expires`` (20.10, 10.2.1.1)."""
        return _int_or_none(self.param("expires"))


@dataclass(frozen=True)
class Wildcard:
    """The ``*`` of a Contact header (20.10; 10.2.2: removes all bindings)."""

    def __str__(self) -> str:
        return "*"


@dataclass(frozen=True)
class CSeq:
    """CSeq (section 20.16): sequence number and method."""

    seq: int
    method: str


@dataclass(frozen=True)
class MediaType(HeaderParams):
    """``m-type SLASH m-subtype *(SEMI m-parameter)`` of Content-Type (20.15) and one
    ``media-range`` of Accept (20.1), where ``*`` type or subtype are wildcards."""

    type: str
    subtype: str

    @property
    def mime(self) -> str:
        """``type/subtype``, lower-case (media types are case-insensitive, 20.15)."""
        return f"{self.type}/{self.subtype}".lower()

    @property
    def q(self) -> float | None:
        """Accept ``q`` (20.1)."""
        v = self.param("q")
        return _qvalue(v)

    def matches(self, mime: str) -> bool:
        """True when ``mime`` (``type/subtype``) falls in this media range (20.1)."""
        t, _, s = mime.lower().partition("/")
        return self.type.lower() in ("*", t) and self.subtype.lower() in ("*", s)


@dataclass(frozen=True)
class Token(HeaderParams):
    """One ``token *(SEMI param)`` item: Content-Encoding (20.12), Accept-Encoding (20.2),
    Content-Language (20.13), Allow (20.5), Require (20.32), Supported (20.37), Unsupported
    (20.40), Proxy-Require (20.29), In-Reply-To (20.21) items and the like."""

    value: str

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class LanguageRange(HeaderParams):
    """One ``language`` of Accept-Language (20.3)."""

    language: str

    @property
    def q(self) -> float | None:
        """``q`` (20.3)."""
        v = self.param("q")
        return _qvalue(v)


@dataclass(frozen=True)
class ContentDisposition(HeaderParams):
    """Content-Disposition (20.11): ``disp-type *(SEMI disp-param)``."""

    disposition: str

    @property
    def handling(self) -> str | None:
        """``handling`` (``optional`` / ``required``, 20.11)."""
        return self.param("handling")


@dataclass(frozen=True)
class AuthParams:
    """Mix-in for ``auth-scheme LWS auth-param *(COMMA auth-param)`` values (22.4, 25.1).
    ``params`` keep names and values as written; :meth:`param` unquotes."""

    scheme: str
    params: tuple[Param, ...]

    def param(self, name: str) -> str | None:
        """Value of ``name`` (case-insensitive, unquoted) or None."""
        return _find(self.params, name)


@dataclass(frozen=True)
class Credentials(AuthParams):
    """Authorization (20.7) / Proxy-Authorization (20.28) credentials; Digest fields (22.4)
    have accessors, other schemes keep their ``auth-param`` list (RFC 4475 3.3.7)."""

    @property
    def username(self) -> str | None:
        """``username`` (22.4)."""
        return self.param("username")

    @property
    def realm(self) -> str | None:
        """``realm`` (22.4)."""
        return self.param("realm")

    @property
    def nonce(self) -> str | None:
        """``nonce`` (22.4)."""
        return self.param("nonce")

    @property
    def uri(self) -> str | None:
        """``uri`` (digest-uri, 22.4)."""
        return self.param("uri")

    @property
    def response(self) -> str | None:
        """``response`` (22.4)."""
        return self.param("response")

    @property
    def algorithm(self) -> str | None:
        """``algorithm`` (22.4)."""
        return self.param("algorithm")

    @property
    def cnonce(self) -> str | None:
        """``cnonce`` (22.4)."""
        return self.param("cnonce")

    @property
    def opaque(self) -> str | None:
        """``opaque`` (22.4)."""
        return self.param("opaque")

    @property
    def qop(self) -> str | None:
        """``qop`` (22.4)."""
        return self.param("qop")

    @property
    def nc(self) -> str | None:
        """``nc`` (nonce-count, 22.4)."""
        return self.param("nc")


@dataclass(frozen=True)
class Challenge(AuthParams):
    """WWW-Authenticate (20.44) / Proxy-Authenticate (20.27) challenge (22.1, 22.4)."""

    @property
    def realm(self) -> str | None:
        """``realm`` (22.1)."""
        return self.param("realm")

    @property
    def domain(self) -> str | None:
        """``domain`` (22.4)."""
        return self.param("domain")

    @property
    def nonce(self) -> str | None:
        """``nonce`` (22.4)."""
        return self.param("nonce")

    @property
    def opaque(self) -> str | None:
        """``opaque`` (22.4)."""
        return self.param("opaque")

    @property
    def stale(self) -> bool:
        """``stale=true`` (22.4)."""
        return (self.param("stale") or "").lower() == "true"

    @property
    def algorithm(self) -> str | None:
        """``algorithm`` (22.4)."""
        return self.param("algorithm")

    @property
    def qop(self) -> tuple[str, ...]:
        """``qop`` options (22.4)."""
        v = self.param("qop")
        return tuple(x.strip() for x in v.split(",")) if v else ()


@dataclass(frozen=True)
class Warning:
    """One ``warning-value`` (section 20.43): code, agent, unquoted text."""

    code: int
    agent: str
    text: str


@dataclass(frozen=True)
class SipDate:
    """Date (section 20.17): the RFC 1123 date as written and as an aware datetime (GMT)."""

    text: str
    value: datetime | None


@dataclass(frozen=True)
class RetryAfter(HeaderParams):
    """Retry-After (section 20.33): seconds, optional comment, ``duration`` parameter."""

    seconds: int
    comment: str | None

    @property
    def duration(self) -> int | None:
        """``duration`` (20.33)."""
        return _int_or_none(self.param("duration"))


@dataclass(frozen=True)
class Timestamp:
    """Timestamp (section 20.38): the value and optional delay, as written (decimal text)."""

    value: str
    delay: str | None


@dataclass(frozen=True)
class InfoItem(HeaderParams):
    """One ``LAQUOT absoluteURI RAQUOT *(SEMI param)`` item of Alert-Info (20.4), Call-Info
    (20.9) and Error-Info (20.18)."""

    uri: URI

    @property
    def purpose(self) -> str | None:
        """Call-Info ``purpose`` (20.9)."""
        return self.param("purpose")


# ---------------------------------------------------------------------------- extensions
# RFC 3262, 3326, 4028, 6665 (grammar/)


@dataclass(frozen=True)
class RAck:
    """RAck (RFC 3262 section 7.2): response-num, CSeq-num and method of the PRACKed response."""

    response_num: int
    cseq_num: int
    method: str


@dataclass(frozen=True)
class ReasonValue(HeaderParams):
    """One ``reason-value`` of Reason (RFC 3326 section 2): protocol, ``cause``, ``text``."""

    protocol: str

    @property
    def cause(self) -> int | None:
        """``cause`` (RFC 3326)."""
        return _int_or_none(self.param("cause"))

    @property
    def text(self) -> str | None:
        """``text`` (unquoted, RFC 3326)."""
        return self.param("text")


@dataclass(frozen=True)
class DeltaParams(HeaderParams):
    """``delta-seconds *(SEMI param)``: Session-Expires and Min-SE (RFC 4028 sections 4, 5)."""

    seconds: int

    @property
    def refresher(self) -> str | None:
        """Session-Expires ``refresher`` (``uac`` / ``uas``, RFC 4028)."""
        return self.param("refresher")


@dataclass(frozen=True)
class Event(HeaderParams):
    """Event (RFC 6665 section 8.2.1): event type (package and templates) and ``id``."""

    event_type: str

    @property
    def package(self) -> str:
        """The event package, before the first ``.`` (RFC 6665 section 8.2.1)."""
        return self.event_type.split(".", 1)[0]

    @property
    def id(self) -> str | None:
        """``id`` (RFC 6665)."""
        return self.param("id")


@dataclass(frozen=True)
class SubscriptionState(HeaderParams):
    """Subscription-State (RFC 6665 section 8.2.3): state, ``reason``, ``expires``,
    ``retry-after``."""

    state: str

    @property
    def reason(self) -> str | None:
        """``reason`` (RFC 6665)."""
        return self.param("reason")

    @property
    def expires(self) -> int | None:
        """``expires`` (RFC 6665)."""
        return _int_or_none(self.param("expires"))

    @property
    def retry_after(self) -> int | None:
        """``retry-after`` (RFC 6665)."""
        return _int_or_none(self.param("retry-after"))
