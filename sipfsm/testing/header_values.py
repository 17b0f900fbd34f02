"""Header values for the strategies of :mod:`sipfsm.testing.strategies` (RFC 3261 sections 20,
25.1), as pieces to render (:func:`~sipfsm.testing.lexical.render`): quoted strings, generic
and media parameters, name-addr / addr-spec values (20.10, 20.20, 20.39) and Via values
(20.42, with a magic-cookie branch, 8.1.1.7).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from functools import cache

from hypothesis import strategies as st

from sipfsm.message.constants import MAGIC_COOKIE
from sipfsm.message.uri import URI
from sipfsm.testing.lexical import (
    BOOL,
    COLON,
    EQUAL,
    LAQUOT,
    LWS,
    METHODS,
    RAQUOT,
    SEMI,
    SLASH,
    Draw,
    Piece,
    choice,
    hosts,
    ints,
    ipv4,
    render,
    tokens,
)
from sipfsm.testing.uri_text import needs_brackets, uris


@cache
def _qd_pieces() -> st.SearchStrategy[list[str]]:
    return st.lists(
        st.one_of(
            st.sampled_from(string.ascii_letters + " !#$%&'()*+,-./:;<=>?@[]^_`{|}~"),
            st.sampled_from(['\\"', "\\\\", "\\x", "\\\t", "é", "大"]),
        ),
        max_size=10,
    )


def quoted_string(draw: Draw) -> str:
    """``quoted-string`` (25.1) with qdtext, quoted-pairs and UTF-8."""
    return '"' + "".join(draw(_qd_pieces())) + '"'


def _param_value(draw: Draw) -> str:
    """``gen-value = token / host / quoted-string`` (25.1)."""
    kind = draw(ints(0, 2))
    if kind == 0:
        return str(draw(tokens()))
    if kind == 1:
        return str(draw(hosts()))
    return quoted_string(draw)


def m_params(draw: Draw) -> list[Piece]:
    """``*(SEMI m-parameter)`` with ``m-value = token / quoted-string`` (20.15)."""
    out: list[Piece] = []
    for _ in range(draw(ints(0, 2))):
        value = draw(tokens()) if draw(BOOL) else quoted_string(draw)
        out += [SEMI, draw(tokens(8)), EQUAL, value]
    return out


def generic_params(draw: Draw, names: Sequence[str] = ()) -> list[Piece]:
    out: list[Piece] = []
    for _ in range(draw(ints(0, 2))):
        name = draw(tokens(8))
        out += [SEMI, name]
        if draw(BOOL):
            out += [EQUAL, _param_value(draw)]
    for name in names:
        out += [SEMI, name]
    return out


def name_addr_pieces(
    draw: Draw, tag: bool | None = None, uri: URI | None = None, bare_ok: bool = True
) -> list[Piece]:
    u = uri if uri is not None else draw(uris())
    text = str(u)
    form = draw(choice(["quoted", "tokens", "none", "bare"]))
    if form == "bare" and (needs_brackets(text) or not bare_ok):
        form = "none"
    pieces: list[Piece] = []
    if form == "quoted":
        pieces += [quoted_string(draw), LAQUOT, text, RAQUOT]
    elif form == "tokens":
        words = draw(_words())
        for i, w in enumerate(words):
            pieces += [w] if i == 0 else [LWS, w]
        pieces += [LWS, "<", text, RAQUOT]
    elif form == "none":
        pieces += ["<", text, RAQUOT]
    else:
        pieces += [text]
    if tag is None:
        tag = draw(BOOL)
    pieces += generic_params(draw)
    if tag:
        pieces += [SEMI, "tag", EQUAL, draw(tokens())]
    return pieces


@st.composite
def _name_addr_text(draw: Draw, tag: bool | None) -> str:
    return render(draw, (name_addr_pieces(draw, tag)), True)


def name_addrs(*, tag: bool | None = None) -> st.SearchStrategy[str]:
    """``(name-addr / addr-spec) *(SEMI param)`` header values (20.10, 20.20, 20.39) as text:
    quoted or token display names, ``<...>`` or bare addr-spec (bare only when 20.10 allows),
    unknown parameters, LWS and folding, and a tag when ``tag`` is True (random when None).

    >>> from hypothesis import given
    >>> @given(name_addrs(tag=True))
    ... def test_to_tag(value):
    ...     msg = sipfsm.build_request("OPTIONS", "sip:b.example.com", to=value, ...)
    """
    return _name_addr_text(tag)


@cache
def _words() -> st.SearchStrategy[list[str]]:
    return st.lists(tokens(8), min_size=1, max_size=3)


@cache
def _via_extras() -> st.SearchStrategy[list[str]]:
    return st.lists(
        st.sampled_from(["rport", "received", "ttl", "maddr", "x"]), max_size=3, unique=True
    )


@cache
def methods_list() -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(METHODS), min_size=1, max_size=4)


@cache
def extra_choice(n: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, n - 1), max_size=4, unique=True)


def via_pieces(draw: Draw) -> list[Piece]:
    transport = draw(choice(["UDP", "TCP", "TLS", "SCTP", "udp", "WS", "Foo-1"]))
    pieces: list[Piece] = [
        draw(choice(["SIP", "sip"])),
        SLASH,
        "2.0",
        SLASH,
        transport,
        LWS,
        draw(hosts()),
    ]
    if draw(BOOL):
        pieces += [COLON, str(draw(ints(0, 65535)))]
    pieces += [SEMI, "branch", EQUAL, MAGIC_COOKIE + draw(tokens())]
    extras = draw(_via_extras())
    for e in extras:
        if e == "rport":
            pieces += [SEMI, "rport"]
            if draw(BOOL):
                pieces += [EQUAL, str(draw(ints(1, 65535)))]
        elif e == "received":
            pieces += [SEMI, "received", EQUAL, draw(ipv4())]
        elif e == "ttl":
            pieces += [SEMI, "ttl", EQUAL, str(draw(ints(0, 255)))]
        elif e == "maddr":
            pieces += [SEMI, "maddr", EQUAL, draw(hosts())]
        else:
            pieces += generic_params(draw)
    return pieces


def digits(draw: Draw, lo: int, hi: int, zeros: bool) -> str:
    n = str(draw(ints(lo, hi)))
    return ("0" * draw(ints(0, 2)) + n) if zeros else n
