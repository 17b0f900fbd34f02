"""What the package ships so that it never reads outside itself at run time: the RFC 4475
messages in ``sipfsm/data/rfc4475`` are byte-exact copies of the shared corpus, with their
notice, and declared as package data."""

from __future__ import annotations

import tomllib

import pytest
from conftest import CORPUS, ROOT

from sipfsm.data import RFC4475_DIR
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
