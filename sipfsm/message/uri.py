"""URIs of SIP: ``sip:``, ``sips:``, ``tel:`` and any other absolute URI (RFC 3261 section 19.1).

:class:`URI` is a frozen, typed view of one URI as written. It keeps the text exactly as it
appeared (``str(uri)`` gives it back) and exposes the components of section 19.1.1 (user,
password, host, port, uri-parameters, headers), escaped as written, plus unescaped accessors.

Escaping follows section 19.1.2: :func:`escape` and :func:`unescape` work per component (the
set of characters each component may carry unescaped is the ABNF of section 25.1).

Comparison follows section 19.1.4 exactly (:meth:`URI.equivalent`); ``==`` is plain structural
equality of the spelling. Section 19.1.4 states that equivalence is *not* transitive
(``sip:carol@chicago.com`` is equivalent to both ``...;security=on`` and ``...;security=off``,
which are not equivalent to each other), which is why it is a method and not ``__eq__``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sipfsm.message import grammar as _grammar
from sipfsm.message.numbers import decimal

__all__ = ["URI", "URIError", "escape", "unescape"]

_ALPHANUM = string.ascii_letters + string.digits
#: RFC 2396 / RFC 3261 25.1 ``mark``.
MARK = "-_.!~*'()"
#: ``unreserved = alphanum / mark`` (25.1).
UNRESERVED = frozenset(_ALPHANUM + MARK)
#: ``reserved`` (25.1).
RESERVED = frozenset(";/?:@&=+$,")

#: Characters each component may carry unescaped, besides ``unreserved`` (25.1).
COMPONENT_EXTRA: Mapping[str, str] = {
    "user": "&=+$,;?/",  # user-unreserved
    "password": "&=+$,",
    "param": "[]/:&+$",  # param-unreserved
    "header": "[]/?:+$",  # hnv-unreserved
}

_HEX = "0123456789ABCDEFabcdef"
_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})")

#: The components of SIP-URI / SIPS-URI (25.1), as compiled from the ABNF: ``host`` (with
#: RFC 5954's IPv4address and IPv6address), ``user``, ``password``, ``uri-parameter`` (whose
#: transport, user and method values are tokens, so ``transport=u`p`` is one) and ``header``.
_HOST_RE = _grammar.regex("HOST")
_USER_RE = _grammar.regex("USER")
_PASSWORD_RE = _grammar.regex("PASSWORD")
_URI_PARAMETER_RE = _grammar.regex("URI_PARAMETER")
_HEADER_RE = _grammar.regex("HEADER")
_ESC = r"%[0-9A-Fa-f]{2}"
_UNR = r"A-Za-z0-9\-_.!~*'()"
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
# uric = reserved / unreserved / escaped (RFC 2396), the characters of an absoluteURI's rest.
_URIC_RE = re.compile(rf"(?:[{_UNR};/?:@&=+$,]|{_ESC})*")

#: Parameters that never match when present in only one of two SIP URIs (19.1.4).
_MUST_MATCH_PARAMS = frozenset({"user", "ttl", "method", "maddr", "transport"})
#: Visual separators of tel URIs, ignored when comparing (RFC 3966 section 4).
_TEL_VISUAL = str.maketrans("", "", "-.()")


class URIError(ValueError):
    """A text is not a URI of the form RFC 3261 section 19.1 / 25.1 allows; names the defect."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid URI {text!r}: {reason}")


def escape(text: str, component: str = "user") -> str:
    """Escape ``text`` for one URI component (section 19.1.2).

    Every character outside ``unreserved`` and the component's own unreserved set of 25.1
    (``user``, ``password``, ``param`` or ``header``) becomes ``%HH`` of its UTF-8 octets.

    >>> escape("alice smith@home", "user")
    'alice%20smith%40home'
    >>> escape("project x", "header")
    'project%20x'
    """
    try:
        extra = COMPONENT_EXTRA[component]
    except KeyError:
        raise ValueError(f"unknown URI component {component!r}") from None
    allowed = UNRESERVED | frozenset(extra)
    out: list[str] = []
    for ch in text:
        if ch in allowed:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


