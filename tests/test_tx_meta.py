"""The tests can fail: the RFC oracle catches deliberately mutated models and timer tables."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from sipfsm import Timers
from sipfsm.engine.table import compile_table
from sipfsm.model.loader import load_model, load_timers

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lockstep import Lockstep


def _scenario(run: Lockstep) -> None:
    """A 500 over UDP, never ACKed: G retransmits, H gives up."""
    run.event("tu", 500)
    for _ in range(40):
        run.advance(1.0)


def test_the_real_model_passes_the_scenario() -> None:
    _scenario(Lockstep("invite_server", "udp", "rfc6026"))


@pytest.mark.parametrize("mutation", ["G cap T1", "G cap none", "H 32*T1", "G on TCP"])
def test_a_mutated_timer_table_is_caught(mutation: str) -> None:
    table = load_timers()
    g, h = table.timers["G"], table.timers["H"]
    timers = dict(table.timers)
    if mutation == "G cap T1":
        timers["G"] = dataclasses.replace(g, cap="T1")
    elif mutation == "G cap none":
        timers["G"] = dataclasses.replace(g, cap=None)
    elif mutation == "H 32*T1":
        timers["H"] = dataclasses.replace(h, unreliable="32*T1", reliable="32*T1")
    else:
        timers["G"] = dataclasses.replace(g, reliable="T1")
    mutated = dataclasses.replace(table, timers=timers)
    transport = "tcp" if mutation == "G on TCP" else "udp"
    compiled = compile_table(
        load_model("invite_server"), "rfc6026", transport == "tcp", Timers(), timer_table=mutated
    )
    with pytest.raises(AssertionError):
        _scenario(Lockstep("invite_server", transport, "rfc6026", table=compiled))


def test_a_mutated_rule_is_caught() -> None:
    """Drop the ACK from the 300-699 transition of the INVITE client: the oracle notices."""
    machine = load_model("invite_client")
    rules = tuple(
        dataclasses.replace(r, actions=tuple(a for a in r.actions if a.verb != "send_ack"))
        if r.event == "recv_3xx_6xx" and r.source == "Calling"
        else r
        for r in machine.rules
    )
    broken = dataclasses.replace(machine, rules=rules)
    compiled = compile_table(broken, "rfc6026", False, Timers())
    run = Lockstep("invite_client", "udp", "rfc6026", table=compiled)
    with pytest.raises(AssertionError):
        run.event("recv", 486)


def _silent_tu(run: Lockstep) -> None:
    """A non-INVITE request the TU leaves unanswered for 10 s, then answers 200."""
    for _ in range(10):
        run.advance(1.0)
    run.event("tu", 200)
    run.advance(40.0)


def test_the_real_model_owes_the_rfc4320_100() -> None:
    for transport in ("udp", "tcp"):
        _silent_tu(Lockstep("non_invite_server", transport, "rfc6026"))


@pytest.mark.parametrize("mutation", ["no start trying", "no send_100", "trying on rfc3261"])
def test_a_missing_rfc4320_4_1_100_is_caught(mutation: str) -> None:
    """RFC 4320 4.1 (a 100 if nothing was sent by the time E reaches T2) reintroduced as a
    deviation three ways: the oracle, written from the RFC, catches each."""
    machine = load_model("non_invite_server")
    profile = "rfc3261" if mutation == "trying on rfc3261" else "rfc6026"
    if mutation == "no start trying":
        start = machine.start
        acts = tuple(a for a in start.actions if a.timer != "trying")
        machine = dataclasses.replace(machine, start=dataclasses.replace(start, actions=acts))
    elif mutation == "no send_100":
        rules = tuple(
            dataclasses.replace(r, actions=())
            if r.event == "timer_trying" and r.kind == "transition"
            else r
            for r in machine.rules
        )
        machine = dataclasses.replace(machine, rules=rules)
    else:  # the amendment's rule and timer run under RFC 3261 as published too
        rules = tuple(
            dataclasses.replace(r, profiles=frozenset({"rfc3261", "rfc6026"}))
            if r.event == "timer_trying" and r.kind == "transition"
            else r
            for r in machine.rules
            if not (r.event == "timer_trying" and r.kind == "error" and r.source == "Trying")
        )
        machine = dataclasses.replace(machine, rules=rules)
        table = load_timers()
        trying = dataclasses.replace(
            table.timers["trying"], profiles=frozenset({"rfc3261", "rfc6026"})
        )
        timers = dataclasses.replace(table, timers={**table.timers, "trying": trying})
        compiled = compile_table(machine, profile, False, Timers(), timer_table=timers)
        with pytest.raises(AssertionError):
            _silent_tu(Lockstep("non_invite_server", "udp", profile, table=compiled))
        return
    compiled = compile_table(machine, profile, False, Timers())
    with pytest.raises(AssertionError):
        _silent_tu(Lockstep("non_invite_server", "udp", profile, table=compiled))
