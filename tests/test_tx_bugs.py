"""One named property per bug real SIP stacks shipped (/work/shared/STYLE.md, its end).

Each test is written from the RFC text, with Hypothesis choosing T1, T2, transports and the
instants at which things happen; the expected instants are computed here from Table 4, never
read from the models.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from sipfsm import (
    ProtocolError,
    Send,
    StateEntered,
    Timers,
    ToTU,
    Transaction,
    TransactionKey,
    TransactionLayer,
)
from sipfsm.model.loader import load_model

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lockstep import Lockstep

T1 = st.sampled_from([0.5, 0.25, 1.0, 2.0])
T2 = st.sampled_from([4.0, 2.0, 8.0])
PROFILE = st.sampled_from(["rfc3261", "rfc6026"])


def run_until(tx: Transaction, end: float) -> list[tuple[float, object]]:
    """Fire every timer up to ``end``; the outputs with their instants."""
    log: list[tuple[float, object]] = []
    while (due := tx.get_timer()) is not None and due <= end:
        log += [(due, o) for o in tx.handle_timer(due)]
    return log


def retransmissions(log: list[tuple[float, object]]) -> list[float]:
    return [t for t, o in log if isinstance(o, Send) and o.retransmission]


def doubling(t1: float, cap: float, until: float, first_at: float = 0.0) -> list[float]:
    """Instants of a retransmit timer started at ``first_at``: T1, then doubling up to cap."""
    out, t, interval = [], first_at, t1
    while t + interval < until:
        t += interval
        out.append(t)
        interval = min(2 * interval, cap)
    return out


# --- PJSIP ------------------------------------------------------------------------------------


@given(t1=T1, t2=T2, at=st.floats(0.01, 30.0), profile=PROFILE)
def test_pjsip_non_invite_client_keeps_retransmitting_after_1xx(
    t1: float, t2: float, at: float, profile: str
) -> None:
    """17.1.2.2: a 1xx moves Trying to Proceeding and retransmissions go on, every T2."""
    at = at * t1  # scale into the transaction's life (F = 64*T1)
    tx = Transaction("non_invite_client", "REQ", timers=Timers(t1, t2), profile=profile)
    tx.start(0.0)
    before = run_until(tx, at)
    tx.receive_response(180, at)
    after = run_until(tx, 64 * t1)
    schedule = doubling(t1, t2, 64 * t1)
    assert retransmissions(before) == [t for t in schedule if t <= at]
    pending = tx.timers  # E keeps its current deadline, then every T2
    next_e = min(t for t in schedule if t > at)
    expected_after, t = [], next_e
    while t < 64 * t1:
        expected_after.append(t)
        t += t2
    assert retransmissions(after) == expected_after, (pending, expected_after)
    assert tx.terminated and any(isinstance(o, ToTU) and o.what == "timeout" for _, o in after)


@given(profile=PROFILE, t1=T1)
def test_pjsip_timer_i_is_zero_on_tcp(profile: str, t1: float) -> None:
    """Table 4: Timer I is 0 s on TCP: the ACK ends the INVITE server transaction at once.
    Same for J and K (17.2.2, 17.1.2.2) and D (17.1.1.2)."""
    ist = Transaction("invite_server", "INV", transport="tcp", profile=profile, timers=Timers(t1))
    ist.start(0.0)
    ist.respond(486, 1.0)
    outputs = ist.handle("recv_ack", 2.0)
    assert [o.state for o in outputs if isinstance(o, StateEntered)] == ["Confirmed", "Terminated"]
    for model, final in (
        ("non_invite_server", "tu"),
        ("non_invite_client", "recv"),
        ("invite_client", "recv"),
    ):
        tx = Transaction(model, "REQ", transport="tcp", profile=profile, timers=Timers(t1))
        tx.start(0.0)
        (tx.respond if final == "tu" else tx.receive_response)(486, 1.0)
        assert tx.terminated, (model, tx.state)


@given(
    profile=PROFILE,
    where=st.sampled_from(["Proceeding", "Completed"]),
    t1=T1,
    kind=st.sampled_from(["invite_server", "non_invite_server"]),
)
def test_pjsip_server_transaction_not_killed_at_once_on_transport_error(
    profile: str, where: str, t1: float, kind: str
) -> None:
    """RFC 6026 8.8 (17.2.4 as amended): a server transaction informs the TU of a transport
    error and MUST remain in its current state, absorbing retransmissions until its timers end
    it. RFC 3261 as published: SHOULD terminate. (Client transactions terminate at once in both,
    17.1.4, which RFC 6026 leaves alone.)"""
    layer = TransactionLayer(profile=profile, timers=Timers(t1))
    key = TransactionKey(
        "INVITE" if kind == "invite_server" else "OPTIONS",
        branch="z9hG4bKpj",
        sent_by="a.example:5060",
    )
    tx, _ = layer.receive_request(key, "REQ", 0.0)
    assert tx is not None
    layer.respond(tx, 180 if kind == "invite_server" else 100, 16 * t1)
    if where == "Completed":
        layer.respond(tx, 503, 20 * t1)
    layer.handle_timer(24 * t1)
    outputs = layer.transport_error(tx, 24 * t1)
    assert [o.what for o in outputs if isinstance(o, ToTU)] == ["transport_error"]
    layer.handle_timer(25 * t1)
    again, resent = layer.receive_request(key, "REQ", 25 * t1)
    if profile == "rfc6026":
        assert tx.state == where and again is tx and len(layer) == 1
        assert [o.retransmission for o in resent if isinstance(o, Send)] == [True]
        layer.handle_timer(10_000.0) if where == "Completed" else None
        assert where == "Proceeding" or tx.terminated
    else:
        assert tx.terminated and again is not tx  # destroyed: the retransmission is new


# --- sipgo ------------------------------------------------------------------------------------


@given(t1=T1, t2=T2, ack_at=st.one_of(st.none(), st.floats(0.0, 70.0)))
def test_sipgo_302_is_retransmitted_until_ack(t1: float, t2: float, ack_at: float | None) -> None:
    """17.2.1: over UDP a 300-699 is retransmitted on Timer G (T1 doubling to T2) until the ACK
    arrives, or Timer H (64*T1) gives up and tells the TU."""
    tx = Transaction("invite_server", "INV", timers=Timers(t1, t2))
    tx.start(0.0)
    tx.respond(302, 0.0)
    end = 64 * t1 if ack_at is None else min(ack_at * t1, 64 * t1)
    log = run_until(tx, end - 1e-9)
    assert retransmissions(log) == doubling(t1, t2, end)
    if ack_at is not None and ack_at * t1 < 64 * t1:
        tx.handle("recv_ack", ack_at * t1)
        assert retransmissions(run_until(tx, 10**4)) == []
    else:
        tail = run_until(tx, 64 * t1)
        assert any(isinstance(o, ToTU) and o.what == "timeout" for _, o in tail)
        assert tx.terminated


@given(
    t1=T1,
    at=st.floats(0.0, 0.99),
    final_after=st.one_of(st.none(), st.floats(0.0, 500.0)),
    status=st.sampled_from([200, 486]),
    profile=PROFILE,
)
def test_sipgo_timer_b_stopped_by_1xx_so_the_transaction_lived_forever(
    t1: float, at: float, final_after: float | None, status: int, profile: str
) -> None:
    """Decision (models/invite_client.toml): Timer B acts only in Calling (17.1.1.2: "if the
    client transaction is still in the Calling state when timer B fires"). What the
    transaction layer owns, checked here: a 1xx does not stop Timer B; in Calling, B ends the
    transaction at exactly 64*T1 with a timeout to the TU; in Proceeding B's firing changes
    nothing; and whenever a final response comes, the transaction ends within its bound
    (D, M, or at once). Bounding the wait in Proceeding is the TU's job (UAC: CANCEL, then
    64*T1, 9.1; proxy: Timer C, 16.6): sipgo's bug was that no one did."""
    tx = Transaction("invite_client", "INV", profile=profile, timers=Timers(t1))
    tx.start(0.0)
    arrival = at * 64 * t1
    run_until(tx, arrival)
    outputs = tx.receive_response(180, arrival)
    assert not any(o for o in outputs if getattr(o, "timer", None) == "B")  # B not stopped
    assert tx.timers.get("B") == 64 * t1
    fired = run_until(tx, 64 * t1)
    assert tx.state == "Proceeding" and not any(isinstance(o, ToTU) for _, o in fired)
    if final_after is None:
        return
    when = 64 * t1 + final_after
    tx.receive_response(status, when)
    bound = 64 * t1 if (status < 300 and profile == "rfc6026") else (33.0 if status >= 300 else 0.0)
    run_until(tx, when + bound)
    assert tx.terminated and tx.get_timer() is None

    calling = Transaction("invite_client", "INV", profile=profile, timers=Timers(t1))
    calling.start(0.0)
    timeout = [t for t, o in run_until(calling, 10**4) if isinstance(o, ToTU)]
    assert timeout == [64 * t1] and calling.terminated


