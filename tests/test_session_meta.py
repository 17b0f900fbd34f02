"""The session oracle can fail: it catches deliberately broken session models.

Each mutant is the real ``models/invite_session_*.toml`` (or its ``timers.toml``) with one
RFC rule broken, injected into a :class:`~sipfsm.ua.core.UA` through ``models`` /
``timer_table``; or the ACK of a 300-699 (17.1.1.3) built wrongly, patched into the UA core.
The same flows pass with the real models; with a mutant, ``tests/session_oracle.py``
(written from RFC 3261 12-15 and 17.1.1, reading no model) raises.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

import pytest

from sipfsm import Machine, Request, Response, Transaction
from sipfsm.message.build import build_ack
from sipfsm.model.loader import (
    DEFAULT_PROFILE,
    Action,
    TimerTable,
    load_machine,
    load_timers,
    models_dir,
)
from sipfsm.sim.wire import Wire
from sipfsm.ua.core import UA, InviteSession
from sipfsm.ua.dialog import Dialog
from sipfsm.ua.uac import UACore
from sipfsm.ua.uas import UASCore

sys.path.insert(0, str(Path(__file__).resolve().parent))

import session_oracle as oracle
from session_calls import (
    answered_call,
    bye_crosses_a_2xx_retransmission,
    bye_during_reinvite,
    bye_in,
    caller_bye_on_early_dialog,
    cancel_never_answered,
    early_bye_2xx_reordered,
    early_dialog_after_the_first_2xx,
    fork_2xx_after_a_6xx,
    fork_answers_after_the_call,
    reinvite_on_early_dialog,
)

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
    oracle.check_call(_call(_real(), "bob", acks_lost), profile=DEFAULT_PROFILE, until=END)


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
        oracle.check_acks(grams, "alice", profile=DEFAULT_PROFILE)


def test_models_injection_refuses_unknown_names() -> None:
    with pytest.raises(ValueError):
        UA("alice", "atlanta.example.com", models={"invite_client": _model("invite_client")})


# --- 17.1.1.3: the ACK of a 300-699, built by the client transaction ---------------------------


def _other_branch(ack: Request) -> Request:
    via = ack.get_all("Via")[0]
    return ack.replace_header("Via", via.replace(ack.via[0].branch or "", "z9hG4bKelsewhere"))


#: build_ack (17.1.1.3) broken one way each: what the UA sends instead of the right ACK.
ACK_MUTANTS: dict[str, Callable[[Request, Request, Response], Request]] = {
    "another branch": lambda ack, invite, final: _other_branch(ack),
    "To of the INVITE (no tag)": lambda ack, invite, final: ack.replace_header(
        "To", invite.get("To") or ""
    ),
    "another CSeq number": lambda ack, invite, final: ack.replace_header(
        "CSeq", f"{(invite.cseq.seq if invite.cseq else 0) + 1} ACK"
    ),
    "another Request-URI": lambda ack, invite, final: ack.evolve(
        uri="sip:carol@chicago.example.com"
    ),
}


def _rejected_call(acks_lost: int) -> list[oracle.Datagram]:
    """Alice calls, Bob answers 486 at once over UDP; the first ``acks_lost`` ACKs are lost,
    so the 486 comes again (Timer G) and is ACKed again."""
    alice, bob = UA("alice", "atlanta.example.com"), UA("bob", "biloxi.example.com")
    w = answered_call(alice, bob, acks_lost=acks_lost, until=END, status=486)
    assert alice.errors == [] and bob.errors == []
    return oracle.read(w.log)


@pytest.mark.parametrize("acks_lost", [0, 3])
def test_the_real_ua_acks_every_non_2xx(acks_lost: int) -> None:
    grams = _rejected_call(acks_lost)
    acks = [d for d in grams if d.sender == "alice" and getattr(d.msg, "method", "") == "ACK"]
    assert len(acks) == acks_lost + 1
    oracle.check_non_2xx_acks(grams, "alice")
    oracle.check_call(grams, profile=DEFAULT_PROFILE, until=END)


@pytest.mark.parametrize("mutation", list(ACK_MUTANTS))
@pytest.mark.parametrize("acks_lost", [0, 3])
def test_a_broken_non_2xx_ack_is_caught(
    mutation: str, acks_lost: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UA core's transport of the client transaction's ACK (sipfsm.ua.base) sends the
    mutant instead; check_non_2xx_acks names 17.1.1.3."""

    def broken(invite: Request, final: Response) -> Request:
        return ACK_MUTANTS[mutation](build_ack(invite, final), invite, final)

    monkeypatch.setattr("sipfsm.ua.base.build_ack", broken)
    grams = _rejected_call(acks_lost)
    with pytest.raises(AssertionError, match=r"17\.1\.1\.[23]"):
        oracle.check_non_2xx_acks(grams, "alice")


