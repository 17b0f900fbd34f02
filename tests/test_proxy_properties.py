"""Hypothesis: the scenarios through two proxies under random loss, duplication and reordering
(jitter) end well, and the proxies keep section 16's rules (``tests/proxy_oracle.py``, written
from the RFC's prose, not from the models).

Each run: both ends agree on the call's outcome (a session the caller and the answering callee
both ended, or a failure: a final response or the INVITE's timeout at the caller, and every
callee the INVITE reached ended too, by a CANCEL of its proxy, 16.8, 16.10); every 2xx the
caller receives is ACKed (13.2.2.4) and no dialog accepts two 2xx (the TU hears one per To
tag); at the end no transaction and no timer (Timer C included) is left anywhere, and nothing
was refused.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st
from proxy_oracle import proxy_faults

from sipfsm import Request, Response, parse
from sipfsm.sim.network import Datagram
from sipfsm.sim.scenario import Played, play
from sipfsm.ua.core import UA

SCENARIOS = ("lossy-trapezoid", "fork", "cancel", "busy")


def _proxies(played: Played) -> list[tuple[str, str]]:
    return [(h["name"], h["host"]) for h in played.data["hosts"] if h["role"] == "proxy"]


def _all_faults(played: Played) -> list[str]:
    return [f for name, host in _proxies(played) for f in proxy_faults(played, name, host)]


def _invite_finals(ua: UA) -> list[int]:
    return [e.status for e in ua.tu if e.what == "response" and (e.status or 0) >= 200]  # type: ignore[misc]


@settings(max_examples=min(settings().max_examples, 40))
@given(
    name=st.sampled_from(SCENARIOS),
    loss=st.floats(0.0, 0.3),
    duplicate=st.floats(0.0, 0.2),
    jitter=st.floats(0.0, 0.05),
    seed=st.integers(0, 2**16),
)
def test_every_run_ends_well_and_the_proxies_keep_section_16(
    name: str, loss: float, duplicate: float, jitter: float, seed: int
) -> None:
    played = play(name, loss=loss, duplicate=duplicate, jitter=jitter, seed=seed)
    hosts = played.network.hosts
    alice = hosts["alice"].element
    assert isinstance(alice, UA)
    callees = [h.element for n, h in hosts.items() if n != "alice" and isinstance(h.element, UA)]
    # the caller hears one final outcome per dialog; each 2xx it received is ACKed
    assert [e.what for e in alice.tu].count("session over") == 1
    oks = [e for e in alice.tu if e.what == "response" and e.status == 200]
    tags = Counter(e.message.to.tag for e in oks if e.message and e.message.to)
    assert all(n == 1 for n in tags.values()), tags
    got_2xx = sum(
        1
        for g in played.log
        if g.dst == "alice"
        and not g.lost
        and isinstance(g.message, Response)
        and g.message.status == 200
        and g.message.cseq
        and g.message.cseq.method == "INVITE"
    )
    acks = sum(
        1
        for g in played.log
        if g.src == "alice" and isinstance(g.message, Request) and g.message.method == "ACK"
    )
    non_2xx = [s for s in _invite_finals(alice) if s >= 300]
    assert acks >= got_2xx
    # both ends agree: a session exists iff a callee's 2xx reached the caller
    answered = {
        g.message.to.tag
        for g in played.log
        if g.src != "alice"
        and g.src in {c.name for c in callees}
        and isinstance(g.message, Response)
        and g.message.status == 200
        and g.message.cseq
        and g.message.cseq.method == "INVITE"
        and g.message.to
    }
    assert set(tags) <= answered
    if not tags:  # a failure: a final response, or the INVITE's timeout (17.1.1.2, Timer B)
        timed_out = any(e.what in ("timeout", "event") and e.message is None for e in alice.tu)
        assert non_2xx or timed_out, "the call failed but the caller heard no outcome"
    for callee in callees:  # every callee the INVITE reached ends its side too
        if any(e.what == "INVITE" for e in callee.tu):
            assert [e.what for e in callee.tu].count("session over") == 1, callee.name
    # nothing left, nothing refused, section 16 kept
    assert played.network.quiet()
    for host in hosts.values():
        assert getattr(host.element, "errors", []) == [], host.name
        assert len(host.element.layer) == 0, host.name  # type: ignore[attr-defined]
    assert _all_faults(played) == []


# --- the oracle catches what it should ------------------------------------------------------


@cache
def _trapezoid() -> Played:
    return play("trapezoid")


def _with_log(played: Played, log: list[Datagram]) -> Played:
    network = dataclasses.replace(played.network, log=log)
    return dataclasses.replace(played, network=network)


def _edited(g: Datagram, old: bytes, new: bytes) -> Datagram:
    data = g.data.replace(old, new, 1)
    assert data != g.data
    return dataclasses.replace(g, data=data, message=parse(data, strict=True))


def test_the_oracle_passes_figure_1() -> None:
    assert _all_faults(_trapezoid()) == []


def test_the_oracle_sees_a_max_forwards_not_decremented() -> None:
    played = _trapezoid()
    log = [
        _edited(g, b"Max-Forwards: 69", b"Max-Forwards: 70") if g.n == 2 else g for g in played.log
    ]
    assert any("16.6 item 3" in f for f in _all_faults(_with_log(played, log)))


def test_the_oracle_sees_a_forwarded_100() -> None:
    played = _trapezoid()
    (hundred,) = [g for g in played.log if g.src == "biloxi" and g.dst == "atlanta"][:1]
    assert isinstance(hundred.message, Response) and hundred.message.status == 100
    top = hundred.data.split(b"\r\n")[1] + b"\r\n"
    forwarded = dataclasses.replace(
        _edited(hundred, top, b""), n=999, src="atlanta", dst="alice", sent=hundred.arrives
    )
    faults = _all_faults(_with_log(played, [*played.log, forwarded]))
    assert any("a 100 was forwarded" in f for f in faults)


def test_the_oracle_sees_a_2xx_not_forwarded() -> None:
    played = _trapezoid()
    ok = next(g for g in played.log if g.src == "biloxi" and getattr(g.message, "status", 0) == 200)
    log = [g for g in played.log if g is not ok]
    assert any("not forwarded at once" in f for f in _all_faults(_with_log(played, log)))
