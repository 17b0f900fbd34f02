"""The scenarios beyond Figure 1, from the RFC's text: ``register`` (24.1, then section 4: the
proxy finds Bob through the registrar's bindings, 10, 16.5) and ``trapezoid-rr`` (Figure 1 with
both proxies Record-Routing: the ACK and the BYE follow the route sets of 12.1.1 and 12.1.2,
each proxy removing its own Route, 16.4). Every shipped scenario is deterministic and matches
its golden ladder (compared in memory). Written from the RFC, not from the models.
"""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path

import pytest

from sipfsm import Request, Response
from sipfsm.sim.network import Datagram
from sipfsm.sim.scenario import Played, load_scenario, play, scenario_names
from sipfsm.sim.scenario_ladder import figure_numbers, text_ladder

GOLDEN = Path(__file__).parent / "golden"


@cache
def _played(name: str) -> Played:
    return play(name)


def _numbered(played: Played) -> dict[str, Datagram]:
    return {f: g for f, g in zip(figure_numbers(played), played.log, strict=True) if f}


def _kind(g: Datagram) -> str:
    """A method, or a status code and the CSeq method (``200 BYE``)."""
    m = g.message
    if isinstance(m, Request):
        return str(m.method)
    return f"{m.status} {m.cseq.method if m.cseq else '?'}"


def _hops(played: Played, kind: str) -> list[tuple[str, str]]:
    """(from, to) of every message of ``kind`` (:func:`_kind`)."""
    return [(g.src, g.dst) for g in played.log if _kind(g) == kind]


# --- register -------------------------------------------------------------------------------


def test_bob_registers_as_in_24_1() -> None:
    """24.1: REGISTER sip:registrar.biloxi.com, To and From sip:bob@biloxi.com, Contact
    sip:bob@192.0.2.4, Expires 7200; the 200 lists the binding with its expires (10.3 step 8)."""
    figure = _numbered(_played("register"))
    reg, ok = figure["F1"], figure["F2"]
    assert (reg.src, reg.dst, ok.src, ok.dst) == ("bob", "registrar", "registrar", "bob")
    m = reg.message
    assert isinstance(m, Request) and m.method == "REGISTER"
    assert str(m.uri) == "sip:registrar.biloxi.com"
    assert str(m.to.uri) == str(m.from_.uri) == "sip:bob@biloxi.com"  # type: ignore[union-attr]
    assert [str(c.uri) for c in m.contact] == ["sip:bob@192.0.2.4"]  # type: ignore[union-attr]
    assert m.expires == 7200
    r = ok.message
    assert isinstance(r, Response) and r.status == 200
    assert [(str(c.uri), c.expires) for c in r.contact] == [("sip:bob@192.0.2.4", 7200)]  # type: ignore[union-attr]


def test_the_call_finds_bob_at_his_registered_contact() -> None:
    """Section 4, 16.5: biloxi.com retargets the INVITE to the contact the registrar bound;
    the call is answered and ACKed."""
    played = _played("register")
    invites = [
        g for g in played.log if isinstance(g.message, Request) and g.message.method == "INVITE"
    ]
    assert [(g.src, g.dst) for g in invites] == [
        ("alice", "atlanta"),
        ("atlanta", "biloxi"),
        ("biloxi", "bob"),
    ]
    assert str(invites[-1].message.uri) == "sip:bob@192.0.2.4"  # type: ignore[union-attr]
    assert ("atlanta", "alice") in _hops(played, "200 INVITE")
    assert _hops(played, "ACK") == [("alice", "bob")]
    assert played.network.quiet()
    assert all(getattr(h.element, "errors", []) == [] for h in played.network.hosts.values())


def test_without_the_registration_biloxi_answers_480(tmp_path: Path) -> None:
    """16.5: no binding, an empty target set: 480, back to Alice (16.7), each hop's non-2xx
    ACKed on that hop (17.1.1.3: to where the INVITE went)."""
    data = load_scenario("register")
    data["steps"] = [s for s in data["steps"] if s["host"] == "alice"]  # no REGISTER, no answer
    path = tmp_path / "unregistered.toml"
    path.write_text(_toml(data), encoding="utf-8")
    played = play(str(path))
    assert _hops(played, "480 INVITE") == [("biloxi", "atlanta"), ("atlanta", "alice")]
    assert _hops(played, "ACK") == [("atlanta", "biloxi"), ("alice", "atlanta")]
    assert not any("bob" in (g.src, g.dst) for g in played.log)
    assert played.network.quiet()