def unescape(text: str) -> str:
    """Replace every ``%HH`` by its octet and decode as UTF-8 (section 19.1.2).

    Invalid UTF-8 is kept as surrogate escapes, so that ``%00`` and friends survive intact
    (RFC 4475 section 3.1.1.4: an escaped NUL must not shorten a user name).

    >>> unescape("%61lice")
    'alice'
    >>> unescape("null-%00-null")
    'null-\\x00-null'
    """
    if "%" not in text:
        return text
    raw = bytearray()
    pos = 0
    for m in _ESCAPE_RE.finditer(text):  # left to right, as a reader takes them
        raw += text[pos : m.start()].encode("utf-8", "surrogateescape")
        raw.append(int(m.group(1), 16))
        pos = m.end()
    raw += text[pos:].encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "surrogateescape")


def _normalise_escapes(text: str) -> str:
    """Canonical escaping for comparison: ``%HH`` of an unreserved char becomes the char,
    every other escape gets upper-case hex (19.1.4: unreserved chars equal their escapes)."""

    def repl(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in UNRESERVED else "%" + m.group(1).upper()

    return _ESCAPE_RE.sub(repl, text)


@dataclass(frozen=True)
class URI:
    """One URI as written (RFC 3261 sections 19.1.1, 25.1: SIP-URI / SIPS-URI / absoluteURI).

    For ``sip`` and ``sips`` the components are filled in; for ``tel`` (RFC 3966) ``user`` holds
    the telephone-subscriber number and ``params`` its parameters; for any other scheme only
    ``scheme`` and ``opaque`` (everything after the colon) are set. Components keep their escapes
    as written; ``user_unescaped``, :meth:`param` and friends give decoded values.

    >>> u = URI.parse("sip:%61lice@AtLanTa.CoM;transport=TCP")
    >>> u.user, u.user_unescaped, u.host, u.transport
    ('%61lice', 'alice', 'AtLanTa.CoM', 'TCP')
    >>> u.equivalent(URI.parse("sip:alice@atlanta.com;Transport=tcp"))
    True
    """

    scheme: str
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    params: tuple[tuple[str, str | None], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    opaque: str | None = None
    text: str = field(default="", compare=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def parse(cls, text: str) -> URI:
        """Parse ``text`` as SIP-URI, SIPS-URI or absoluteURI (25.1); raises :class:`URIError`.

        >>> URI.parse("sips:bob:secret@[2001:db8::1]:5061;maddr=10.0.0.1?Subject=hi").port
        5061
        """
        m = _SCHEME_RE.match(text)
        if not m or m.end() >= len(text) or text[m.end()] != ":":
            raise URIError(text, "no scheme followed by ':' (25.1 absoluteURI)")
        scheme = m.group(0)
        rest = text[m.end() + 1 :]
        low = scheme.lower()
        if low in ("sip", "sips"):
            return cls._parse_sip(text, scheme, rest)
        if low == "tel":
            return cls._parse_tel(text, scheme, rest)
        if not rest or _URIC_RE.fullmatch(rest) is None:
            raise URIError(text, "characters outside uric after the scheme (25.1 absoluteURI)")
        return cls(scheme=scheme, opaque=rest, text=text)

    @classmethod
    def _parse_sip(cls, text: str, scheme: str, rest: str) -> URI:
        user: str | None = None
        password: str | None = None
        at = rest.find("@")
        if at >= 0:
            userinfo, rest = rest[:at], rest[at + 1 :]
            if ":" in userinfo:
                user, password = userinfo.split(":", 1)
                if _PASSWORD_RE.fullmatch(password) is None:
                    raise URIError(text, "invalid character in password (25.1 password)")
            else:
                user = userinfo
            if _USER_RE.fullmatch(user) is None:
                raise URIError(text, "empty user or invalid character in user (25.1 user)")
        headers: list[tuple[str, str]] = []
        q = rest.find("?")
        if q >= 0:
            rest, htext = rest[:q], rest[q + 1 :]
            for item in htext.split("&"):  # no "&" in hname or hvalue
                if _HEADER_RE.fullmatch(item) is None:
                    raise URIError(text, f"invalid URI header {item!r} (25.1 header)")
                name, _, value = item.partition("=")  # no "=" in hname
                headers.append((name, value))
        hostport, *ptexts = rest.split(";")
        if hostport.startswith("["):  # IPv6reference
            end = hostport.find("]") + 1 or len(hostport)
        else:
            end = hostport.find(":")
            end = len(hostport) if end < 0 else end
        host, tail = hostport[:end], hostport[end:]
        if _HOST_RE.fullmatch(host) is None:
            raise URIError(text, "missing or invalid host (25.1 host)")
        port: int | None = None
        if tail:
            if not (tail.startswith(":") and tail[1:].isdigit() and tail[1:].isascii()):
                raise URIError(text, f"invalid text {tail!r} after host (25.1 hostport)")
            try:
                port = decimal(tail[1:])
            except ValueError as exc:
                raise URIError(text, f"port: {exc}") from exc
        params: list[tuple[str, str | None]] = []
        for p in ptexts:  # no ";" in a uri-parameter
            if _URI_PARAMETER_RE.fullmatch(p) is None:
                raise URIError(text, f"invalid uri-parameter {p!r} (25.1 uri-parameter)")
            name, eq, value = p.partition("=")  # no "=" in pname nor in the literal names
            params.append((name, value if eq else None))
        return cls(
            scheme=scheme,
            user=user,
            password=password,
            host=host,
            port=port,
            params=tuple(params),
            headers=tuple(headers),
            text=text,
        )

    @classmethod
    def _parse_tel(cls, text: str, scheme: str, rest: str) -> URI:
        """A tel: URI is an absoluteURI in RFC 3261 (section 25.1: the SIP grammar has no rule
        of RFC 3966): one that the shape of RFC 3966 does not fit (``tel:;731``, an empty
        number or parameter name) reads as an opaque absoluteURI, as other schemes do, so that
        what strict parsing accepts the view reads (issue 11)."""
        if not rest or _URIC_RE.fullmatch(rest) is None:
            raise URIError(text, "characters outside uric after the scheme (25.1 absoluteURI)")
        number, *ptexts = rest.split(";")
        params: list[tuple[str, str | None]] = []
        for p in ptexts:
            name, eq, value = p.partition("=")
            if not name:
                return cls(scheme=scheme, opaque=rest, text=text)
            params.append((name, value if eq else None))
        if not number:
            return cls(scheme=scheme, opaque=rest, text=text)
        return cls(scheme=scheme, user=number, params=tuple(params), opaque=rest, text=text)

    @classmethod
    def sip(
        cls,
        host: str,
        user: str | None = None,
        *,
        port: int | None = None,
        password: str | None = None,
        params: Mapping[str, str | None] | Iterable[tuple[str, str | None]] = (),
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        secure: bool = False,
    ) -> URI:
        """Build a SIP (or SIPS) URI from *unescaped* components, escaping each per 19.1.2.

        >>> str(URI.sip("biloxi.com", "bob smith", params={"transport": "tcp"}))
        'sip:bob%20smith@biloxi.com;transport=tcp'
        """
        scheme = "sips" if secure else "sip"
        out = [scheme, ":"]
        if user is not None:
            out.append(escape(user, "user"))
            if password is not None:
                out += [":", escape(password, "password")]
            out.append("@")
        out.append(host)
        if port is not None:
            out.append(f":{port}")
        items = params.items() if isinstance(params, Mapping) else params
        for name, value in items:
            out += [";", escape(name, "param")]
            if value is not None:
                out += ["=", escape(value, "param")]
        hitems = list(headers.items() if isinstance(headers, Mapping) else headers)
        for i, (name, value) in enumerate(hitems):
            out += ["?" if i == 0 else "&", escape(name, "header"), "=", escape(value, "header")]
        return cls.parse("".join(out))

    # ------------------------------------------------------------------ accessors
    def __str__(self) -> str:
        return self.text or self._compose()

    def _compose(self) -> str:
        low = self.scheme.lower()
        if low not in ("sip", "sips"):
            return f"{self.scheme}:{self.opaque or ''}"
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(self.user)
            if self.password is not None:
                out += [":", self.password]
            out.append("@")
        out.append(self.host or "")
        if self.port is not None:
            out.append(f":{self.port}")
        for n, v in self.params:
            out += [";", n] + (["=", v] if v is not None else [])
        for i, (n, v) in enumerate(self.headers):
            out += ["?" if i == 0 else "&", n, "=", v]
        return "".join(out)

    @property
    def is_sip(self) -> bool:
        """True for ``sip:`` and ``sips:`` URIs (19.1)."""
        return self.scheme.lower() in ("sip", "sips")

    @property
    def is_secure(self) -> bool:
        """True for ``sips:`` (19.1, 26.2.2)."""
        return self.scheme.lower() == "sips"

    @property
    def user_unescaped(self) -> str | None:
        """The user part with ``%HH`` escapes decoded (19.1.2)."""
        return None if self.user is None else unescape(self.user)

    def param(self, name: str, default: str | None = None) -> str | None:
        """Value of uri-parameter ``name`` (case-insensitive name, unescaped value), or
        ``default``; a parameter without value (``;lr``) gives ``""``."""
        low = name.lower()
        for n, v in self.params:
            if n.lower() == low:
                return "" if v is None else unescape(v)
        return default

    def has_param(self, name: str) -> bool:
        """True when uri-parameter ``name`` is present (case-insensitive, 19.1.1)."""
        return any(n.lower() == name.lower() for n, _ in self.params)

    @property
    def transport(self) -> str | None:
        """``transport`` uri-parameter (19.1.1)."""
        return self.param("transport")

    @property
    def maddr(self) -> str | None:
        """``maddr`` uri-parameter (19.1.1)."""
        return self.param("maddr")

    @property
    def ttl(self) -> int | None:
        """``ttl`` uri-parameter as int (19.1.1)."""
        v = self.param("ttl")
        try:
            return decimal(v) if v else None
        except ValueError:
            return None

    @property
    def method(self) -> str | None:
        """``method`` uri-parameter (19.1.1)."""
        return self.param("method")

    @property
    def user_param(self) -> str | None:
        """``user`` uri-parameter, e.g. ``phone`` (19.1.1)."""
        return self.param("user")

    @property
    def lr(self) -> bool:
        """True when the ``lr`` parameter (loose routing, 16.12.1.1) is present."""
        return self.has_param("lr")

    @property
    def header_fields(self) -> tuple[tuple[str, str], ...]:
        """URI headers (19.1.1) with names and values unescaped."""
        return tuple((unescape(n), unescape(v)) for n, v in self.headers)

    # ------------------------------------------------------------------ comparison 19.1.4
    def equivalent(self, other: URI) -> bool:
        """Section 19.1.4 URI comparison (``sip``/``sips``), RFC 3966 section 4 for ``tel``,
        escape-normalised case-insensitive scheme + exact rest for anything else.

        >>> carol = URI.parse("sip:carol@chicago.com")
        >>> carol.equivalent(URI.parse("sip:carol@chicago.com;newparam=5"))
        True
        >>> URI.parse("sip:bob@biloxi.com").equivalent(URI.parse("sip:bob@biloxi.com:5060"))
        False
        """
        s1, s2 = self.scheme.lower(), other.scheme.lower()
        if s1 != s2:
            return False  # a SIP and SIPS URI are never equivalent; nor are other schemes
        if s1 in ("sip", "sips"):
            return _sip_key(self) == _sip_key(other) and _params_match(self, other)
        if s1 == "tel":
            return _tel_key(self) == _tel_key(other)
        return _normalise_escapes(self.opaque or "") == _normalise_escapes(other.opaque or "")


def _norm_opt(v: str | None, *, fold: bool) -> str | None:
    if v is None:
        return None
    n = _normalise_escapes(v)
    return n.lower() if fold else n


def _sip_key(u: URI) -> tuple[object, ...]:
    # userinfo: case-sensitive; host and port: case-insensitive; headers: never ignored.
    headers = sorted((_normalise_escapes(n).lower(), _normalise_escapes(v)) for n, v in u.headers)
    return (
        _norm_opt(u.user, fold=False),
        _norm_opt(u.password, fold=False),
        (u.host or "").lower(),
        u.port,
        tuple(headers),
    )


def _param_map(u: URI) -> dict[str, tuple[str | None, ...]]:
    out: dict[str, list[str | None]] = {}
    for n, v in u.params:
        out.setdefault(_normalise_escapes(n).lower(), []).append(_norm_opt(v, fold=True))
    return {k: tuple(sorted(v, key=lambda x: (x is None, x or ""))) for k, v in out.items()}


def _params_match(a: URI, b: URI) -> bool:
    pa, pb = _param_map(a), _param_map(b)
    for name in pa.keys() | pb.keys():
        if name in pa and name in pb:
            if pa[name] != pb[name]:
                return False  # any uri-parameter appearing in both URIs must match
        elif name in _MUST_MATCH_PARAMS:
            return False  # user/ttl/method/maddr/transport in only one URI never match
    return True


def _tel_key(u: URI) -> tuple[object, ...]:
    number = _normalise_escapes(u.user or "").translate(_TEL_VISUAL).lower()
    params = sorted(
        (_normalise_escapes(n).lower(), _norm_opt(v, fold=True) or "") for n, v in u.params
    )
    return (number, tuple(params))
