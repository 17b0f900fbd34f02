"""sipfsm.validate on the 17 semantic messages of RFC 4475 (section 3.2-3.4), per role."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS

import sipfsm
from sipfsm import Role

CLASSES = json.loads((CORPUS / "classes.json").read_text())["messages"]

# (file, RFC 4475 section, role, expected outcome): outcome is ("reject", status),
# ("drop", None) or ("accept", None): accept means no reject/drop finding (notes allowed).
CASES = [
    ("badbranch.dat", "3.2.1", "uas", ("accept", None), "branch-without-id"),
    ("badbranch.dat", "3.2.1", "proxy", ("accept", None), "branch-without-id"),
    ("insuf.dat", "3.3.1", "uas", ("reject", 400), "missing-mandatory-header"),
    ("unkscm.dat", "3.3.2", "uas", ("reject", 416), "unsupported-uri-scheme"),
    ("unkscm.dat", "3.3.2", "proxy", ("reject", 416), "unsupported-uri-scheme"),
    ("novelsc.dat", "3.3.3", "uas", ("reject", 416), "unsupported-uri-scheme"),
    ("unksm2.dat", "3.3.4", "proxy", ("accept", None), None),
    ("unksm2.dat", "3.3.4", "registrar", ("reject", 400), "aor-not-sip"),
    ("bext01.dat", "3.3.5", "uas", ("reject", 420), "bad-extension"),
    ("bext01.dat", "3.3.5", "proxy", ("reject", 420), "bad-extension"),
    ("invut.dat", "3.3.6", "uas", ("reject", 415), "unsupported-media-type"),
    ("invut.dat", "3.3.6", "proxy", ("accept", None), None),
    ("regaut01.dat", "3.3.7", "registrar", ("accept", None), "unknown-auth-scheme"),
    ("regaut01.dat", "3.3.7", "proxy", ("accept", None), None),
    ("regaut01.dat", "3.3.7", "uas", ("reject", 405), "method-not-allowed"),
    ("multi01.dat", "3.3.8", "uas", ("reject", 400), "multiple-values"),
    ("mcl01.dat", "3.3.9", "uas", ("reject", 400), "multiple-content-length"),
    ("mcl01.dat", "3.3.9", "proxy", ("reject", 400), "multiple-content-length"),
    ("bcast.dat", "3.3.10", "uas", ("drop", None), "response-with-several-vias"),
    ("bcast.dat", "3.3.10", "proxy", ("drop", None), "broadcast-via"),
    ("zeromf.dat", "3.3.11", "proxy", ("reject", 483), "too-many-hops"),
    ("zeromf.dat", "3.3.11", "uas", ("accept", None), None),
    ("cparam01.dat", "3.3.12", "registrar", ("accept", None), None),
    ("cparam02.dat", "3.3.13", "registrar", ("accept", None), None),
    ("regescrt.dat", "3.3.14", "registrar", ("accept", None), None),
    ("sdp01.dat", "3.3.15", "uas", ("reject", 406), "not-acceptable"),
    ("inv2543.dat", "3.4.1", "uas", ("accept", None), "rfc2543-branch"),
    ("inv2543.dat", "3.4.1", "proxy", ("accept", None), "rfc2543-branch"),
]


def outcome(findings: list[sipfsm.Finding]) -> tuple[str, int | None]:
    for f in findings:
        if f.action in ("reject", "drop"):
            return f.action, f.response
    return "accept", None


def test_every_semantic_message_is_covered() -> None:
    """All 17 semantic messages of the corpus have at least one pinned case."""
    semantic = {n for n, c in CLASSES.items() if c["class"] == "semantic"}
    assert len(semantic) == 17
    assert semantic == {c[0] for c in CASES}


@pytest.mark.parametrize(
    ("name", "section", "role", "expected", "code"),
    CASES,
    ids=[f"{c[0]}-{c[2]}-RFC4475-{c[1]}" for c in CASES],
)
def test_semantic_outcome(
    name: str, section: str, role: Role, expected: tuple[str, int | None], code: str | None
) -> None:
    """What RFC 4475 section <section> says the element in <role> does with the message."""
    assert CLASSES[name]["section"] == section
    m = sipfsm.parse((CORPUS / name).read_bytes(), strict=True)
    findings = sipfsm.validate(m, role)
    assert outcome(findings) == expected, findings
    if code is not None:
        assert code in [f.code for f in findings], findings
    for f in findings:
        assert f.section and f.reason and f.code == f.code.lower()


def test_bext01_lists_unsupported_options() -> None:
    """RFC 4475 3.3.5: the 420 lists Require options (UAS) or Proxy-Require ones (proxy)."""
    m = sipfsm.parse((CORPUS / "bext01.dat").read_bytes())
    uas = next(f for f in sipfsm.validate(m, "uas") if f.response == 420)
    proxy = next(f for f in sipfsm.validate(m, "proxy") if f.response == 420)
    assert uas.unsupported == tuple(m.require) and uas.header == "Require"
    assert proxy.unsupported == tuple(m.proxy_require) and proxy.header == "Proxy-Require"
    assert sipfsm.validate(m, "uas", supported=m.require) == []


def test_regaut01_challenging_registrar() -> None:
    """RFC 4475 3.3.7: a registrar that authenticates answers 401 with a new challenge."""
    m = sipfsm.parse((CORPUS / "regaut01.dat").read_bytes())
    assert outcome(sipfsm.validate(m, "registrar", authenticate=True)) == ("reject", 401)


def test_novelsc_known_scheme() -> None:
    """RFC 4475 3.3.3: an element that knows the scheme does not answer 416."""
    m = sipfsm.parse((CORPUS / "novelsc.dat").read_bytes())
    assert outcome(sipfsm.validate(m, "uas", schemes=["sip", "soap.beep"])) == ("accept", None)


def test_role_is_checked() -> None:
    m = sipfsm.parse((CORPUS / "zeromf.dat").read_bytes())
    with pytest.raises(ValueError):
        sipfsm.validate(m, "client")  # type: ignore[arg-type]  # no such role: the point