# --- JsSIP ------------------------------------------------------------------------------------


@given(t1=T1, t2=T2, sends=st.lists(st.floats(0.0, 0.999), max_size=12))
def test_jssip_2xx_retransmits_last_64_t1_not_t2(t1: float, t2: float, sends: list[float]) -> None:
    """The bug is in the UAS core (13.3.1.4: the 2xx is retransmitted, doubling to T2, for
    64*T1); the dialog issue adds that machine. What the transaction layer owns (RFC 6026 7.1,
    8.7): after a 2xx the INVITE server transaction stays in Accepted for exactly 64*T1 (Timer
    L), sending every 2xx retransmission the TU passes and absorbing INVITE retransmissions;
    nothing in it stops at T2."""
    tx = Transaction("invite_server", "INV", timers=Timers(t1, t2))
    tx.start(0.0)
    tx.respond(200, 0.0)
    for fraction in sorted(sends):
        at = fraction * 64 * t1
        run_until(tx, at)
        sent = [o for o in tx.respond(200, at) if isinstance(o, Send)]
        assert tx.state == "Accepted" and [s.status for s in sent] == [200]
        assert tx.handle("recv_request", at) == []  # absorbed, not passed to the TU
    log = run_until(tx, 10**4)
    assert [t for t, o in log if isinstance(o, StateEntered)] == [64 * t1]


