"""The translations of the teaching site (``models/i18n/``, issue 17) are complete: both files
have the same page words and glossary entries, the Chinese covers every model, state, event,
action, guard and timer of the data, and it uses the terms Chinese SIP courses use."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from sipfsm.model.loader import load_models, load_timers, load_vocabulary

I18N = Path(__file__).resolve().parent.parent / "models" / "i18n"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _load(lang: str) -> dict[str, Any]:
    return tomllib.loads((I18N / f"{lang}.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def en() -> dict[str, Any]:
    return _load("en")


@pytest.fixture(scope="module")
def zh() -> dict[str, Any]:
    return _load("zh")


def test_both_languages_have_every_page_word(en: dict[str, Any], zh: dict[str, Any]) -> None:
    assert set(en["ui"]) == set(zh["ui"]), set(en["ui"]) ^ set(zh["ui"])
    for key, text in zh["ui"].items():
        assert isinstance(text, str) and text.strip(), key
        assert isinstance(en["ui"][key], str) and en["ui"][key].strip(), key
        if key not in ("udp", "tcp"):  # protocol names read the same in both
            assert CJK.search(text), f"zh.toml [ui] {key} is not Chinese: {text!r}"


def test_both_languages_have_every_glossary_entry(en: dict[str, Any], zh: dict[str, Any]) -> None:
    assert list(en["glossary"]) == list(zh["glossary"])
    for key, entry in en["glossary"].items():
        assert entry["term"] and entry["definition"] and entry["section"], key
        assert set(entry) == {"term", "definition", "section"}, key
        other = zh["glossary"][key]
        assert set(other) == {"term", "definition", "variants"}, key
        assert CJK.search(other["term"] + other["definition"]), key
        assert isinstance(other["variants"], list), key


def test_the_chinese_covers_every_model_state_and_word(zh: dict[str, Any]) -> None:
    models = load_models()
    vocab = load_vocabulary()
    assert set(zh["models"]) == set(models)
    assert set(zh["states"]) == set(models)
    for name, machine in models.items():
        assert set(zh["states"][name]) == {s.name for s in machine.states}, name
        for state, text in zh["states"][name].items():
            assert CJK.search(text), f"{name}.{state}"
    for table, terms in (
        ("events", vocab.events),
        ("actions", vocab.actions),
        ("guards", vocab.guards),
    ):
        assert set(zh[table]) == set(terms), (table, set(zh[table]) ^ set(terms))
    timers = load_timers()
    assert set(zh["timers"]) == set(timers.timers) | set(timers.base)
    assert all(CJK.search(text) for text in zh["timers"].values())
    # A timer verb keeps the placeholders the page fills in ("start {timer}").
    for verb, term in vocab.actions.items():
        for slot in ("{timer}", "{interval}"):
            assert (slot in term.label) == (slot in zh["actions"][verb]), verb


def test_english_leaves_the_models_words_to_the_models(en: dict[str, Any]) -> None:
    """Written once: the English titles, explanations and labels are the models' own."""
    assert set(en) == {"ui", "glossary"}


def test_the_terms_of_chinese_sip_courses(zh: dict[str, Any]) -> None:
    """Issue 17 names them: transaction, client/server transaction, dialog, proxy server,
    registrar, timer, provisional/final response, header field."""
    terms = {key: entry["term"] for key, entry in zh["glossary"].items()}
    assert terms["transaction"] == "事务"
    assert terms["client_transaction"] == "客户端事务"
    assert terms["server_transaction"] == "服务器事务"
    assert terms["dialog"] == "对话"
    assert terms["proxy"] == "代理服务器"
    assert terms["registrar"] == "注册服务器"
    assert terms["timer"] == "定时器"
    assert terms["provisional_response"] == "临时响应"
    assert terms["final_response"] == "最终响应"
    assert terms["header_field"] == "头域"
    # and the pages use them: the models' titles, the page words.
    assert "客户端事务" in zh["models"]["invite_client"]
    assert "服务器事务" in zh["models"]["non_invite_server"]
    assert "定时器" in zh["ui"]["timer"]
