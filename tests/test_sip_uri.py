"""A ``sip:`` or ``sips:`` URI is a SIP-URI or SIPS-URI wherever a URI appears (issue 11,
defect 1; RFC 3261 section 19.1.1, RFC 5118 section 4.2), never the generic ``absoluteURI``:
``REGISTER sip:2001:db8::10 SIP/2.0`` (an IPv6 reference without brackets) is invalid. And
what strict parsing accepts, every typed view reads (the CLI and the API agree)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st

import sipfsm
from sipfsm import ParseError
from sipfsm.abnf.compile import compile_grammar
from sipfsm.message import grammar as _grammar
from sipfsm.testing import strategies as sips
from sipfsm.testing.views import read_every_view

#: sip: and sips: texts that are not SIP-URI / SIPS-URI (section 25.1), each why.
BAD_SIP = [
    "sip:2001:db8::10",  # RFC 5118 4.2: an IPv6 reference needs its brackets
    "sip:user@host:port",  # port = 1*DIGIT
    "sip:a@b@c",  # user holds no "@"
    "sip:a@2001:db8::10",
    "sips:[2001:db8::10",  # unclosed IPv6reference
    "SIP:user@-bad-.example.com",  # the scheme is case-insensitive (19.1.4)
    "sip://example.com",  # the hier-part of absoluteURI is not a SIP-URI
    "sip:",
    "Sips:a@b;=x",  # empty pname
]
#: URIs that stay valid: SIP-URIs, and other schemes (sip-like ones too) as absoluteURI.
GOOD = [
    "sip:[2001:db8::10]",
    "sip:user@[2001:db8::10]:5070;transport=tcp",
    "SIP:alice@atlanta.example.com",
    "sips:bob@biloxi.example.com",
    "tel:+1-201-555-0123",
    "http://www.example.com/alice/photo.jpg",
    "urn:service:sos",
    "s:a",
    "si:a",
    "sipx:2001:db8::10",
    "sip2:a@b@c",
    "sipsx:a@b@c",
    "sips1:x",
]

REQUEST = (
    "OPTIONS {ruri} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    "To: <sip:bob@biloxi.example.com>\r\n"
    "From: <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710\r\n"
    "CSeq: 63104 OPTIONS\r\n"
    "{extra}"
    "Content-Length: 0\r\n\r\n"
)

#: Every header field whose value holds a URI (name-addr / addr-spec, or absoluteURI in <>),
#: as a line with ``{uri}`` where the URI goes, and the view that reads it.
URI_FIELDS = [
    ("To: <{uri}>;tag=1", "to"),
    ('From: "A" <{uri}>;tag=2', "from_"),
    ("Contact: <{uri}>;expires=60", "contact"),
    ("Route: <{uri}>", "route"),
    ("Record-Route: <{uri}>", "record_route"),
    ("Reply-To: <{uri}>", "reply_to"),
    ("P-Asserted-Identity: <{uri}>", "p_asserted_identity"),
    ("P-Preferred-Identity: <{uri}>", "p_preferred_identity"),
    ("Refer-To: <{uri}>", "refer_to"),
    ("Call-Info: <{uri}>;purpose=info", "call_info"),
    ("Alert-Info: <{uri}>", "alert_info"),
    ("Error-Info: <{uri}>", "error_info"),
]


def _request(ruri: str = "sip:bob@biloxi.example.com", extra: str = "") -> bytes:
    text = REQUEST.format(ruri=ruri, extra=extra)
    for name in ("To", "From"):  # a single-value field: the extra line takes its place
        if extra.startswith(name + ":"):
            text = re.sub(rf"\r\n{name}: [^\r]*", "", text, count=1)
    return text.encode()


@pytest.mark.parametrize("uri", BAD_SIP)
def test_a_bad_sip_request_uri_is_rejected(uri: str) -> None:
    for strict in (False, True):
        with pytest.raises(ParseError) as err:
            sipfsm.parse(_request(uri), strict=strict)
        assert (err.value.code, err.value.rule) == ("bad-request-uri", "Request-URI"), err.value


@pytest.mark.parametrize("uri", BAD_SIP)
@pytest.mark.parametrize(("line", "view"), URI_FIELDS)
def test_a_bad_sip_uri_in_a_header_is_rejected(uri: str, line: str, view: str) -> None:
    data = _request(extra=line.format(uri=uri) + "\r\n")
    with pytest.raises(ParseError) as err:
        sipfsm.parse(data, strict=True)
    assert err.value.code == "bad-header-value", err.value
    lazy = sipfsm.parse(data)
    field = next(h for h in lazy.headers if h.name == line.split(":")[0])
    with pytest.raises(ParseError):  # the grammar says so before the view does
        field.tree()


@pytest.mark.parametrize("uri", GOOD)
@pytest.mark.parametrize(("line", "view"), URI_FIELDS)
def test_good_uris_are_accepted_and_read(uri: str, line: str, view: str) -> None:
    msg = sipfsm.parse(_request(uri, extra=line.format(uri=uri) + "\r\n"), strict=True)
    got = getattr(msg, view)
    item = got[0] if isinstance(got, list) else got
    assert item is not None and str(item.uri) == uri
    assert isinstance(msg, sipfsm.Request) and sipfsm.URI.parse(msg.uri).text == uri


def test_bare_addr_specs_follow_the_same_rule() -> None:
    """A bare addr-spec (no <>) of To, From, Contact, Reply-To, Refer-To, P-*-Identity."""
    for name in ("To", "From", "Contact", "Reply-To", "Refer-To", "P-Asserted-Identity"):
        bad = _request(extra=f"{name}: sip:2001:db8::10\r\n")
        with pytest.raises(ParseError):
            sipfsm.parse(bad, strict=True)
        sipfsm.parse(_request(extra=f"{name}: sip:[2001:db8::10]\r\n"), strict=True)
        sipfsm.parse(_request(extra=f"{name}: sipx:2001:db8::10\r\n"), strict=True)


def test_the_cli_and_the_api_agree(capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    from pathlib import Path

    from sipfsm.cli.main import main as cli_main

    path = Path(str(tmp_path)) / "register.sip"
    path.write_bytes(_request("sip:2001:db8::10").replace(b"OPTIONS", b"REGISTER"))
    assert cli_main(["parse", "--strict", str(path)]) == 1
    assert " bad-request-uri: " in capsys.readouterr().out


def test_the_scheme_exclusion_comes_from_the_grammar() -> None:
    """The generic alternative of absoluteURI takes every scheme but those its other
    alternatives spell (``sip``, ``sips``), in any case, and nothing else changes."""
    scheme = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
    compiled = re.compile(_grammar.TERMINALS["REQUEST_URI"])
    alphabet = "sSiIpPx1+"
    words = [""]
    for _ in range(5):
        words = [w + c for w in words for c in alphabet] + [""]
        for w in set(words):
            text = f"{w}:a%41"
            # (a SIP-URI's host holds no "%": with the sip schemes, the text is invalid)
            want = scheme.fullmatch(w) is not None and w.lower() not in ("sip", "sips")
            assert (compiled.fullmatch(text) is not None) == want, text


def test_the_committed_grammar_is_the_compiled_one() -> None:
    assert compile_grammar() == _grammar.GRAMMAR_FILE.read_text(encoding="utf-8")


# --- the property: what strict parsing accepts, every typed view reads --------------------

CLASSES = json.loads((CORPUS / "classes.json").read_text())["messages"]
ACCEPTED = sorted(n for n, c in CLASSES.items() if c["class"] in ("valid", "semantic"))


@pytest.mark.parametrize("name", ACCEPTED)
def test_every_view_of_an_accepted_corpus_message_reads(name: str) -> None:
    msg = sipfsm.parse((CORPUS / name).read_bytes(), strict=True)
    read_every_view(msg)


@settings(max_examples=min(settings().max_examples, 150))
@given(sips.messages())
def test_every_view_of_an_accepted_generated_message_reads(m: sipfsm.Message) -> None:
    msg = sipfsm.parse(m.raw, strict=True)
    read_every_view(msg)
    read_every_view(sipfsm.parse(m.raw))  # lazily parsed, the same


#: uri-parameters whose value is a token (25.1: other-transport, other-user, extension-method):
#: a token holds "`" and a bare "%", which paramchar does not. (uri-parameter, name, value)
TOKEN_PARAMS = [
    ("transport=u`p", "transport", "u`p"),  # found by scripts/fuzz (issue 11)
    ("TRANSPORT=tc`", "TRANSPORT", "tc`"),  # the literal is case-insensitive (RFC 5234 2.3)
    ("user=p`one", "user", "p`one"),
    ("user=100%", "user", "100%"),
    ("method=IN%VITE", "method", "IN%VITE"),
]
#: uri-parameters that no alternative of uri-parameter matches: each is other-param (pname
#: [ "=" pvalue ]) with a character outside paramchar, or an empty pname / pvalue.
NOT_PARAMS = ["x=u`p", "ttl=1`", "maddr=a`b", "lr`", "transport=", "=tcp", "x=%zz", "user=a=b"]


@pytest.mark.parametrize(("param", "name", "value"), TOKEN_PARAMS)
@pytest.mark.parametrize(("line", "view"), URI_FIELDS)
def test_a_token_valued_uri_parameter_is_read(
    param: str, name: str, value: str, line: str, view: str
) -> None:
    """Strict parsing accepted these (the grammar allows them) and the URI view refused them
    (it matched every value as paramchar): now the view reads what the ABNF accepts."""
    uri = f"sip:b@example.com;{param}"
    msg = sipfsm.parse(_request(uri, extra=line.format(uri=uri) + "\r\n"), strict=True)
    read_every_view(msg)
    got = getattr(msg, view)
    item = got[0] if isinstance(got, list) else got
    assert item is not None and item.uri.params == ((name, value),)
    assert isinstance(msg, sipfsm.Request) and sipfsm.URI.parse(msg.uri).params == ((name, value),)


@pytest.mark.parametrize("param", NOT_PARAMS)
def test_a_uri_parameter_outside_the_abnf_is_refused_by_both(param: str) -> None:
    uri = f"sip:b@example.com;{param}"
    with pytest.raises(ParseError) as err:
        sipfsm.parse(_request(extra=f"To: <{uri}>\r\n"), strict=True)
    assert err.value.code == "bad-header-value", err.value
    with pytest.raises(sipfsm.URIError):
        sipfsm.URI.parse(uri)


_PARAM_ALPHABET = "aZ09-_.!~*'()[]/:&+$%`=4F"


@settings(max_examples=min(settings().max_examples, 200))
@given(
    st.sampled_from(["transport=", "user=", "method=", "ttl=", "maddr=", "x=", ""]),
    st.text(_PARAM_ALPHABET, min_size=0, max_size=6),
)
def test_strict_parsing_and_the_uri_view_agree_on_uri_parameters(head: str, tail: str) -> None:
    """Whatever a uri-parameter's characters, strict parsing accepts the URI exactly when
    the URI view reads it (both follow the ABNF of section 25.1)."""
    uri = f"sip:b@example.com;{head}{tail}"
    try:
        sipfsm.parse(_request(extra=f"To: <{uri}>\r\n"), strict=True)
        accepted = True
    except ParseError:
        accepted = False
    try:
        sipfsm.URI.parse(uri)
        read = True
    except sipfsm.URIError:
        read = False
    assert accepted == read, uri


@pytest.mark.parametrize("uri", ["tel:;731", "tel:+1;;a", "tel:;"])
def test_a_tel_uri_outside_rfc_3966_reads_as_an_absolute_uri(uri: str) -> None:
    """Found by the fuzz harness (issue 11): ``To: <tel:;731>`` is an absoluteURI (25.1), so
    strict parsing accepts it; the view raised "empty or invalid telephone-subscriber"."""
    msg = sipfsm.parse(_request(extra=f"To: <{uri}>\r\n"), strict=True)
    read_every_view(msg)
    assert msg.to is not None and str(msg.to.uri) == uri and msg.to.uri.scheme == "tel"