def test_a_missing_non_2xx_ack_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ACK of the 486 is never sent (here: lost before the wire logs it)."""
    grams = [
        d for d in _rejected_call(0) if not (d.sender == "alice" and d.msg.raw.startswith(b"ACK"))
    ]
    with pytest.raises(AssertionError, match=r"17\.1\.1\.2: 300-699 responses not ACKed"):
        oracle.check_non_2xx_acks(grams, "alice")


# --- issue 12: obligations of 9.1, 12-15 the UAs broke, each reintroduced --------------------

#: (mutant of Alice's or Bob's models, the flow that reaches it, what the oracle must name).
Obligation = tuple[str, Callable[[], Mutant], Callable[[UA, UA], Wire], str]

OBLIGATION_MUTANTS: dict[str, Obligation] = {
    # Deviation 1: a BYE received in ReInviting is refused again, so never answered.
    "BYE refused while our re-INVITE is pending": (
        "alice",
        lambda: ({CLIENT: _break(CLIENT, "ReInviting", "recv_bye", kind="error", dest=None)}, None),
        bye_during_reinvite,
        r"8\.2\.6, 15\.1\.2: alice never answered BYE",
    ),
    # Deviation 6: a re-INVITE on an early dialog gets no final response, or the wrong one.
    "re-INVITE on an early dialog refused by the callee": (
        "bob",
        lambda: (
            {SERVER: _break(SERVER, "Proceeding", "recv_invite", kind="error", dest=None)},
            None,
        ),
        lambda alice, bob: reinvite_on_early_dialog(alice, bob, sender="alice"),
        r"14\.2: bob answered INVITE CSeq 2 from alice at 0\.5 never",
    ),
    "re-INVITE on an early dialog answered 491 by the callee": (
        "bob",
        lambda: (
            {SERVER: _break(SERVER, "Proceeding", "recv_invite", actions=_actions("respond_491"))},
            None,
        ),
        lambda alice, bob: reinvite_on_early_dialog(alice, bob, sender="alice"),
        r"14\.2: bob answered INVITE CSeq 2 from alice at 0\.5 491, not \{500\}",
    ),
    "INVITE on an early dialog refused by the caller": (
        "alice",
        lambda: (
            {CLIENT: _break(CLIENT, "Proceeding", "recv_invite", kind="error", dest=None)},
            None,
        ),
        lambda alice, bob: reinvite_on_early_dialog(alice, bob, sender="bob"),
        r"14\.2: alice answered INVITE CSeq 1 from bob at 0\.5 never, not \{491\}",
    ),
    # Deviation 2: the 2xx again while our BYE is out is absorbed, never ACKed.
    "2xx again in Terminating not ACKed": (
        "alice",
        lambda: (
            {
                CLIENT: _break(
                    CLIENT, "Terminating", "recv_2xx_again", kind="ignore", dest=None, actions=()
                )
            },
            None,
        ),
        bye_crosses_a_2xx_retransmission,
        r"13\.2\.2\.4: 1 2xx received but never ACKed",
    ),
    # Deviation 5: the callee's BYE goes at once, before the ACK of its 2xx.
    "callee BYE before the ACK": (
        "bob",
        lambda: (
            {
                SERVER: _break(
                    SERVER,
                    "Answered",
                    "tu_bye",
                    dest="Terminating",
                    actions=_actions("stop 2xx", "stop ackwait", "send_bye", "tu_session_end"),
                )
            },
            None,
        ),
        lambda alice, bob: bye_in("Answered", alice, bob),
        r"15: bob sent BYE at 0\.1 before the ACK",
    ),
    # Deviation 5: hanging up in ReInvited leaves the peer's re-INVITE unanswered.
    "BYE in ReInvited without answering the re-INVITE": (
        "bob",
        lambda: (
            {
                SERVER: _break(
                    SERVER,
                    "ReInvited",
                    "tu_bye",
                    actions=_actions("send_bye", "tu_session_end"),
                )
            },
            None,
        ),
        lambda alice, bob: bye_in("ReInvited", alice, bob),
        r"15\.1\.2: bob never answered INVITE CSeq 2",
    ),
}


def _obligation_call(name: str, *, real: bool) -> list[oracle.Datagram]:
    side, mutant, flow, _ = OBLIGATION_MUTANTS[name]
    models, table = _real() if real else mutant()
    alice, bob = (
        UA(
            user,
            f"{place}.example.com",
            random=lambda: 0.5,
            models=models if user == side else None,
            timer_table=table if user == side else None,
        )
        for user, place in (("alice", "atlanta"), ("bob", "biloxi"))
    )
    return oracle.read(flow(alice, bob).log)


@pytest.mark.parametrize("name", list(OBLIGATION_MUTANTS))
def test_an_obligation_kept_by_the_real_models(name: str) -> None:
    oracle.check_call(_obligation_call(name, real=True), profile=DEFAULT_PROFILE, until=END)


@pytest.mark.parametrize("name", list(OBLIGATION_MUTANTS))
def test_an_obligation_broken_is_caught(name: str) -> None:
    """Each deviation of issue 12 put back into the models: the oracle names its rule."""
    grams = _obligation_call(name, real=False)
    with pytest.raises(AssertionError, match=OBLIGATION_MUTANTS[name][3]):
        oracle.check_call(grams, profile=DEFAULT_PROFILE, until=END)


def test_a_new_ack_for_each_2xx_retransmission_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """13.2.2.4: the UAC core forgets the ACK it sent (as before issue 12: a new ACK, with a
    new branch, for each retransmission of the 2xx): check_acks names the rule."""
    real = UACore._ack_2xx

    def forgetful(
        self: UACore, s: InviteSession, resp: Response, dialog: Dialog | None, now: float
    ) -> None:
        s.acks.clear()
        real(self, s, resp, dialog, now)

    monkeypatch.setattr(UACore, "_ack_2xx", forgetful)
    grams = _call(_real(), "alice", 2)
    with pytest.raises(AssertionError, match=r"13\.2\.2\.4: .* is not the same ACK"):
        oracle.check_acks(grams, "alice", profile=DEFAULT_PROFILE)


def test_a_fork_2xx_after_the_session_left_alone_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """13.2.2.4: once the session is over, the UAC core drops a fork's 2xx (as before issue
    12): check_acks names the rule; with the real core the same flow passes."""
    parties = [
        UA("alice", "atlanta.example.com"),
        UA("bob", "bob1.biloxi.example.com", name="bob1"),
        UA("bob", "bob2.biloxi.example.com", name="bob2"),
    ]
    oracle.check_acks(
        oracle.read(fork_answers_after_the_call(*parties)), "alice", profile=DEFAULT_PROFILE
    )
    monkeypatch.setattr(UACore, "_late_2xx", lambda self, s, resp, dialog, now: None)
    parties = [
        UA("alice", "atlanta.example.com"),
        UA("bob", "bob1.biloxi.example.com", name="bob1"),
        UA("bob", "bob2.biloxi.example.com", name="bob2"),
    ]
    grams = oracle.read(fork_answers_after_the_call(*parties))
    with pytest.raises(AssertionError, match=r"13\.2\.2\.4: \d+ 2xx received but never ACKed"):
        oracle.check_acks(grams, "alice", profile=DEFAULT_PROFILE)


@pytest.mark.parametrize("fork", [False, True], ids=["retransmission", "other-fork"])
def test_a_stray_2xx_passed_to_the_core_is_caught(
    fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deviation 7 of issue 12 reintroduced: under rfc6026 the transaction layer passes a 2xx
    matching no client transaction to the UA core again (RFC 3261 18.1.2 as published). The
    oracle of RFC 6026 8.9 (:func:`session_oracle.check_stray_2xx`) catches the ACK."""
    from test_session_flows import _late_2xx_call

    from sipfsm.engine.txlayer import TransactionLayer

    _, log = _late_2xx_call("rfc6026", fork)
    oracle.check_stray_2xx(oracle.read(log), "alice", profile="rfc6026")
    monkeypatch.setattr(TransactionLayer, "stray_to_core", property(lambda self: True))
    _, log = _late_2xx_call("rfc6026", fork)
    with pytest.raises(AssertionError, match=r"RFC 6026 8\.9"):
        oracle.check_stray_2xx(oracle.read(log), "alice", profile="rfc6026")


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_an_early_dialog_kept_after_the_first_2xx_is_caught(profile: str) -> None:
    """Deviation 3 of issue 12 reintroduced: the caller's model no longer ends its early
    dialogs 64*T1 after the first 2xx (13.2.2.4): the oracle names the rule; with the real
    models the same flow passes."""
    for mutant in (False, True):
        models = (
            {CLIENT: _break(CLIENT, "Confirmed", "timer_early", actions=())} if mutant else None
        )
        parties = (
            UA("alice", "atlanta.example.com", profile=profile, models=models),
            UA("bob", "bob1.biloxi.example.com", name="bob1", profile=profile),
            UA("bob", "bob2.biloxi.example.com", name="bob2", profile=profile),
        )
        grams = oracle.read(early_dialog_after_the_first_2xx(*parties))
        if not mutant:
            oracle.check_call(grams, ("alice",), profile=profile, until=60.0)
            continue
        with pytest.raises(
            AssertionError, match=r"13\.2\.2\.4: alice answered INFO .* 200, not 481"
        ):
            oracle.check_call(grams, ("alice",), profile=profile, until=60.0)


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_a_cancelled_invite_kept_for_ever_is_caught(profile: str) -> None:
    """Deviation 4 of issue 12 reintroduced: the caller's model no longer destroys the
    cancelled INVITE's transaction 64*T1 after the CANCEL (9.1): the late 486 is ACKed and
    the oracle names the rule; with the real models the same flow passes."""
    for mutant in (False, True):
        models = (
            {CLIENT: _break(CLIENT, "Cancelling", "timer_cancel", kind="ignore", dest=None)}
            if mutant
            else None
        )
        alice = UA("alice", "atlanta.example.com", profile=profile, models=models)
        bob = UA("bob", "biloxi.example.com", profile=profile)
        w = cancel_never_answered(alice, bob)
        grams = oracle.read(w.log)
        if not mutant:
            oracle.check_call(grams, profile=profile, until=w.clock)
            continue
        with pytest.raises(AssertionError, match=r"9\.1: alice ACKed at 40\.0 .* not destroyed"):
            oracle.check_call(grams, profile=profile, until=w.clock)


