"""Every error of the model loader (``sipfsm/model/loader.py``), with its exact file, key and
reason (``models/SCHEMA.md``: "a mistake is an error naming file, key and reason").

Each case copies the committed ``models/`` folder into ``tmp_path``, changes one value of one
file (``tests/model_copies.py``) and loads the model: the ModelError must name the file, the
key and the reason exactly, so a loader that names the wrong key, says something else, or
stops checking fails. The boolean checks have one case per operand (a mutation of ``or``
into ``and`` lets one of them through), and the optional keys have a case where the key is
present with a value other than its default.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from model_copies import DELETE, Step, caught, copy_models, dumps, edit, read, write

from sipfsm.model.loader import PROFILES, load_machine, load_model, models_dir
from sipfsm.model.machine import Action

NIC = "non_invite_client.toml"  # the base of most cases: small, no includes, no guards
ISC = "invite_session_client.toml"
SHARED = "shared/invite_session.toml"
GOT_NONE = "expected a non-empty string, got None"
UNKNOWN_KEY = "unknown key (see models/SCHEMA.md)"
BAD_T3 = "bad interval 'T3': use seconds, T1, T2, T4 or N*T1"
PROFILE_X = "unknown profile 'rfc9999' (known: rfc3261, rfc6026)"


def _error(folder: Path, model: str) -> tuple[str, str, str]:
    return caught(load_machine, folder / model)


def test_the_test_writer_keeps_every_committed_file() -> None:
    """The TOML writer of the cases writes back exactly what every committed file holds."""
    for path in sorted(models_dir().rglob("*.toml")):
        data = tomllib.loads(path.read_text())
        assert tomllib.loads(dumps(data)) == data, path.name


# --- one defect in non_invite_client.toml ---------------------------------------------------

#: (path in the file, new value or DELETE, key named, reason), all in non_invite_client.toml.
NIC_CASES: list[tuple[tuple[Step, ...], object, str, str]] = [
    # the file and [machine]
    (("bogus",), 1, "bogus", UNKNOWN_KEY),
    (("machine",), DELETE, "machine", "missing table"),
    (("machine",), "non_invite_client", "machine", "missing table"),
    (("machine", "colour"), "red", "machine.colour", UNKNOWN_KEY),
    (("machine", "events"), [], "machine.events", "expected a name or a list of names, got []"),
    (
        ("machine", "events", 1),
        "no_such",
        "machine.events",
        "unknown event 'no_such' (vocabulary.toml)",
    ),
    (
        ("machine", "events"),
        "recv_1xx",  # one name is an alphabet of one event: the rules name others
        "transitions[0].event",
        "'timer_E' is not in [machine].events",
    ),
    (("machine", "initial"), DELETE, "machine.initial", GOT_NONE),
    (("machine", "initial"), "Nowhere", "machine.initial", "unknown state 'Nowhere'"),
    (("machine", "name"), DELETE, "machine.name", GOT_NONE),
    (("machine", "title"), DELETE, "machine.title", GOT_NONE),
    (("machine", "kind"), DELETE, "machine.kind", GOT_NONE),
    (("machine", "role"), DELETE, "machine.role", GOT_NONE),
    (("machine", "section"), DELETE, "machine.section", GOT_NONE),
    (("machine", "figure"), 6, "machine.figure", "expected a non-empty string, got 6"),
    (("machine", "name"), "other", "machine.name", "must equal the file name 'non_invite_client'"),
    # [start]
    (("start",), DELETE, "start", "missing table"),
    (("start", "when"), 0, "start.when", UNKNOWN_KEY),
    (("start", "event"), DELETE, "start.event", GOT_NONE),
    (("start", "event"), "no_such", "start.event", "unknown event 'no_such'"),
    (("start", "section"), DELETE, "start.section", GOT_NONE),
    (("start", "actions", 1), "start Z", "start.actions[1]", "unknown timer 'Z' (timers.toml)"),
    # [[states]]
    (("states",), DELETE, "states", "expected a non-empty list of [[states]]"),
    (("states",), [], "states", "expected a non-empty list of [[states]]"),
    (("states", 0, "colour"), "red", "states[0].colour", UNKNOWN_KEY),
    (("states", 0, "name"), DELETE, "states[0].name", GOT_NONE),
    (("states", 1, "section"), DELETE, "states[1].section", GOT_NONE),
    (("states", 0, "doc"), 1, "states[0].doc", "expected a non-empty string, got 1"),
    (("states", 2, "profiles"), ["rfc9999"], "states[2].profiles", PROFILE_X),
    (("states", 1, "name"), "Trying", "states", "a state name is used twice (with its includes)"),
    # [[transitions]]
    (("transitions",), DELETE, "transitions", "expected a list of [[transitions]]"),
    (("transitions",), "rules", "transitions", "expected a list of [[transitions]]"),
    (("transitions",), [1], "transitions[0]", "expected a table"),
    (("transitions", 3, "when"), 1, "transitions[3].when", UNKNOWN_KEY),
    (
        ("transitions", 0, "kind"),
        "maybe",
        "transitions[0].kind",
        "expected one of transition, ignore, error",
    ),
    (
        ("transitions", 0, "source"),
        5,
        "transitions[0].source",
        "expected a name or a list of names, got 5",
    ),
    (
        ("transitions", 4, "source", 1),
        5,
        "transitions[4].source",
        "expected a name or a list of names, got ['Trying', 5]",
    ),
    (("transitions", 0, "source"), "Nowhere", "transitions[0].source", "unknown state 'Nowhere'"),
    (
        ("transitions", 4, "source", 1),
        "Nowhere",  # every source is checked, not only the first
        "transitions[4].source",
        "unknown state 'Nowhere'",
    ),
    (
        ("transitions", 0, "event"),
        "timer_A",  # in the vocabulary, not in the alphabet
        "transitions[0].event",
        "'timer_A' is not in [machine].events",
    ),
    (
        ("transitions", 8, "event", 1),
        "timer_A",
        "transitions[8].event",
        "'timer_A' is not in [machine].events",
    ),
    (
        ("transitions", 0, "event"),
        7,
        "transitions[0].event",
        "expected a name or a list of names, got 7",
    ),
    (("transitions", 0, "dest"), DELETE, "transitions[0].dest", "unknown or missing state None"),
    (
        ("transitions", 0, "dest"),
        "Nowhere",
        "transitions[0].dest",
        "unknown or missing state 'Nowhere'",
    ),
    (
        ("transitions", 9, "dest"),
        "Trying",
        "transitions[9]",
        "a rule of kind 'ignore' has no dest and no actions",
    ),
    (
        ("transitions", 9, "actions"),
        ["pass_to_tu"],
        "transitions[9]",
        "a rule of kind 'ignore' has no dest and no actions",
    ),
    (
        ("transitions", 11, "actions"),
        ["pass_to_tu"],
        "transitions[11]",
        "a rule of kind 'error' has no dest and no actions",
    ),
    (
        ("transitions", 0, "guard"),
        "sunny",
        "transitions[0].guard",
        "unknown guard 'sunny' (vocabulary.toml)",
    ),
    (("transitions", 0, "section"), DELETE, "transitions[0].section", GOT_NONE),
    (("transitions", 0, "label"), 2, "transitions[0].label", "expected a non-empty string, got 2"),
    (
        ("transitions", 0, "label"),
        "",
        "transitions[0].label",
        "expected a non-empty string, got ''",
    ),
    (("transitions", 0, "profiles"), "rfc9999", "transitions[0].profiles", PROFILE_X),
    (("transitions", 0, "doc"), 1, "transitions[0].doc", "expected a non-empty string, got 1"),
    # a rule's actions
    (
        ("transitions", 0, "actions"),
        "send_request",
        "transitions[0].actions",
        "expected a list of action strings",
    ),
    (
        ("transitions", 0, "actions"),
        ["send_request", 3],
        "transitions[0].actions",
        "expected a list of action strings",
    ),
    (
        ("transitions", 0, "actions", 1),
        "fly",
        "transitions[0].actions[1]",
        "unknown action 'fly' (vocabulary.toml [actions])",
    ),
    (
        ("transitions", 0, "actions", 0),
        "",
        "transitions[0].actions[0]",
        "unknown action '' (vocabulary.toml [actions])",
    ),
    (
        ("transitions", 0, "actions", 0),
        "backoff",
        "transitions[0].actions[0]",
        "'backoff' takes 1 argument(s)",
    ),
    (
        ("transitions", 0, "actions", 0),
        "backoff E T2",
        "transitions[0].actions[0]",
        "'backoff' takes 1 argument(s)",
    ),
    (
        ("transitions", 2, "actions", 0),
        "restart E",
        "transitions[2].actions[0]",
        "'restart' takes 2 argument(s)",
    ),
    (
        ("transitions", 0, "actions", 1),
        "send_request E",
        "transitions[0].actions[1]",
        "'send_request' takes 0 argument(s)",
    ),
    (
        ("transitions", 0, "actions", 0),
        "backoff Z",
        "transitions[0].actions[0]",
        "unknown timer 'Z' (timers.toml)",
    ),
    (("transitions", 2, "actions", 0), "restart E T3", "transitions[2].actions[0]", BAD_T3),
    # totality (the key is the pair; profiles are checked in the order of PROFILES)
    (
        ("transitions", 1),
        DELETE,
        "Trying x recv_1xx",
        "undecided under profile rfc3261 (totality, SCHEMA.md)",
    ),
]


@pytest.mark.parametrize(("path", "value", "key", "reason"), NIC_CASES)
def test_a_defect_of_a_model_is_named_by_file_key_and_reason(
    tmp_path: Path, path: tuple[Step, ...], value: object, key: str, reason: str
) -> None:
    folder = copy_models(tmp_path)
    edit(folder, NIC, path, value)
    assert _error(folder, NIC) == (NIC, key, reason)


# --- totality and guards --------------------------------------------------------------------


def _with_rules(tmp_path: Path, *extra: dict[str, Any], guard: str | None = None) -> Path:
    """non_invite_client.toml with rules appended (and the guard set on transitions[1],
    Trying x recv_1xx)."""
    folder = copy_models(tmp_path)
    data = read(folder, NIC)
    if guard is not None:
        data["transitions"][1]["guard"] = guard
    data["transitions"] += list(extra)
    write(folder, NIC, data)
    return folder


_1XX = {"source": "Trying", "event": "recv_1xx", "dest": "Proceeding", "section": "17.1.2.2"}
TWICE = "decided twice under profile rfc3261"


@pytest.mark.parametrize(
    ("guard", "extra_guard", "reason"),
    [
        (None, None, TWICE),  # two rules, no guard
        ("reliable", None, TWICE),  # a guarded rule and an unguarded one
        (None, "reliable", TWICE),
        ("reliable", "reliable", TWICE),  # the same guard twice
        (
            "reliable",
            "early_100",
            "under profile rfc3261 the guards ['reliable', 'early_100'] are not a guard and "
            "its complement (one must hold at any time)",
        ),
    ],
)
def test_a_pair_decided_twice_is_an_error_unless_the_guards_are_complements(
    tmp_path: Path, guard: str | None, extra_guard: str | None, reason: str
) -> None:
    rule = dict(_1XX, guard=extra_guard) if extra_guard else dict(_1XX)
    folder = _with_rules(tmp_path, rule, guard=guard)
    assert _error(folder, NIC) == (NIC, "Trying x recv_1xx", reason)


def test_one_guarded_rule_alone_does_not_decide_a_pair(tmp_path: Path) -> None:
    folder = _with_rules(tmp_path, guard="reliable")
    assert _error(folder, NIC) == (
        NIC,
        "Trying x recv_1xx",
        "under profile rfc3261 the guards ['reliable'] are not a guard and its complement "
        "(one must hold at any time)",
    )


def test_a_guard_and_its_complement_decide_a_pair(tmp_path: Path) -> None:
    folder = _with_rules(tmp_path, dict(_1XX, guard="unreliable"), guard="reliable")
    machine = load_machine(folder / NIC)
    for profile in PROFILES:
        decided = machine.decide("Trying", "recv_1xx", profile)
        assert sorted(str(r.guard) for r in decided) == ["reliable", "unreliable"]


def _with_state(tmp_path: Path, state: dict[str, Any], dest: str | None = None) -> Path:
    folder = copy_models(tmp_path)
    data = read(folder, NIC)
    data["states"].append(state)
    if dest is not None:
        data["transitions"][1]["dest"] = dest
    write(folder, NIC, data)
    return folder


def test_a_destination_missing_under_a_profile_is_an_error(tmp_path: Path) -> None:
    """A rule for both profiles into a state of rfc6026 only: wrong under rfc3261."""
    waiting = {"name": "Waiting", "section": "17.1.2.2", "profiles": ["rfc6026"]}
    folder = _with_state(tmp_path, waiting, dest="Waiting")
    assert _error(folder, NIC) == (
        NIC,
        "Trying x recv_1xx",
        "uses a state that does not exist under profile rfc3261",
    )


def test_totality_is_proven_per_profile(tmp_path: Path) -> None:
    """A state of rfc6026 only, with no rules: nothing is missing under rfc3261 (it does not
    exist there), its pairs are undecided under rfc6026."""
    waiting = {"name": "Waiting", "section": "17.1.2.2", "profiles": ["rfc6026"]}
    folder = _with_state(tmp_path, waiting)
    assert _error(folder, NIC) == (
        NIC,
        "Waiting x recv_1xx",
        "undecided under profile rfc6026 (totality, SCHEMA.md)",
    )


# --- what the loader reads: optional keys present and absent --------------------------------


def test_a_model_is_read_with_every_key_it_has(tmp_path: Path) -> None:
    """Optional keys absent read as their defaults, present as written (from a copy, so the
    loader runs in this test, not only in the cache)."""
    folder = copy_models(tmp_path)
    machine = load_machine(folder / NIC)
    assert (machine.method, machine.extra, machine.includes) == (None, {}, ())
    assert (machine.figure, machine.initial) == ("RFC 3261 Figure 6", "Trying")
    assert (machine.start.event, machine.start.section) == ("request_from_tu", "17.1.2.2")
    assert machine.start.label == "Request from TU / send request"
    assert machine.start.actions == (
        Action("send_request"),
        Action("start", "E"),
        Action("start", "F"),
    )
    states = {s.name: s for s in machine.states}
    assert [s.terminal for s in machine.states] == [False, False, False, True]
    assert states["Trying"].doc.startswith("The request is sent")
    assert all(s.profiles == frozenset(PROFILES) for s in machine.states)
    rules = [r for r in machine.rules if (r.source, r.event) == ("Proceeding", "timer_E")]
    rules = [r for r in rules if not r.fallback]
    (restart,) = rules
    assert restart.actions == (Action("restart", "E", "T2"), Action("send_request"))
    assert (restart.kind, restart.label, restart.doc, restart.fallback) == (
        "transition",
        "Timer E / send req",
        "",
        False,
    )
    fallback = [r for r in machine.rules if r.fallback]
    assert {(r.kind, r.dest) for r in fallback} == {("error", None)}
    assert len(fallback) == 9  # 3 states x 3 timer events
    everything = [r for r in machine.rules if r.source == "Terminated"]
    assert sorted(r.event for r in everything) == sorted(machine.events)  # event = "*"
    assert load_machine(folder / "invite_client.toml").method == "INVITE"


def test_present_optional_keys_override_the_defaults(tmp_path: Path) -> None:
    folder = copy_models(tmp_path)
    data = read(folder, NIC)
    data["extra"] = {"note": "kept"}
    data["start"]["label"] = "begin"
    data["states"][0].update(terminal=False, doc="first")
    data["states"][1]["doc"] = ""  # an optional text may be empty
    data["transitions"][0].update(doc="why", profiles="rfc3261", fallback=False)
    write(folder, NIC, data)
    machine = load_machine(folder / NIC)
    assert machine.extra == {"note": "kept"} and machine.start.label == "begin"
    assert (machine.states[0].terminal, machine.states[0].doc) == (False, "first")
    assert machine.states[1].doc == ""
    first = machine.rules[0]
    assert (first.doc, first.profiles, first.fallback) == ("why", frozenset({"rfc3261"}), False)
    (under_6026,) = machine.decide("Trying", "timer_E", "rfc6026")
    assert under_6026.fallback  # the explicit rule is rfc3261's only: the fallback decides
    (under_3261,) = machine.decide("Trying", "timer_E", "rfc3261")
    assert under_3261.kind == "transition"


# --- includes (models/shared/) --------------------------------------------------------------

#: (file, path, new value or DELETE, file named, key named, reason), loading the client session.
INCLUDE_CASES: list[tuple[str, tuple[Step, ...], object, str, str, str]] = [
    (ISC, ("include",), 1, ISC, "include", "expected a name or a list of names, got 1"),
    (
        ISC,
        ("include", 0),
        "dialog.toml",
        ISC,
        "include[0]",
        "'dialog.toml': an include is a file shared/NAME.toml",
    ),
    (
        ISC,
        ("include", 0),
        "shared/invite_session.txt",  # the right folder, not a .toml file
        ISC,
        "include[0]",
        "'shared/invite_session.txt': an include is a file shared/NAME.toml",
    ),
    (
        ISC,
        ("include", 0),
        "shared/nothing.toml",
        ISC,
        "include[0]",
        "'shared/nothing.toml': no such file",
    ),
    (ISC, ("include", 1), SHARED, ISC, "include", "a file is included twice"),
    (SHARED, ("machine",), {"name": "x"}, SHARED, "machine", UNKNOWN_KEY),
    (
        SHARED,
        ("shared",),
        DELETE,
        SHARED,
        "shared",
        "a shared rule file starts with a [shared] table",
    ),
    (
        SHARED,
        ("shared",),
        "title",
        SHARED,
        "shared",
        "a shared rule file starts with a [shared] table",
    ),
    (SHARED, ("shared", "colour"), "red", SHARED, "shared.colour", UNKNOWN_KEY),
    (SHARED, ("shared", "title"), DELETE, SHARED, "shared.title", GOT_NONE),
    (SHARED, ("states", 0, "section"), DELETE, SHARED, "states[0].section", GOT_NONE),
    (
        SHARED,
        ("transitions", 0, "dest"),
        "Nowhere",
        SHARED,
        "transitions[0].dest",
        "unknown or missing state 'Nowhere'",
    ),
    (
        SHARED,
        ("transitions",),
        "rules",
        SHARED,
        "transitions",
        "expected a list of [[transitions]]",
    ),
]


@pytest.mark.parametrize(("file", "path", "value", "where", "key", "reason"), INCLUDE_CASES)
def test_a_defect_of_an_include_is_named_by_file_key_and_reason(
    tmp_path: Path,
    file: str,
    path: tuple[Step, ...],
    value: object,
    where: str,
    key: str,
    reason: str,
) -> None:
    folder = copy_models(tmp_path)
    edit(folder, file, path, value)
    assert _error(folder, ISC) == (where, key, reason)


def test_an_include_with_only_its_shared_table_adds_nothing(tmp_path: Path) -> None:
    """A shared file may hold no states and no rules, and a [shared] doc: the model is the
    same, and names the include."""
    folder = copy_models(tmp_path)
    plain = load_machine(folder / NIC)
    write(folder, "shared/nothing.toml", {"shared": {"title": "Nothing", "doc": "empty"}})
    data = read(folder, NIC)
    write(folder, NIC, {"include": ["shared/nothing.toml"], **data})
    machine = load_machine(folder / NIC)
    assert machine.includes == ("shared/nothing.toml",)
    assert (machine.states, machine.rules) == (plain.states, plain.rules)


def test_a_shared_doc_is_allowed_and_the_shared_states_come_after_the_models(
    tmp_path: Path,
) -> None:
    folder = copy_models(tmp_path)
    edit(folder, SHARED, ("shared", "doc"), "The established session (14-15).")
    machine = load_machine(folder / ISC)
    shared = [s["name"] for s in read(folder, SHARED)["states"]]
    assert [s.name for s in machine.states][-len(shared) :] == shared


# --- by name and the cache ------------------------------------------------------------------


def test_an_unknown_model_names_the_models_of_its_folder(tmp_path: Path) -> None:
    folder = copy_models(tmp_path)
    (folder / "dialog.toml").unlink()
    models = sorted(p.stem for p in folder.glob("*.toml") if p.stem not in ("vocabulary", "timers"))
    assert "invite_client" in models and "dialog" not in models
    known = ", ".join(models)
    for name in ("nope", "vocabulary", "shared/invite_session"):
        assert caught(load_model, name, folder) == (
            f"{name}.toml",
            "-",
            f"unknown model {name!r} (known: {known})",
        )


@pytest.mark.parametrize("changed", ["vocabulary.toml", "timers.toml"])
def test_a_model_is_read_again_when_its_vocabulary_or_timers_change(
    tmp_path: Path, changed: str
) -> None:
    """The cache entry of a model depends on the vocabulary and the timer table it was
    checked against: changing either makes the next load check it again."""
    folder = copy_models(tmp_path)
    first = load_machine(folder / NIC)
    assert load_machine(folder / NIC) is first
    path = folder / changed
    path.write_text(path.read_text() + "\n# changed\n")
    assert load_machine(folder / NIC) is not first
    edit(folder, "vocabulary.toml", ("actions", "backoff"), DELETE)
    assert _error(folder, NIC) == (
        NIC,
        "transitions[0].actions[0]",
        "unknown action 'backoff E' (vocabulary.toml [actions])",
    )


def test_an_unknown_profile_is_named(tmp_path: Path) -> None:
    machine = load_machine(copy_models(tmp_path) / NIC)
    assert caught(machine.rules_for, "rfc2543") == (NIC, "profile", "unknown profile 'rfc2543'")
    assert caught(machine.decide, "Trying", "timer_E", "rfc2543")[1:] == (
        "profile",
        "unknown profile 'rfc2543'",
    )
