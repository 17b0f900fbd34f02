"""The compiled table and the ``transitions`` machine run every model identically.

Both backends are built from the same model data; the compiled table is the default fast path.
What this proves, exactly: for random event sequences (including events the model refuses and
names outside its alphabet) on every model of ``models/`` (the four transactions, the dialog
and both INVITE session models), every transport, profile and T1, the compiled dispatch and
the compiled actions give the same outputs (every record, timers and UA-core verbs included),
the same states, the same deadlines and the same refusals as the ``transitions`` machine,
which decides by its own transitions and works out what each action means from the model's
:class:`~sipfsm.model.loader.Action` list itself (``engine.transitions_backend``), not from the
compiled ops. Both share the executor of primitive actions (the runner's timer store and the
transaction's sends) and the guard evaluation; those are proved against the RFC oracles
(``tests/lockstep.py`` for the transactions, ``tests/session_oracle.py`` for the sessions),
not here. The last test shows the differential can fail: a compiled table with one action
changed is caught.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm import ProtocolError, Timers, Transaction
from sipfsm.engine.runner import Backend, Runner
from sipfsm.engine.table import ERROR, SEND_ACK, Entry, Table, compiled
from sipfsm.model.loader import PROFILES, load_model, load_vocabulary

MODELS = ["invite_client", "invite_server", "non_invite_client", "non_invite_server"]
UA_MODELS = ["dialog", "invite_session_client", "invite_session_server"]
STATUSES = [100, 180, 200, 302, 408, 486, 603]


# --- the transactions ------------------------------------------------------------------------


def _step(tx: Transaction, step: tuple[str, object], now: float) -> list[object]:
    kind, arg = step
    if kind == "advance":
        return list(tx.handle_timer(now))
    if kind == "status":
        code = int(str(arg))
        return list(
            tx.receive_response(code, now, code)
            if tx.table.machine.role == "client"
            else tx.respond(code, now, code)
        )
    return list(tx.handle(str(arg), now))


def _run(
    model: str,
    transport: str,
    profile: str,
    t1: float,
    steps: list[tuple[str, object]],
    backend: Backend,
) -> list[object]:
    tx = Transaction(
        model, "REQ", transport=transport, profile=profile, timers=Timers(t1=t1), backend=backend
    )
    log: list[object] = [tx.start(0.0), tx.state]
    now = 0.0
    for step in steps:
        if step[0] == "advance":
            now += float(str(step[1]))
        try:
            log.append(_step(tx, step, now))
        except ProtocolError as exc:
            log.append(("refused", exc.state, exc.event, exc.section))
        log.append((tx.state, tx.get_timer()))
    return log


step = st.one_of(
    st.tuples(st.just("advance"), st.sampled_from([0.0, 0.5, 1.0, 2.5, 4.0, 9.0, 33.0])),
    st.tuples(st.just("status"), st.sampled_from(STATUSES)),
    st.tuples(
        st.just("event"),
        st.sampled_from(
            [
                "recv_request",
                "recv_ack",
                "transport_error",
                "timer_A",
                "timer_G",
                "recv_2xx",
                "no_such_event",
            ]
        ),
    ),
)


@given(
    model=st.sampled_from(MODELS),
    transport=st.sampled_from(["udp", "tcp"]),
    profile=st.sampled_from(PROFILES),
    t1=st.sampled_from([0.5, 0.25, 1.0]),
    steps=st.lists(step, max_size=25),
)
def test_compiled_table_runs_exactly_like_transitions(
    model: str, transport: str, profile: str, t1: float, steps: list[tuple[str, object]]
) -> None:
    compiled_log = _run(model, transport, profile, t1, steps, "compiled")
    declared = _run(model, transport, profile, t1, steps, "transitions")
    assert compiled_log == declared


# --- the dialog and the INVITE sessions --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Context:
    """What comes with one event: here only whether the guards' first choice holds (the
    dialog's ``cseq_in_order``: the request's CSeq is not lower than the remote one)."""

    holds: bool


def _guards() -> Callable[[str, object], bool]:
    """A guard evaluator consistent with the vocabulary: of each guard and its complement,
    the one first in alphabetical order holds exactly when the context says so."""
    vocab = load_vocabulary()

    def evaluate(name: str, context: object) -> bool:
        assert isinstance(context, Context)
        first = min(name, vocab.guards[name].complement or name)
        return context.holds if name == first else not context.holds

    return evaluate


def _table(model: str, transport: str, profile: str, t1: float) -> Table:
    return compiled(
        model,
        profile=profile,
        reliable=transport != "udp",
        timers=Timers(t1=t1),
        owner=model != "invite_session_server",
    )


class _Pair:
    """One model run by both backends side by side, driven as its owner drives it (timers
    fired one by one at their deadlines with ``pop_due``)."""

    def __init__(self, table: Table, units: list[float]) -> None:
        self.table = table
        self.runners = [
            Runner(table, random=_source(units), guards=_guards(), backend=backend)
            for backend in ("compiled", "transitions")
        ]
        self.now = 0.0

    @property
    def state(self) -> str:
        return self.runners[0].state

    def live_events(self) -> list[str]:
        """The events the model takes (does not refuse) in the current state, those that
        do not end it first (so that runs go deep before they end)."""
        row, terminal = self.table.rows[self.state], self.table.terminal
        live = [e for e in self.table.machine.events if row[e].kind != ERROR]
        return sorted(live, key=lambda e: row[e].dest in terminal)

    def logs(self, step: Callable[[Runner], list[object]]) -> list[list[object]]:
        out = []
        for runner in self.runners:
            try:
                log = step(runner)
            except ProtocolError as exc:
                log = [("refused", exc.state, exc.event, exc.section)]
            out.append([*log, runner.state, runner.timers])
        return out


def _source(units: list[float]) -> Callable[[], float]:
    draws = iter(units * 100)
    return lambda: next(draws)


def _fire(now: float, table: Table) -> Callable[[Runner], list[object]]:
    def fire(runner: Runner) -> list[object]:
        log: list[object] = []
        while (due := runner.pop_due(now)) is not None:
            timer, at = due
            log.append((timer, at, runner.handle(table.timer_event[timer], at)))
        return log

    return fire


def _event(event: str, holds: bool, now: float) -> Callable[[Runner], list[object]]:
    return lambda runner: list(runner.handle(event, now, Context(holds)))


@settings(max_examples=300)
@given(
    model=st.sampled_from(UA_MODELS),
    transport=st.sampled_from(["udp", "tcp"]),
    profile=st.sampled_from(PROFILES),
    t1=st.sampled_from([0.5, 0.25, 1.0]),
    units=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=4),
    data=st.data(),
)
def test_every_dialog_and_session_model_runs_exactly_like_transitions(
    model: str, transport: str, profile: str, t1: float, units: list[float], data: st.DataObject
) -> None:
    """Random runs, most steps an event the current state takes (so that the runs go deep:
    re-INVITEs, glare, the 2xx retransmissions), some any event of the alphabet or outside
    it, some a clock advance; each event with a context for the guards."""
    table = _table(model, transport, profile, t1)
    pair = _Pair(table, units)
    first, second = pair.logs(lambda r: list(r.start(0.0, Context(True))))
    assert first == second
    for _ in range(data.draw(st.integers(5, 40))):
        kind = data.draw(st.sampled_from(["live", "live", "live", "live", "any", "advance"]))
        if kind == "advance":
            pair.now += data.draw(st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.5, 4.0, 33.0]))
            step = _fire(pair.now, table)
        else:
            pool = pair.live_events() if kind == "live" else [*table.machine.events, "no_such"]
            if not pool:
                break
            step = _event(data.draw(st.sampled_from(pool)), data.draw(st.booleans()), pair.now)
        first, second = pair.logs(step)
        assert first == second, (pair.state, first, second)


def test_the_session_models_reach_their_timers_and_guards() -> None:
    """The random runs above can reach what matters: the glare window, a doubling timer and
    both sides of the dialog's CSeq guard (so the differential is not vacuous there)."""
    client = _table("invite_session_client", "udp", "rfc6026", 0.5)
    path = [("tu_invite", True), ("recv_491", True)]
    runner = Runner(client, random=lambda: 0.5, guards=_guards())
    runner.start(0.0, Context(True))
    runner.handle("recv_2xx", 0.0, Context(True))
    outputs = [o for event, holds in path for o in runner.handle(event, 0.0, Context(holds))]
    # the glare window (14.1), and the 64*T1 wait the first 2xx started (13.2.2.4)
    assert runner.timers == {"glare": 3.05, "early": 32.0}, outputs
    dialog = _table("dialog", "udp", "rfc6026", 0.5)
    for holds, verb in ((True, "pass_to_tu"), (False, "respond_500")):
        runner = Runner(dialog, guards=_guards())
        runner.start(0.0)
        runner.handle("dlg_2xx", 0.0, Context(True))
        outputs = runner.handle("dlg_request_in", 0.0, Context(holds))
        assert verb in [getattr(o, "verb", None) for o in outputs]


