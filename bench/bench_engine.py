"""Benchmark the transaction engine against a bare ``transitions`` Machine and a bare dict.

Run: ``.venv/bin/python bench/bench_engine.py`` (``--quick`` for a short run). Prints a table:

- events/s through :class:`sipfsm.Transaction` (compiled table, timers scheduled and fired on a
  virtual clock) for two scripted lives (an INVITE client over UDP: two Timer A
  retransmissions, 180, 180, 486, a 486 retransmission, Timer D; a non-INVITE server over UDP:
  200 from the TU, two request retransmissions, Timer J), against the same (state, event)
  sequences through a bare ``transitions.Machine`` built from the same model (no actions, no
  timers) and through a bare ``dict`` lookup;
- the same engine with the ``transitions`` backend (the declared machine);
- memory per idle transaction (tracemalloc; its request object excluded);
- creation rate (create + start, through :class:`sipfsm.TransactionLayer`) with 1k and with
  100k transactions alive.

Targets (issue 5): >= 300k events/s and >= 2x bare transitions; <= 2 KiB per idle transaction;
creation at 100k within 20% of creation at 1k.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Literal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transitions import Machine as TMachine

from sipfsm import Output, Transaction, TransactionKey, TransactionLayer
from sipfsm.model.loader import load_model

Script = list[tuple[str, float | int | str | None]]

#: (kind, argument): "start", "timer" (fire at t), "recv" (status), "tu" (status), "event" name.
INVITE_CLIENT: Script = [
    ("start", 0.0),
    ("timer", 0.5),
    ("timer", 1.5),
    ("recv", 180),
    ("recv", 180),
    ("recv", 486),
    ("recv", 486),
    ("timer", 40.0),
]
NON_INVITE_SERVER: Script = [
    ("start", 0.0),
    ("tu", 200),
    ("event", "recv_request"),
    ("event", "recv_request"),
    ("timer", 40.0),
]
LIVES = {"invite_client": INVITE_CLIENT, "non_invite_server": NON_INVITE_SERVER}


def run_life(
    model: str, script: Script, backend: Literal["compiled", "transitions"] = "compiled"
) -> int:
    """One transaction through its script; returns the number of events taken."""
    tx = Transaction(model, "REQ", transport="udp", backend=backend)
    run_script(tx, script)
    assert tx.terminated, (model, tx.state)
    return len(script)


def invite_client_life() -> int:
    """INVITE_CLIENT written out: the engine alone, no script interpretation."""
    tx = Transaction("invite_client", "REQ", transport="udp")
    tx.start(0.0)
    tx.handle_timer(0.5)
    tx.handle_timer(1.5)
    tx.receive_response(180, 2.0, "180")
    tx.receive_response(180, 2.1, "180")
    tx.receive_response(486, 2.2, "486")
    tx.receive_response(486, 2.3, "486")
    tx.handle_timer(40.0)
    return 8


def non_invite_server_life() -> int:
    """NON_INVITE_SERVER written out."""
    tx = Transaction("non_invite_server", "REQ", transport="udp")
    tx.start(0.0)
    tx.respond(200, 1.0, "200")
    tx.handle("recv_request", 2.0)
    tx.handle("recv_request", 3.0)
    tx.handle_timer(40.0)
    return 5


FAST = {"invite_client": invite_client_life, "non_invite_server": non_invite_server_life}


def trace_pairs(model: str, script: Script) -> list[tuple[str, str]]:
    """The (state, event) pairs the engine decides along a script (timers included)."""
    pairs: list[tuple[str, str]] = []

    class Spy(Transaction):
        __slots__ = ()

        def _dispatch(
            self,
            event: str,
            now: float,
            message: object | None,
            status: int | None,
            out: list[Output],
        ) -> None:
            pairs.append((self.state, event))
            super()._dispatch(event, now, message, status, out)

    run_script(Spy(model, "REQ", transport="udp"), script)
    return pairs


def run_script(tx: Transaction, script: Script) -> None:
    for kind, arg in script:
        if kind == "start":
            tx.start(0.0)
        elif kind == "timer":
            tx.handle_timer(float(arg or 0))
        elif kind == "recv":
            tx.receive_response(int(arg or 0), 2.0)
        elif kind == "tu":
            tx.respond(int(arg or 0), 1.0)
        else:
            tx.handle(str(arg), 2.0)


def rate(fn: Callable[[], int], seconds: float) -> float:
    """Events per second of ``fn`` (which returns events done), best of 3 rounds."""
    best = 0.0
    for _ in range(3):
        events, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 3:
            for _ in range(200):
                events += fn()
        best = max(best, events / elapsed)
    return best


class _Model:
    state: str


def bare_transitions(model: str, pairs: list[tuple[str, str]]) -> Callable[[], int]:
    """The same pairs through a bare transitions.Machine of the model's rules."""
    machine = load_model(model)
    obj = _Model()
    tm = TMachine(
        model=obj,
        states=list(machine.state_names("rfc6026")),
        initial=machine.initial,
        auto_transitions=False,
    )
    for rule in machine.rules_for("rfc6026"):
        if rule.kind != "error" and rule.guard is None:
            tm.add_transition(rule.event, rule.source, rule.dest)
    first = pairs[0][0]

    def go() -> int:
        tm.set_state(first)
        for _, event in pairs:
            obj.trigger(event)  # type: ignore[attr-defined]  # transitions adds it at run time
        return len(pairs)

    return go


