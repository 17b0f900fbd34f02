"""RFC 4475 torture messages (read in place from shared/corpus/rfc4475): every valid and
semantic message parses strictly; every invalid one is rejected with its pinned defect code."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS

import sipfsm
from sipfsm import ParseError, Request, Response

CLASSES: dict[str, dict[str, str]] = json.loads((CORPUS / "classes.json").read_text())["messages"]


def _of(kind: str) -> list[str]:
    return sorted(name for name, info in CLASSES.items() if info["class"] == kind)


#: The defect each invalid message must be rejected for (RFC 4475 section 3.1.2), and the
#: rule or section named.
EXPECTED: dict[str, tuple[str, str]] = {
    "badinv01.dat": ("bad-header-value", "via-parm"),
    "clerr.dat": ("content-length-mismatch", "Content-Length"),
    "ncl.dat": ("bad-content-length", "Content-Length"),
    "scalar02.dat": ("value-out-of-range", "CSeq"),
    "scalarlg.dat": ("value-out-of-range", "CSeq"),
    "quotbal.dat": ("unterminated-quoted-string", "quoted-string"),
    "ltgtruri.dat": ("bad-request-uri", "Request-URI"),
    "lwsruri.dat": ("bad-request-uri", "Request-URI"),
    "lwsstart.dat": ("bad-request-line", "Request-Line"),
    "trws.dat": ("bad-request-line", "Request-Line"),
    "escruri.dat": ("bad-request-uri", "Request-URI"),
    "baddate.dat": ("bad-header-value", "Date"),
    "regbadct.dat": ("uri-needs-angle-brackets", "name-addr"),
    "badaspec.dat": ("bad-header-value", "To"),
    "baddn.dat": ("bad-header-value", "From"),
    "badvers.dat": ("bad-version", "SIP-Version"),
    "mismatch01.dat": ("cseq-method-mismatch", "CSeq"),
    "mismatch02.dat": ("cseq-method-mismatch", "CSeq"),
    "bigcode.dat": ("bad-status-code", "Status-Code"),
}

#: Where each defect is (line, column), for a few where the position is clear-cut.
POSITIONS = {
    "badinv01.dat": (7, 6),
    "clerr.dat": (10, 17),
    "ltgtruri.dat": (1, 8),
    "lwsstart.dat": (1, 8),
    "trws.dat": (1, 46),
    "escruri.dat": (1, 28),
    "quotbal.dat": (2, 5),
    "bigcode.dat": (1, 9),
}


def test_corpus_classes_are_all_covered() -> None:
    assert len(_of("valid")) == 13
    assert len(_of("invalid")) == 19
    assert len(_of("semantic")) == 17
    assert set(EXPECTED) == set(_of("invalid"))


@pytest.mark.parametrize("name", _of("valid"))
def test_valid_messages_parse_strictly(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    msg = sipfsm.parse(data, strict=True)
    assert isinstance(msg, Request | Response)
    for h in msg.headers:  # every value has a tree once validated
        assert h.tree() is not None
    lazy = sipfsm.parse(data)
    assert lazy.start_line == msg.start_line


@pytest.mark.parametrize("name", _of("semantic"))
def test_semantic_messages_parse_strictly(name: str) -> None:
    """Their faults (missing headers, unknown schemes, ...) belong to the layers above."""
    msg = sipfsm.parse((CORPUS / name).read_bytes(), strict=True)
    assert msg.headers


@pytest.mark.parametrize("name", _of("invalid"))
def test_invalid_messages_are_rejected_naming_the_defect(name: str) -> None:
    with pytest.raises(ParseError) as err:
        sipfsm.parse((CORPUS / name).read_bytes(), strict=True)
    e = err.value
    assert (e.code, e.rule) == EXPECTED[name], str(e)
    assert e.line >= 1 and e.column >= 1 and e.reason
    if name in POSITIONS:
        assert (e.line, e.column) == POSITIONS[name]
    assert e.code in str(e) and str(e.line) in str(e)


def test_dblreq_extra_datagram_octets_are_discarded() -> None:
    """RFC 4475 3.1.1.8 and RFC 3261 18.3: the INVITE after the REGISTER is noise."""
    data = (CORPUS / "dblreq.dat").read_bytes()
    msg = sipfsm.parse(data, strict=True)
    assert isinstance(msg, Request) and msg.method == "REGISTER"
    assert msg.body == b""
    assert b"INVITE" not in msg.raw


def test_wsinv_details() -> None:
    msg = sipfsm.parse((CORPUS / "wsinv.dat").read_bytes(), strict=True)
    assert isinstance(msg, Request)
    assert msg.get("Max-Forwards") == "0068"
    assert msg.get("cseq") == "0009  INVITE"  # unfolded: the CRLF goes, the WSP stays
    assert msg.get_all("Via") == [
        "SIP  /   2.0 /UDP    192.0.2.2;branch=390skdjuw",
        "SIP  / 2.0  / TCP     spindle.example.com   ;  branch  =   z9hG4bK9ikj8",
        "SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239",
    ]
    assert msg.get("Subject") == ""
    assert msg.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert len(msg.body) == 150


def test_intmeth_keeps_unusual_characters() -> None:
    msg = sipfsm.parse((CORPUS / "intmeth.dat").read_bytes(), strict=True)
    assert isinstance(msg, Request)
    assert msg.method == "!interesting-Method0123456789_*+`.%indeed'~"
    ext = [h for h in msg.headers if h.rule is None]
    assert ext[0].name == "extensionHeader-!.%*+_`'~"
    assert ext[0].value == "\ufeff大停電"


def test_mcl01_conflicting_lengths_on_a_datagram_take_the_rest() -> None:
    msg = sipfsm.parse((CORPUS / "mcl01.dat").read_bytes(), strict=True)
    assert msg.body.startswith(b"There's no way")


def test_mpart01_user_agent_comment_goes_through_lalr() -> None:
    msg = sipfsm.parse((CORPUS / "mpart01.dat").read_bytes(), strict=True)
    ua = next(h for h in msg.headers if h.canonical == "User-Agent")
    tree = ua.tree()
    assert tree.data == "user_agent"
    assert any(getattr(t, "data", None) == "comment" for t in tree.iter_subtrees())
