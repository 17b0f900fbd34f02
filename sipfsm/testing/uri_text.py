"""URIs for the strategies of :mod:`sipfsm.testing.strategies` (RFC 3261 sections 19.1, 25.1):
sip and sips URIs with escapes, passwords, every kind of host, parameters and headers; tel and
other absolute URIs.
"""

from __future__ import annotations

import string
from functools import cache

from hypothesis import strategies as st

from sipfsm.message.uri import URI
from sipfsm.testing.lexical import (
    BOOL,
    HNV_CHARS,
    METHODS,
    PARAM_CHARS,
    PASSWORD_CHARS,
    USER_CHARS,
    Draw,
    alnum_token,
    choice,
    escapable,
    hostnames,
    hosts,
    ints,
    ipv4,
    text_of,
    tokens,
)


@cache
def _uri_params() -> st.SearchStrategy[list[str]]:
    return st.lists(
        st.one_of(
            # other-transport, other-user and extension-method are tokens (25.1), so a
            # value may hold "`" or a bare "%", which paramchar does not
            (st.sampled_from(["udp", "tcp", "TCP", "sctp", "tls", "ws"]) | tokens()).map(
                lambda t: f"transport={t}"
            ),
            (st.sampled_from(["phone", "ip"]) | tokens()).map(lambda u: f"user={u}"),
            (st.sampled_from(METHODS) | tokens()).map(lambda m: f"method={m}"),
            st.integers(0, 255).map(lambda n: f"ttl={n}"),
            ipv4().map(lambda h: f"maddr={h}"),
            st.just("lr"),
            st.tuples(escapable(PARAM_CHARS), st.none() | escapable(PARAM_CHARS)).map(
                lambda t: t[0] if t[1] is None else f"{t[0]}={t[1]}"
            ),
        ),
        max_size=4,
    )


@cache
def _uri_headers() -> st.SearchStrategy[list[tuple[str, str]]]:
    return st.lists(st.tuples(escapable(HNV_CHARS), escapable(HNV_CHARS, 0)), max_size=2)


@st.composite
def _sip_uri_text(draw: Draw, secure: bool | None = None, headers: bool = True) -> str:
    scheme = (
        draw(choice(["sip", "sips", "SIP", "sip"]))
        if secure is None
        else ("sips" if secure else "sip")
    )
    out = [scheme, ":"]
    if draw(BOOL) or draw(BOOL):
        out.append(draw(escapable(USER_CHARS)))
        if draw(ints(0, 5)) == 0:
            out += [":", draw(escapable(PASSWORD_CHARS, 0))]
        out.append("@")
    out.append(draw(hosts()))
    if draw(BOOL):
        out.append(f":{draw(ints(0, 65535))}")
    params = draw(_uri_params())
    out += [";" + p for p in params]
    hs = draw(_uri_headers()) if headers else []
    for i, (n, v) in enumerate(hs):
        out += ["?" if i == 0 else "&", n, "=", v]
    return "".join(out)


@cache
def _tel_uri_text() -> st.SearchStrategy[str]:
    number = st.builds(
        lambda plus, mid, last: plus + mid + last,
        st.sampled_from(["+", "+", ""]),
        text_of(string.digits + "-.()", 2, 10).filter(lambda s: s[0].isdigit()),
        st.sampled_from(string.digits),
    )
    par = st.sampled_from([";ext=12", ";isub=9", ";phone-context=example.com", ";x-y=z"])
    return st.builds(lambda n, ps: f"tel:{n}{''.join(ps)}", number, st.lists(par, max_size=2))


@cache
def _other_uri_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda u, h: f"mailto:{u}@{h}", alnum_token(), hostnames()),
        st.builds(lambda h, p: f"http://{h}/{p}", hostnames(), alnum_token()),
        st.builds(lambda h, p: f"soap.beep://{h}:{p}", ipv4(), st.integers(1, 65535)),
        st.builds(lambda s: f"urn:service:{s}", alnum_token()),
    )


@cache
def uris(
    *, sip_only: bool = False, secure: bool | None = None, headers: bool = True
) -> st.SearchStrategy[URI]:
    """Generate :class:`sipfsm.URI` values (19.1, 25.1): mostly ``sip``/``sips`` URIs with
    escapes, passwords, IPv4/IPv6/hostname hosts, ports, known and unknown uri-parameters and
    headers (unless ``headers=False``: a Request-URI has none, 19.1.1 table 1); also ``tel``
    and other absolute URIs unless ``sip_only``.

    >>> from hypothesis import given
    >>> @given(uris())
    ... def test_equivalent_to_itself(u):
    ...     assert u.equivalent(u)
    """
    sip = _sip_uri_text(secure, headers)
    text = (
        sip
        if sip_only or secure is not None
        else st.one_of(sip, sip, sip, sip, _tel_uri_text(), _other_uri_text())
    )
    return text.map(URI.parse)


def needs_brackets(uri: str) -> bool:
    return any(c in uri for c in ",;?") or not uri.lower().startswith(("sip:", "sips:"))
