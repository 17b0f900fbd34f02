"""parse(): the message classes, the error contract, limits, message-level rules, the CLI."""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path
from typing import TypedDict, Unpack

import pytest
from conftest import CORPUS
from hypothesis import given
from hypothesis import strategies as st

import sipfsm
from sipfsm import Header, Limits, Message, ParseError, Request, Response
from sipfsm.cli.main import main as cli_main

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n"
    b"v: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK1, SIP/2.0/UDP p2.example.com"
    b";branch=z9hG4bK2\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    b"To: Bob\r\n <sip:bob@biloxi.example.com>\r\n"
    b"Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"User-Agent: Softphone/1.0 (Linux (x86))\r\n"
    b"X-Custom: anything ;;, goes\r\n"
    b"Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 4\r\n"
    b"\r\n"
    b"v=0\n"
)


VIA_HOST = b"Via: SIP/2.0/TCP client.atlanta.example.com:5060"


def replace(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


class _ParseOptions(TypedDict, total=False):
    """The keyword arguments of :func:`sipfsm.parse`."""

    strict: bool
    limits: Limits | None


def error(data: bytes, **kw: Unpack[_ParseOptions]) -> ParseError:
    with pytest.raises(ParseError) as err:
        sipfsm.parse(data, **kw)
    return err.value


def test_request_fields() -> None:
    msg = sipfsm.parse(INVITE, strict=True)
    assert isinstance(msg, Request) and isinstance(msg, Message)
    assert (msg.method, msg.uri, msg.version) == (
        "INVITE",
        "sip:bob@biloxi.example.com",
        "SIP/2.0",
    )
    assert msg.body == b"v=0\n"
    assert msg.raw == INVITE
    assert msg.start_line == "INVITE sip:bob@biloxi.example.com SIP/2.0"


def test_headers_keep_order_spelling_and_duplicates() -> None:
    msg = sipfsm.parse(INVITE)
    names = [h.name for h in msg.headers]
    assert names[:3] == ["Via", "v", "Max-Forwards"]
    assert msg.header_names()[:2] == ["Via", "Via"]
    to = msg.headers[4]
    assert isinstance(to, Header)
    assert (to.name, to.canonical, to.value) == ("To", "To", "Bob <sip:bob@biloxi.example.com>")
    assert to.raw == b"To: Bob\r\n <sip:bob@biloxi.example.com>"
    assert to.line == 6
    x = next(h for h in msg.headers if h.name == "X-Custom")
    assert (x.canonical, x.rule, x.value) == ("X-Custom", None, "anything ;;, goes")


def test_get_and_get_all() -> None:
    msg = sipfsm.parse(INVITE)
    assert msg.get("via") == "SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9"
    assert msg.get("V") == msg.get("Via")
    assert msg.get("i") == "3848276298220188511@atlanta.example.com"
    assert msg.get("Nope") is None
    assert msg.get_all("Via") == [
        "SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9",
        "SIP/2.0/UDP proxy.example.com;branch=z9hG4bK1",
        "SIP/2.0/UDP p2.example.com;branch=z9hG4bK2",
    ]
    # Not a comma list in the ABNF: never split.
    assert msg.get_all("x-custom") == ["anything ;;, goes"]
    assert msg.get_all("Call-ID") == ["3848276298220188511@atlanta.example.com"]


def test_trees() -> None:
    msg = sipfsm.parse(INVITE)
    via = msg.headers[0].tree()
    assert via.data == "via" and via.children[0].type == "VIA"  # type: ignore[union-attr]  # a Token
    ua = next(h for h in msg.headers if h.canonical == "User-Agent").tree()
    assert ua.data == "user_agent"
    depth = [t for t in ua.iter_subtrees() if t.data == "comment"]
    assert len(depth) == 2  # (Linux (x86)) nests a comment
    x = next(h for h in msg.headers if h.rule is None).tree()
    assert x.data == "extension_header"


def test_response_fields() -> None:
    msg = sipfsm.parse(
        b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n",
        strict=True,
    )
    assert isinstance(msg, Response)
    assert (msg.status, msg.reason, msg.version) == (180, "Ringing", "SIP/2.0")
    assert isinstance(sipfsm.parse(b"SIP/2.0 200 \r\n\r\n"), Response)


def test_lazy_parsing_defers_header_values() -> None:
    bad = replace(INVITE, b"CSeq: 1 INVITE", b"CSeq: one INVITE")
    msg = sipfsm.parse(bad)  # lazy: start line and framing only
    cseq = next(h for h in msg.headers if h.canonical == "CSeq")
    with pytest.raises(ParseError) as err:
        cseq.tree()
    assert err.value.code == "bad-header-value" and err.value.line == 9
    assert error(bad, strict=True).code == "bad-header-value"


def test_lazy_parsing_checks_header_lines_on_first_access() -> None:
    msg = sipfsm.parse(replace(INVITE, b"Max-Forwards: 70", b"Max-Forwards 70"))
    with pytest.raises(ParseError) as err:
        _ = msg.headers
    assert (err.value.code, err.value.line) == ("bad-header-line", 4)


@pytest.mark.parametrize(
    ("old", "new", "code", "rule"),
    [
        (b"Max-Forwards: 70", b"Max-Forwards: 256", "value-out-of-range", "Max-Forwards"),
        (b"CSeq: 1 INVITE", b"CSeq: 2147483648 INVITE", "value-out-of-range", "CSeq"),
        (b"CSeq: 1 INVITE", b"CSeq: 1 BYE", "cseq-method-mismatch", "CSeq"),
        (b"Max-Forwards: 70", b"Expires: 4294967296", "value-out-of-range", "Expires"),
        (b"Max-Forwards: 70", b"RSeq: 0", "value-out-of-range", "RSeq"),
        (b"Max-Forwards: 70", b"Retry-After: 4294967296 (x)", "value-out-of-range", "Retry-After"),
        (
            b"transport=tcp>",
            b"transport=tcp>;expires=4294967296",
            "value-out-of-range",
            "c-p-expires",
        ),
        (b"Max-Forwards: 70", b"Server: a (b", "bad-header-value", "Server"),
        (b"Max-Forwards: 70", b"Date: Sat, 13 Nov 2010 23:29:00 GMT", "", ""),
        (b"Max-Forwards: 70", b"Event: presence;id=1", "", ""),
        (b"Max-Forwards: 70", b'Reason: SIP;cause=200;text="OK"', "", ""),
        (b"Max-Forwards: 70", b"RAck: 776656 1 INVITE", "", ""),
        (b"Max-Forwards: 70", b"x: 1800;refresher=uac", "", ""),
        (b"Max-Forwards: 70", b"P-Asserted-Identity: <sip:a@b>, <tel:+1>", "", ""),
        # Section 20.10: a URI with a comma or semicolon MUST be in <>: outside <> a comma
        # separates list elements and a semicolon starts a header parameter.
        (b"Max-Forwards: 70", b"Contact: sip:a@b,sip:c@d;q=1, <http:e,f>", "", ""),
        (b"Max-Forwards: 70", b"Contact: http:a,b;q=1", "uri-needs-angle-brackets", "name-addr"),
        # (a comma can be in a SIP-URI's user part only: sip:a@b;x=1,2 is not a URI at all)
        (b"Max-Forwards: 70", b"Contact: sip:a,b@c;x=1", "uri-needs-angle-brackets", "name-addr"),
        (b"Max-Forwards: 70", b"Contact: sip:a@b;x=1,2", "bad-header-value", "contact-param"),
        (b"Max-Forwards: 70", b"Contact: sip:a@b;x=a/b", "uri-needs-angle-brackets", "name-addr"),
        (b"Max-Forwards: 70", b"Contact: sip:a@b, nonsense", "bad-header-value", "contact-param"),
        (b"Max-Forwards: 70", b'Contact: "a,b" <http:a,b>;x="1,2"', "", ""),
        (
            b"Max-Forwards: 70",
            b"P-Asserted-Identity: http:a,b",
            "uri-needs-angle-brackets",
            "name-addr",
        ),
        (b"Max-Forwards: 70", b"P-Preferred-Identity: tel:+1,sip:a@b", "", ""),
        (b"Max-Forwards: 70", b"Reply-To: http:a,b", "uri-needs-angle-brackets", "name-addr"),
        (b"Max-Forwards: 70", b"Refer-To: sip:a@b;x=a/b", "uri-needs-angle-brackets", "name-addr"),
        (b"Max-Forwards: 70", b"Refer-To: sip:a@b;method=INVITE", "", ""),
        (VIA_HOST, b"Via: SIP/2.0/TCP [2001:db8::1]:5060;rport;x=", "bad-header-value", "via-parm"),
        (VIA_HOST, b"Via: SIP/2.0/TCP [2001:db8::1]:5060;rport;received=1.2.3.4;x", "", ""),
        (VIA_HOST, b"Via: SIP/2.0/TCP [2001:db8::1::2]", "bad-header-value", "via-parm"),
        (VIA_HOST, b"Via: SIP/2.0/TCP 1.2.3.4.5", "bad-header-value", "via-parm"),
        (b"X-Custom: anything", b"X-Custom: bell\x07", "bad-header-value", "header-value"),
        (b"X-Custom", b"X Custom", "bad-header-name", "header-name"),
    ],
)
def test_message_level_rules(old: bytes, new: bytes, code: str, rule: str) -> None:
    data = replace(INVITE, old, new)
    if not code:
        sipfsm.parse(data, strict=True)
        return
    e = error(data, strict=True)
    assert (e.code, e.rule) == (code, rule), str(e)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty-message"),
        (b"INVITE sip:a@b SIP/2.0\r\n", "incomplete-message"),
        (b"INVITE sip:a@b SIP/2.0\r\nl: 5\r\n\r\nabc", "content-length-mismatch"),
        (b"INVITE sip:a@b SIP/2.0\r\nl: 0x5\r\n\r\n", "bad-content-length"),
        (b"INVITE sip:a@b SIP/2.0\r\n\r\n", None),
        (b"INVITE sip:a@b SIP/1.0\r\n\r\n", "bad-version"),
        (b"INVITE sip:a@b SIP/2\r\n\r\n", "bad-version"),
        (b"INV<ITE sip:a@b SIP/2.0\r\n\r\n", "bad-method"),
        (b"INVITE sip:a@b?x=y SIP/2.0\r\n\r\n", "bad-request-uri"),
        (b"INVITE sip:a@b\rSIP/2.0\r\n\r\n", "bad-line-ending"),
        (b"SIP/2.0 099 Early\r\n\r\n", "value-out-of-range"),
        (b"SIP/2.0 700 Late\r\n\r\n", "value-out-of-range"),
        (b"SIP/2.0 20 OK\r\n\r\n", "bad-status-code"),
        (b"SIP/2.0 200\r\n\r\n", "bad-status-line"),
        (b"SIP/2.0 200 O\x01K\r\n\r\n", "bad-reason-phrase"),
        (b"SIP/3.0 200 OK\r\n\r\n", "bad-version"),
        (b"\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\n\r\n", None),
    ],
)
def test_framing_and_start_line_errors(data: bytes, code: str | None) -> None:
    if code is None:
        sipfsm.parse(data, strict=True)
    else:
        assert error(data, strict=True).code == code
        assert error(data).code == code  # lazy mode checks these too


