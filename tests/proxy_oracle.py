"""An oracle for a stateful proxy, written from RFC 3261 section 16's prose, never from
``models/proxy_*.toml`` or ``sipfsm/proxy``: it reads the log of a played scenario (every
datagram, who sent it, who got it) and names each rule a proxy broke.

The rules, with the words they come from:

- 16.6 item 8: every request a proxy sends carries a top Via with its own sent-by and a branch
  beginning with the magic cookie ``z9hG4bK`` (8.1.1.7).
- 16.6 items 1, 3, 8: a request it forwards is a copy of one it received: the same Call-ID and
  CSeq, the received Via stack below its own Via, Max-Forwards one less (70 if absent); or it
  is one of its own hop-local requests: the ACK of a non-2xx (17.1.1.3) or a CANCEL (9.1),
  with one Via whose branch is that of an INVITE it sent.
- 16.7 item 3 / 8.2.6.2: every response it sends has the Via stack of a request it received.
- 16.7 item 5: "Any provisional response other than a 100 (Trying) MUST be forwarded
  immediately"; a 100 is never forwarded: it sends no more 100s on a Via stack than it got
  INVITEs with it (17.2.1: one per INVITE, retransmissions included).
- 16.7 item 5: "Any 2xx response to an INVITE request MUST be forwarded immediately".
- 16.7 items 5-6: at most one non-2xx final response per server transaction (its
  retransmissions aside), and none after a 2xx.
- 16.7 item 6: a 503 is never forwarded ("the proxy MUST generate a 500").
- 16.10: a CANCEL it receives for a transaction it forwarded is answered 200 at once.
"""

from __future__ import annotations

from collections import Counter

from sipfsm import Request, Response
from sipfsm.sim.network import Datagram
from sipfsm.sim.scenario import Played

Via = tuple[tuple[str, str | None], ...]


def _vias(msg: Request | Response) -> Via:
    return tuple((v.host.lower(), v.branch) for v in msg.via)


def _dialogless(msg: Request | Response) -> tuple[object, ...]:
    """Call-ID and CSeq: what a copy shares with its original (16.6 item 1)."""
    cseq = msg.cseq
    return (msg.call_id, cseq.seq if cseq else None, cseq.method if cseq else None)


def _is_invite_response(msg: Request | Response) -> bool:
    return isinstance(msg, Response) and msg.cseq is not None and msg.cseq.method == "INVITE"


def proxy_faults(played: Played, name: str, host: str) -> list[str]:
    """Every rule of the module docstring that proxy ``name`` (sent-by ``host``) broke."""
    log = played.log
    got = [g for g in log if g.dst == name and not g.lost]
    sent = [g for g in log if g.src == name and not g.duplicate]  # the link's copies: not sent
    faults: list[str] = []
    for g in sent:
        before = [r for r in got if r.arrives <= g.sent]
        if isinstance(g.message, Request):
            faults += _request_faults(g, before, sent, host)
        else:
            faults += _response_faults(g, before)
    faults += _hundreds(got, sent) + _finals(sent) + _forwarded_at_once(got, sent, host)
    faults += _cancels_answered(got, sent, host)
    return [f"{name}: {f}" for f in faults]


def _request_faults(g: Datagram, got: list[Datagram], sent: list[Datagram], host: str) -> list[str]:
    m = g.message
    assert isinstance(m, Request)
    vias = _vias(m)
    top_host, branch = vias[0]
    if top_host != host.lower() or not (branch or "").startswith("z9hG4bK"):
        return [f"F#{g.n} {m.method}: top Via {vias[0]} is not ours with a cookie (16.6 item 8)"]
    originals = [
        r
        for r in got
        if isinstance(r.message, Request)
        and _dialogless(r.message) == _dialogless(m)
        and _vias(r.message) == vias[1:]
    ]
    if originals:
        want = originals[-1].message.max_forwards
        want = 69 if want is None else want - 1
        if m.max_forwards != want:
            return [f"F#{g.n} {m.method}: Max-Forwards {m.max_forwards}, not {want} (16.6 item 3)"]
        return []
    hop_local = m.method in ("ACK", "CANCEL") and len(vias) == 1
    ours = {
        _vias(s.message)[0][1]
        for s in sent
        if s.n < g.n and isinstance(s.message, Request) and s.message.method == "INVITE"
    }
    if hop_local and branch in ours:
        return []
    return [f"F#{g.n} {m.method}: neither a copy of a request received nor hop-local (16.6)"]