def bare_dict(model: str, pairs: list[tuple[str, str]]) -> Callable[[], int]:
    """The same pairs through a plain dict (state, event) -> next state."""
    machine = load_model(model)
    table = {(r.source, r.event): r.dest or r.source for r in machine.rules_for("rfc6026")}
    events = [e for _, e in pairs]
    first = pairs[0][0]

    def go() -> int:
        state = first
        for event in events:
            state = table[(state, event)]
        return len(events)

    return go


def memory_per_transaction(n: int) -> float:
    """Bytes per idle INVITE server transaction (Proceeding, no timer), beyond its request."""
    request = "REQ"
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    txs = []
    for _ in range(n):
        tx = Transaction("invite_server", request, transport="udp")
        tx.start(0.0)
        txs.append(tx)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    list_overhead = sys.getsizeof(txs)
    return (after - before - list_overhead) / n


def creation_rate(live: int, batch: int = 5000) -> float:
    """Transactions created (and started) per second with ``live`` already alive in a layer."""
    layer = TransactionLayer()
    for i in range(live):
        layer.send_request(TransactionKey("OPTIONS", branch=f"z9hG4bKlive{i}"), "REQ", 0.0)
    keys = [TransactionKey("OPTIONS", branch=f"z9hG4bKnew{i}") for i in range(batch)]
    gc.collect()
    start = time.perf_counter()
    for key in keys:
        layer.send_request(key, "REQ", 0.0)
    return batch / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short rounds (a smoke run)")
    args = parser.parse_args(argv)
    seconds = 0.6 if args.quick else 3.0
    rows: list[tuple[str, str, str]] = []
    for model, script in LIVES.items():
        pairs = trace_pairs(model, script)
        assert run_life(model, script) == FAST[model]()
        engine = rate(FAST[model], seconds)
        declared = rate(
            partial(run_life, model, script, "transitions"),
            seconds / 3,
        )
        bare_t = rate(bare_transitions(model, pairs), seconds)
        bare_d = rate(bare_dict(model, pairs), seconds)
        rows += [
            (model, "engine (compiled table, timers)", f"{engine:,.0f} ev/s"),
            (model, "engine (transitions backend)", f"{declared:,.0f} ev/s"),
            (model, "bare transitions.Machine", f"{bare_t:,.0f} ev/s"),
            (model, "bare dict dispatch", f"{bare_d:,.0f} ev/s"),
            (model, "engine / bare transitions", f"{engine / bare_t:.1f}x"),
        ]
    per_tx = memory_per_transaction(20_000)
    rows.append(("invite_server", "memory per idle transaction", f"{per_tx:,.0f} B"))
    small = creation_rate(1_000)
    large = creation_rate(20_000 if args.quick else 100_000)
    rows += [
        ("non_invite_client", "creation, 1k alive", f"{small:,.0f} tx/s"),
        (
            "non_invite_client",
            f"creation, {'20k' if args.quick else '100k'} alive",
            f"{large:,.0f} tx/s",
        ),
        ("non_invite_client", "creation ratio large/small", f"{large / small:.2f}"),
    ]
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print(f"{r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]:>{width[2]}}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
