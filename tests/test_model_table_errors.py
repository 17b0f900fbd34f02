"""Every error of the readers of ``vocabulary.toml`` and ``timers.toml``
(``sipfsm/model/vocabulary.py``, ``sipfsm/model/timer_table.py``, ``sipfsm/model/reading.py``),
with its exact file, key and reason, and what they read when nothing is wrong.

Each case copies the committed ``models/`` folder into ``tmp_path`` and changes one value of
one file (``tests/model_copies.py``): the ModelError must name the file, the key and the reason
exactly. Each operand of a boolean check has its own case, and each optional key a case where
it is present with a value other than its default (or absent, where the committed file has it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from model_copies import DELETE, Step, caught, copy_models, edit, read, write

from sipfsm.model.loader import PROFILES, load_timers, load_vocabulary
from sipfsm.model.timer_table import at_cap_of, check_interval, seconds
from sipfsm.model.timers import evaluate, transport_reliable

VOC = "vocabulary.toml"
TIM = "timers.toml"
GOT_NONE = "expected a non-empty string, got None"
UNKNOWN_KEY = "unknown key (see models/SCHEMA.md)"
BAD_T3 = "bad interval 'T3': use seconds, T1, T2, T4 or N*T1"
STATUS = "expected [low, high] within 100-699"
RESPONDS = "an action's status code, 100-699"
COMPLEMENT = "every guard names a complement that names it back"

# --- vocabulary.toml --------------------------------------------------------------------------

VOCABULARY_CASES: list[tuple[tuple[Step, ...], object, str, str]] = [
    (("events",), DELETE, "events", "missing table"),
    (("guards",), DELETE, "guards", "missing table"),
    (("actions",), DELETE, "actions", "missing table"),
    (("actions",), "start", "actions", "missing table"),
    (("events", "recv_1xx"), "1xx", "events.recv_1xx", "expected a table"),
    (("events", "recv_1xx", "colour"), "red", "events.recv_1xx.colour", UNKNOWN_KEY),
    (("events", "recv_1xx", "label"), DELETE, "events.recv_1xx.label", GOT_NONE),
    (("events", "recv_1xx", "doc"), DELETE, "events.recv_1xx.doc", GOT_NONE),
    (
        ("guards", "reliable", "label"),
        "",
        "guards.reliable.label",
        "expected a non-empty string, got ''",
    ),
    (
        ("events", "recv_1xx", "origin"),
        "ua",
        "events.recv_1xx.origin",
        "expected one of tl, tu, dialog, branch",
    ),
    (
        ("events", "recv_1xx", "origin"),
        DELETE,
        "events.recv_1xx",
        "a response event has both origin and status",
    ),
    (
        ("events", "recv_1xx", "status"),
        DELETE,
        "events.recv_1xx",
        "a response event has both origin and status",
    ),
    (
        ("events", "request_from_tu", "origin"),
        "tu",
        "events.request_from_tu",
        "a response event has both origin and status",
    ),
    (("events", "recv_1xx", "status"), "100-199", "events.recv_1xx.status", STATUS),
    (("events", "recv_1xx", "status"), [100], "events.recv_1xx.status", STATUS),
    (("events", "recv_1xx", "status"), [100, 150, 199], "events.recv_1xx.status", STATUS),
    (("events", "recv_1xx", "status"), [100, 199.0], "events.recv_1xx.status", STATUS),
    (("events", "recv_1xx", "status"), [99, 199], "events.recv_1xx.status", STATUS),
    (("events", "recv_1xx", "status"), [200, 199], "events.recv_1xx.status", STATUS),
    (("events", "recv_1xx", "status"), [100, 700], "events.recv_1xx.status", STATUS),
    (("guards", "reliable", "complement"), DELETE, "guards.reliable.complement", COMPLEMENT),
    (("guards", "reliable", "complement"), "recv_1xx", "guards.reliable.complement", COMPLEMENT),
    # a guard whose complement names a third guard back
    (("guards", "reliable", "complement"), "early_100", "guards.reliable.complement", COMPLEMENT),
    (("events", "tu_2xx", "responds"), 200, "events.tu_2xx.responds", RESPONDS),
    (("guards", "reliable", "responds"), 200, "guards.reliable.responds", RESPONDS),
    (("actions", "respond_487", "responds"), "487", "actions.respond_487.responds", RESPONDS),
    (("actions", "respond_487", "responds"), 99, "actions.respond_487.responds", RESPONDS),
    (("actions", "respond_487", "responds"), 700, "actions.respond_487.responds", RESPONDS),
]


@pytest.mark.parametrize(("path", "value", "key", "reason"), VOCABULARY_CASES)
def test_a_defect_of_the_vocabulary_is_named_by_file_key_and_reason(
    tmp_path: Path, path: tuple[Step, ...], value: object, key: str, reason: str
) -> None:
    folder = copy_models(tmp_path)
    edit(folder, VOC, path, value)
    assert caught(load_vocabulary, folder) == (VOC, key, reason)


def test_the_vocabulary_is_read_with_every_key_it_has(tmp_path: Path) -> None:
    vocab = load_vocabulary(copy_models(tmp_path))
    start, restart, send = (vocab.actions[v] for v in ("start", "restart", "send_request"))
    assert (start.takes_timer, start.takes_interval) == (True, False)
    assert (restart.takes_timer, restart.takes_interval) == (True, True)
    assert (send.takes_timer, send.takes_interval, send.responds) == (False, False, None)
    assert (start.label, restart.label) == ("start {timer}", "reset {timer} to {interval}")
    assert vocab.actions["respond_487"].responds == 487
    tu_408, request = vocab.events["tu_408"], vocab.events["request_from_tu"]
    assert (tu_408.origin, tu_408.status, tu_408.complement) == ("tu", (408, 408), None)
    assert (request.origin, request.status) == (None, None)
    assert request.doc.startswith("The TU passes a request")
    assert vocab.guards["reliable"].complement == "unreliable"
    assert vocab.guards["reliable"].origin is None
    assert vocab.events["recv_1xx"].name == "recv_1xx"


def test_the_edges_of_the_status_ranges_are_allowed(tmp_path: Path) -> None:
    folder = copy_models(tmp_path)
    data = read(folder, VOC)
    data["events"]["recv_1xx"]["status"] = [100, 699]
    data["events"]["recv_2xx"]["status"] = [250, 250]
    data["actions"]["respond_487"]["responds"] = 100
    data["actions"]["respond_491"]["responds"] = 699
    write(folder, VOC, data)
    vocab = load_vocabulary(folder)
    assert (vocab.events["recv_1xx"].status, vocab.events["recv_2xx"].status) == (
        (100, 699),
        (250, 250),
    )
    assert (vocab.actions["respond_487"].responds, vocab.actions["respond_491"].responds) == (
        100,
        699,
    )


# --- timers.toml ------------------------------------------------------------------------------

BASE = "must define exactly T1, T2 and T4"
POSITIVE = "expected a positive number of seconds"
AT_CAP = "needs a timer {0!r} with backoff = 'double' and a cap"
UPPER = "a timer drawn from [windows.glare] has the window's upper bound, {0} s"


def _bounds(value: object) -> str:
    return f"expected [low, high] as two interval expressions, got {value!r}"


TIMER_CASES: list[tuple[tuple[Step, ...], object, str, str]] = [
    (("clocks",), {"T1": 1}, "clocks", UNKNOWN_KEY),
    # [base]
    (("base",), DELETE, "base", BASE),
    (("base",), "T1", "base", BASE),
    (("base", "T4"), DELETE, "base", BASE),
    (("base", "T3"), {"value": 1.0, "section": "x", "meaning": "y"}, "base", BASE),
    (("base", "T1"), 0.5, "base.T1", "expected a table"),
    (("base", "T1", "unit"), "s", "base.T1.unit", UNKNOWN_KEY),
    (("base", "T1", "value"), DELETE, "base.T1.value", POSITIVE),
    (("base", "T1", "value"), "0.5", "base.T1.value", POSITIVE),
    (("base", "T1", "value"), True, "base.T1.value", POSITIVE),
    (("base", "T2", "value"), 0, "base.T2.value", POSITIVE),
    (("base", "T4", "value"), -5.0, "base.T4.value", POSITIVE),
    # [timers]
    (("timers",), DELETE, "timers", "missing table"),
    (("timers",), {}, "timers", "missing table"),
    (("timers",), "A", "timers", "missing table"),
    (("timers", "A"), "T1", "timers.A", "expected a table"),
    (("timers", "A", "colour"), "red", "timers.A.colour", UNKNOWN_KEY),
    (("timers", "A", "backoff"), "triple", "timers.A.backoff", "only 'double' is known"),
    (("timers", "A", "unreliable"), DELETE, "timers.A.unreliable", GOT_NONE),
    (("timers", "B", "reliable"), DELETE, "timers.B.reliable", GOT_NONE),
    (("timers", "A", "reliable"), "T3", "timers.A.reliable", BAD_T3),
    (
        ("timers", "B", "unreliable"),
        "64*T3",
        "timers.B.unreliable",
        "bad interval '64*T3': use seconds, T1, T2, T4 or N*T1",
    ),
    (
        ("timers", "E", "cap"),
        "none",
        "timers.E.cap",
        "bad interval 'none': use seconds, T1, T2, T4 or N*T1",
    ),
    (
        ("timers", "E", "cap"),
        "at_cap(G)",
        "timers.E.cap",
        "bad interval 'at_cap(G)': use seconds, T1, T2, T4 or N*T1",
    ),
    (("timers", "A", "section"), DELETE, "timers.A.section", GOT_NONE),
    (("timers", "A", "meaning"), DELETE, "timers.A.meaning", GOT_NONE),
    (
        ("timers", "A", "profiles"),
        ["rfc9999"],
        "timers.A.profiles",
        "unknown profile 'rfc9999' (known: rfc3261, rfc6026)",
    ),
    # at_cap(X): X must exist, double and have a cap
    (
        ("timers", "trying", "unreliable"),
        "at_cap(Z)",
        "timers.trying.unreliable",
        "at_cap(Z) " + AT_CAP.format("Z"),
    ),
    (
        ("timers", "trying", "unreliable"),
        "at_cap(A)",
        "timers.trying.unreliable",
        "at_cap(A) " + AT_CAP.format("A"),
    ),
    (
        ("timers", "trying", "reliable"),
        "at_cap(B)",
        "timers.trying.reliable",
        "at_cap(B) " + AT_CAP.format("B"),
    ),
    # [windows.glare]
    (("windows",), "glare", "windows", "expected a table"),
    (("windows", "glare"), "2.1-4", "windows.glare", "expected a table"),
    (("windows", "glare", "colour"), "red", "windows.glare.colour", UNKNOWN_KEY),
    (
        ("windows", "nope"),
        {"owner": ["0", "1"], "other": ["0", "1"], "granularity": "1", "section": "14.1"},
        "windows.nope",
        "no timer 'nope' in [timers] to draw at random",
    ),
    (("windows", "glare", "owner"), "2.1-4", "windows.glare.owner", _bounds("2.1-4")),
    (("windows", "glare", "owner"), ["2.1"], "windows.glare.owner", _bounds(["2.1"])),
    (
        ("windows", "glare", "owner"),
        ["2.1", "3", "4"],
        "windows.glare.owner",
        _bounds(["2.1", "3", "4"]),
    ),
    (("windows", "glare", "owner"), ["2.1", 4], "windows.glare.owner", _bounds(["2.1", 4])),
    (("windows", "glare", "other"), DELETE, "windows.glare.other", _bounds(None)),
    (("windows", "glare", "owner"), ["4", "2.1"], "windows.glare.owner", "low 4 is above high 2.1"),
    (("windows", "glare", "other"), ["0", "T3"], "windows.glare.other", BAD_T3),
    (("windows", "glare", "granularity"), DELETE, "windows.glare.granularity", GOT_NONE),
    (("windows", "glare", "granularity"), "0", "windows.glare.granularity", POSITIVE),
    (("windows", "glare", "granularity"), "T3", "windows.glare.granularity", BAD_T3),
    (("windows", "glare", "section"), DELETE, "windows.glare.section", GOT_NONE),
    (("timers", "glare", "unreliable"), "5", "timers.glare.unreliable", UPPER.format(4)),
    (("timers", "glare", "reliable"), "3.9", "timers.glare.reliable", UPPER.format(4)),
    (("timers", "glare", "reliable"), "none", "timers.glare.reliable", UPPER.format(4)),
    # the upper bound is the higher of the two windows' highs
    (("windows", "glare", "other"), ["0", "4.5"], "timers.glare.unreliable", UPPER.format(4.5)),
    # [ranges.retry_after]
    (("ranges",), "retry_after", "ranges", "expected a table"),
    (("ranges", "retry_after"), 10, "ranges.retry_after", "expected a table"),
    (("ranges", "retry_after", "values"), ["0"], "ranges.retry_after.values", _bounds(["0"])),
    (
        ("ranges", "retry_after", "values"),
        ["11", "10"],
        "ranges.retry_after.values",
        "low 11 is above high 10",
    ),
    (
        ("ranges", "retry_after", "granularity"),
        "-1",
        "ranges.retry_after.granularity",
        "bad interval '-1': use seconds, T1, T2, T4 or N*T1",
    ),
    (("ranges", "retry_after", "section"), DELETE, "ranges.retry_after.section", GOT_NONE),
    (("ranges", "retry_after", "meaning"), DELETE, "ranges.retry_after.meaning", GOT_NONE),
]


@pytest.mark.parametrize(("path", "value", "key", "reason"), TIMER_CASES)
def test_a_defect_of_the_timer_table_is_named_by_file_key_and_reason(
    tmp_path: Path, path: tuple[Step, ...], value: object, key: str, reason: str
) -> None:
    folder = copy_models(tmp_path)
    edit(folder, TIM, path, value)
    assert caught(load_timers, folder) == (TIM, key, reason)


def test_the_timer_table_is_read_with_every_key_it_has(tmp_path: Path) -> None:
    table = load_timers(copy_models(tmp_path))
    assert table.base == {"T1": 0.5, "T2": 4.0, "T4": 5.0}
    assert table.base_doc["T1"] == {"section": "17.1.1.1", "meaning": "RTT estimate"}
    assert set(table.base_doc) == {"T1", "T2", "T4"}
    a, e, trying = table.timers["A"], table.timers["E"], table.timers["trying"]
    assert (a.unreliable, a.reliable, a.backoff, a.cap) == ("T1", "none", "double", None)
    assert (e.backoff, e.cap, e.section) == ("double", "T2", "17.1.2.2")
    assert (trying.unreliable, trying.profiles) == ("at_cap(E)", frozenset({"rfc6026"}))
    assert table.timers["B"].profiles == frozenset(PROFILES)
    assert table.timers["B"].backoff is None
    assert table.timers["C"].meaning == "proxy INVITE transaction timeout"
    glare = table.windows["glare"]
    assert (glare.name, glare.owner, glare.other) == ("glare", ("2.1", "4"), ("0", "2"))
    assert (glare.granularity, glare.section) == ("0.01", "14.1")
    retry = table.ranges["retry_after"]
    assert (retry.name, retry.low, retry.high, retry.meaning) == (
        "retry_after",
        "0",
        "10",
        "Retry-After of the 500 to an INVITE that arrives while another is pending",
    )


def test_windows_and_ranges_are_optional(tmp_path: Path) -> None:
    folder = copy_models(tmp_path)
    data = read(folder, TIM)
    del data["windows"], data["ranges"]
    write(folder, TIM, data)
    table = load_timers(folder)
    assert (dict(table.windows), dict(table.ranges)) == ({}, {})
    assert table.timers["glare"].unreliable == "4"


def test_what_the_timer_table_allows_at_its_edges(tmp_path: Path) -> None:
    """A whole number of seconds as a base value, a window whose low is its high, a
    granularity as a multiple of T1, at_cap of another doubling timer with a cap."""
    folder = copy_models(tmp_path)
    data = read(folder, TIM)
    data["base"]["T4"]["value"] = 5
    data["windows"]["glare"]["other"] = ["2", "2"]
    data["ranges"]["retry_after"]["granularity"] = "2*T1"
    data["timers"]["trying"]["reliable"] = "at_cap(G)"
    data["timers"]["A"]["profiles"] = "rfc3261"
    write(folder, TIM, data)
    table = load_timers(folder)
    assert table.base["T4"] == 5.0 and isinstance(table.base["T4"], float)
    assert table.windows["glare"].other == ("2", "2")
    assert table.ranges["retry_after"].granularity == "2*T1"
    assert table.timers["trying"].reliable == "at_cap(G)"
    assert table.timers["A"].profiles == frozenset({"rfc3261"})


def test_at_cap_needs_a_doubling_timer_with_a_cap(tmp_path: Path) -> None:
    """A timer with a cap but no back-off cannot be at its cap (the other operand of the
    check: at_cap(A) above is a doubling timer without a cap)."""
    folder = copy_models(tmp_path)
    data = read(folder, TIM)
    data["timers"]["B"]["cap"] = "T2"
    data["timers"]["trying"]["unreliable"] = "at_cap(B)"
    write(folder, TIM, data)
    assert caught(load_timers, folder) == (
        TIM,
        "timers.trying.unreliable",
        "at_cap(B) " + AT_CAP.format("B"),
    )


# --- interval expressions and reading files ---------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "allow_none", "allow_at_cap", "ok"),
    [
        ("T1", False, False, True),
        ("T4", False, False, True),
        ("64*T1", False, False, True),
        ("0.5*T2", False, False, True),
        ("33", False, False, True),
        ("0", False, False, True),
        ("2.1", False, False, True),
        ("T3", False, False, False),
        ("-1", False, False, False),
        ("-2*T1", False, False, False),
        ("x*T1", False, False, False),
        ("*T1", False, False, False),
        ("3*5", False, False, False),
        ("T1*2", False, False, False),
        ("", False, False, False),
        ("none", False, False, False),
        ("none", True, False, True),
        ("at_cap(E)", False, False, False),
        ("at_cap(E)", False, True, True),
        ("at_cap(E)", True, False, False),
        ("none", False, True, False),
    ],
)
def test_interval_expressions(expr: str, allow_none: bool, allow_at_cap: bool, ok: bool) -> None:
    """SCHEMA.md: seconds, T1, T2, T4 or N*T1; ``none`` and ``at_cap(X)`` where allowed."""

    def check() -> str:
        return check_interval(
            "f.toml", "k.v", expr, allow_none=allow_none, allow_at_cap=allow_at_cap
        )

    if ok:
        assert check() == expr
    else:
        assert caught(check) == (
            "f.toml",
            "k.v",
            f"bad interval {expr!r}: use seconds, T1, T2, T4 or N*T1",
        )


@pytest.mark.parametrize(
    ("expr", "value"), [("T1", 0.3), ("T2", 3.0), ("T4", 7.0), ("64*T1", 19.2), ("2.5", 2.5)]
)
def test_seconds_of_an_interval(expr: str, value: float) -> None:
    assert seconds(expr, {"T1": 0.3, "T2": 3.0, "T4": 7.0}) == pytest.approx(value)


@pytest.mark.parametrize(
    ("expr", "timer"),
    [("at_cap(E)", "E"), ("at_cap( G )", "G"), ("at_cap()", None), ("at_cap(E", None), ("E", None)],
)
def test_the_timer_an_at_cap_names(expr: str, timer: str | None) -> None:
    assert at_cap_of(expr) == timer


def test_a_missing_or_broken_file_is_named_with_its_path(tmp_path: Path) -> None:
    assert caught(load_timers, tmp_path) == (str(tmp_path / TIM), "-", "file not found")
    (tmp_path / VOC).write_text("[events\n")
    file, key, reason = caught(load_vocabulary, tmp_path)
    assert (file, key) == (str(tmp_path / VOC), "-")
    assert reason.startswith("not valid TOML: ")


def test_at_cap_is_evaluated_only_against_a_table_that_has_the_timer() -> None:
    """``at_cap(X)`` needs the timers of the table (sipfsm/model/timers.py ``evaluate``)."""
    table = load_timers()
    reason = "no timer 'E' to evaluate at_cap(E) against"
    assert caught(evaluate, "at_cap(E)", table.base) == (TIM, "at_cap(E)", reason)
    assert caught(evaluate, "at_cap(Z)", table.base, table.timers) == (
        TIM,
        "at_cap(Z)",
        "no timer 'Z' to evaluate at_cap(Z) against",
    )
    assert evaluate("at_cap(E)", table.base, table.timers) == pytest.approx(3.5)
    assert evaluate("none", table.base) is None


def test_an_unknown_transport_is_named() -> None:
    assert caught(transport_reliable, "sctp2") == (
        "-",
        "transport",
        "unknown transport 'sctp2' (known: udp, tcp, tls, sctp)",
    )
    assert (transport_reliable("UDP"), transport_reliable("Tls")) == (False, True)
