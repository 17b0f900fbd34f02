"""The transaction models as data: totality, sections, labels, and a broken model rejected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from models_by_name import Models

from sipfsm import ModelError, ProtocolError, Transaction
from sipfsm.model.loader import (
    PROFILES,
    load_machine,
    load_model,
    load_timers,
    load_vocabulary,
    model_names,
    models_dir,
)

TRANSACTIONS = ("invite_client", "invite_server", "non_invite_client", "non_invite_server")
MODELS = Models(TRANSACTIONS)  # loaded by the tests, not at import (tests/models_by_name.py)


def test_the_four_transaction_machines_exist() -> None:
    assert set(TRANSACTIONS) <= set(MODELS)
    figures = {MODELS[m].figure.split(";")[0] for m in TRANSACTIONS}
    assert figures == {f"RFC 3261 Figure {n}" for n in (5, 6, 7, 8)}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", model_names())
def test_every_state_event_pair_is_decided(name: str, profile: str) -> None:
    """Totality over every model of models/, checked here independently of the loader: one
    rule, or a guard and its complement, for every (state, event) pair under every profile."""
    machine, vocab = load_model(name), load_vocabulary()
    rules = machine.rules_for(profile)
    for state in machine.state_names(profile):
        for event in machine.events:
            decided = [r for r in rules if r.source == state and r.event == event]
            guards = sorted(r.guard or "" for r in decided)
            assert len(decided) in (1, 2), (name, profile, state, event, decided)
            if len(decided) == 2:
                first, second = guards
                assert vocab.guards[first].complement == second, (state, event, guards)


@pytest.mark.parametrize("name", TRANSACTIONS)
def test_every_rule_cites_a_section_and_every_transition_has_rfc_wording(name: str) -> None:
    for rule in MODELS[name].rules:
        assert rule.section, rule
        if rule.kind == "transition":
            assert rule.label and " / " in rule.label, rule


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", TRANSACTIONS)
def test_error_pairs_are_refused_by_the_engine(name: str, profile: str) -> None:
    """The engine refuses every ``error`` pair with a ProtocolError naming it."""
    machine = MODELS[name]
    for rule in machine.rules_for(profile):
        if rule.kind != "error" or rule.guard or rule.source == machine.initial:
            continue
        tx = Transaction(name, "REQ", profile=profile)
        tx.start(0.0)
        tx.enter(rule.source, rule.section, [])  # place it in the state
        with pytest.raises(ProtocolError) as caught:
            tx.handle(rule.event, 0.0)
        err = caught.value
        if rule.event.startswith("timer_"):  # callers cannot inject timers at all
            assert "handle_timer" in err.reason
            continue
        assert (err.machine, err.state, err.event, err.section) == (
            name,
            rule.source,
            rule.event,
            rule.section,
        )


def _copy_models(tmp_path: Path) -> Path:
    for name in ("vocabulary.toml", "timers.toml", "non_invite_server.toml"):
        shutil.copy(models_dir() / name, tmp_path / name)
    return tmp_path


def test_a_model_missing_a_pair_is_rejected_with_file_key_and_reason(tmp_path: Path) -> None:
    folder = _copy_models(tmp_path)
    path = folder / "non_invite_server.toml"
    text = path.read_text()
    rule = """[[transitions]]
source = "Completed"
event = "timer_J"
dest = "Terminated"
label = "Timer J fires / -"
section = "17.2.2"
"""
    assert rule in text
    path.write_text(text.replace(rule, ""))
    with pytest.raises(ModelError) as caught:
        load_machine(path)
    err = caught.value
    assert err.file == "non_invite_server.toml"
    assert err.key == "Completed x timer_J"
    assert "undecided" in err.reason


def test_guards_that_are_not_complements_are_rejected(tmp_path: Path) -> None:
    folder = _copy_models(tmp_path)
    path = folder / "non_invite_server.toml"
    text = path.read_text().replace('guard = "early_100"', 'guard = "unreliable"')
    path.write_text(text)
    with pytest.raises(ModelError) as caught:
        load_machine(path)
    assert caught.value.key in ("Trying x tu_100", "Proceeding x tu_100")
    assert "complement" in caught.value.reason


# --- timers.toml: every table and key read and checked ----------------------------------------


def _timers_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (models_dir() / "timers.toml").read_text()
    assert text.count(old) == 1
    (tmp_path / "timers.toml").write_text(text.replace(old, new))
    return tmp_path


def test_the_glare_window_is_read_from_timers_toml() -> None:
    """14.1: 2.1-4 s when the UA owns the Call-ID, 0-2 s otherwise, in 10 ms units."""
    window = load_timers().windows["glare"]
    assert (window.owner, window.other, window.granularity) == (("2.1", "4"), ("0", "2"), "0.01")
    assert window.section == "14.1"


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ("\n[windows.glare]", "\n[extras]\nx = 1\n\n[windows.glare]", "extras", "unknown key"),
        (
            'granularity = "0.01"',
            'granularity = "0.01"\nstep = "0.01"',
            "windows.glare.step",
            "unknown key",
        ),
        ("[timers.A]\n", "[timers.A]\nretries = 7\n", "timers.A.retries", "unknown key"),
        ("T4 = { value = 5.0,", 'T4 = { value = 5.0, unit = "s",', "base.T4.unit", "unknown key"),
        (
            "\n[windows.glare]",
            '\n[windows.hold]\nowner = ["1", "2"]\nother = ["0", "1"]\n'
            'granularity = "0.01"\nsection = "14.1"\n\n[windows.glare]',
            "windows.hold",
            "no timer",
        ),
        ('owner = ["2.1", "4"]', "owner = [2.1, 4.0]", "windows.glare.owner", "[low, high]"),
        ('owner = ["2.1", "4"]', 'owner = ["4", "2.1"]', "windows.glare.owner", "above high"),
        ('other = ["0", "2"]', 'other = ["0", "2 s"]', "windows.glare.other", "bad interval"),
        ('granularity = "0.01"', 'granularity = "0"', "windows.glare.granularity", "positive"),
        ('owner = ["2.1", "4"]', 'owner = ["2.1", "5"]', "timers.glare.unreliable", "upper bound"),
    ],
)
def test_a_broken_timer_table_is_rejected_with_file_key_and_reason(
    tmp_path: Path, old: str, new: str, key: str, reason: str
) -> None:
    folder = _timers_with(tmp_path, old, new)
    with pytest.raises(ModelError) as caught:
        load_timers(folder)
    err = caught.value
    assert (err.file, err.key) == ("timers.toml", key)
    assert reason in err.reason