def test_a_wrong_compiled_action_is_caught() -> None:
    """The differential can fail: in a table whose Proceeding x recv_3xx_6xx entry of the
    INVITE client has lost its ACK, the compiled run differs from the transitions run (which
    reads the actions from the model, not from the table)."""
    table = _table("invite_client", "udp", "rfc6026", 0.5)
    entry = table.rows["Proceeding"]["recv_3xx_6xx"]
    broken = dataclasses.replace(table, rows={k: dict(v) for k, v in table.rows.items()})
    without_ack = tuple(op for op in entry.ops if op[0] != SEND_ACK)
    assert without_ack != entry.ops
    broken.rows["Proceeding"]["recv_3xx_6xx"] = Entry(entry.rule, without_ack)
    logs = []
    for backend in ("compiled", "transitions"):
        tx = Transaction(broken, "REQ", backend=backend)
        logs.append([tx.start(0.0), tx.receive_response(180, 0.1), tx.receive_response(486, 0.2)])
    assert logs[0] != logs[1]
    assert load_model("invite_client") is table.machine


def test_both_backends_name_an_event_outside_the_alphabet_and_a_run_not_started() -> None:
    """An event the machine does not know, and any event before the start, are refused with a
    ProtocolError naming the machine, its state and that event, on either backend."""
    table = _table("dialog", "udp", "rfc6026", 0.5)
    for backend in ("compiled", "transitions"):
        runner = Runner(table, guards=_guards(), backend=backend)
        with pytest.raises(ProtocolError, match="has not been started") as early:
            runner.handle("dlg_2xx", 0.0)
        assert (early.value.machine, early.value.event) == ("dialog", "dlg_2xx")
        runner.start(0.0)
        known = r"not an event of this machine \(its events: "
        with pytest.raises(ProtocolError, match=known) as caught:
            runner.handle("no_such_event", 0.0)
        assert (caught.value.event, caught.value.state) == ("no_such_event", runner.state)
        assert caught.value.machine == "dialog" and "dlg_2xx" in caught.value.reason


@pytest.mark.parametrize(
    ("model", "kind"), [("invite_client", "transaction"), ("dialog", "machine")]
)
def test_early_events_and_a_second_start_are_refused_by_name(model: str, kind: str) -> None:
    """An event before the start names what was not started (a transaction, 17, or another
    machine); a second start is refused with the machine's name and its start event."""
    table = _table(model, "udp", "rfc6026", 0.5)
    runner = Runner(table, guards=_guards())
    event = table.machine.events[0]
    with pytest.raises(ProtocolError) as early:
        runner.handle(event, 0.0)
    assert early.value.reason == f"the {kind} has not been started"
    if kind == "transaction":
        return  # only a Transaction can carry out a transaction's start (it sends)
    runner.start(0.0)
    with pytest.raises(ProtocolError) as twice:
        runner.start(0.1)
    assert (twice.value.machine, twice.value.reason) == (model, "started twice")
    assert twice.value.event == table.machine.start.event
