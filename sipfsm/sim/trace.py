"""Run one transaction through a script of events on a virtual clock: ``sipfsm trace`` and the demo.

A script is a list of words: ``+S`` advances the clock S seconds (timers fire as they fall
due, each at its own instant), ``recv=CODE`` a response arrives (client transactions),
``recv=request`` / ``recv=ACK`` a retransmitted request or an ACK arrives (server
transactions), ``tu=CODE`` the TU sends a response (server transactions), ``transport-error``
the transport layer reports a failure. The transaction starts at t = 0: a client has sent its
request, a server has received it.

A request or ACK that arrives once a server transaction is destroyed matches none: RFC 3261
18.2.1 passes it to the core, which constructs a new server transaction for a request (the
trace goes on with it) and takes an ACK itself. Under rfc3261 that is what becomes of an
INVITE retransmitted after the 2xx (17.2.1 destroys the transaction on sending it): the TU
gets it as a new request, the flaw RFC 6026 fixes with its Accepted state; the trace marks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sipfsm.engine.outputs import Output, StateEntered, Step
from sipfsm.engine.table import Table, compile_table, transport_reliable
from sipfsm.engine.transaction import Transaction
from sipfsm.errors import ProtocolError
from sipfsm.model.loader import DEFAULT_PROFILE, Machine, load_timers, load_vocabulary
from sipfsm.model.timers import Timers
from sipfsm.sim.ladder import Trace
from sipfsm.sim.steps import (
    TraceInputError,
    TraceRefused,
    clock_advance,
    describe,
    format_steps,
    is_status_code,
)

__all__ = [
    "Step",
    "Trace",
    "TraceInputError",
    "TraceRefused",
    "format_steps",
    "parse_word",
    "run_trace",
]


def parse_word(word: str, machine: Machine) -> tuple[str, float | int | str]:
    """Check one script word against the model; return (kind, argument)."""
    if word.startswith("+"):
        return "advance", clock_advance(word)
    if word == "transport-error":
        return "event", "transport_error"
    name, sep, arg = word.partition("=")
    server = machine.role == "server"
    if sep and name == "recv" and server and arg.lower() in ("request", "ack"):
        event = "recv_ack" if arg.lower() == "ack" else "recv_request"
        if event not in machine.events:
            raise TraceInputError(f"{machine.name} has no event {event} ({word!r})")
        return "event", event
    if sep and name == ("tu" if server else "recv") and is_status_code(arg):
        return name, int(arg)
    words = "recv=request, recv=ACK, tu=CODE" if server else "recv=CODE"
    raise TraceInputError(
        f"bad event {word!r} for {machine.name} (a {machine.role}): use "
        f"+SECONDS, {words} (CODE 100-699) or transport-error"
    )


def run_trace(
    model: str | Machine,
    events: Sequence[str],
    *,
    transport: str = "udp",
    profile: str = DEFAULT_PROFILE,
    timers: Timers | None = None,
    method: str | None = None,
    directory: Path | None = None,
) -> Trace:
    """Run the script; raise :class:`TraceRefused` (with the steps so far) on an error pair.

    ``directory`` is the models folder a loaded ``model`` comes from: its ``timers.toml`` and
    ``vocabulary.toml`` then apply instead of those of ``models/``. The steps come as a
    :class:`~sipfsm.sim.steps.Trace`, which a notebook draws as a ladder."""
    name = model.name if isinstance(model, Machine) else model
    try:
        steps = _run(model, events, transport, profile, timers, method, directory)
    except TraceRefused as refused:
        refused.steps = Trace(refused.steps, name)
        raise
    return Trace(steps, name)


def _run(
    model: str | Machine,
    events: Sequence[str],
    transport: str,
    profile: str,
    timers: Timers | None,
    method: str | None,
    directory: Path | None,
) -> list[Step]:
    from sipfsm.sim.session_trace import is_session_model, run_session_trace

    timers = timers or Timers()
    if is_session_model(model):  # a UA (session model over transactions): sipfsm/ua/core.py
        return run_session_trace(
            model, events, transport=transport, profile=profile, timers=timers, directory=directory
        )
    compiled: str | Machine | Table = model
    if isinstance(model, Machine) and directory is not None:
        compiled = compile_table(
            model,
            profile,
            transport_reliable(transport),
            timers,
            load_timers(directory),
            load_vocabulary(directory),
        )
    tx = Transaction(
        compiled, None, transport=transport, profile=profile, timers=timers, method=method
    )
    script = [parse_word(word, tx.table.machine) for word in events]
    steps: list[Step] = []
    now = 0.0
    try:
        server = tx.table.machine.role == "server"
        _record(steps, tx, now, tx.start(now), arrived=f"recv {tx.method}" if server else None)
        on_2xx = False  # destroyed the instant it sent a 2xx (17.2.1 as published)
        for kind, arg in script:
            if server and tx.terminated and arg in ("recv_request", "recv_ack"):
                tx = _unmatched(steps, tx, now, str(arg), on_2xx)
                continue
            now = _take(steps, tx, now, kind, arg)
            on_2xx = kind == "tu" and 200 <= int(arg) < 300 and tx.terminated
    except ProtocolError as exc:
        raise TraceRefused(steps, exc) from None
    return steps


def _take(
    steps: list[Step], tx: Transaction, now: float, kind: str, arg: float | int | str
) -> float:
    """Carry out one parsed word at ``now``; return the clock after it."""
    if kind == "advance":
        target = now + float(arg)
        while (due := tx.get_timer()) is not None and due <= target:
            _record(steps, tx, due, tx.handle_timer(due))
        return target
    if kind == "recv":
        outputs = tx.receive_response(int(arg), now, str(arg))
    elif kind == "tu":
        outputs = tx.respond(int(arg), now, str(arg))
    else:
        outputs = tx.handle(str(arg), now)
    _record(steps, tx, now, outputs or [], arrived=_arrival(tx, kind, arg))
    return now


def _unmatched(
    steps: list[Step], tx: Transaction, now: float, event: str, on_2xx: bool
) -> Transaction:
    """A request or ACK after the server transaction was destroyed: it matches no transaction
    (17.2.3), so the transport passes it to the core (18.2.1); for a request the core
    constructs a new server transaction, which the trace follows from here."""
    if event == "recv_ack":
        steps.append(Step(now, "recv ACK", tx.state))
        steps.append(Step(now, "no match: ACK to the core (18.2.1)", tx.state))
        return tx
    steps.append(Step(now, f"recv {tx.method}", tx.state))
    fresh = Transaction(tx.table, None, method=tx.method)
    initial = fresh.table.machine.initial
    steps.append(Step(now, "no match: new server transaction (18.2.1)", initial))
    if on_2xx:
        steps.append(Step(now, "RFC 3261 flaw (RFC 6026 fixes it): a new request", initial))
    _record(steps, fresh, now, fresh.start(now))
    return fresh


def _arrival(tx: Transaction, kind: str, arg: float | int | str) -> str | None:
    """The line naming what arrived from the network (``recv 180``, ``recv INVITE``), if any."""
    if kind == "recv":
        return f"recv {arg}"
    if arg == "recv_request":
        return f"recv {tx.method}"
    if arg == "recv_ack":
        return "recv ACK"
    if arg == "transport_error":
        return "transport-error"
    return None


def _record(
    steps: list[Step], tx: Transaction, t: float, outputs: list[Output], arrived: str | None = None
) -> None:
    """Append a line for what arrived, then one per output (``(absorbed)`` if none)."""
    state = steps[-1].state if steps else tx.table.machine.initial
    if arrived is not None:
        steps.append(Step(t, arrived if outputs else f"{arrived} (absorbed)", state))
    for output in outputs:
        if isinstance(output, StateEntered):
            state = output.state
        steps.append(Step(t, describe(output, tx.method), state))
