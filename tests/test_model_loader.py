"""The one loader of ``models/``: shared rule files (include), the random ranges of
``timers.toml``, the statuses of the vocabulary, and the one cache.

Each broken file is a copy of the real one with one mistake; the loader must name the file, the
key and the reason (``models/SCHEMA.md``).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from sipfsm import ModelError, Response, parse
from sipfsm.engine.table import compiled
from sipfsm.model.loader import (
    PROFILES,
    load_machine,
    load_model,
    load_models,
    load_timers,
    load_vocabulary,
    model_names,
    models_dir,
)
from sipfsm.model.timers import Timers
from sipfsm.sim.peer import PEER
from sipfsm.sim.peer import ScriptedPeer as _Peer
from sipfsm.ua.core import UA

SESSIONS = ("invite_session_client", "invite_session_server")
SHARED = "shared/invite_session.toml"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, 1))


# --- shared rules ---------------------------------------------------------------------------


def test_both_session_models_include_the_shared_rules() -> None:
    client, server = (load_model(name) for name in SESSIONS)
    same = {(s.name, s.section, s.doc) for s in client.states} & {
        (s.name, s.section, s.doc) for s in server.states
    }
    assert {name for name, _, _ in same} == {
        "ReInviting",
        "RetryWait",
        "ReInvited",
        "ReAnswered",
        "ByeHeld",
        "Terminating",
        "Terminated",
    }
    for name in SESSIONS:
        machine = load_model(name)
        assert machine.includes == (SHARED,)
        re_invited = [r for r in machine.rules if r.source == "ReInvited" and not r.fallback]
        assert {r.event for r in re_invited} >= {"tu_2xx", "recv_cancel", "recv_bye"}


def test_a_shared_file_is_not_a_model(capsys: pytest.CaptureFixture[str]) -> None:
    from sipfsm.cli import main as cli

    assert "invite_session" not in model_names() and "shared" not in load_models()
    assert cli.main(["models"]) == 0
    assert "shared" not in capsys.readouterr().out
    with pytest.raises(ModelError, match="unknown model"):
        load_model("shared/invite_session")


def test_a_folder_named_like_a_model_file_is_not_a_model(tmp_path: Path) -> None:
    """Only files are models: a folder ``extra.toml`` beside them is not listed."""
    from sipfsm.model.paths import model_paths

    shutil.copy(models_dir() / "non_invite_client.toml", tmp_path / "non_invite_client.toml")
    (tmp_path / "extra.toml").mkdir()
    (tmp_path / "timers.toml").write_text("")
    assert [p.name for p in model_paths(tmp_path)] == ["non_invite_client.toml"]


@pytest.mark.parametrize(
    ("file", "old", "new", "where", "key", "reason"),
    [
        (
            "invite_session_client.toml",
            'include = ["shared/invite_session.toml"]',
            'include = ["shared/nothing.toml"]',
            "invite_session_client.toml",
            "include[0]",
            "no such file",
        ),
        (
            "invite_session_client.toml",
            'include = ["shared/invite_session.toml"]',
            'include = ["dialog.toml"]',
            "invite_session_client.toml",
            "include[0]",
            "shared/NAME.toml",
        ),
        (
            SHARED,
            "[shared]\n",
            "[shared]\nmachine = 1\n",
            SHARED,
            "shared.machine",
            "unknown key",
        ),
        (SHARED, "[shared]\n", "[machine]\n", SHARED, "machine", "unknown key"),
        (
            SHARED,
            'source = "RetryWait"\nevent = "timer_glare"\ndest = "ReInviting"',
            'source = "RetryWait"\nevent = "timer_glare"\ndest = "ReInvting"',
            SHARED,
            ".dest",
            "ReInvting",
        ),
        (
            SHARED,
            '[[states]]\nname = "ReInviting"',
            '[[states]]\nname = "Confirmed"',
            "invite_session_client.toml",
            "states",
            "used twice",
        ),
    ],
)
def test_a_broken_include_is_rejected_with_file_key_and_reason(
    tmp_path: Path, file: str, old: str, new: str, where: str, key: str, reason: str
) -> None:
    folder = _copy(tmp_path)
    _edit(folder / file, old, new)
    with pytest.raises(ModelError) as caught:
        load_machine(folder / "invite_session_client.toml")
    err = caught.value
    assert err.file == where and key in err.key and reason in err.reason, err


def test_totality_is_proven_over_the_shared_rules(tmp_path: Path) -> None:
    """Drop the shared fallback rule (every pair not decided otherwise is an error): both
    including models now leave pairs undecided, and the loader says which."""
    folder = _copy(tmp_path)
    text = (folder / SHARED).read_text()
    fallback = text.rindex("[[transitions]]")
    assert "fallback = true" in text[fallback:]
    (folder / SHARED).write_text(text[:fallback])
    for name in SESSIONS:
        with pytest.raises(ModelError) as caught:
            load_machine(folder / f"{name}.toml")
        assert caught.value.file == f"{name}.toml" and " x " in caught.value.key
        assert "undecided" in caught.value.reason


# --- timers.toml ranges (14.2) ---------------------------------------------------------------


def test_the_retry_after_range_is_read_from_timers_toml() -> None:
    """14.2: "a randomly chosen value of between 0 and 10 seconds", in whole seconds."""
    chosen = load_timers().ranges["retry_after"]
    assert (chosen.low, chosen.high, chosen.granularity, chosen.section) == ("0", "10", "1", "14.2")
    base = Timers().base()
    assert [chosen.draw(u, base) for u in (0.0, 0.5, 0.999)] == [0.0, 5.0, 10.0]


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ('values = ["0", "10"]', 'values = ["10", "0"]', "ranges.retry_after.values", "above"),
        ('values = ["0", "10"]', "values = [0, 10]", "ranges.retry_after.values", "[low, high]"),
        ('granularity = "1"', 'granularity = "0"', "ranges.retry_after.granularity", "positive"),
        ('granularity = "1"', 'granularity = "1"\nunit = "s"', "ranges.retry_after.unit", "key"),
    ],
)
def test_a_broken_range_is_rejected(
    tmp_path: Path, old: str, new: str, key: str, reason: str
) -> None:
    text = (models_dir() / "timers.toml").read_text()
    start = text.index("[ranges.retry_after]")
    assert old in text[start:]
    (tmp_path / "timers.toml").write_text(text[:start] + text[start:].replace(old, new, 1))
    with pytest.raises(ModelError) as caught:
        load_timers(tmp_path)
    assert (caught.value.file, caught.value.key) == ("timers.toml", key)
    assert reason in caught.value.reason


def _second_invite_500(ua: UA) -> Response:
    """A peer re-INVITEs twice without waiting: the second INVITE gets 500 (14.2)."""
    peer = _Peer(ua)
    session = ua.invite(f"sip:peer@{PEER}", 0.0)
    peer.collect()
    ua.receive(peer.respond(200), 0.0)
    peer.collect()
    ua.receive(peer.request("INVITE", session), 0.0)
    peer.collect()
    ua.receive(peer.request("INVITE", session), 0.0)
    sent = [parse(d, strict=True) for d in peer.collect()]
    (resp,) = [m for m in sent if isinstance(m, Response) and m.status == 500]
    return resp


@pytest.mark.parametrize(("unit", "value"), [(0.0, "0"), (0.5, "5"), (0.95, "10")])
def test_the_500_of_14_2_draws_retry_after_from_the_range(unit: float, value: str) -> None:
    ua = UA("me", "me.example.com", random=lambda: unit)
    assert _second_invite_500(ua).get("Retry-After") == value
    table = load_timers()
    narrow = dataclasses.replace(table.ranges["retry_after"], low="7", high="8", granularity="1")
    mutated = dataclasses.replace(table, ranges={"retry_after": narrow})
    ua = UA("me", "me.example.com", random=lambda: unit, timer_table=mutated)
    assert _second_invite_500(ua).get("Retry-After") == ("7" if unit < 0.5 else "8")


# --- the vocabulary -----------------------------------------------------------------------


def test_the_statuses_of_the_respond_verbs_are_data() -> None:
    actions = load_vocabulary().actions
    assert {v: actions[v].responds for v in actions if actions[v].responds} == {
        "respond_200": 200,
        "respond_487": 487,
        "respond_491": 491,
        "respond_500": 500,
        # the registrar (10.3) and the proxy core (16.3, 16.5)
        "respond_400": 400,
        "respond_404": 404,
        "respond_416": 416,
        "respond_420": 420,
        "respond_423": 423,
        "respond_480": 480,
        "respond_482": 482,
        "respond_483": 483,
    }


@pytest.mark.parametrize("profile", PROFILES)
def test_the_dialog_maps_statuses_by_the_vocabulary(profile: str) -> None:
    table = compiled("dialog", profile=profile, reliable=False, timers=Timers())
    dialog = table.status_events["dialog"]
    assert (dialog[100], dialog[183], dialog[200], dialog[299], dialog[300], dialog[699]) == (
        "dlg_1xx_tag",
        "dlg_1xx_tag",
        "dlg_2xx",
        "dlg_2xx",
        "dlg_3xx_6xx",
        "dlg_3xx_6xx",
    )


@pytest.mark.parametrize(
    ("section", "old", "new", "key"),
    [
        (
            "[actions.respond_487]",
            "responds = 487",
            "responds = 87",
            "actions.respond_487.responds",
        ),
        ("[events.dlg_2xx]", 'origin = "dialog"', 'origin = "ua"', "events.dlg_2xx.origin"),
        ("[events.tu_2xx]", 'label = "2xx from TU"', 'label = "x"\nresponds = 200', "responds"),
    ],
)
def test_a_broken_vocabulary_is_rejected(
    tmp_path: Path, section: str, old: str, new: str, key: str
) -> None:
    text = (models_dir() / "vocabulary.toml").read_text()
    start = text.index(section)
    assert old in text[start:]
    (tmp_path / "vocabulary.toml").write_text(text[:start] + text[start:].replace(old, new, 1))
    with pytest.raises(ModelError) as caught:
        load_vocabulary(tmp_path)
    assert caught.value.file == "vocabulary.toml" and key in caught.value.key


# --- one cache ---------------------------------------------------------------------------


def test_one_cache_for_every_way_of_loading(tmp_path: Path) -> None:
    """By name, by folder and by path: the same object while the file is unchanged; read
    again once it (or a file it includes) changes."""
    name = "invite_session_server"
    machine = load_model(name)
    assert load_models()[name] is machine is load_machine(models_dir() / f"{name}.toml")
    folder = _copy(tmp_path)
    first = load_model(name, folder)
    assert load_model(name, folder) is first
    _edit(folder / SHARED, 'title = "INVITE session', 'title = "The INVITE session')
    again = load_model(name, folder)
    assert again is not first and again == first