def _response_faults(g: Datagram, got: list[Datagram]) -> list[str]:
    m = g.message
    requests = [
        r.message
        for r in got
        if isinstance(r.message, Request) and _dialogless(r.message)[:2] == _dialogless(m)[:2]
    ]
    if any(_vias(r) == _vias(m) for r in requests):
        if m.status == 503:  # type: ignore[union-attr]
            return [f"F#{g.n}: a 503 sent upstream (16.7 item 6: a 500)"]
        return []
    return [f"F#{g.n} {m.status}: its Via stack is no request's it got (16.7 item 3)"]  # type: ignore[union-attr]


def _hundreds(got: list[Datagram], sent: list[Datagram]) -> list[str]:
    invites = Counter(
        _vias(g.message)
        for g in got
        if isinstance(g.message, Request) and g.message.method == "INVITE"
    )
    trying = Counter(
        _vias(g.message)
        for g in sent
        if isinstance(g.message, Response) and g.message.status == 100
    )
    return [
        f"{n} 100s on {v[0]} for {invites[v]} INVITEs: a 100 was forwarded (16.7 item 5)"
        for v, n in trying.items()
        if n > invites[v]
    ]


def _finals(sent: list[Datagram]) -> list[str]:
    faults = []
    by_tx: dict[Via, list[Response]] = {}
    for g in sent:
        if _is_invite_response(g.message) and g.message.status >= 200:  # type: ignore[union-attr]
            by_tx.setdefault(_vias(g.message), []).append(g.message)  # type: ignore[arg-type]
    for via, finals in by_tx.items():
        failures = {r.raw for r in finals if r.status >= 300}
        if len(failures) > 1:
            faults.append(f"{len(failures)} non-2xx finals on {via[0]} (16.7 items 5-6)")
        first_2xx = next((i for i, r in enumerate(finals) if r.status < 300), None)
        if first_2xx is not None and any(r.status >= 300 for r in finals[first_2xx:]):
            faults.append(f"a non-2xx final after a 2xx on {via[0]} (16.7 item 5)")
    return faults


def _forwarded_at_once(got: list[Datagram], sent: list[Datagram], host: str) -> list[str]:
    """16.7 item 5: each 2xx, and each 101-199 before a final, goes up at the instant it came."""
    faults = []
    for g in got:
        m = g.message
        if not _is_invite_response(m) or _vias(m)[0][0] != host.lower():
            continue
        status = m.status  # type: ignore[union-attr]
        upstream = _vias(m)[1:]
        if status == 100 or status >= 300:
            continue
        finals_before = [
            s
            for s in sent
            if s.sent < g.arrives and _vias(s.message) == upstream and s.message.status >= 200  # type: ignore[union-attr]
        ]
        if 100 < status < 200 and finals_before:
            continue
        tag = m.to.tag if m.to else None
        if not any(
            s.sent == g.arrives
            and _vias(s.message) == upstream
            and getattr(s.message, "status", None) == status
            and s.message.to is not None
            and s.message.to.tag == tag
            for s in sent
        ):
            faults.append(f"F#{g.n} {status} was not forwarded at once (16.7 item 5)")
    return faults


def _cancels_answered(got: list[Datagram], sent: list[Datagram], host: str) -> list[str]:
    """16.10: 'the element MUST immediately return a 200 (OK) response to the CANCEL'."""
    faults = []
    forwarded = {  # 9.1: a CANCEL has one Via, the top one of the request it cancels
        _vias(g.message)[1:2]
        for g in sent
        if isinstance(g.message, Request) and g.message.method == "INVITE"
    }
    for g in got:
        m = g.message
        if not (isinstance(m, Request) and m.method == "CANCEL" and _vias(m) in forwarded):
            continue
        if not any(
            s.sent == g.arrives
            and isinstance(s.message, Response)
            and s.message.status == 200
            and _vias(s.message) == _vias(m)
            for s in sent
        ):
            faults.append(f"F#{g.n} CANCEL not answered 200 at once (16.10)")
    return faults