def test_error_carries_position_rule_code_and_reason() -> None:
    e = error(replace(INVITE, b"Max-Forwards: 70", b"Max-Forwards: 7x0"), strict=True)
    assert (e.line, e.column, e.code, e.rule) == (4, 15, "bad-header-value", "Max-Forwards")
    text = str(e)
    for part in ("line 4", "column 15", "bad-header-value", "Max-Forwards", e.reason):
        assert part in text


def test_limits() -> None:
    assert error(INVITE, limits=Limits(max_message_size=100)).code == "message-too-large"
    assert error(INVITE, limits=Limits(max_headers=5)).code == "too-many-headers"
    e = error(INVITE, strict=True, limits=Limits(max_header_line=40))
    assert (e.code, e.line) == ("header-line-too-long", 1)
    e = error(INVITE, strict=True, limits=Limits(max_header_line=60))
    assert (e.code, e.line) == ("header-line-too-long", 2)
    deep = replace(INVITE, b"(Linux (x86))", b"(" * 40 + b")" * 40)
    assert error(deep, strict=True).code == "nesting-too-deep"
    sipfsm.parse(deep, strict=True, limits=Limits(max_nesting=64))
    with pytest.raises(AttributeError):
        Limits().max_headers = 3  # type: ignore[misc]  # frozen: the point of the test


