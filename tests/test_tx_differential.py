"""The compiled dispatch table and the ``transitions`` machine run every model identically.

Both are built from the same model data; the compiled table is the default fast path. For
random event sequences (including events the model refuses) on every machine, transport and
profile, both backends must give the same outputs (every record, timers included), the same
states and the same refusals.
"""

from __future__ import annotations

from typing import Literal

from hypothesis import given
from hypothesis import strategies as st

from sipfsm import ProtocolError, Transaction
from sipfsm.model.loader import PROFILES

MODELS = ["invite_client", "invite_server", "non_invite_client", "non_invite_server"]
STATUSES = [100, 180, 200, 302, 408, 486, 603]


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
    backend: Literal["compiled", "transitions"],
) -> list[object]:
    from sipfsm import Timers

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
    compiled = _run(model, transport, profile, t1, steps, "compiled")
    declared = _run(model, transport, profile, t1, steps, "transitions")
    assert compiled == declared
