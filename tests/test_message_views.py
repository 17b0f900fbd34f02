"""Typed header views (RFC 3261 section 20) over what sipfsm.parse returns."""

from __future__ import annotations

import itertools

import pytest
from conftest import CORPUS
from hypothesis import given
from hypothesis import strategies as st

import sipfsm
from sipfsm.message.headers import MediaType, NameAddr, Wildcard
from sipfsm.testing import strategies as sips


def load(name: str) -> sipfsm.Request | sipfsm.Response:
    return sipfsm.parse((CORPUS / name).read_bytes())


def test_wsinv_views() -> None:
    """RFC 4475 3.1.1.1: folding, compact forms, escaped quotes, leading zeros, all read."""
    m = load("wsinv.dat")
    assert [v.branch for v in m.via] == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"]
    assert [v.transport for v in m.via] == ["UDP", "TCP", "UDP"]
    assert m.via[2].host == "192.168.255.111"
    assert m.to is not None and m.to.tag == "1918181833n" and m.to.display_name is None
    assert m.from_ is not None and m.from_.display_name == 'J Rosenberg \\"'
    assert m.from_.tag == "98asjd8"
    assert m.cseq == sipfsm.message.headers.CSeq(9, "INVITE")
    assert m.max_forwards == 68 and m.content_length == 150
    assert m.subject == ""
    c = m.contact[0]
    assert isinstance(c, NameAddr) and c.display_name == 'Quoted string ""' and c.q == 0.33
    assert c.param("newparam") == "newvalue" and c.has_param("secondparam")
    assert m.route[0].uri.lr and m.route[0].uri.param("unknownwith") == "value"
    assert m.content_type is not None and m.content_type.mime == "application/sdp"
    assert m.typed("UnknownHeaderWithUnusualValue") == [";;,,;;,;"]


def test_intmeth_views() -> None:
    """RFC 4475 3.1.1.2: quoted-pairs incl. NUL in display name, token display name."""
    m = load("intmeth.dat")
    assert m.to is not None and m.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert m.from_ is not None and m.from_.display_name == "token1~` token2'+_ token3*%!.-"
    assert m.from_.tag == "_token~1'+`*%!-."
    assert m.cseq is not None and m.cseq.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert m.via[0].branch == "z9hG4bK-.!%66*_+`'~"


def test_escnull_contacts_are_distinct() -> None:
    """RFC 4475 3.1.1.4: escaped NULs must not shorten the user: two distinct contacts."""
    m = load("escnull.dat")
    users = [c.uri.user_unescaped for c in m.contact if isinstance(c, NameAddr)]
    assert users == ["\x00", "\x00\x00"]
    a, b = (c.uri for c in m.contact if isinstance(c, NameAddr))
    assert not a.equivalent(b)


def test_semiuri_user() -> None:
    """RFC 4475 3.1.1.9: the user part is 'user;par=u@example.net'."""
    m = load("semiuri.dat")
    assert isinstance(m, sipfsm.Request)
    assert sipfsm.URI.parse(m.uri).user_unescaped == "user;par=u@example.net"


def test_transports_via_list() -> None:
    """RFC 4475 3.1.1.10: every Via value over lines and commas, in order."""
    m = load("transports.dat")
    assert [v.transport for v in m.via] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]


def test_cparam_contact_params_vs_uri_params() -> None:
    """RFC 4475 3.3.12 / 3.3.13: 'unknownparam' is a contact-param in addr-spec form (cparam01)
    and a uri-parameter inside <...> (cparam02)."""
    c1 = load("cparam01.dat").contact[0]
    c2 = load("cparam02.dat").contact[0]
    assert isinstance(c1, NameAddr) and isinstance(c2, NameAddr)
    assert c1.has_param("unknownparam") and not c1.uri.has_param("unknownparam")
    assert c2.uri.has_param("unknownparam") and not c2.has_param("unknownparam")


def test_regescrt_uri_header() -> None:
    """RFC 4475 3.3.14: the Contact URI keeps its escaped Route header."""
    c = load("regescrt.dat").contact[0]
    assert isinstance(c, NameAddr)
    assert [n.lower() for n, _ in c.uri.header_fields] == ["route"]
    assert c.uri.header_fields[0][1].startswith("<sip:")


