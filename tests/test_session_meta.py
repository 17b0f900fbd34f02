"""The session oracle can fail: it catches deliberately broken session models.

Each mutant is the real ``models/invite_session_*.toml`` (or its ``timers.toml``) with one
RFC rule broken, injected into a :class:`~sipfsm.ua.core.UA` through ``models`` /
``timer_table``. The same flows pass with the real models; with a mutant,
``tests/session_oracle.py`` (written from RFC 3261 12-15, reading no model) raises.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypedDict, Unpack

import pytest

from sipfsm import Machine
from sipfsm.model.loader import Action, TimerTable, load_machine, load_timers, models_dir
from sipfsm.ua.core import UA

sys.path.insert(0, str(Path(__file__).resolve().parent))

import session_oracle as oracle
from session_calls import answered_call

END = 100.0  # well past 64*T1 = 32 s


def _model(name: str) -> Machine:
    return load_machine(models_dir() / f"{name}.toml")


class _RuleChange(TypedDict, total=False):
    """The fields of a :class:`~sipfsm.Rule` a mutant changes."""

    kind: Literal["transition", "ignore", "error"]
    dest: str | None
    actions: tuple[Action, ...]


class _TimerChange(TypedDict, total=False):
    """The fields of a :class:`~sipfsm.TimerSpec` a mutant changes (interval expressions)."""

    unreliable: str
    reliable: str
    cap: str | None


def _break(name: str, source: str, event: str, **changes: Unpack[_RuleChange]) -> Machine:
    """The model ``name`` with its one rule for (``source``, ``event``) changed."""
    machine = _model(name)
    hits = [r for r in machine.rules if (r.source, r.event) == (source, event) and not r.fallback]
    assert len(hits) == 1, f"{name}: {source} x {event} has {len(hits)} rules"
    rules = tuple(dataclasses.replace(r, **changes) if r is hits[0] else r for r in machine.rules)
    return dataclasses.replace(machine, rules=rules)


def _timer(name: str, **changes: Unpack[_TimerChange]) -> TimerTable:
    """``timers.toml`` with one timer changed."""
    table = load_timers()
    timers = dict(table.timers)
    timers[name] = dataclasses.replace(timers[name], **changes)
    return dataclasses.replace(table, timers=timers)


def _actions(*texts: str) -> tuple[Action, ...]:
    out = []
    for text in texts:
        verb, *rest = text.split()
        out.append(Action(verb, *rest))
    return tuple(out)


Mutant = tuple[dict[str, Machine], TimerTable | None]

SERVER = "invite_session_server"
CLIENT = "invite_session_client"

#: 13.3.1.4 broken in the callee (Bob), each one way.
SERVER_MUTANTS: dict[str, Callable[[], Mutant]] = {
    # The interval stays at T1 instead of doubling to T2.
    "2xx backoff capped at T1 (model)": lambda: (
        {
            SERVER: _break(
                SERVER, "Answered", "timer_2xx", actions=_actions("resend_2xx", "restart 2xx T1")
            )
        },
        None,
    ),
    "2xx backoff capped at T1 (timers.toml)": lambda: ({}, _timer("2xx", cap="T1")),
    # JsSIP: the retransmissions stop once T2 has passed; no BYE either.
    "2xx retransmits stopped at T2 (JsSIP)": lambda: (
        {
            SERVER: _break(
                SERVER, "Answered", "timer_ackwait", dest="Answered", actions=_actions("stop 2xx")
            )
        },
        _timer("ackwait", unreliable="T2", reliable="T2"),
    ),
    # 64*T1 without an ACK: the session is left up instead of ended with BYE.
    "no BYE after 64*T1": lambda: (
        {
            SERVER: _break(
                SERVER,
                "Answered",
                "timer_ackwait",
                dest="Terminated",
                actions=_actions("stop 2xx", "tu_session_end"),
            )
        },
        None,
    ),
}

#: 13.2.2.4 broken in the caller (Alice): a retransmitted 2xx is not ACKed.
CLIENT_MUTANTS: dict[str, Callable[[], Mutant]] = {
    "no ACK for a retransmitted 2xx": lambda: (
        {
            CLIENT: _break(
                CLIENT, "Confirmed", "recv_2xx_again", kind="ignore", dest=None, actions=()
            )
        },
        None,
    ),
}


def _call(mutant: Mutant, side: str, acks_lost: int) -> list[oracle.Datagram]:
    """A call; the first ``acks_lost`` ACKs are lost; ``side`` runs the mutant."""
    models, table = mutant
    alice, bob = (
        UA(
            user,
            f"{place}.example.com",
            models=models if user == side else None,
            timer_table=table if user == side else None,
        )
        for user, place in (("alice", "atlanta"), ("bob", "biloxi"))
    )
    w = answered_call(alice, bob, acks_lost=acks_lost, until=END)
    assert alice.errors == [] and bob.errors == []
    return oracle.read(w.log)


def _real() -> Mutant:
    return {}, None


@pytest.mark.parametrize("acks_lost", [1, 10**6])
def test_the_real_models_pass(acks_lost: int) -> None:
    oracle.check_call(_call(_real(), "bob", acks_lost), until=END)


@pytest.mark.parametrize("mutation", list(SERVER_MUTANTS))
def test_a_broken_callee_is_caught(mutation: str) -> None:
    """Every ACK lost: the 2xx schedule of 13.3.1.4 and the BYE at 64*T1 are checked."""
    grams = _call(SERVER_MUTANTS[mutation](), "bob", 10**6)
    with pytest.raises(AssertionError, match=r"13\.3\.1\.4"):
        oracle.check_2xx_retransmissions(grams, "bob", 0.5, 4.0, until=END)


@pytest.mark.parametrize("mutation", list(CLIENT_MUTANTS))
def test_a_broken_caller_is_caught(mutation: str) -> None:
    """The first ACK is lost, so the 2xx comes again: it must be ACKed too (13.2.2.4)."""
    grams = _call(CLIENT_MUTANTS[mutation](), "alice", 1)
    with pytest.raises(AssertionError, match=r"13\.2\.2\.4"):
        oracle.check_acks(grams, "alice")


def test_models_injection_refuses_unknown_names() -> None:
    with pytest.raises(ValueError):
        UA("alice", "atlanta.example.com", models={"invite_client": _model("invite_client")})