# --- issue 12: a fork's 2xx after a 300-699 (deviation 10), the caller's early BYE (5) --------


def _forked(profile: str) -> tuple[UA, UA, UA]:
    return (
        UA("alice", "atlanta.example.com", profile=profile),
        UA("bob", "bob1.biloxi.example.com", name="bob1", profile=profile),
        UA("bob", "bob2.biloxi.example.com", name="bob2", profile=profile),
    )


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_a_fork_2xx_absorbed_in_completed_is_caught(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deviation 10 of issue 12 reintroduced: the INVITE client transaction's Completed
    absorbs a 2xx again (models/invite_client.toml as before), injected into the transaction
    layer. After Bob1's 603 the 2xx Bob2 sends is then never ACKed: check_acks names 13.2.2.4;
    with the real model the same flow passes."""
    grams = oracle.read(fork_2xx_after_a_6xx(*_forked(profile)))
    oracle.check_call(grams, ("alice",), profile=profile, until=60.0)
    mutant = _break("invite_client", "Completed", "recv_2xx", kind="ignore", dest=None, actions=())

    def made(model: str | Machine, *args: Any, **kwargs: Any) -> Transaction:
        return Transaction(mutant if model == "invite_client" else model, *args, **kwargs)

    monkeypatch.setattr("sipfsm.engine.txlayer.Transaction", made)  # what TransactionLayer makes
    grams = oracle.read(fork_2xx_after_a_6xx(*_forked(profile)))
    with pytest.raises(AssertionError, match=r"13\.2\.2\.4: \d+ 2xx received but never ACKed"):
        oracle.check_call(grams, ("alice",), profile=profile, until=60.0)


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_a_fork_2xx_after_a_failure_left_up_is_caught(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UAC core ACKs the 2xx that follows the 603 but keeps its dialog (no BYE): the call
    failed, so no session can come of it (15) and 13.2.2.4 has the UAC BYE a dialog it does
    not want. check_2xx_after_a_failure_byed names both sections."""

    def ack_only(
        self: UACore, s: InviteSession, resp: Response, dialog: Dialog | None, now: float
    ) -> None:
        assert dialog is not None
        s.acked.add(((resp.to.tag if resp.to else None) or "", resp.cseq.seq if resp.cseq else 0))
        dialog.response(resp)
        self._ack_2xx(s, resp, dialog, now)

    monkeypatch.setattr(UACore, "_late_2xx", ack_only)
    grams = oracle.read(fork_2xx_after_a_6xx(*_forked(profile)))
    oracle.check_acks(grams, "alice", profile=profile)  # the ACK is there
    with pytest.raises(AssertionError, match=r"13\.2\.2\.4, 15: alice sent no BYE on the dialog"):
        oracle.check_call(grams, ("alice",), profile=profile, until=60.0)


def _pair(profile: str) -> tuple[UA, UA]:
    return (
        UA("alice", "atlanta.example.com", profile=profile),
        UA("bob", "biloxi.example.com", profile=profile),
    )


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_a_callee_ignoring_a_bye_on_its_early_dialog_is_caught(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deviation 5's UAS half reverted: the callee's core hands a BYE to its session only on
    the dialog a 2xx chose (as before), so a BYE on its early dialog is answered 200 by the
    core and the INVITE waits on: check_requests_answered names 15.1.2."""
    w = caller_bye_on_early_dialog(*_pair(profile), crossing_2xx=False)
    oracle.check_call(oracle.read(w.log), profile=profile, until=w.clock)
    monkeypatch.setattr(
        UASCore,
        "_session_dialog",
        staticmethod(lambda s, dialog: not s.terminated and s.dialog is dialog),
    )
    w = caller_bye_on_early_dialog(*_pair(profile), crossing_2xx=False)
    with pytest.raises(AssertionError, match=r"15\.1\.2: bob never answered INVITE CSeq 1"):
        oracle.check_call(oracle.read(w.log), profile=profile, until=w.clock)


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_a_2xx_after_our_early_bye_left_unacked_is_caught(profile: str) -> None:
    """The caller's model absorbs the 2xx that crosses its BYE on the early dialog (Terminating
    x recv_2xx ignored): check_acks names 13.2.2.4; the real models pass the same flow."""
    for mutant in (False, True):
        models = (
            {
                CLIENT: _break(
                    CLIENT, "Terminating", "recv_2xx", kind="ignore", dest=None, actions=()
                )
            }
            if mutant
            else None
        )
        alice = UA("alice", "atlanta.example.com", profile=profile, models=models)
        w = caller_bye_on_early_dialog(alice, _pair(profile)[1], crossing_2xx=True)
        grams = oracle.read(w.log)
        if not mutant:
            oracle.check_call(grams, profile=profile, until=w.clock)
            continue
        with pytest.raises(AssertionError, match=r"13\.2\.2\.4: 1 2xx received but never ACKed"):
            oracle.check_call(grams, profile=profile, until=w.clock)


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_a_second_bye_on_a_dialog_our_early_bye_ended_is_caught(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UAC core forgets which early dialogs its BYE ended: the 2xx reordered after that
    BYE is taken for another fork's and BYEd again: check_no_request_after_bye names 12.3."""
    w = early_bye_2xx_reordered(*_pair(profile))
    oracle.check_call(oracle.read(w.log), ("alice",), profile=profile, until=w.clock)
    real = UACore._late_2xx

    def forgetful(
        self: UACore, s: InviteSession, resp: Response, dialog: Dialog | None, now: float
    ) -> None:
        s.byed.clear()
        real(self, s, resp, dialog, now)

    monkeypatch.setattr(UACore, "_late_2xx", forgetful)
    grams = oracle.read(early_bye_2xx_reordered(*_pair(profile)).log)
    with pytest.raises(AssertionError, match=r"12\.2\.1\.1: alice sent BYE CSeq 2 after 2"):
        oracle.check_call(grams, ("alice",), profile=profile, until=60.0)
    with pytest.raises(AssertionError, match=r"12\.3: alice sent BYE on a dialog ended by BYE"):
        oracle.check_no_request_after_bye(grams, "alice")