def test_non_bytes_is_a_parse_error() -> None:
    assert error("INVITE").code == "bad-input"  # type: ignore[arg-type]  # a str on purpose


@given(st.binary(max_size=600))
def test_arbitrary_bytes_give_a_message_or_a_parse_error(data: bytes) -> None:
    for strict in (False, True):
        try:
            msg = sipfsm.parse(data, strict=strict)
        except ParseError as e:
            assert e.line >= 1 and e.column >= 1 and e.code
            continue
        assert isinstance(msg, Request | Response)
        try:
            for h in msg.headers:
                h.tree()
            msg.get_all("Via")
        except ParseError:
            pass


CORPUS_FILES = sorted(CORPUS.glob("*.dat"))


@given(
    st.sampled_from(CORPUS_FILES),
    st.lists(st.tuples(st.integers(0, 4000), st.binary(min_size=0, max_size=4)), max_size=4),
)
def test_mutated_torture_messages_give_a_message_or_a_parse_error(
    path: Path, edits: list[tuple[int, bytes]]
) -> None:
    data = bytearray(path.read_bytes())
    for at, chunk in edits:
        at %= len(data) + 1
        data[at : at + len(chunk)] = chunk
    try:
        msg = sipfsm.parse(bytes(data), strict=True)
    except ParseError:
        return
    assert msg.headers is not None