def test_wildcard_contact_and_auth_views() -> None:
    """Contact * (20.10), Digest credentials (20.7), challenge (20.44), warning (20.43),
    Retry-After from its LALR tree (20.33), Date (20.17), Require/Supported/Allow lists."""
    data = (
        b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport;"
        b"received=192.0.2.1;maddr=239.1.1.1;ttl=5\r\nTo: <sip:a@example.com>\r\n"
        b'From: "A" <sip:a@example.com>;tag=1\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n'
        b"Max-Forwards: 70\r\nContact: *\r\nExpires: 0\r\n"
        b'Authorization: Digest username="a", realm="example.com", nonce="n", '
        b'uri="sip:example.com", response="0123456789abcdef0123456789abcdef", qop=auth, '
        b'nc=00000001, cnonce="c"\r\nRequire: foo, bar\r\nk: 100rel\r\nk: timer\r\n'
        b"Allow: INVITE, ACK\r\nRetry-After: 120 (I'm in a meeting) ;duration=3600\r\n"
        b'Date: Sat, 13 Nov 2010 23:29:00 GMT\r\nWarning: 370 devnull "Choose a bigger pipe"'
        b', 399 h "x"\r\nTimestamp: 54.2 1.5\r\nl: 0\r\n\r\n'
    )
    m = sipfsm.parse(data, strict=True)
    assert m.contact == [Wildcard()] and m.expires == 0
    v = m.via[0]
    assert (v.port, v.rport, v.received, v.maddr, v.ttl) == (
        5060,
        True,
        "192.0.2.1",
        "239.1.1.1",
        5,
    )
    cred = m.authorization[0]
    assert (cred.scheme, cred.username, cred.realm, cred.qop, cred.nc) == (
        "Digest",
        "a",
        "example.com",
        "auth",
        "00000001",
    )
    assert m.require == ["foo", "bar"] and m.supported == ["100rel", "timer"]
    assert m.allow == ["INVITE", "ACK"]
    ra = m.retry_after
    assert ra is not None and (ra.seconds, ra.comment, ra.duration) == (
        120,
        "I'm in a meeting",
        3600,
    )
    assert m.date is not None and m.date.value is not None and m.date.value.year == 2010
    assert [(w.code, w.agent, w.text) for w in m.warning] == [
        (370, "devnull", "Choose a bigger pipe"),
        (399, "h", "x"),
    ]
    assert m.timestamp == sipfsm.message.headers.Timestamp("54.2", "1.5")


def test_challenge_and_extension_views() -> None:
    """WWW-Authenticate (20.44) and the extension headers of grammar/ (RFC 3262, 3326, 4028,
    6665, 3515, 3325)."""
    data = (
        b"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        b"To: <sip:a@example.com>;tag=2\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c\r\n"
        b'CSeq: 2 REGISTER\r\nWWW-Authenticate: Digest realm="r", nonce="n", stale=TRUE, '
        b'qop="auth,auth-int", algorithm=MD5\r\nRSeq: 5\r\nRAck: 5 2 INVITE\r\n'
        b'Reason: SIP ;cause=580 ;text="Precondition Failure"\r\nSession-Expires: 1800;'
        b"refresher=uac\r\nEvent: presence.winfo;id=7\r\nSubscription-State: active;"
        b"expires=60\r\nRefer-To: <sip:c@example.com>\r\nP-Asserted-Identity: "
        b"<sip:x@example.com>, <tel:+1555>\r\nContent-Length: 0\r\n\r\n"
    )
    m = sipfsm.parse(data, strict=True)
    ch = m.www_authenticate[0]
    assert (ch.realm, ch.stale, ch.qop, ch.algorithm) == ("r", True, ("auth", "auth-int"), "MD5")
    assert m.rseq == 5 and m.rack == sipfsm.message.headers.RAck(5, 2, "INVITE")
    r = m.reason_header[0]
    assert (r.protocol, r.cause, r.text) == ("SIP", 580, "Precondition Failure")
    se = m.session_expires
    assert se is not None and (se.seconds, se.refresher) == (1800, "uac")
    ev = m.event
    assert ev is not None and (ev.package, ev.id) == ("presence", "7")
    ss = m.subscription_state
    assert ss is not None and (ss.state, ss.expires) == ("active", 60)
    assert m.refer_to is not None and str(m.refer_to.uri) == "sip:c@example.com"
    assert [str(p.uri) for p in m.p_asserted_identity] == ["sip:x@example.com", "tel:+1555"]


