"""URI model: parsing (25.1), escaping (19.1.2) and comparison (19.1.4) of sipfsm's URI."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sipfsm import URI
from sipfsm.message.uri import UNRESERVED, URIError, escape, unescape
from sipfsm.testing.strategies import uris

# Every example set of RFC 3261 section 19.1.4, verbatim.
EQUIVALENT = [
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
    (
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    ),
    (
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    ),
    # "Note that equality is not transitive": the first two bullets.
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=off"),
]
NOT_EQUIVALENT = [
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
    # the third bullet of the non-transitivity note
    ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
    # first rule: a SIP and SIPS URI are never equivalent
    ("sip:alice@atlanta.com", "sips:alice@atlanta.com"),
]


@pytest.mark.parametrize(("a", "b"), EQUIVALENT, ids=[f"{a} == {b}" for a, b in EQUIVALENT])
def test_19_1_4_equivalent(a: str, b: str) -> None:
    """19.1.4: 'The URIs within each of the following sets are equivalent'."""
    ua, ub = URI.parse(a), URI.parse(b)
    assert ua.equivalent(ub), f"19.1.4 says {a} and {b} are equivalent"
    assert ub.equivalent(ua), "equivalence must be symmetric"


@pytest.mark.parametrize(("a", "b"), NOT_EQUIVALENT, ids=[f"{a} != {b}" for a, b in NOT_EQUIVALENT])
def test_19_1_4_not_equivalent(a: str, b: str) -> None:
    """19.1.4: 'The URIs within each of the following sets are not equivalent'."""
    ua, ub = URI.parse(a), URI.parse(b)
    assert not ua.equivalent(ub), f"19.1.4 says {a} and {b} are not equivalent"
    assert not ub.equivalent(ua)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("sip:bob@b.com;user=phone", "sip:bob@b.com", False),  # user param in one only
        ("sip:bob@b.com;ttl=1", "sip:bob@b.com", False),
        ("sip:bob@b.com;method=INVITE", "sip:bob@b.com", False),
        ("sip:bob@b.com;maddr=1.2.3.4", "sip:bob@b.com", False),
        ("sip:bob@b.com;lr", "sip:bob@b.com", True),  # other params in one only: ignored
        ("sip:bob:pw@b.com", "sip:bob@b.com", False),  # password in one only
        ("sip:b.com", "sip:bob@b.com", False),  # user in one only
        ("sip:Bob@b.com", "sip:bob@b.com", False),  # userinfo case-sensitive
        ("sip:bob@b.com?X=%61", "sip:bob@b.com?x=a", True),  # header name case, escape
        ("sip:a%2fb@b.com", "sip:a%2Fb@b.com", True),  # hex case of a reserved escape
        ("sip:a%2Fb@b.com", "sip:a/b@b.com", False),  # '/' is reserved: escape differs
        ("tel:+1-201-555-0123", "tel:+12015550123", True),  # RFC 3966 section 4
        ("tel:+1-201-555-0123;ext=1", "tel:+12015550123", False),
        ("mailto:a@b.com", "MAILTO:a@b.com", True),
        ("mailto:a@b.com", "mailto:A@b.com", False),
    ],
)
def test_19_1_4_rules(a: str, b: str, expected: bool) -> None:
    """The individual rules of 19.1.4 (and RFC 3966 section 4 for tel)."""
    assert URI.parse(a).equivalent(URI.parse(b)) is expected


@pytest.mark.parametrize(
    "text",
    [
        "sip:user;par=u%40example.net@example.com",  # RFC 4475 3.1.1.9
        "sip:[2001:db8::10]:5070;maddr=[2001:db8::1]",
        "sips:alice:secret@atlanta.com:5061;transport=tls?subject=hi&x=",
        "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com",
        "tel:+358-555-1234567;postd=pp22",
        "soap.beep://192.0.2.103:3002",
        "http://www.example.com/index.html?x=1",
        "urn:service:sos",
    ],
)
def test_parse_keeps_text(text: str) -> None:
    """A parsed URI gives back its exact spelling (lossless, needed by the serializer)."""
    assert str(URI.parse(text)) == text


def test_components() -> None:
    """The components of 19.1.1, with escapes kept in ``user`` and resolved in accessors."""
    u = URI.parse("sips:al%20ice:pw@[::1]:5061;transport=TLS;lr;maddr=239.0.0.1;ttl=15?a=b")
    assert (u.scheme, u.user, u.password, u.host, u.port) == (
        "sips",
        "al%20ice",
        "pw",
        "[::1]",
        5061,
    )
    assert u.user_unescaped == "al ice"
    assert (u.transport, u.maddr, u.ttl, u.lr) == ("TLS", "239.0.0.1", 15, True)
    assert u.headers == (("a", "b"),) and u.is_secure


@pytest.mark.parametrize(
    "text",
    [
        "sip:",
        "sip:@host",
        "sip:a@",
        "sip:a@host:port",
        "sip:a@ho st",
        "nocolon",
        "sip:a@h;p=<",
        "sip:h?x",
    ],
)
def test_parse_rejects(text: str) -> None:
    """Texts outside 25.1 raise URIError (a ValueError) naming the defect."""
    with pytest.raises(URIError):
        URI.parse(text)


def test_escaping_19_1_2() -> None:
    """19.1.2: escape per component, unescape keeps escaped NULs (RFC 4475 3.1.1.4)."""
    assert escape("a b@c", "user") == "a%20b%40c"
    assert escape("a;b?c", "user") == "a;b?c"  # user-unreserved
    assert escape("a;b", "param") == "a%3Bb"
    assert unescape("null-%00-null") == "null-\x00-null"
    with pytest.raises(ValueError):
        escape("x", "nope")


def test_sip_builder_round_trips() -> None:
    """URI.sip escapes unescaped components; parsing gives the components back."""
    u = URI.sip(
        "example.com",
        "a b;c",
        port=5070,
        params={"transport": "tcp", "lr": None},
        headers={"Subject": "x y"},
    )
    assert str(u) == "sip:a%20b;c@example.com:5070;transport=tcp;lr?Subject=x%20y"
    assert u.user_unescaped == "a b;c" and u.header_fields == (("Subject", "x y"),)


@given(uris())
def test_law_reflexive(u: URI) -> None:
    """Every URI is equivalent to itself and to its re-parsed spelling."""
    assert u.equivalent(u)
    assert u.equivalent(URI.parse(str(u)))


@given(uris(), uris())
def test_law_symmetric(a: URI, b: URI) -> None:
    """a ~ b iff b ~ a (19.1.4 rules are symmetric)."""
    assert a.equivalent(b) == b.equivalent(a)


def _variants(u: URI) -> st.SearchStrategy[URI]:
    """The same URI with parameters/headers dropped, case changed, or escapes added."""
    return st.sampled_from([u, URI.parse(str(u).swapcase()) if u.is_sip and not u.user else u])


@given(uris(), uris(), uris())
def test_law_transitive_on_same_parameter_names(a: URI, b: URI, c: URI) -> None:
    """19.1.4 says equivalence is *not* transitive, because parameters present in only one URI
    are ignored. It is transitive among URIs with the same parameter names, which this checks."""
    names = [sorted(n.lower() for n, _ in x.params) for x in (a, b, c)]
    assume(names[0] == names[1] == names[2])
    if a.equivalent(b) and b.equivalent(c):
        assert a.equivalent(c)


def test_not_transitive_as_19_1_4_notes() -> None:
    """The counterexample of 19.1.4 itself."""
    a, b, c = (
        URI.parse("sip:carol@chicago.com" + s) for s in (";security=on", "", ";security=off")
    )
    assert a.equivalent(b) and b.equivalent(c) and not a.equivalent(c)


@given(uris(sip_only=True), st.data())
def test_law_escaping_invariant(u: URI, data: st.DataObject) -> None:
    """19.1.4: 'Characters other than those in the reserved set are equivalent to their
    %HEX HEX encoding': escaping one unreserved character of the user part, a parameter value
    or a header value does not change equality with any URI."""
    text = str(u)
    at = text.find("@")
    in_escape = {j for m in re.finditer("%..", text) for j in range(m.start(), m.end())}
    positions = [
        i
        for i, ch in enumerate(text)
        if i > len(u.scheme)
        and ch in UNRESERVED
        and i not in in_escape
        and (i < at or _in_value(text, i))
    ]
    assume(positions)
    i = data.draw(st.sampled_from(positions))
    escaped = URI.parse(text[:i] + f"%{ord(text[i]):02X}" + text[i + 1 :])
    assert escaped.equivalent(u), f"{escaped} vs {u}"
    other = data.draw(st.sampled_from([u, URI.parse(text.upper())]) | uris(sip_only=True))
    assert escaped.equivalent(other) == u.equivalent(other)


def _in_value(text: str, i: int) -> bool:
    """True when index ``i`` is inside a parameter or header *value* (after '=')."""
    j = i
    while j > 0 and text[j - 1] not in ";?&=":
        j -= 1
    return j > 0 and text[j - 1] == "=" and "@" not in text[j:i]


def _unescape_by_octet(text: str) -> str:
    """Section 19.1.2 read octet by octet: ``%HH`` is its octet, any other character its UTF-8
    (surrogate escapes kept); the whole decoded as UTF-8."""
    raw = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 1 : i + 3]):
            raw.append(int(text[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(text[i].encode("utf-8", "surrogateescape"))
            i += 1
    return raw.decode("utf-8", "surrogateescape")


@given(st.text("%%%4aFgé\udcff\x00-", max_size=40))
def test_unescape_reads_as_octet_by_octet(text: str) -> None:
    """unescape takes the escapes in runs (issue 11: a 10,000-octet user part cost ms per
    read octet by octet); the result is the octet-by-octet reading's."""
    assert unescape(text) == _unescape_by_octet(text)


@pytest.mark.parametrize(
    "text",
    [
        "sip:alice@atlanta.com",
        "sip:alice:secret@atlanta.com:5060;transport=tcp",
        "sips:atlanta.com;lr",
        "sip:bob@[2001:db8::10]?subject=x",
    ],
)
def test_a_uri_built_from_its_parts_is_written_as_19_1_1_spells_it(text: str) -> None:
    """A URI made from its components (no text kept) is composed per 19.1.1: user, then
    ``:password`` only when there is one, ``@``, host, port, parameters, headers."""
    u = URI.parse(text)
    built = URI(u.scheme, u.user, u.password, u.host, u.port, u.params, u.headers)
    assert str(built) == text and URI.parse(str(built)) == u