@pytest.mark.parametrize(
    "fill", [b" ", b",", b";", b'"', b";a", b"a.", b"(", b"a ", b'\\"', b"<sip:a-"]
)
def test_adversarial_64k_messages_are_fast(fill: bytes) -> None:
    """60 KiB of separators in a header value: parsed or rejected, never slow (the benchmark
    prints the real figures; this bound is loose for loaded machines)."""
    big = Limits(max_header_line=1 << 17, max_nesting=1 << 16)
    for name in (b"Via", b"Contact", b"To", b"User-Agent", b"CSeq"):
        data = (
            b"INVITE sip:a@b SIP/2.0\r\n"
            + name
            + b": SIP/2.0/UDP "
            + fill * (60 * 1024 // len(fill))
            + b"!\r\nContent-Length: 0\r\n\r\n"
        )
        t0 = time.perf_counter()
        with contextlib.suppress(ParseError):
            sipfsm.parse(data, strict=True, limits=big)
        assert time.perf_counter() - t0 < 0.5, (name, fill)


def _bare_uri_lists(size: int) -> list[tuple[bytes, bytes, str]]:
    """(header, value of about ``size`` octets, expected code or "" for a parse): bare URIs
    (RFC 3261 section 20.10). Before the compiler applied 20.10, every comma of a bare URI
    could end a list element or not (2**n readings: 161 octets took 161 ms, doubling with each
    element) and every ";" after one could be a uri-parameter or a header parameter (n**2)."""
    out: list[tuple[bytes, bytes, str]] = []
    for name in (b"Contact", b"P-Asserted-Identity", b"P-Preferred-Identity"):
        n = size // 8
        params = "bad-header-value" if name == b"Contact" else "uri-needs-angle-brackets"
        out += [
            (name, b"sip:a@b;sip:a@b" + b",sip:a@b" * n + b'"', "unterminated-quoted-string"),
            (name, b"sip:a@b" + b",sip:a@b" * n, ""),
            (name, b"sip:a@b" + b",sip:a@b" * n + b", !", "bad-header-value"),
            (name, b"sip:a@b" + b",sip:a@b" * n + b",http:a,b", "uri-needs-angle-brackets"),
            (name, b"http:a" + b",b" * (size // 2), "uri-needs-angle-brackets"),
            # ";x" is a header parameter of Contact; P-*-Identity have none, so it can only
            # be in the URI, which then needs <>.
            (name, b"<sip:a@b>" + b",sip:a@b;x" * (size // 10) + b",", params),
        ]
    for name in (b"Contact", b"From", b"To", b"Reply-To", b"Refer-To"):
        trailing = "bad-header-value" if name == b"Contact" else "uri-needs-angle-brackets"
        out += [
            (name, b"sip:a@b" + b";a" * (size // 2) + b'"', "unterminated-quoted-string"),
            (name, b"sip:a@b" + b";a" * (size // 2), ""),
            (name, b"sip:a@b" + b";a" * (size // 2) + b";x=a/b", "uri-needs-angle-brackets"),
            # A trailing comma: an empty list element in Contact, part of the URI otherwise
            # (of an absoluteURI: a SIP-URI holds a comma in its user part only).
            (name, b"http:a" + b";a=b" * (size // 4) + b",", trailing),
            (name, b"sip:a@b" + b";a=b" * (size // 4) + b",", "bad-header-value"),
        ]
    return out


@pytest.mark.parametrize("size", [1024, 8 * 1024, 60 * 1024])
def test_bare_uri_lists_parse_or_fail_with_the_right_code(size: int) -> None:
    """Adversarial bare-URI values of several sizes (limits raised so that the regexes run):
    strict parsing, ``Header.tree()`` and the typed views agree on the verdict and the code.
    Correctness only; the benchmark prints the times against the 50 ms bound."""
    big = Limits(max_header_line=1 << 17, max_message_size=1 << 17)
    for name, value, code in _bare_uri_lists(size):
        data = b"INVITE sip:a@b SIP/2.0\r\n" + name + b": " + value + b"\r\nl: 0\r\n\r\n"
        lazy = sipfsm.parse(data, limits=big)
        (h,) = [h for h in lazy.headers if h.name.encode() == name]
        if not code:
            sipfsm.parse(data, strict=True, limits=big)
            h.tree()
            lazy.typed(h.canonical)
            continue
        e = error(data, strict=True, limits=big)
        assert e.code == code, (name, value[:40], str(e))
        with pytest.raises(ParseError) as lazy_err:
            h.tree()
        assert (lazy_err.value.code, lazy_err.value.line, lazy_err.value.column) == (
            e.code,
            e.line,
            e.column,
        )
        with pytest.raises(ParseError):
            lazy.typed(h.canonical)


def test_bare_uri_lists_split_at_every_top_level_comma() -> None:
    """Section 20.10: outside quoted strings and <>, a comma always separates elements."""
    data = replace(
        INVITE,
        b"Contact: <sip:alice@client.atlanta.example.com;transport=tcp>",
        b'Contact: sip:a@b,tel:+1;q=0.5 , "x,y" <http:c,d>;x="1,2",sip:e',
    )
    msg = sipfsm.parse(data, strict=True)
    items = ["sip:a@b", "tel:+1;q=0.5", '"x,y" <http:c,d>;x="1,2"', "sip:e"]
    assert msg.get_all("m") == items
    assert [str(c.uri) for c in msg.contact] == ["sip:a@b", "tel:+1", "http:c,d", "sip:e"]  # type: ignore[union-attr]  # no "*" among these


@pytest.mark.parametrize(
    ("name", "value"),
    [
        # '">" SWS' then "*(SEMI param)" or a COMMA: every split of the spaces was retried.
        (b"Contact", b"<sip:a@b>" + b" " * 60000 + b'"'),
        (b"Route", b"<sip:a@b>" + b" " * 60000 + b", x"),
        (b"From", b"<sip:a@b>;x=" + b" " * 60000 + b"!"),
        (b"Authorization", b"Digest a=" + b" " * 60000 + b"!"),
        # hostname: "*( domainlabel "." ) toplabel", labels ending in alphanum.
        (b"Via", b"SIP/2.0/UDP " + b"a." * 30000 + b"!"),
        (b"Contact", b"<sip:" + b"a-" * 30000 + b">"),
        # A parameter that reads two ways (c-p-q or generic-param, token or host): 2**n.
        (b"Contact", b"<sip:a@b>" + b";expires=5" * 20 + b';"'),
        (b"Contact", b"<sip:a@b>" + b";q=0.5" * 20 + b';"'),
        (b"Via", b"SIP/2.0/UDP h" + b";ttl=1" * 20 + b';"'),
        (b"Via", b"SIP/2.0/UDP h" + b";received=1.2.3.4" * 22 + b';"'),
        (b"Accept", b"a/b" + b";q=0.5" * 20 + b';"'),
        (b"From", b"<sip:a@b>" + b";a=b" * 20 + b";"),
    ],
)
def test_values_that_made_the_regexes_backtrack_are_fast(name: bytes, value: bytes) -> None:
    """Found by searching (prefix, repeated fill, tail) over every header regex; each took
    seconds (quadratic or exponential time) or tens of milliseconds before the compiler's
    white-space and hostname forms and its dropping of alternatives inside others. The bound
    is loose for loaded machines."""
    big = Limits(max_header_line=1 << 17)
    data = b"INVITE sip:a@b SIP/2.0\r\n" + name + b": " + value + b"\r\nContent-Length: 0\r\n\r\n"
    with contextlib.suppress(ParseError):
        sipfsm.parse(data, strict=True, limits=big)  # compiles the regex
    t0 = time.perf_counter()
    with contextlib.suppress(ParseError):
        sipfsm.parse(data, strict=True, limits=big)
    assert time.perf_counter() - t0 < 0.5, name


def test_cli_text_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    ok = str(CORPUS / "wsinv.dat")
    bad = str(CORPUS / "badvers.dat")
    assert cli_main(["parse", ok, "--strict"]) == 0
    assert capsys.readouterr().out.startswith(f"{ok}: ok INVITE sip:vivekg@")
    assert cli_main(["parse", ok, bad, "--strict"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith(f"{bad}: error 1:34 bad-version:")


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    ok = str(CORPUS / "unreason.dat")
    bad = str(CORPUS / "clerr.dat")
    assert cli_main(["parse", "--json", ok, bad]) == 1
    first, second = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    assert first == {"file": ok, "ok": True, "start_line": first["start_line"]}
    assert first["start_line"].startswith("SIP/2.0 200 = 2**3")
    assert second == {
        "file": bad,
        "ok": False,
        "line": 10,
        "column": 17,
        "code": "content-length-mismatch",
        "rule": "Content-Length",
        "reason": second["reason"],
    }


def test_cli_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.sip")
    assert cli_main(["parse", missing]) == 2
    assert capsys.readouterr().out == f"{missing}: error cannot read: No such file or directory\n"
    with pytest.raises(SystemExit) as exit_:
        cli_main(["parse"])
    assert exit_.value.code == 2


def test_cli_a_missing_file_is_its_own_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The batch goes on past a file that cannot be read (a folder, a missing file): each is
    reported in its turn, the others parsed; the exit code is 2 (bad input)."""
    ok, bad = str(CORPUS / "wsinv.dat"), str(CORPUS / "badvers.dat")
    missing = str(tmp_path / "missing.sip")
    assert cli_main(["parse", missing, ok, str(tmp_path), bad]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [missing, "error cannot read"],
        [ok, "ok INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0"],
        [str(tmp_path), "error cannot read"],
        [bad, "error 1:34 bad-version"],
    ]
    assert cli_main(["parse", "--json", missing, ok]) == 2
    first, second = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    assert first == {"file": missing, "ok": False, "code": "unreadable", "reason": first["reason"]}
    assert second["ok"] is True


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="latin-1"))


def test_cli_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, INVITE)
    assert cli_main(["parse", "--strict", "-"]) == 0
    assert capsys.readouterr().out == "-: ok INVITE sip:bob@biloxi.example.com SIP/2.0\n"
    _stdin(monkeypatch, (CORPUS / "badvers.dat").read_bytes())
    assert cli_main(["parse", "--json", "-"]) == 1
    assert json.loads(capsys.readouterr().out)["code"] == "bad-version"


def test_cli_validate_prints_the_findings(capsys: pytest.CaptureFixture[str]) -> None:
    """``--validate``: validate()'s findings for ``--role`` under each message (8.2.2.1: an
    unknown Request-URI scheme is answered 416); a reject or drop finding exits 1."""
    unknown_scheme = str(CORPUS / "unkscm.dat")
    ok = str(CORPUS / "wsinv.dat")
    assert cli_main(["parse", ok]) == 0 and cli_main(["parse", unknown_scheme]) == 0
    capsys.readouterr()
    assert cli_main(["parse", "--validate", unknown_scheme]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{unknown_scheme}: ok OPTIONS nobodyKnowsThisScheme:")
    assert lines[1].startswith("  reject 416 unsupported-uri-scheme (8.2.2.1")
    assert len(lines) == 2
    assert cli_main(["parse", "--validate", "--json", "--role", "proxy", unknown_scheme]) == 1
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["code"], f["action"], f["response"]) for f in found] == [
        ("unsupported-uri-scheme", "reject", 416)
    ]


# ---------------------------------------------------------------------------------------------
# Server, User-Agent, Retry-After: strict validation by the ``@unrolled`` terminals (a regular
# approximation of ``comment``, exact up to depth 32) must give the LALR parser's verdicts.


def _unrolled_verdict(rule: str, value: str) -> bool:
    from sipfsm.message import grammar as _grammar

    term = _grammar.BY_RULE[rule].unrolled
    assert term is not None
    return _grammar.fullmatcher(term)(value) is not None


def _lalr_verdict(rule: str, value: str) -> bool:
    from sipfsm.message import grammar as _grammar

    try:
        _grammar.lalr_parse(value, _grammar.BY_RULE[rule].lark_rule)
    except _grammar.LalrError:
        return False
    return True


def _comment(depth: int) -> st.SearchStrategy[str]:
    text = st.lists(
        st.sampled_from(["a", " ", "\t", "\\(", "\\)", "\\\\", "é", "x y", "/", '"', ";"]),
        max_size=4,
    ).map("".join)
    if depth <= 0:
        return st.tuples(st.sampled_from(["", " "]), text, st.sampled_from(["", " "])).map(
            lambda t: f"{t[0]}({t[1]}{t[2]})"
        )
    inner = st.lists(st.one_of(text, _comment(depth - 1)), max_size=3).map("".join)
    return st.tuples(st.sampled_from(["", " ", "\t "]), inner).map(lambda t: f"{t[0]}({t[1]})")


_PRODUCT = st.sampled_from(["a", "b/1", "Foo/2.0", "x / y", "!%'*+-.~", "a/"])
_SERVER_VAL = st.one_of(_PRODUCT, _comment(7))


@st.composite
def _server_values(draw: st.DrawFn) -> str:
    vals = draw(st.lists(_SERVER_VAL, min_size=1, max_size=4))
    seps = draw(st.lists(st.sampled_from([" ", "  ", "\t", ""]), min_size=4, max_size=4))
    out = vals[0] + "".join(s + v for s, v in zip(seps, vals[1:], strict=False))
    if draw(st.booleans()):  # mutate: drop, insert or swap one octet
        i = draw(st.integers(0, len(out)))
        c = draw(st.sampled_from(["(", ")", "\\", " ", "a", ";", '"', "\x00", "é"]))
        out = out[:i] + c + out[i + (1 if draw(st.booleans()) else 0) :]
    return out.strip(" \t")


@st.composite
def _retry_values(draw: st.DrawFn) -> str:
    out = draw(st.sampled_from(["5", "0", "120", "", "x"]))
    if draw(st.booleans()):
        out += draw(_comment(7))
    out += "".join(
        draw(st.lists(st.sampled_from([";a=1", " ; duration=5", ';x="(("', ";b"]), max_size=3))
    )
    if draw(st.booleans()):
        i = draw(st.integers(0, len(out)))
        c = draw(st.sampled_from(["(", ")", "\\", " ", ";", "=", '"']))
        out = out[:i] + c + out[i:]
    return out.strip(" \t")


_RANDOM = st.text(alphabet='a/ \t()\\;="1é', max_size=30).map(lambda s: s.strip(" \t"))


@given(st.one_of(_server_values(), _RANDOM), st.sampled_from(["server", "user-agent"]))
def test_unrolled_server_agrees_with_lalr(value: str, rule: str) -> None:
    assert _unrolled_verdict(rule, value) == _lalr_verdict(rule, value), value


@given(st.one_of(_retry_values(), _RANDOM.map(lambda s: "5" + s)))
def test_unrolled_retry_after_agrees_with_lalr(value: str) -> None:
    assert _unrolled_verdict("retry-after", value) == _lalr_verdict("retry-after", value), value


@pytest.mark.parametrize(
    ("rule", "value", "ok"),
    [
        ("server", "a", True),
        ("server", "a (b)", True),
        ("server", "(a) (b)", True),
        ("server", "(a)(b)", False),
        ("server", "a/1 (x (y) z) b", True),
        ("server", "( a )", True),
        ("server", "(a\\)", False),
        ("server", "(a\\))", True),
        ("server", "a (b", False),
        ("server", "a b)", False),
        ("server", "a  \t (b (c (d)))", True),
        ("server", "(" * 32 + "x" + ")" * 32, True),
        ("server", "(" * 33 + "x" + ")" * 33, False),  # beyond the unrolled depth
        ("user-agent", "Softphone Beta1.5 (x\t y)", True),
        ("retry-after", "5 (x);a=1", True),
        ("retry-after", "5(x)", True),
        ("retry-after", "5 ( x ) ;a=1", True),
        ("retry-after", '5 ;a="("', True),
        ("retry-after", "5 (x) (y)", False),
        ("retry-after", "(x)", False),
    ],
)
def test_unrolled_explicit(rule: str, value: str, ok: bool) -> None:
    assert _unrolled_verdict(rule, value) is ok
    if value.count("(") <= 32:
        assert _lalr_verdict(rule, value) is ok


_BIG = Limits(max_message_size=1 << 20, max_header_line=1 << 17, max_headers=100000)
_N = 60 * 1024


@pytest.mark.parametrize(
    ("header", "value", "code"),
    [
        (b"Server", b"a " * (_N // 2) + b"a", ""),
        (b"User-Agent", b"a/1 " * (_N // 4) + b"a", ""),
        (b"Server", b"(c) " * (_N // 4) + b"x", ""),
        (b"User-Agent", b"(a (b) c) " * (_N // 10) + b"x", ""),
        (b"Server", b"(" * 32 + b"a " * (_N // 2) + b")" * 32, ""),
        (b"User-Agent", b"x " + b"(" * 31 + b"(a) " * (_N // 4) + b")" * 31, ""),
        (b"Server", b"(" * 33 + b"a" * _N + b")" * 33, "nesting-too-deep"),
        (b"User-Agent", b"(" + b"(a) " * (_N // 4), "bad-header-value"),
        (b"Server", b"a" + b")" * _N, "bad-header-value"),
        (b"Server", b"(" * _N, "nesting-too-deep"),
        (b"User-Agent", b"a " * (_N // 2) + b"(", "bad-header-value"),
        (b"Retry-After", b"5 (" + b"a (b) " * (_N // 6) + b")", ""),
        (b"Retry-After", b"5 (" + b"a (b) " * (_N // 6), "bad-header-value"),
    ],
)
def test_big_non_regular_values(header: bytes, value: bytes, code: str) -> None:
    msg = (
        b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        b"CSeq: 1 INVITE\r\n" + header + b": " + value + b"\r\nContent-Length: 0\r\n\r\n"
    )
    if not code:
        got = sipfsm.parse(msg, strict=True, limits=_BIG)
        assert got.headers[-2].tree().data.replace("_", "-") == header.decode().lower()
        return
    with pytest.raises(ParseError) as err:
        sipfsm.parse(msg, strict=True, limits=_BIG)
    assert err.value.code == code
    assert err.value.line == 4