def _toml(data: dict[str, object]) -> str:
    """A scenario back as TOML (tables of strings, numbers, lists and tables of those)."""
    lines: list[str] = []

    def value(v: object) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    for key, body in data.items():
        rows = body if isinstance(body, list) else [body]
        for row in rows:
            lines.append(f"[[{key}]]" if isinstance(body, list) else f"[{key}]")
            assert isinstance(row, dict)
            lines += [f"{value(k)} = {value(v)}" for k, v in row.items()]
            lines.append("")
    return "\n".join(lines)


# --- trapezoid-rr ---------------------------------------------------------------------------


def test_both_proxies_record_route_the_invite() -> None:
    """16.6 item 4: each proxy puts its URI with lr on top of the Record-Route."""
    figure = _numbered(_played("trapezoid-rr"))
    rr = {f: [str(r.uri) for r in figure[f].message.record_route] for f in ("F1", "F2", "F4")}
    assert rr == {
        "F1": [],
        "F2": ["sip:atlanta.com;lr"],
        "F4": ["sip:biloxi.com;lr", "sip:atlanta.com;lr"],
    }
    for f in ("F6", "F9", "F11"):  # 12.1.1: the UAS copies them into its 180 and 200
        assert [str(r.uri) for r in figure[f].message.record_route] == rr["F4"], f


def test_the_ack_and_the_bye_go_through_both_proxies() -> None:
    played = _played("trapezoid-rr")
    assert _hops(played, "ACK") == [("alice", "atlanta"), ("atlanta", "biloxi"), ("biloxi", "bob")]
    assert _hops(played, "BYE") == [("bob", "biloxi"), ("biloxi", "atlanta"), ("atlanta", "alice")]
    assert _hops(played, "200 BYE") == [
        ("alice", "atlanta"),
        ("atlanta", "biloxi"),
        ("biloxi", "bob"),
    ]
    assert played.network.quiet()


def _routes(g: Datagram) -> list[str]:
    return [str(r.uri) for r in g.message.route]


def test_the_route_sets_of_both_dialogs_and_each_proxy_removing_its_own_route() -> None:
    """12.1.2: Alice's route set is the 200's Record-Route reversed; 12.1.1: Bob's is the
    INVITE's in order; 12.2.1.1: loose routing keeps the remote target as Request-URI; 16.4:
    each proxy removes the Route value naming it."""
    played = _played("trapezoid-rr")
    acks = [g for g in played.log if isinstance(g.message, Request) and g.message.method == "ACK"]
    byes = [g for g in played.log if isinstance(g.message, Request) and g.message.method == "BYE"]
    assert [_routes(g) for g in acks] == [
        ["sip:atlanta.com;lr", "sip:biloxi.com;lr"],
        ["sip:biloxi.com;lr"],
        [],
    ]
    assert [_routes(g) for g in byes] == [
        ["sip:biloxi.com;lr", "sip:atlanta.com;lr"],
        ["sip:atlanta.com;lr"],
        [],
    ]
    assert {str(g.message.uri) for g in acks} == {"sip:bob@192.0.2.4"}  # type: ignore[union-attr]
    assert {str(g.message.uri) for g in byes} == {"sip:alice@pc33.atlanta.com"}  # type: ignore[union-attr]
    assert [g.message.max_forwards for g in acks] == [70, 69, 68]
    assert all(not g.message.record_route for g in acks + byes)  # only outside a dialog


# --- every scenario ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", scenario_names())
def test_every_scenario_is_deterministic_and_matches_its_golden_ladder(name: str) -> None:
    """The same bytes every run; the committed ladder (regenerate: sipfsm simulate NAME >
    tests/golden/NAME.txt) is what the scenario draws."""
    again = play(name)
    assert [g.data for g in again.log] == [g.data for g in _played(name).log]
    assert text_ladder(again) == (GOLDEN / f"{name}.txt").read_text(encoding="utf-8")


# --- cancel and busy ----------------------------------------------------------------------


def _top_branch(g: Datagram) -> str | None:
    return g.message.via[0].branch


def _requests_of(played: Played, method: str) -> list[Datagram]:
    return [g for g in played.log if isinstance(g.message, Request) and g.message.method == method]


