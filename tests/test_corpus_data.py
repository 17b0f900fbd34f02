"""What the package ships so that it never reads outside itself at run time: the RFC 4475
messages in ``sipfsm/data/rfc4475`` are byte-exact copies of the shared corpus, with their
notice, and declared as package data."""

from __future__ import annotations

import tomllib

import pytest
from conftest import CORPUS, ROOT, SHARED

from sipfsm.data import RFC3261_TEXT, RFC4475_DIR
from sipfsm.probe.corpus import CORPUS_DIR, corpus_available


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/corpus/rfc4475 is not beside the project")
def test_shipped_corpus_is_the_shared_one_byte_for_byte() -> None:
    shared = {p.name: p.read_bytes() for p in CORPUS.iterdir() if p.is_file()}
    shipped = {p.name: p.read_bytes() for p in RFC4475_DIR.iterdir() if p.name != "NOTICE"}
    assert sorted(shipped) == sorted(shared)
    for name, data in shared.items():
        assert shipped[name] == data, name


def test_shipped_corpus_has_its_notice_and_is_package_data() -> None:
    notice = (RFC4475_DIR / "NOTICE").read_text()
    assert "RFC 4475" in notice and "BCP 78" in notice and "IETF Trust" in notice
    assert CORPUS_DIR == RFC4475_DIR and corpus_available()
    assert RFC4475_DIR.is_relative_to(ROOT / "sipfsm")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"]["package-data"]["sipfsm.data"]
    assert {"rfc4475/*.dat", "rfc4475/classes.json", "rfc4475/NOTICE"} <= set(data)


RFC3261 = SHARED / "spec" / "rfc3261.txt"


@pytest.mark.skipif(not RFC3261.is_file(), reason="shared/spec/rfc3261.txt is not beside it")
def test_shipped_rfc3261_is_the_shared_one_byte_for_byte() -> None:
    assert RFC3261_TEXT.read_bytes() == RFC3261.read_bytes()


def test_shipped_rfc3261_has_its_notice_and_is_package_data() -> None:
    notice = (RFC3261_TEXT.parent / "NOTICE").read_text()
    assert "RFC 3261" in notice and "Copyright (C) The Internet Society (2002)" in notice
    assert "Full Copyright Statement" in RFC3261_TEXT.read_text()
    assert RFC3261_TEXT.is_relative_to(ROOT / "sipfsm")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"]["package-data"]["sipfsm.data"]
    assert {"rfc3261/rfc3261.txt", "rfc3261/NOTICE"} <= set(data)