def test_missing_headers_read_as_none_or_empty() -> None:
    """RFC 4475 3.3.1 (insuf): absent headers read as None / [] and never raise."""
    m = load("insuf.dat")
    assert m.to is None and m.from_ is None and m.call_id is None
    assert m.route == [] and m.contact == []


@pytest.mark.parametrize(
    ("line", "header"),
    [
        (b"Via: SIP/2.0/UDP", "Via"),
        (b"CSeq: x INVITE", "CSeq"),
        (b"To: <sip:a@b.com", "To"),
        (b"Max-Forwards: ten", "Max-Forwards"),
    ],
)
def test_malformed_header_raises_parse_error(line: bytes, header: str) -> None:
    """Reading a typed view of a malformed header (lenient parse) raises ParseError naming
    the header and its line and column."""
    data = (
        b"OPTIONS sip:a@b.com SIP/2.0\r\nCall-ID: x\r\n" + line + b"\r\nContent-Length: 0\r\n\r\n"
    )
    m = sipfsm.parse(data)
    with pytest.raises(sipfsm.ParseError) as info:
        m.typed(header)
    err = info.value
    assert err.line == 3, "the defect is on line 3"
    assert err.column >= 1
    assert header in str(err) or header.lower() in err.rule.lower()


def test_authentication_info_is_a_comma_list_read_as_one_value() -> None:
    """20.6: ``ainfo *(COMMA ainfo)`` is a comma list (7.3.1), so one field may be written as
    several lines (as ``canonical`` does); the view reads every ainfo of every line."""
    head = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
    one = sipfsm.parse(head + b'Authentication-Info: nextnonce="4736", qop=auth\r\nl: 0\r\n\r\n')
    two = sipfsm.parse(
        head + b'Authentication-Info: nextnonce="4736"\r\nAuthentication-Info: qop=auth\r\n'
        b"l: 0\r\n\r\n"
    )
    edited = one.with_header("X-A", "1")
    want = (("nextnonce", '"4736"'), ("qop", "auth"))
    for m in (one, two, edited):
        info = m.authentication_info
        assert info is not None and info.params == want
        assert info.param("nextnonce") == "4736"
    assert one.same_as(two)


def test_the_views_know_every_header_of_the_grammar() -> None:
    """Every header field of grammar/ has a typed view (and no view names a field the grammar
    does not know); compact forms and list headers come from the grammar."""
    from sipfsm.message import grammar, views

    assert {k.lower() for k in views._SPECS} == set(grammar.BY_RULE)
    assert views.COMPACT == grammar.COMPACT_FORMS
    assert {"via", "contact", "authentication-info"} <= grammar.LIST_HEADERS
    assert "www-authenticate" not in grammar.LIST_HEADERS  # one challenge per line (20.44)


def _media_range(text: str) -> MediaType:
    m = sipfsm.parse(
        f"OPTIONS sip:b@b.example.com SIP/2.0\r\nAccept: {text}\r\nl: 0\r\n\r\n".encode()
    )
    (accept,) = m.accept
    return accept


NOT_STAR = sips.tokens().filter(lambda t: t != "*")


@given(kind=NOT_STAR, sub=NOT_STAR, other=NOT_STAR)
def test_media_range_matches_its_types_and_no_other(kind: str, sub: str, other: str) -> None:
    """20.1 (media-range of RFC 2616 14.1, case-insensitive, 20.15): ``type/subtype`` matches
    itself in any case; ``type/*`` every subtype of type; ``*/*`` everything; a type or a
    subtype apart, no match."""
    exact, any_sub, anything = (_media_range(t) for t in (f"{kind}/{sub}", f"{kind}/*", "*/*"))
    assert exact.matches(f"{kind}/{sub}") and exact.matches(f"{kind.upper()}/{sub.lower()}")
    assert any_sub.matches(f"{kind}/{other}") and anything.matches(f"{other}/{sub}")
    if other.lower() != kind.lower():
        assert not exact.matches(f"{other}/{sub}") and not any_sub.matches(f"{other}/{sub}")
    if other.lower() != sub.lower():
        assert not exact.matches(f"{kind}/{other}")


