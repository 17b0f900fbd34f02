"""sipfsm.testing.strategies: generated messages are valid per the grammar and varied; the
malformed ones carry the defect sipfsm reports."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

import sipfsm
from sipfsm.testing import strategies as sips

FEW = min(settings().max_examples, 100)


@settings(max_examples=FEW)
@given(sips.message_bytes())
def test_generated_messages_parse_strictly(data: bytes) -> None:
    """Every generated message is accepted by the strict parser, typed views read."""
    m = sipfsm.parse(data, strict=True)
    for h in m.headers:
        m.typed(h.name)
    assert m.raw == data


@settings(max_examples=FEW)
@given(sips.requests("INVITE"))
def test_requests_method(m: sipfsm.Request) -> None:
    """requests(method) fixes the method; CSeq matches (8.1.1.5); Via has a branch."""
    assert m.method == "INVITE" and m.cseq is not None and m.cseq.method == "INVITE"
    assert m.via and all(v.is_rfc3261_branch for v in m.via)
    assert m.content_length == len(m.body)


@settings(max_examples=FEW)
@given(sips.responses(100))
def test_responses_status(m: sipfsm.Response) -> None:
    """responses(status) fixes the status; a 100 carries no To tag requirement (8.2.6.2)."""
    assert m.status == 100 and m.to is not None


@given(sips.name_addrs(tag=True))
def test_name_addrs_carry_tag(value: str) -> None:
    """name_addrs(tag=True) values read back with a tag as To values (20.39)."""
    m = sipfsm.parse(
        b"OPTIONS sip:a@b.com SIP/2.0\r\nTo: " + value.encode() + b"\r\nContent-Length: 0\r\n\r\n",
        strict=True,
    )
    assert m.to is not None and m.to.tag is not None


def test_generation_is_tortuous() -> None:
    """Over a sample, the generator produces each kind of torture RFC 4475 3.1.1.1 lists."""
    seen: set[str] = set()

    @settings(max_examples=150, database=None, derandomize=True)
    @given(sips.message_bytes())
    def collect(data: bytes) -> None:
        text = data.decode("utf-8", "surrogateescape")
        head = text.split("\r\n\r\n", 1)[0]
        if "\r\n " in head or "\r\n\t" in head:
            seen.add("folding")
        names = [ln.split(":", 1)[0].strip() for ln in head.split("\r\n")[1:] if ":" in ln]
        if any(n in ("v", "t", "f", "i", "l", "m", "c", "k", "s") for n in names):
            seen.add("compact")
        if any(n.isupper() and len(n) > 2 for n in names):
            seen.add("case")
        if "%" in head.split("\r\n", 1)[0] or "%" in head:
            seen.add("escape")
        if '\\"' in head or "\\\\" in head:
            seen.add("quoted-pair")
        if " ;" in head or "; " in head or " = " in head:
            seen.add("lws")
        if head.count("Via") + head.count("via") + head.count("VIA") > 1:
            seen.add("repeated")

    collect()
    assert seen == {"folding", "compact", "case", "escape", "quoted-pair", "lws", "repeated"}


@settings(max_examples=FEW)
@given(sips.malformed_messages())
def test_malformed_messages_carry_their_error(case: sips.Malformed) -> None:
    """Syntactic defects raise ParseError with the announced code; semantic ones parse and
    sipfsm.validate reports them; the undamaged original parses."""
    sipfsm.parse(case.original, strict=True)
    assert case.data != case.original
    if case.code is None:
        m = sipfsm.parse(case.data, strict=True)
        assert any(f.action == "reject" for f in sipfsm.validate(m, "uas")), case.defect
        return
    with pytest.raises(sipfsm.ParseError) as info:
        sipfsm.parse(case.data, strict=True)
    assert info.value.code == case.code, (case.defect, info.value)


@pytest.mark.parametrize("defect", sorted(sips.DEFECTS))
def test_each_defect_is_reachable(defect: str) -> None:
    """malformed_messages(defect) restricts to one defect."""

    @settings(max_examples=3, database=None, derandomize=True)
    @given(sips.malformed_messages(defect))
    def one(c: sips.Malformed) -> None:
        assert c.defect == defect and c.section

    one()


def test_unknown_defect_is_refused() -> None:
    with pytest.raises(ValueError):
        sips.malformed_messages("no-such-defect")