# --- sipml5 -----------------------------------------------------------------------------------


@given(t1=T1, t2=T2, ack_at=st.floats(0.0, 0.99), status=st.sampled_from([200, 404]))
def test_sipml5_no_response_retransmits_after_ack(
    t1: float, t2: float, ack_at: float, status: int
) -> None:
    """17.2.1: the ACK stops the retransmissions of a non-2xx (Timer G is ignored from
    Confirmed on). RFC 6026 7.1: a 2xx is never retransmitted by the transaction at all, and
    the ACK goes to the TU so the UAS core stops its own retransmissions (13.3.1.4)."""
    tx = Transaction("invite_server", "INV", timers=Timers(t1, t2))
    tx.start(0.0)
    tx.respond(status, 0.0)
    at = ack_at * 64 * t1
    before = run_until(tx, at)
    outputs = tx.handle("recv_ack", at)
    after = run_until(tx, 10**4)
    assert retransmissions(after) == []
    if status < 300:
        assert retransmissions(before) == []
        assert [o.what for o in outputs if isinstance(o, ToTU)] == ["ack"]


# --- a retransmit interval doubled twice --------------------------------------------------------


@given(t1=T1, t2=T2, which=st.sampled_from(["A", "E", "G"]))
def test_retransmit_interval_doubles_once_per_retransmission(
    t1: float, t2: float, which: str
) -> None:
    """17.1.1.2 (A: T1, 2*T1, 4*T1 ..., no cap), 17.1.2.2 (E) and 17.2.1 (G): MIN(2*T1, T2),
    MIN(4*T1, T2) ...: each firing doubles the interval exactly once."""
    model = {"A": "invite_client", "E": "non_invite_client", "G": "invite_server"}[which]
    tx = Transaction(model, "REQ", timers=Timers(t1, t2))
    tx.start(0.0)
    end = 64 * t1
    if which == "G":
        tx.respond(500, 0.0)
    cap = float("inf") if which == "A" else t2
    assert retransmissions(run_until(tx, end - 1e-9)) == doubling(t1, cap, end)


# --- RFC 6026 claimed without Accepted ------------------------------------------------------------


