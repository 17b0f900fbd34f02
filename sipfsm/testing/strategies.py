"""Hypothesis strategies for SIP (RFC 3261): URIs, addresses, requests, responses and
near-valid malformed messages, for property-testing *your* SIP parser or stack.

Every generated message is valid per the RFC 3261 ABNF (``sipfsm.parse(m.raw, strict=True)``
accepts it) and deliberately tortuous in the ways RFC 4475 section 3.1.1 lists: line folding,
compact and oddly cased header names, LWS around every separator that allows it, escaped
characters in URIs, quoted display names with quoted-pairs, comma-joined and repeated list
headers, leading zeros in numbers, unknown headers and parameters.

Example: check that your parser reads the same Call-ID and CSeq as sipfsm::

    from hypothesis import given
    from sipfsm import strategies as sips

    @given(sips.requests())
    def test_my_parser(msg):
        mine = my_parser(msg.raw)              # the exact, tortuous bytes
        assert mine.call_id == msg.call_id
        assert mine.cseq_number == msg.cseq.seq

Example: check that your parser rejects broken messages::

    @given(sips.malformed_messages())
    def test_rejects(case):
        with pytest.raises(MyParseError):
            my_parser(case.data)              # case.defect names what is wrong

See also :func:`sipfsm.testing.differential`, which runs these strategies against another parser
and reports every disagreement.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias

from hypothesis import strategies as st

from sipfsm.message.constants import MAGIC_COOKIE, SIP_VERSION
from sipfsm.message.grammar import COMPACT_OF
from sipfsm.message.uri import URI
from sipfsm.message.validate import KNOWN_METHODS

if TYPE_CHECKING:
    from sipfsm.message.message import Message, Request, Response

__all__ = [
    "DEFECTS",
    "Malformed",
    "malformed_messages",
    "message_bytes",
    "messages",
    "name_addrs",
    "request_bytes",
    "requests",
    "response_bytes",
    "responses",
    "uris",
]

Draw: TypeAlias = Callable[[st.SearchStrategy[Any]], Any]

_ALNUM = string.ascii_letters + string.digits
_MARK = "-_.!~*'()"
_TOKEN_CHARS = _ALNUM + "-.!%*_+`'~"
_WORD_EXTRA = "-.!%*_+`'~()<>:\\\"/[]?{}"
_USER_CHARS = _ALNUM + _MARK + "&=+$,;?/"
_PASSWORD_CHARS = _ALNUM + _MARK + "&=+$,"
_PARAM_CHARS = _ALNUM + _MARK + "[]/:&+$"
_HNV_CHARS = _ALNUM + _MARK + "[]/?:+$"
_METHODS = KNOWN_METHODS


# ---------------------------------------------------------------------------- lexical
# Strategies are built once and cached: building one inside a draw makes Hypothesis validate
# it again on every example, which dominates the run time.


@cache
def _choice_t(options: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(options)


def _choice(options: Sequence[Any] | str) -> st.SearchStrategy[Any]:
    return _choice_t(tuple(options))


@cache
def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


_BOOL = st.booleans()


@cache
def _text(alphabet: str, min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(alphabet), min_size=min_size, max_size=max_size)


@cache
def _escaped() -> st.SearchStrategy[str]:
    return st.integers(0, 255).map(lambda b: f"%{b:02X}") | st.integers(0, 255).map(
        lambda b: f"%{b:02x}"
    )


@cache
def _escapable(alphabet: str, min_size: int = 1) -> st.SearchStrategy[str]:
    """Text over ``alphabet`` with some ``%HH`` escapes (25.1 ``escaped``)."""
    piece = st.one_of(st.sampled_from(alphabet), st.sampled_from(alphabet), _escaped())
    return st.lists(piece, min_size=min_size, max_size=10).map("".join)


@cache
def tokens(max_size: int = 12) -> st.SearchStrategy[str]:
    """``token`` (25.1), all its non-alphanumeric characters included."""
    return _text(_TOKEN_CHARS, 1, max_size)


@cache
def _alnum_token() -> st.SearchStrategy[str]:
    return _text(_ALNUM + "-._", 1, 10).filter(lambda s: s[0].isalnum())


@cache
def _label(first: str) -> st.SearchStrategy[str]:
    """``domainlabel`` / ``toplabel`` (25.1): no leading or trailing hyphen."""
    return st.builds(
        lambda a, mid, z: a + (mid + z if mid or z else ""),
        st.sampled_from(first),
        _text(_ALNUM + "-", 0, 5),
        st.sampled_from(["", *_ALNUM]),
    ).filter(lambda s: not s.endswith("-"))


@cache
def _hostnames() -> st.SearchStrategy[str]:
    label = _label(_ALNUM)
    top = _label(string.ascii_letters)
    return st.builds(
        lambda ls, t, dot: ".".join([*ls, t]) + dot,
        st.lists(label, max_size=3),
        top,
        st.sampled_from(["", "", "", "."]),
    )


@cache
def _ipv4() -> st.SearchStrategy[str]:
    return st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))


@cache
def _ipv6() -> st.SearchStrategy[str]:
    h4 = st.integers(0, 0xFFFF).map(lambda n: f"{n:x}")
    full = st.lists(h4, min_size=8, max_size=8).map(":".join)
    short = st.tuples(st.lists(h4, max_size=3), st.lists(h4, max_size=3)).map(
        lambda t: ":".join(t[0]) + "::" + ":".join(t[1])
    )
    return st.one_of(full, short).map(lambda s: f"[{s}]")


@cache
def hosts() -> st.SearchStrategy[str]:
    """``host`` (25.1): hostname, IPv4address or IPv6reference."""
    return st.one_of(_hostnames(), _hostnames(), _ipv4(), _ipv6())


# ---------------------------------------------------------------------------- URIs
@cache
def _uri_params() -> st.SearchStrategy[list[str]]:
    return st.lists(
        st.one_of(
            st.sampled_from(["udp", "tcp", "TCP", "sctp", "tls", "ws"]).map(
                lambda t: f"transport={t}"
            ),
            st.sampled_from(["phone", "ip"]).map(lambda u: f"user={u}"),
            st.sampled_from(_METHODS).map(lambda m: f"method={m}"),
            st.integers(0, 255).map(lambda n: f"ttl={n}"),
            _ipv4().map(lambda h: f"maddr={h}"),
            st.just("lr"),
            st.tuples(_escapable(_PARAM_CHARS), st.none() | _escapable(_PARAM_CHARS)).map(
                lambda t: t[0] if t[1] is None else f"{t[0]}={t[1]}"
            ),
        ),
        max_size=4,
    )


@cache
def _uri_headers() -> st.SearchStrategy[list[tuple[str, str]]]:
    return st.lists(st.tuples(_escapable(_HNV_CHARS), _escapable(_HNV_CHARS, 0)), max_size=2)


@st.composite
def _sip_uri_text(draw: Draw, secure: bool | None = None, headers: bool = True) -> str:
    scheme = (
        draw(_choice(["sip", "sips", "SIP", "sip"]))
        if secure is None
        else ("sips" if secure else "sip")
    )
    out = [scheme, ":"]
    if draw(_BOOL) or draw(_BOOL):
        out.append(draw(_escapable(_USER_CHARS)))
        if draw(_ints(0, 5)) == 0:
            out += [":", draw(_escapable(_PASSWORD_CHARS, 0))]
        out.append("@")
    out.append(draw(hosts()))
    if draw(_BOOL):
        out.append(f":{draw(_ints(0, 65535))}")
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
        _text(string.digits + "-.()", 2, 10).filter(lambda s: s[0].isdigit()),
        st.sampled_from(string.digits),
    )
    par = st.sampled_from([";ext=12", ";isub=9", ";phone-context=example.com", ";x-y=z"])
    return st.builds(lambda n, ps: f"tel:{n}{''.join(ps)}", number, st.lists(par, max_size=2))


@cache
def _other_uri_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda u, h: f"mailto:{u}@{h}", _alnum_token(), _hostnames()),
        st.builds(lambda h, p: f"http://{h}/{p}", _hostnames(), _alnum_token()),
        st.builds(lambda h, p: f"soap.beep://{h}:{p}", _ipv4(), st.integers(1, 65535)),
        st.builds(lambda s: f"urn:service:{s}", _alnum_token()),
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


def _needs_brackets(uri: str) -> bool:
    return any(c in uri for c in ",;?") or not uri.lower().startswith(("sip:", "sips:"))


# ---------------------------------------------------------------------------- LWS
@cache
def _sws() -> st.SearchStrategy[str]:
    """SWS (25.1), with folding: ``[*WSP CRLF] 1*WSP`` or nothing."""
    return st.sampled_from(["", "", "", " ", "  ", "\t", "\r\n ", " \r\n\t", "\r\n  "])


@cache
def _lws() -> st.SearchStrategy[str]:
    return st.sampled_from([" ", " ", "  ", "\t", "\r\n ", " \r\n\t"])


@dataclass(frozen=True)
class _Sep:
    """A separator of 25.1 (SEMI, COMMA, EQUAL, SLASH, COLON, LAQUOT, RAQUOT, LWS)."""

    char: str
    before: bool = True
    after: bool = True
    required: bool = False


SEMI, COMMA, EQUAL, SLASH, COLON = (_Sep(c) for c in ";,=/:")
LAQUOT = _Sep("<", after=False)
RAQUOT = _Sep(">", before=False)
LWS = _Sep("", after=False, required=True)
Piece: TypeAlias = str | _Sep


def _render(draw: Draw, pieces: Sequence[Piece], tortuous: bool) -> str:
    out: list[str] = []
    for p in pieces:
        if isinstance(p, str):
            out.append(p)
        elif p.required:
            out.append(draw(_lws()) if tortuous else " ")
        else:
            pre = draw(_sws()) if tortuous and p.before else ""
            post = draw(_sws()) if tortuous and p.after else ""
            out.append(pre + p.char + post)
    return "".join(out)


# ---------------------------------------------------------------------------- values
@cache
def _qd_pieces() -> st.SearchStrategy[list[str]]:
    return st.lists(
        st.one_of(
            st.sampled_from(string.ascii_letters + " !#$%&'()*+,-./:;<=>?@[]^_`{|}~"),
            st.sampled_from(['\\"', "\\\\", "\\x", "\\\t", "é", "大"]),
        ),
        max_size=10,
    )


def _quoted_string(draw: Draw) -> str:
    """``quoted-string`` (25.1) with qdtext, quoted-pairs and UTF-8."""
    return '"' + "".join(draw(_qd_pieces())) + '"'


def _param_value(draw: Draw) -> str:
    """``gen-value = token / host / quoted-string`` (25.1)."""
    kind = draw(_ints(0, 2))
    if kind == 0:
        return str(draw(tokens()))
    if kind == 1:
        return str(draw(hosts()))
    return _quoted_string(draw)


def _m_params(draw: Draw) -> list[Piece]:
    """``*(SEMI m-parameter)`` with ``m-value = token / quoted-string`` (20.15)."""
    out: list[Piece] = []
    for _ in range(draw(_ints(0, 2))):
        value = draw(tokens()) if draw(_BOOL) else _quoted_string(draw)
        out += [SEMI, draw(tokens(8)), EQUAL, value]
    return out


def _generic_params(draw: Draw, names: Sequence[str] = ()) -> list[Piece]:
    out: list[Piece] = []
    for _ in range(draw(_ints(0, 2))):
        name = draw(tokens(8))
        out += [SEMI, name]
        if draw(_BOOL):
            out += [EQUAL, _param_value(draw)]
    for name in names:
        out += [SEMI, name]
    return out


def _name_addr_pieces(
    draw: Draw, tag: bool | None = None, uri: URI | None = None, bare_ok: bool = True
) -> list[Piece]:
    u = uri if uri is not None else draw(uris())
    text = str(u)
    form = draw(_choice(["quoted", "tokens", "none", "bare"]))
    if form == "bare" and (_needs_brackets(text) or not bare_ok):
        form = "none"
    pieces: list[Piece] = []
    if form == "quoted":
        pieces += [_quoted_string(draw), LAQUOT, text, RAQUOT]
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
        tag = draw(_BOOL)
    pieces += _generic_params(draw)
    if tag:
        pieces += [SEMI, "tag", EQUAL, draw(tokens())]
    return pieces


@st.composite
def _name_addr_text(draw: Draw, tag: bool | None) -> str:
    return _render(draw, (_name_addr_pieces(draw, tag)), True)


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
def _methods_list() -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(_METHODS), min_size=1, max_size=4)


@cache
def _extra_choice(n: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, n - 1), max_size=4, unique=True)


def _via_pieces(draw: Draw) -> list[Piece]:
    transport = draw(_choice(["UDP", "TCP", "TLS", "SCTP", "udp", "WS", "Foo-1"]))
    pieces: list[Piece] = [
        draw(_choice(["SIP", "sip"])),
        SLASH,
        "2.0",
        SLASH,
        transport,
        LWS,
        draw(hosts()),
    ]
    if draw(_BOOL):
        pieces += [COLON, str(draw(_ints(0, 65535)))]
    pieces += [SEMI, "branch", EQUAL, MAGIC_COOKIE + draw(tokens())]
    extras = draw(_via_extras())
    for e in extras:
        if e == "rport":
            pieces += [SEMI, "rport"]
            if draw(_BOOL):
                pieces += [EQUAL, str(draw(_ints(1, 65535)))]
        elif e == "received":
            pieces += [SEMI, "received", EQUAL, draw(_ipv4())]
        elif e == "ttl":
            pieces += [SEMI, "ttl", EQUAL, str(draw(_ints(0, 255)))]
        elif e == "maddr":
            pieces += [SEMI, "maddr", EQUAL, draw(hosts())]
        else:
            pieces += _generic_params(draw)
    return pieces


def _digits(draw: Draw, lo: int, hi: int, zeros: bool) -> str:
    n = str(draw(_ints(lo, hi)))
    return ("0" * draw(_ints(0, 2)) + n) if zeros else n


def _header_name(draw: Draw, name: str, tortuous: bool) -> str:
    if not tortuous:
        return name
    forms = [name, name.lower(), name.upper()]
    if name in COMPACT_OF:  # section 7.3.3, from the ABNF
        forms += [COMPACT_OF[name], COMPACT_OF[name].upper()]
    return str(draw(_choice(forms)))


def _hcolon(draw: Draw, tortuous: bool) -> str:
    if not tortuous:
        return ": "
    return str(draw(_choice(["", "", " ", "\t"]))) + ":" + str(draw(_sws()))


_Header: TypeAlias = tuple[str, list[list[Piece]]]  # long name, items (comma list)


def _line(draw: Draw, h: _Header, tortuous: bool) -> list[str]:
    """Render one header as one or more lines: list items are comma-joined or repeated."""
    name, items = h
    groups: list[list[list[Piece]]] = [items]
    if len(items) > 1 and tortuous and draw(_BOOL):
        groups = [[i] for i in items]
    out = []
    for g in groups:
        value = _render(
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
    ("Subject", lambda d: [[d(_choice(["", "Hi", "lunch  plans", "café ☕ ok"]))]]),
    ("Supported", lambda d: [[d(tokens())] for _ in range(d(_ints(1, 3)))]),
    ("Allow", lambda d: [[m] for m in d(_methods_list())]),
    ("Accept", lambda d: [[*d(_choice(_ACCEPTS)), *_generic_params(d)]]),
    ("User-Agent", lambda d: [[d(tokens()), SLASH, d(tokens()), LWS, "(x y)"]]),
    ("Expires", lambda d: [[_digits(d, 0, 7200, True)]]),
    ("Date", lambda d: [["Sat, 13 Nov 2010 23:29:00 GMT"]]),
    ("Timestamp", lambda d: [[str(d(_ints(0, 99999))), LWS, "0.5"]]),
    (
        "Warning",
        lambda d: [[str(d(_ints(300, 399))), " ", d(_hostnames()), " ", _quoted_string(d)]],
    ),
    ("Record-Route", lambda d: [_name_addr_pieces(d, False, d(uris(sip_only=True)), False)]),
    ("X-Extension", lambda d: [[d(_choice(["newfangled value", "continued\r\n  here"]))]]),
    ("NewFangledHeader", lambda d: [[d(_choice(["<;;,,>", "", "café"]))]]),
    ("extensionHeader-!.%*+_`'~", lambda d: [["\u5927\u505c\u96fb"]]),
)


def _extras(draw: Draw, method: str) -> list[_Header]:
    """Up to four optional headers, generated only when chosen."""
    return [(_EXTRAS[i][0], _EXTRAS[i][1](draw)) for i in draw(_extra_choice(len(_EXTRAS)))]


@st.composite
def _message_bytes(
    draw: Draw, kind: str, method: str | None, status: int | None, tortuous: bool
) -> bytes:
    m = method or draw(_choice([*_METHODS, "NEWMETHOD", "!interesting-Method0123"]))
    headers: list[_Header] = [("Via", [_via_pieces(draw) for _ in range(draw(_ints(1, 3)))])]
    if kind == "request":
        start = f"{m} {draw(uris(headers=False))} {SIP_VERSION}\r\n"
        to_tag: bool | None = None
    else:
        code = status if status is not None else draw(_ints(100, 699))
        m = m if m != "ACK" else "INVITE"
        reason = draw(
            _choice(["OK", "", "Ringing", "Not Found", "Ça va %41 bien", "Session Progress"])
        )
        start = f"{SIP_VERSION} {code} {reason}\r\n"
        to_tag = code != 100 or None
    headers += [
        ("To", [(_name_addr_pieces(draw, to_tag))]),
        ("From", [(_name_addr_pieces(draw, True))]),
        (
            "Call-ID",
            [
                [
                    draw(_text(_ALNUM + _WORD_EXTRA, 1, 16))
                    + (("@" + draw(_hostnames())) if draw(_BOOL) else "")
                ]
            ],
        ),
        ("CSeq", [[_digits(draw, 0, 2**31 - 1, tortuous), LWS, m]]),
    ]
    if kind == "request":
        headers.append(("Max-Forwards", [[_digits(draw, 0, 255, tortuous)]]))
    if draw(_BOOL):
        headers.append(
            ("Contact", [(_name_addr_pieces(draw, False)) for _ in range(draw(_ints(1, 2)))])
        )
    headers += _extras(draw, m)
    body = b""
    if draw(_BOOL):
        body = draw(
            _choice(
                [b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n", b"hello", bytes(range(0, 256, 7))]
            )
        )
        headers.append(("Content-Type", [["application", SLASH, "sdp", *_m_params(draw)]]))
    headers.append(("Content-Length", [[_digits(draw, len(body), len(body), tortuous)]]))
    if tortuous:
        headers = draw(st.permutations(headers))
    lines = [ln for h in headers for ln in _line(draw, h, tortuous)]
    return (start + "".join(lines) + "\r\n").encode("utf-8") + body


def request_bytes(method: str | None = None, *, tortuous: bool = True) -> st.SearchStrategy[bytes]:
    """Valid SIP requests (25.1 ``Request``) as bytes; see :func:`requests`."""
    return _message_bytes("request", method, None, tortuous)


def response_bytes(status: int | None = None, *, tortuous: bool = True) -> st.SearchStrategy[bytes]:
    """Valid SIP responses (25.1 ``Response``) as bytes; see :func:`responses`."""
    return _message_bytes("response", None, status, tortuous)


def message_bytes(*, tortuous: bool = True) -> st.SearchStrategy[bytes]:
    """Valid SIP requests and responses as bytes."""
    return st.one_of(request_bytes(tortuous=tortuous), response_bytes(tortuous=tortuous))


def _parse(data: bytes) -> Message:
    from sipfsm import parse

    return parse(data, strict=True)


def requests(method: str | None = None, *, tortuous: bool = True) -> st.SearchStrategy[Request]:
    """Generate parsed :class:`sipfsm.Request` values; ``msg.raw`` holds the generated bytes.

    Each has a Request-URI from :func:`uris`, 1-3 Via values with a ``z9hG4bK`` branch, To,
    From with tag, Call-ID, CSeq whose method matches, Max-Forwards, maybe Contact, a few
    optional headers (Subject, Supported, Allow, Accept, Date, Warning, unknown headers...)
    and a correct Content-Length (8.1.1, 20.14). ``method`` fixes the method.

    >>> from hypothesis import given
    >>> @given(requests("INVITE"))
    ... def test_cseq_matches(msg):
    ...     assert msg.cseq.method == "INVITE"
    """
    return request_bytes(method, tortuous=tortuous).map(_parse)  # type: ignore[arg-type]


def responses(status: int | None = None, *, tortuous: bool = True) -> st.SearchStrategy[Response]:
    """Generate parsed :class:`sipfsm.Response` values (status 100-699 or ``status``), with
    Via, To (tagged unless 100, 8.2.6.2), From, Call-ID, CSeq, Content-Length.

    >>> from hypothesis import given
    >>> @given(responses(180))
    ... def test_status(msg):
    ...     assert msg.status == 180
    """
    return response_bytes(status, tortuous=tortuous).map(_parse)  # type: ignore[arg-type]


def messages(*, tortuous: bool = True) -> st.SearchStrategy[Message]:
    """Requests and responses (:func:`requests` | :func:`responses`)."""
    return st.one_of(requests(tortuous=tortuous), responses(tortuous=tortuous))


# ---------------------------------------------------------------------------- malformed
@dataclass(frozen=True)
class Malformed:
    """A near-valid message with exactly one named defect.

    ``data`` is the message; ``defect`` names what is wrong (a key of :data:`DEFECTS`);
    ``section`` cites the rule it breaks; ``code`` is the :class:`sipfsm.ParseError` code that
    ``sipfsm.parse(data, strict=True)`` raises, or None when the defect is semantic (the message
    parses and :func:`sipfsm.validate` reports it instead); ``original`` is the valid message
    the defect was applied to.
    """

    data: bytes
    defect: str
    section: str
    code: str | None
    original: bytes


def _replace_header(data: bytes, name: bytes, new_line: bytes) -> bytes:
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    out = []
    skip = False
    for ln in lines:
        if skip and ln[:1] in (b" ", b"\t"):
            continue
        skip = False
        key = ln.split(b":", 1)[0].strip().lower()
        if key in name.lower().split(b"|"):
            skip = True
            if new_line:
                out.append(new_line)
            new_line = b""
            continue
        out.append(ln)
    return b"\r\n".join(out) + sep + body


def _start_line_edit(f: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        first, rest = data.split(b"\r\n", 1)
        return f(first) + b"\r\n" + rest

    return apply


def _insert_header(line: bytes) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        first, rest = data.split(b"\r\n", 1)
        return first + b"\r\n" + line + b"\r\n" + rest

    return apply


@dataclass(frozen=True)
class _Defect:
    section: str
    code: str | None
    applies_to: str  # "request", "response" or "any"
    apply: Callable[[bytes], bytes]


def _cl(value: bytes) -> Callable[[bytes], bytes]:
    return lambda d: _replace_header(d, b"content-length|l", b"Content-Length: " + value)


#: The defects :func:`malformed_messages` applies: name -> section, ParseError code, how.
DEFECTS: dict[str, _Defect] = {
    "negative-content-length": _Defect(
        "20.14; RFC 4475 3.1.2.3", "bad-content-length", "any", _cl(b"-1")
    ),
    "content-length-too-large": _Defect(
        "18.3; RFC 4475 3.1.2.2", "content-length-mismatch", "any", _cl(b"99999")
    ),
    "non-numeric-cseq": _Defect(
        "20.16",
        "bad-header-value",
        "any",
        lambda d: _replace_header(d, b"cseq", b"CSeq: one INVITE"),
    ),
    "unquoted-display-name-with-separators": _Defect(
        "25.1 display-name; RFC 4475 3.1.2.15",
        "bad-header-value",
        "any",
        lambda d: _replace_header(d, b"to|t", b"To: Bob, the builder <sip:bob@b.example.com>"),
    ),
    "space-in-addr-spec": _Defect(
        "25.1 addr-spec; RFC 4475 3.1.2.14",
        "bad-header-value",
        "any",
        lambda d: _replace_header(d, b"to|t", b"To: sip:bob @b.example.com"),
    ),
    "unterminated-quoted-string": _Defect(
        "25.1 quoted-string",
        "unterminated-quoted-string",
        "any",
        lambda d: _replace_header(d, b"from|f", b'From: "Alice <sip:a@a.example.com>;tag=1'),
    ),
    "via-without-sent-by": _Defect(
        "20.42",
        "bad-header-value",
        "any",
        lambda d: _replace_header(d, b"via|v", b"Via: SIP/2.0/UDP"),
    ),
    "status-code-too-large": _Defect(
        "7.2, 21; RFC 4475 3.1.2.19",
        "value-out-of-range",
        "response",
        _start_line_edit(lambda s: s[:8] + b"700" + s[11:]),
    ),
    "lws-in-request-uri": _Defect(
        "25.1 Request-Line; RFC 4475 3.1.2.10",
        "bad-request-uri",
        "request",
        _start_line_edit(lambda s: s.replace(b":", b": ", 1)),
    ),
    "missing-sip-version": _Defect(
        "7.1",
        "bad-request-line",
        "request",
        _start_line_edit(lambda s: s.rsplit(b" ", 1)[0]),
    ),
    "header-without-colon": _Defect(
        "7.3.1", "bad-header-line", "any", _insert_header(b"NoColonHere value")
    ),
    "bare-lf-line-end": _Defect(
        "7.1 (CRLF)", "bad-line-ending", "any", lambda d: d.replace(b"\r\n", b"\n", 1)
    ),
    # Semantic: syntactically valid, reported by sipfsm.validate.
    "missing-call-id": _Defect(
        "8.1.1; RFC 4475 3.3.1", None, "request", lambda d: _replace_header(d, b"call-id|i", b"")
    ),
    "duplicate-to": _Defect(
        "7.3.1; RFC 4475 3.3.8", None, "request", _insert_header(b"To: <sip:x@y.example.com>")
    ),
}


@st.composite
def _malformed(draw: Draw, defect: str | None) -> Malformed:
    names = sorted(DEFECTS) if defect is None else [defect]
    name = draw(_choice(names))
    d = DEFECTS[name]
    kind = d.applies_to if d.applies_to != "any" else draw(_choice(["request", "response"]))
    original = draw(_message_bytes(kind, None, None, False))
    return Malformed(d.apply(original), name, d.section, d.code, original)


def malformed_messages(defect: str | None = None) -> st.SearchStrategy[Malformed]:
    """Near-valid messages with one named defect each (:class:`Malformed`).

    The message is a plain (non-tortuous) valid message from :func:`requests` or
    :func:`responses` with one defect of :data:`DEFECTS` applied; ``defect`` restricts to
    one. For syntactic defects, ``case.code`` is the ParseError code sipfsm raises.

    >>> from hypothesis import given
    >>> @given(malformed_messages())
    ... def test_rejected(case):
    ...     if case.code is not None:
    ...         with pytest.raises(ParseError):
    ...             parse(case.data, strict=True)
    """
    if defect is not None and defect not in DEFECTS:
        raise ValueError(f"unknown defect {defect!r}; known: {sorted(DEFECTS)}")
    return _malformed(defect)
