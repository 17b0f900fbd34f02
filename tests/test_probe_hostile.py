"""Hostile peers (issue 13): a target that answers with a new random branch, with garbage,
with truncated messages, with a flood of responses none of which is ours, or not at all,
gets no PASS from any check that needs a matching transaction (17.1.3).

Each peer is the reference UA with one hostile flaw (:mod:`sipfsm.probe.flaws`) applied on
the wire, probed on the virtual clock like tests/test_probe_flaws.py, at the RFC's T1 and with
a fixed seed. In role client every check judges the target's answers to our transactions; in
role server the checks judge requests the target sends, so only the peers that mangle
requests too (garbage, truncated, silent) are probed there.
"""

from __future__ import annotations

import io

import pytest

from sipfsm.probe import ProbeConfig, Unreachable
from sipfsm.probe.checks import by_id
from sipfsm.probe.flaws import CATALOGUE
from sipfsm.probe.io import ProbeIO
from sipfsm.probe.runner import run

#: The hostile peers, and whether they mangle the target's requests too (role server).
HOSTILE = {
    "wrong-branch": False,
    "garbage": True,
    "truncated": True,
    "flood": False,
    "silent": True,
}


def verdicts(flaw: str, role: str) -> dict[str, tuple[str, str]]:
    """Every check of ``role`` against the hostile peer: id -> (verdict, observed); a
    target that sends nothing back is unreachable (no check runs: no verdict at all)."""
    cfg = ProbeConfig(role=role, flaws=frozenset({flaw}), max_examples=2, seed=1)
    cfg.virtual_clock = True
    try:
        report = run(cfg, progress_stream=io.StringIO())
    except Unreachable:
        return {}
    assert report.stopped_by is None, report.stopped_by
    return {r.check.id: (r.verdict, r.observed) for r in report.results}


def test_the_hostile_peers_are_flaws() -> None:
    assert set(HOSTILE) <= set(CATALOGUE)


@pytest.mark.parametrize("flaw", sorted(HOSTILE))
def test_no_pass_against_a_hostile_peer_role_client(flaw: str) -> None:
    seen = verdicts(flaw, "client")
    if flaw == "silent":
        assert seen == {}  # unreachable: nothing came back
        return
    assert set(seen) == {c.id for c in by_id(role="client")}
    passed = {i: o for i, (v, o) in seen.items() if v == "pass"}
    assert not passed, passed
    assert not any(v == "error" or "probe error" in o for v, o in seen.values()), seen


@pytest.mark.parametrize("flaw", sorted(f for f, requests in HOSTILE.items() if requests))
def test_no_pass_against_a_hostile_peer_role_server(flaw: str) -> None:
    seen = verdicts(flaw, "server")
    assert set(seen) == {c.id for c in by_id(role="server")}
    passed = {i: o for i, (v, o) in seen.items() if v == "pass"}
    assert not passed, passed
    assert not any(v == "error" for v, _ in seen.values()), seen  # no bug of the probe found


def test_a_peer_wedged_by_one_malformed_message_touches_no_other_check() -> None:
    """belle-sip's bug (issue 13, defect 4): after a UDP request whose Content-Length exceeds
    its body (RFC 4475 3.1.2.2, ``clerr``), every later datagram from that source is taken as
    the missing body. Each check has sockets of its own, the malformed corpus runs last with
    each message from its own source, and the OPTIONS that follows each message finds the
    wedge and names the case: the malformed check fails for that reason alone, every other
    check passes."""
    cfg = ProbeConfig(flaws=frozenset({"wedge"}), max_examples=2, seed=1, virtual_clock=True)
    report = run(cfg, progress_stream=io.StringIO())
    seen = {r.check.id: (r.verdict, r.observed) for r in report.results}
    verdict, observed = seen.pop("malformed")
    assert verdict == "fail", observed
    assert observed.startswith("peer stopped answering after clerr: no answer to an OPTIONS")
    assert all(v == "pass" for v, _ in seen.values()), seen
    (malformed,) = [r for r in report.results if r.check.id == "malformed"]
    assert malformed.failures == 1  # the corpus after clerr, each from a new source, passes


def test_each_check_has_its_own_source_and_from_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks side by side send from sockets of their own with From users of their own; each
    malformed message from one more socket."""
    made: list[ProbeIO] = []
    fresh = ProbeIO.fresh

    async def recorded(
        self: ProbeIO, user: str | None = None, *, udp_only: bool = False
    ) -> ProbeIO:
        io = await fresh(self, user, udp_only=udp_only)
        made.append(io)
        return io

    monkeypatch.setattr(ProbeIO, "fresh", recorded)
    checks = ["cancel-unknown", "non-invite-server-absorbs-retransmit", "malformed"]
    cfg = ProbeConfig(checks=checks, max_examples=1, seed=1, virtual_clock=True)
    report = run(cfg, progress_stream=io.StringIO())
    assert all(r.verdict == "pass" for r in report.results), report.results
    users = [m.user for m in made]
    assert {f"probe-{c}" for c in checks} <= set(users), users
    assert len({m.ep.udp_addr for m in made}) == len(made)  # no two share a source port
    assert users.count("probe-malformed") > 1  # the check's own, and one per message