@given(t1=T1, late=st.lists(st.floats(0.0, 0.999), max_size=6))
def test_rfc6026_profile_has_accepted_on_both_sides(t1: float, late: list[float]) -> None:
    """RFC 6026 8.4 and 7.1: under the amended profile both INVITE machines have Accepted,
    with Timer M / L = 64*T1; the client passes every later 2xx (forks, retransmissions) to the
    TU and never ACKs one; the server's retransmitted INVITE matches the same transaction."""
    for name in ("invite_client", "invite_server"):
        assert "Accepted" in load_model(name).state_names("rfc6026")
        assert "Accepted" not in load_model(name).state_names("rfc3261")
    ict = Transaction("invite_client", "INV", timers=Timers(t1))
    ict.start(0.0)
    ict.receive_response(200, 0.0)
    assert ict.state == "Accepted" and ict.timers == {"M": 64 * t1}
    for fraction in sorted(late):
        out = ict.receive_response(200, fraction * 64 * t1)
        assert [o.what for o in out if isinstance(o, ToTU)] == ["response"]
        assert not any(isinstance(o, Send) for o in out)
    layer = TransactionLayer(timers=Timers(t1))
    key = TransactionKey("INVITE", branch="z9hG4bK6026", sent_by="b.example:5060")
    ist, _ = layer.receive_request(key, "INV", 0.0)
    assert ist is not None
    layer.respond(ist, 200, 0.0)
    again, out = layer.receive_request(key, "INV", 1.0)
    assert again is ist and ist.state == "Accepted" and out == [] and len(layer) == 1


def test_the_lockstep_oracle_can_fail() -> None:
    """The oracle is not the model: a refused event must be refused by both."""
    run = Lockstep("non_invite_server", "udp", "rfc6026")
    assert run.event("tu", 180) is False
    tx = Transaction("non_invite_server", "REQ")
    tx.start(0.0)
    try:
        tx.respond(180, 0.0)
    except ProtocolError as exc:
        assert exc.section == "RFC 4320 4.1"
    else:  # pragma: no cover
        raise AssertionError("RFC 4320 4.1 not enforced")


# --- RFC 4320 4.1: the 100 an element owes a non-INVITE request ----------------------------


def timer_e_reaches_t2(t1: float, t2: float) -> float:
    """RFC 4320 4.1 (with 17.1.2.2): E starts at T1 and doubles; the instant it is reset to T2."""
    elapsed, interval = 0.0, t1
    while True:
        elapsed += interval
        interval = min(2 * interval, t2)
        if interval >= t2:
            return elapsed


@given(t1=T1, t2=T2, transport=st.sampled_from(["udp", "tcp"]), profile=PROFILE)
def test_rfc4320_4_1_unanswered_non_invite_request_gets_100_when_e_reaches_t2(
    t1: float, t2: float, transport: str, profile: str
) -> None:
    """RFC 4320 4.1: "Without regard to transport, an SIP element MUST respond to a non-INVITE
    request with a Status-Code of 100 if it has not otherwise responded after the amount of
    time it takes a client transaction's Timer E to be reset to T2" (and over UDP no 100
    before then). RFC 3261 17.2.2 has no such rule: the rfc3261 profile sends nothing."""
    tx = Transaction(
        "non_invite_server", "REQ", transport=transport, profile=profile, timers=Timers(t1, t2)
    )
    tx.start(0.0)
    log = run_until(tx, 64 * t1)
    sent = [(t, o.status, o.retransmission) for t, o in log if isinstance(o, Send)]
    if profile == "rfc3261":
        assert sent == [] and tx.state == "Trying"
        return
    assert sent == [(timer_e_reaches_t2(t1, t2), 100, False)], sent
    assert tx.state == "Proceeding" and tx.get_timer() is None
    again = tx.handle("recv_request", 64 * t1)  # 17.2.2: the most recent provisional again
    assert [(o.status, o.retransmission) for o in again if isinstance(o, Send)] == [(100, True)]
    tx.respond(200, 64 * t1)
    assert tx.state in ("Completed", "Terminated")


@given(t1=T1, t2=T2, at=st.floats(0.0, 0.999), status=st.sampled_from([100, 200, 404]))
def test_rfc4320_4_1_no_extra_100_once_the_request_was_answered(
    t1: float, t2: float, at: float, status: int
) -> None:
    """RFC 4320 4.1: the 100 is owed only "if it has not otherwise responded": a response of
    the TU before Timer E would reach T2 (a final one; over TCP a 100 too) cancels it."""
    reach = timer_e_reaches_t2(t1, t2)
    transport = "tcp" if status == 100 else "udp"
    tx = Transaction("non_invite_server", "REQ", transport=transport, timers=Timers(t1, t2))
    tx.start(0.0)
    tx.respond(status, at * reach)
    log = run_until(tx, 64 * t1)
    assert not [o for _, o in log if isinstance(o, Send)], log