def test_cancel_goes_hop_by_hop_each_answered_200_on_its_hop() -> None:
    """9.1: each hop's CANCEL has the top Via (so the branch) of the INVITE it cancels and
    goes where it went; 16.10: each proxy answers the CANCEL 200 at once and cancels its
    branch; 9.2: Bob answers 200 and then 487."""
    played = _played("cancel")
    assert _hops(played, "CANCEL") == [
        ("alice", "atlanta"),
        ("atlanta", "biloxi"),
        ("biloxi", "bob"),
    ]
    assert _hops(played, "200 CANCEL") == [
        ("atlanta", "alice"),
        ("biloxi", "atlanta"),
        ("bob", "biloxi"),
    ]
    invites = {g.src: _top_branch(g) for g in _requests_of(played, "INVITE")}
    for g in _requests_of(played, "CANCEL"):
        assert _top_branch(g) == invites[g.src], g.src
    ok = {g.src: g.sent for g in played.log if _kind(g) == "200 CANCEL"}
    sent = {g.src: g.sent for g in _requests_of(played, "CANCEL")}
    assert ok["atlanta"] <= sent["atlanta"] and ok["biloxi"] <= sent["biloxi"]


def test_the_487_goes_back_hop_by_hop_and_each_hop_acks_it() -> None:
    """9.2, 16.7 item 6: the 487 is the best response at each proxy; 17.1.1.3: each hop ACKs
    its non-2xx on the INVITE's branch, to where the INVITE went."""
    played = _played("cancel")
    assert _hops(played, "487 INVITE") == [
        ("bob", "biloxi"),
        ("biloxi", "atlanta"),
        ("atlanta", "alice"),
    ]
    assert sorted(_hops(played, "ACK")) == sorted(
        [("biloxi", "bob"), ("atlanta", "biloxi"), ("alice", "atlanta")]
    )
    invites = {g.src: _top_branch(g) for g in _requests_of(played, "INVITE")}
    for g in _requests_of(played, "ACK"):
        assert _top_branch(g) == invites[g.src], g.src
    assert not [
        kind for kind in map(_kind, played.log) if kind.startswith("2") and "INVITE" in kind
    ]
    assert played.network.quiet()


def test_busy_is_forwarded_back_and_acked_on_every_hop() -> None:
    """16.7 item 6: the 486 is the best (only) response; 17.1.1.3: ACKed hop by hop."""
    played = _played("busy")
    assert _hops(played, "486 INVITE") == [
        ("bob", "biloxi"),
        ("biloxi", "atlanta"),
        ("atlanta", "alice"),
    ]
    assert _hops(played, "ACK") == [("biloxi", "bob"), ("atlanta", "biloxi"), ("alice", "atlanta")]
    assert played.network.quiet()
    assert all(getattr(h.element, "errors", []) == [] for h in played.network.hosts.values())


# --- fork -------------------------------------------------------------------------------------


def test_fork_sends_the_invite_to_both_bindings_at_once_highest_q_first() -> None:
    """16.5, 16.6: one copy per target, in parallel, each on its own branch; q-values order
    the target set (20.10)."""
    played = _played("fork")
    forked = [g for g in _requests_of(played, "INVITE") if g.src == "biloxi"]
    assert [(g.dst, str(g.message.uri)) for g in forked] == [  # type: ignore[union-attr]
        ("bob", "sip:bob@192.0.2.4"),
        ("desk", "sip:bob@192.0.2.5"),
    ]
    assert forked[0].sent == forked[1].sent
    assert _top_branch(forked[0]) != _top_branch(forked[1])


def test_fork_both_rings_reach_alice_each_with_its_own_to_tag() -> None:
    """16.7 item 5: every provisional but 100 is forwarded; 12.1: each fork its early dialog."""
    played = _played("fork")
    rings = [g for g in played.log if _kind(g) == "180 INVITE" and g.dst == "alice"]
    tags = {g.message.to.tag for g in rings}  # type: ignore[union-attr]
    assert len(rings) == 2 and len(tags) == 2


def test_fork_the_answer_goes_up_at_once_and_the_other_branch_is_cancelled() -> None:
    """16.7 items 5, 10: the 200 is forwarded at once and the pending branch CANCELled; 9.2:
    the desk phone answers 200 and 487; 16.7 item 5: that 487 goes no further (ACKed on its
    hop, 17.1.1.3); Alice sees one final response, the 200, and ACKs it to the phone."""
    played = _played("fork")
    assert _hops(played, "CANCEL") == [("biloxi", "desk")]
    assert _hops(played, "487 INVITE") == [("desk", "biloxi")]
    assert ("biloxi", "desk") in _hops(played, "ACK")
    finals = [g for g in played.log if g.dst == "alice" and _kind(g).endswith("INVITE")]
    assert [_kind(g) for g in finals if not _kind(g).startswith("1")] == ["200 INVITE"]
    assert ("alice", "bob") in _hops(played, "ACK") and _hops(played, "BYE") == [("alice", "bob")]
    assert played.network.quiet()
    assert all(getattr(h.element, "errors", []) == [] for h in played.network.hosts.values())


