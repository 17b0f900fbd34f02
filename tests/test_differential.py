"""sipfsm.testing.differential on two real parsers (sippy, sipmessage).

Their disagreements with sipfsm are recorded as data, not failures of ours: the test pins the
set of RFC 4475 corpus files each parser disagrees on and the categories it shows on generated
messages, so a change in either parser (or in sipfsm) is noticed. docs/differential.md
summarises the findings.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import CORPUS

from sipfsm.testing.differ import Report, differential

EXAMPLES = 25
KNOWN_CATEGORIES = {
    "accepts-invalid",
    "rejects-valid",
    "reads-differently:from_tag",
    "reads-differently:to_tag",
    "reads-differently:call_id",
    "reads-differently:cseq_seq",
    "reads-differently:cseq_method",
    "reads-differently:extract-failed",
}


def sippy_parse(data: bytes) -> Any:
    from sippy.SipRequest import SipRequest
    from sippy.SipResponse import SipResponse

    text = data.decode("utf-8", "surrogateescape")
    return SipResponse(text) if text.startswith("SIP/") else SipRequest(text)


def sippy_extract(m: Any) -> dict[str, object]:
    seq, method = m.getHFBody("cseq").getCSeq()
    return {
        "call_id": str(m.getHFBody("call-id")),
        "cseq_seq": seq,
        "cseq_method": method,
        "from_tag": m.getHFBody("from").getTag(),
        "to_tag": m.getHFBody("to").getTag(),
    }


def sipmessage_parse(data: bytes) -> Any:
    import sipmessage

    return sipmessage.Message.parse(data)


def sipmessage_extract(m: Any) -> dict[str, object]:
    out: dict[str, object] = {"call_id": m.call_id}
    if m.cseq is not None:
        out["cseq_seq"] = m.cseq.sequence
        out["cseq_method"] = m.cseq.method
    return out


SIPPY_CORPUS = {
    "badaspec.dat": "accepts-invalid",
    "baddate.dat": "accepts-invalid",
    "baddn.dat": "accepts-invalid",
    "badinv01.dat": "accepts-invalid",
    "badvers.dat": "accepts-invalid",
    "bigcode.dat": "accepts-invalid",
    "escruri.dat": "accepts-invalid",
    "insuf.dat": "rejects-valid",
    "lwsstart.dat": "accepts-invalid",
    "mismatch01.dat": "accepts-invalid",
    "mismatch02.dat": "accepts-invalid",
    "mpart01.dat": "rejects-valid",
    "ncl.dat": "accepts-invalid",
    "novelsc.dat": "rejects-valid",
    "quotbal.dat": "accepts-invalid",
    "regbadct.dat": "accepts-invalid",
    "scalar02.dat": "accepts-invalid",
    "scalarlg.dat": "accepts-invalid",
    "trws.dat": "accepts-invalid",
    "unkscm.dat": "rejects-valid",
    "unksm2.dat": "reads-differently:extract-failed",
    "wsinv.dat": "reads-differently:from_tag",
}
SIPMESSAGE_CORPUS = {
    "badaspec.dat": "accepts-invalid",
    "baddate.dat": "accepts-invalid",
    "baddn.dat": "accepts-invalid",
    "badinv01.dat": "accepts-invalid",
    "bigcode.dat": "accepts-invalid",
    "clerr.dat": "accepts-invalid",
    "insuf.dat": "reads-differently:extract-failed",
    "mismatch01.dat": "accepts-invalid",
    "mismatch02.dat": "accepts-invalid",
    "ncl.dat": "accepts-invalid",
    "novelsc.dat": "rejects-valid",
    "quotbal.dat": "accepts-invalid",
    "regbadct.dat": "accepts-invalid",
    "scalarlg.dat": "accepts-invalid",
    "semiuri.dat": "rejects-valid",
    "unkscm.dat": "rejects-valid",
    "wsinv.dat": "rejects-valid",
}


def check(report: Report, corpus: dict[str, str]) -> None:
    n_corpus = len(list(CORPUS.glob("*.dat")))
    assert report.checked >= n_corpus + EXAMPLES, "the harness ran corpus and generated cases"
    assert report.corpus_disagreements() == corpus
    assert set(report.categories()) <= KNOWN_CATEGORIES, report.categories()
    assert "accepts-invalid" in report.categories()
    for d in report.disagreements:
        assert d.data and d.detail
    assert report.summary().startswith(f"### {report.parser}")


@pytest.mark.timeout(300)
def test_sippy() -> None:
    """sippy (2.x): accepts most RFC 4475 invalid messages, rejects unknown URI schemes and
    some valid ones, reads a tag written with LWS around '=' (wsinv) as absent."""
    pytest.importorskip("sippy")
    report = differential(
        sippy_parse,
        name="sippy",
        extract=sippy_extract,
        corpus=CORPUS,
        max_examples=EXAMPLES,
        minimise_seconds=8,
    )
    check(report, SIPPY_CORPUS)


@pytest.mark.timeout(300)
def test_sipmessage() -> None:
    """sipmessage (0.7): splits on ': ' and first CRLFCRLF only; accepts most invalid
    messages, rejects folded headers (wsinv) and unknown URI schemes."""
    pytest.importorskip("sipmessage")
    report = differential(
        sipmessage_parse,
        name="sipmessage",
        extract=sipmessage_extract,
        corpus=CORPUS,
        max_examples=EXAMPLES,
        minimise_seconds=8,
    )
    check(report, SIPMESSAGE_CORPUS)


def test_agreeing_parser_has_no_disagreement() -> None:
    """sipfsm against itself: the harness reports nothing (it can tell agreement)."""
    import sipfsm

    report = differential(
        lambda b: sipfsm.parse(b, strict=True), name="self", corpus=CORPUS, max_examples=10
    )
    assert report.disagreements == [] and report.summary().endswith("No disagreement.")
