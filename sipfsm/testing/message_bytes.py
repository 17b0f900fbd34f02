"""Whole valid messages as bytes for :mod:`sipfsm.testing.strategies` (RFC 3261 sections 7,
8.1.1, 20, 25): the mandatory header fields, a few optional ones, a body with a correct
Content-Length, rendered tortuously (RFC 4475 section 3.1.1: folding, compact and oddly cased
names from the grammar, LWS, comma-joined or repeated list headers, any field order).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from hypothesis import strategies as st

from sipfsm.message.constants import SIP_VERSION
from sipfsm.message.grammar import COMPACT_OF
from sipfsm.testing.header_values import (
    digits,
    extra_choice,
    generic_params,
    m_params,
    methods_list,
    name_addr_pieces,
    quoted_string,
    via_pieces,
)
from sipfsm.testing.lexical import (
    ALNUM,
    BOOL,
    COMMA,
    LWS,
    METHODS,
    SLASH,
    WORD_EXTRA,
    Draw,
    Piece,
    choice,
    hostnames,
    ints,
    render,
    sws,
    text_of,
    tokens,
)
from sipfsm.testing.uri_text import uris


def _header_name(draw: Draw, name: str, tortuous: bool) -> str:
    if not tortuous:
        return name
    forms = [name, name.lower(), name.upper()]
    if name in COMPACT_OF:  # section 7.3.3, from the ABNF
        forms += [COMPACT_OF[name], COMPACT_OF[name].upper()]
    return str(draw(choice(forms)))


def _hcolon(draw: Draw, tortuous: bool) -> str:
    if not tortuous:
        return ": "
    return str(draw(choice(["", "", " ", "\t"]))) + ":" + str(draw(sws()))


_Header: TypeAlias = tuple[str, list[list[Piece]]]  # long name, items (comma list)


def _line(draw: Draw, h: _Header, tortuous: bool) -> list[str]:
    """Render one header as one or more lines: list items are comma-joined or repeated."""
    name, items = h
    groups: list[list[list[Piece]]] = [items]
    if len(items) > 1 and tortuous and draw(BOOL):
        groups = [[i] for i in items]
    out = []
    for g in groups:
        value = render(
            draw, [p for i, it in enumerate(g) for p in ([COMMA] if i else []) + it], tortuous
        )
        out.append(f"{_header_name(draw, name, tortuous)}{_hcolon(draw, tortuous)}{value}\r\n")
    return out


_ACCEPTS = (
    ("application", SLASH, "sdp"),
    ("text", SLASH, "*"),
    ("*", SLASH, "*"),
    ("text", SLASH, "plain"),
)
_EXTRAS: tuple[tuple[str, Callable[[Draw], list[list[Piece]]]], ...] = (
    ("Subject", lambda d: [[d(choice(["", "Hi", "lunch  plans", "café ☕ ok"]))]]),
    ("Supported", lambda d: [[d(tokens())] for _ in range(d(ints(1, 3)))]),
    ("Allow", lambda d: [[m] for m in d(methods_list())]),
    ("Accept", lambda d: [[*d(choice(_ACCEPTS)), *generic_params(d)]]),
    ("User-Agent", lambda d: [[d(tokens()), SLASH, d(tokens()), LWS, "(x y)"]]),
    ("Expires", lambda d: [[digits(d, 0, 7200, True)]]),
    ("Date", lambda d: [["Sat, 13 Nov 2010 23:29:00 GMT"]]),
    ("Timestamp", lambda d: [[str(d(ints(0, 99999))), LWS, "0.5"]]),
    (
        "Warning",
        lambda d: [[str(d(ints(300, 399))), " ", d(hostnames()), " ", quoted_string(d)]],
    ),
    ("Record-Route", lambda d: [name_addr_pieces(d, False, d(uris(sip_only=True)), False)]),
    ("X-Extension", lambda d: [[d(choice(["newfangled value", "continued\r\n  here"]))]]),
    ("NewFangledHeader", lambda d: [[d(choice(["<;;,,>", "", "café"]))]]),
    ("extensionHeader-!.%*+_`'~", lambda d: [["\u5927\u505c\u96fb"]]),
)


def _extras(draw: Draw, method: str) -> list[_Header]:
    """Up to four optional headers, generated only when chosen."""
    return [(_EXTRAS[i][0], _EXTRAS[i][1](draw)) for i in draw(extra_choice(len(_EXTRAS)))]


@st.composite
def message_bytes_of(
    draw: Draw, kind: str, method: str | None, status: int | None, tortuous: bool
) -> bytes:
    m = method or draw(choice([*METHODS, "NEWMETHOD", "!interesting-Method0123"]))
    headers: list[_Header] = [("Via", [via_pieces(draw) for _ in range(draw(ints(1, 3)))])]
    if kind == "request":
        start = f"{m} {draw(uris(headers=False))} {SIP_VERSION}\r\n"
        to_tag: bool | None = None
    else:
        code = status if status is not None else draw(ints(100, 699))
        m = m if m != "ACK" else "INVITE"
        reason = draw(
            choice(["OK", "", "Ringing", "Not Found", "Ça va %41 bien", "Session Progress"])
        )
        start = f"{SIP_VERSION} {code} {reason}\r\n"
        to_tag = code != 100 or None
    headers += [
        ("To", [(name_addr_pieces(draw, to_tag))]),
        ("From", [(name_addr_pieces(draw, True))]),
        (
            "Call-ID",
            [
                [
                    draw(text_of(ALNUM + WORD_EXTRA, 1, 16))
                    + (("@" + draw(hostnames())) if draw(BOOL) else "")
                ]
            ],
        ),
        ("CSeq", [[digits(draw, 0, 2**31 - 1, tortuous), LWS, m]]),
    ]
    if kind == "request":
        headers.append(("Max-Forwards", [[digits(draw, 0, 255, tortuous)]]))
    if draw(BOOL):
        headers.append(
            ("Contact", [(name_addr_pieces(draw, False)) for _ in range(draw(ints(1, 2)))])
        )
    headers += _extras(draw, m)
    body = b""
    if draw(BOOL):
        body = draw(
            choice(
                [b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n", b"hello", bytes(range(0, 256, 7))]
            )
        )
        headers.append(("Content-Type", [["application", SLASH, "sdp", *m_params(draw)]]))
    headers.append(("Content-Length", [[digits(draw, len(body), len(body), tortuous)]]))
    if tortuous:
        headers = draw(st.permutations(headers))
    lines = [ln for h in headers for ln in _line(draw, h, tortuous)]
    return (start + "".join(lines) + "\r\n").encode("utf-8") + body


def request_bytes(method: str | None = None, *, tortuous: bool = True) -> st.SearchStrategy[bytes]:
    """Valid SIP requests (25.1 ``Request``) as bytes; see :func:`requests`."""
    return message_bytes_of("request", method, None, tortuous)


def response_bytes(status: int | None = None, *, tortuous: bool = True) -> st.SearchStrategy[bytes]:
    """Valid SIP responses (25.1 ``Response``) as bytes; see :func:`responses`."""
    return message_bytes_of("response", None, status, tortuous)


def message_bytes(*, tortuous: bool = True) -> st.SearchStrategy[bytes]:
    """Valid SIP requests and responses as bytes."""
    return st.one_of(request_bytes(tortuous=tortuous), response_bytes(tortuous=tortuous))