# --- loss -------------------------------------------------------------------------------------


def _delivered(played: Played, kind: str, dst: str) -> int:
    return sum(1 for g in played.log if _kind(g) == kind and g.dst == dst and not g.lost)


@pytest.mark.parametrize("seed", range(12))
def test_lossy_trapezoid_recovers_and_both_ends_agree(seed: int) -> None:
    """20% loss on every link: the retransmissions of 17.1.1.2, 17.1.2.2, 17.2.1 and 13.3.1.4
    recover the call. Both ends reach the same outcome (a session, then its end); every 2xx
    Alice receives is ACKed (13.2.2.4: one ACK per 2xx, retransmissions included); at the end
    no transaction and no timer is left anywhere (Timer C included) and nothing was refused."""
    played = play("lossy-trapezoid", seed=seed)
    hosts = played.network.hosts
    for name in ("alice", "bob"):
        ua = hosts[name].element
        assert [e.what for e in ua.tu].count("session over") == 1, name  # type: ignore[attr-defined]
    assert _delivered(played, "200 INVITE", "alice") >= 1
    acks = sum(1 for g in played.log if _kind(g) == "ACK" and g.src == "alice")
    assert acks == _delivered(played, "200 INVITE", "alice")
    assert _delivered(played, "ACK", "bob") >= 1
    assert played.network.quiet()
    for host in hosts.values():
        assert getattr(host.element, "errors", []) == [], host.name
        assert len(host.element.layer) == 0, host.name  # type: ignore[attr-defined]


def test_the_losses_happen_and_are_drawn() -> None:
    """The lossy runs lose datagrams (so the test above tests recovery), and the ladder marks
    them; another seed, other losses."""
    one, two = play("lossy-trapezoid", seed=1), play("lossy-trapezoid", seed=2)
    assert any(g.lost for g in one.log)
    assert [g.lost for g in one.log] != [g.lost for g in two.log]
    assert "(lost)" in text_ladder(one)
    assert not any(g.lost for g in play("trapezoid").log)


# --- failures: no response, no answer, unavailable -----------------------------------------------


def test_no_response_is_a_408_after_timer_b_acked_on_each_hop() -> None:
    """RFC 3665 3.10; 17.1.1.2: the INVITE is retransmitted (Timer A, doubling) until Timer B
    (64*T1) ends the client transaction; 16.7: the best response of an empty context, 408."""
    played = _played("no-response")
    to_bob = [g for g in _requests_of(played, "INVITE") if g.dst == "bob"]
    gaps = [round(b.sent - a.sent, 3) for a, b in itertools.pairwise(to_bob)]
    assert gaps == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
    (first_408, *_) = [g for g in played.log if _kind(g) == "408 INVITE"]
    assert first_408.src == "biloxi" and round(first_408.sent - to_bob[0].sent, 3) == 32.0
    assert _hops(played, "408 INVITE") == [("biloxi", "atlanta"), ("atlanta", "alice")]
    assert _hops(played, "ACK") == [("atlanta", "biloxi"), ("alice", "atlanta")]
    assert played.network.quiet()


def test_no_answer_timer_c_cancels_the_ringing_branch() -> None:
    """16.8: Timer C (more than 3 minutes, reset by the 180: 16.7 item 2) on a branch that had
    a provisional response: a CANCEL; Bob's 487 reaches Alice (16.7 item 6)."""
    played = _played("no-answer")
    ringing = next(g for g in played.log if _kind(g) == "180 INVITE" and g.dst == "biloxi")
    cancel = next(g for g in _requests_of(played, "CANCEL") if g.src == "biloxi")
    assert cancel.dst == "bob" and cancel.sent - ringing.arrives > 180
    assert ("atlanta", "alice") in _hops(played, "487 INVITE")
    alice = played.network.hosts["alice"].element
    assert [e.status for e in alice.tu if e.what == "response"][-1] == 487  # type: ignore[attr-defined]
    assert played.network.quiet()


def test_unavailable_is_forwarded_back_and_acked_on_every_hop() -> None:
    """RFC 3665 3.11; 16.7 item 6, 17.1.1.3."""
    played = _played("unavailable")
    assert _hops(played, "480 INVITE") == [
        ("bob", "biloxi"),
        ("biloxi", "atlanta"),
        ("atlanta", "alice"),
    ]
    assert _hops(played, "ACK") == [("biloxi", "bob"), ("atlanta", "biloxi"), ("alice", "atlanta")]