def _top_by_octet(text: str, sep: str, comments: bool) -> list[int]:
    """Where ``sep`` stands outside quoted strings (with quoted-pairs), ``<...>`` and, when
    ``comments``, comments (RFC 3261 section 25.1), read octet by octet."""
    out: list[int] = []
    quote, angle, depth, i = False, 0, 0, 0
    while i < len(text):
        ch = text[i]
        if quote or depth:
            if ch == "\\":
                i += 1
            elif quote and ch == '"':
                quote = False
            elif depth and ch in "()":
                depth += 1 if ch == "(" else -1
        elif ch == sep and not angle:
            out.append(i)
            angle += ch == "<"
        elif ch == '"':
            quote = True
        elif ch == "<":
            angle += 1
        elif ch == ">" and angle:
            angle -= 1
        elif ch == "(" and comments and not angle:
            depth += 1
        i += 1
    return out


@given(
    st.text('a,;<>"\\() ', max_size=40),
    st.sampled_from([",", ";", "<"]),
    st.booleans(),
)
def test_top_level_separators_are_found_as_octet_by_octet(
    text: str, sep: str, comments: bool
) -> None:
    """split_top jumps to the octets that matter (issue 11: a Python loop over every octet
    cost ms on long values); the separators it finds are those an octet-by-octet reading
    finds."""
    from sipfsm.message.split import _top_positions, split_top

    want = _top_by_octet(text, sep, comments)
    assert _top_positions(text, sep, comments=comments) == want
    bounds = [-1, *want, len(text)]
    pieces = [text[a + 1 : b].strip(" \t\r\n") for a, b in itertools.pairwise(bounds)]
    assert split_top(text, sep, comments=comments) == pieces


@pytest.mark.parametrize("strict", [True, False])
def test_retry_after_comment_disposition_and_canonical_names(strict: bool) -> None:
    """Retry-After's seconds, comment and duration (20.33) and Content-Disposition's type and
    handling (20.11), read from the parse tree (strict) and from the text (lazy); a compact or
    oddly cased name is written in its long canonical form (7.3.3), an unknown one as it is."""
    data = (
        b"SIP/2.0 503 Service Unavailable\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        b"To: <sip:a@example.com>;tag=2\r\nFrom: <sip:a@example.com>;tag=1\r\nCALL-id: c\r\n"
        b"CSeq: 2 INVITE\r\nRetry-After: 18000 (in a meeting) ;duration=3600\r\n"
        b"Content-Disposition: session;handling=required\r\nX-Foo: 1\r\nl: 0\r\n\r\n"
    )
    m = sipfsm.parse(data, strict=strict)
    ra = m.retry_after
    assert ra is not None and (ra.seconds, ra.comment, ra.duration) == (18000, "in a meeting", 3600)
    cd = m.content_disposition
    assert cd is not None and (cd.disposition, cd.handling) == ("session", "required")
    names = [line.split(b":", 1)[0] for line in m.canonical().split(b"\r\n")[1:] if b":" in line]
    assert names[0] == b"Via" and b"Call-ID" in names and b"Content-Length" in names
    assert b"X-Foo" in names
    assert sipfsm.message.views.canonical_name(" t ") == "To"
    assert sipfsm.message.views.canonical_name("x-foo ") == "x-foo"


def test_a_timestamp_without_a_delay() -> None:
    """20.38: Timestamp = "Timestamp" HCOLON 1*(DIGIT) [ "." *(DIGIT) ] [ LWS delay ]: the
    delay is optional."""
    m = sipfsm.parse(
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n"
        b"From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
        b"Timestamp: 54\r\nContent-Length: 0\r\n\r\n",
        strict=True,
    )
    assert m.timestamp == sipfsm.message.headers.Timestamp("54", None)
