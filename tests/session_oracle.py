"""An oracle for dialogs and INVITE sessions, written from RFC 3261 sections 12-15 and 9.

It reads no model file and no ``timers.toml``: it looks at what went over the wire between
two UAs (``(t, sender, bytes, delivered)``, as :class:`sipfsm.sim.wire.Wire` logs it) and checks
the rules of the RFC text on it. Every check raises ``AssertionError`` naming the rule.

T1 and T2 are arguments (17.1.1.1 defaults: 0.5 s and 4 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sipfsm import Request, Response, parse


@dataclass(frozen=True)
class Datagram:
    t: float
    sender: str
    msg: Request | Response
    delivered: bool

    @property
    def request(self) -> bool:
        return isinstance(self.msg, Request)


def read(log: list[tuple[float, str, bytes, bool]]) -> list[Datagram]:
    """Every datagram, parsed strictly (every message the UAs sent must pass)."""
    return [Datagram(t, who, parse(data, strict=True), ok) for t, who, data, ok in log]


def _method(d: Datagram) -> str:
    if isinstance(d.msg, Request):
        return d.msg.method
    return d.msg.cseq.method if d.msg.cseq else ""


def _branch(m: Request | Response) -> str:
    return m.via[0].branch or ""


def _tags(m: Request | Response) -> tuple[str, str]:
    return ((m.from_.tag if m.from_ else None) or "", (m.to.tag if m.to else None) or "")


def _routes(m: Request | Response) -> list[str]:
    return [str(r.uri) for r in m.route]


def first_sends(grams: list[Datagram], sender: str) -> list[Datagram]:
    """The requests ``sender`` sent, each once (retransmissions share the branch, 17.1)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for d in grams:
        if d.sender == sender and isinstance(d.msg, Request):
            key = (_branch(d.msg), d.msg.method)
            if key not in seen:
                seen.add(key)
                out.append(d)
    return out


def check_cseq_increasing(grams: list[Datagram], sender: str) -> None:
    """12.2.1.1: within a dialog, each new request (ACK and CANCEL excepted) has a CSeq one
    higher... at least strictly higher than the last one the UA sent in that dialog. Each
    dialog has its own local sequence number, starting at the CSeq of the request that
    created it (12.1.2): the dialogs of a forked INVITE (one per To tag) count apart, each
    from the INVITE's."""
    last: dict[tuple[str, str, str], int] = {}
    for d in first_sends(grams, sender):
        m = d.msg
        assert isinstance(m, Request)
        if m.method in ("ACK", "CANCEL") or m.cseq is None:
            continue
        frm, to = _tags(m)
        call = m.call_id or ""
        before = last.get((call, frm, to), last.get((call, frm, "")))
        if before is not None:
            assert m.cseq.seq > before, (
                f"12.2.1.1: {sender} sent {m.method} CSeq {m.cseq.seq} after {before}"
            )
        last[(call, frm, to)] = m.cseq.seq


def check_dialog_requests(grams: list[Datagram], sender: str) -> None:
    """12.2.1.1: requests within one dialog keep Call-ID, local (From) tag and remote (To)
    tag; once the dialog is confirmed, the route set (hence Route) does not change (12.2.1.2,
    12.1: "the route set ... MUST NOT change")."""
    routes: dict[tuple[str, str, str], list[str]] = {}
    for d in first_sends(grams, sender):
        m = d.msg
        assert isinstance(m, Request)
        frm, to = _tags(m)
        if not to or m.method == "CANCEL":
            continue
        key = (m.call_id or "", frm, to)
        if m.method == "ACK" and key not in routes:
            routes[key] = _routes(m)  # the first ACK of a 2xx: the dialog is confirmed
            continue
        if key in routes:
            assert _routes(m) == routes[key], f"12.2.1.2: the route set of {key} changed"


def _invite_tx_holds(grams: list[Datagram], i: int, uac: str, *, profile: str, t1: float) -> bool:
    """Whether the 2xx at position ``i`` of the log, to an INVITE of ``uac``, reaches its UAC
    core. Under ``rfc3261`` always: one that matches no client transaction goes to the core
    all the same (18.1.2 as published). Under ``rfc6026`` only while the INVITE client
    transaction surely exists, for such a stray is silently discarded (RFC 6026 8.9): in
    Calling until Timer B (64*T1 after the INVITE, 17.1.1.2); in Proceeding until a CANCEL's
    64*T1 has passed (9.1: then it SHOULD be destroyed); in Accepted until Timer M (64*T1 after
    the first 2xx, RFC 6026 8.4); in Completed (after a 300-699) less than Timer D's 32 s
    over UDP, its least value (17.1.1.2), and not at all over a reliable transport (0 s)."""
    if profile == "rfc3261":
        return True
    d = grams[i]
    m = d.msg
    assert isinstance(m, Response) and m.cseq is not None
    call = (m.call_id or "", m.cseq.seq)
    invite = next(
        (
            e
            for e in first_sends(grams[:i], uac)
            if isinstance(e.msg, Request)
            and e.msg.method == "INVITE"
            and (e.msg.call_id or "", e.msg.cseq.seq if e.msg.cseq else 0) == call
        ),
        None,
    )
    if invite is None:
        return False
    earlier = [
        e.msg
        for e in grams[:i]
        if e.sender != uac
        and e.delivered
        and isinstance(e.msg, Response)
        and _method(e) == "INVITE"
        and e.msg.cseq is not None
        and (e.msg.call_id or "", e.msg.cseq.seq) == call
    ]
    times = {id(e.msg): e.t for e in grams[:i]}
    failed = [r for r in earlier if r.status >= 300]
    accepted = [r for r in earlier if 200 <= r.status < 300]
    if failed:
        reliable = invite.msg.via[0].transport.upper() != "UDP"
        return not reliable and d.t < times[id(failed[0])] + 32.0 - 1e-9
    if accepted:
        return d.t <= times[id(accepted[0])] + 64 * t1 + 1e-9
    if not earlier:
        return d.t < invite.t + 64 * t1 - 1e-9
    cancelled = _cancel_sent(grams, uac, call)
    return cancelled is None or d.t <= cancelled + 64 * t1 + 1e-9


def check_acks(grams: list[Datagram], uac: str, *, profile: str, t1: float = 0.5) -> None:
    """13.2.2.4: the UAC core ACKs every 2xx to an INVITE it receives, retransmissions
    included, once each, also after it sent BYE on the 2xx's dialog or its session ended: To
    tag of that 2xx, the CSeq number of the INVITE, a new branch (not the INVITE's: the ACK of
    a 2xx is its own transaction, 17.1.1.3 is for non-2xx), Route = the 2xx's Record-Route
    reversed (12.1.2); and for a retransmission the SAME ACK again ("The ACK MUST be passed to
    the client transport every time a retransmission of the 2xx final response that
    triggered the ACK arrives"). Which 2xx the core receives depends on the profile
    (:func:`_invite_tx_holds`): under ``rfc3261`` every one; under ``rfc6026`` those its
    INVITE client transaction is there to pass up (the rest are discarded, RFC 6026 8.9, and
    :func:`check_stray_2xx` sees that no ACK goes for the ones after Timer M)."""
    invites = {
        (d.msg.cseq.seq if d.msg.cseq else 0): _branch(d.msg)
        for d in grams
        if d.sender == uac and isinstance(d.msg, Request) and d.msg.method == "INVITE"
    }
    pending: list[tuple[Response, bool]] = []  # each 2xx received, and whether it must be ACKed
    route_sets: dict[tuple[str, str], list[Any]] = {}
    sent: dict[tuple[str, str, int], bytes] = {}
    for i, d in enumerate(grams):
        m = d.msg
        if (
            d.sender != uac
            and isinstance(m, Response)
            and d.delivered
            and 200 <= m.status < 300
            and _method(d) == "INVITE"
        ):
            pending.append((m, _invite_tx_holds(grams, i, uac, profile=profile, t1=t1)))
            # 12.1.2: the route set is the Record-Route of the 2xx that created (or
            # confirmed) the dialog, reversed; later 2xx do not change it (12.2.1.2).
            route_sets.setdefault(_tags(m), [x.uri for x in reversed(m.record_route)])
        if d.sender == uac and isinstance(m, Request) and m.method == "ACK" and m.cseq is not None:
            match = [
                (r, must)
                for r, must in pending
                if _tags(r) == _tags(m) and r.cseq is not None and r.cseq.seq == m.cseq.seq
            ]
            if not match:
                if _branch(m) == invites.get(m.cseq.seq):
                    continue  # a non-2xx ACK (17.1.1.3), same branch as the INVITE
                raise AssertionError(
                    f"13.2.2.4: ACK {m.cseq.seq} to tag {_tags(m)[1]} acknowledges no 2xx received"
                )
            r = match[0][0]
            pending.remove(match[0])
            assert _branch(m) != invites.get(m.cseq.seq), "13.2.2.4: ACK of 2xx reuses branch"
            assert _routes(m) == _expected_route(route_sets[_tags(r)], r), (
                "12.1.2, 12.2.1.1, 13.2.2.4: the ACK's Route is not from the route set"
            )
            first = sent.setdefault((*_tags(m), m.cseq.seq), m.raw)
            assert m.raw == first, (
                f"13.2.2.4: ACK {m.cseq.seq} to tag {_tags(m)[1]} for a 2xx retransmission "
                "is not the same ACK as the first"
            )
    missing = [r for r, must in pending if must]
    assert not missing, f"13.2.2.4: {len(missing)} 2xx received but never ACKed"


def check_2xx_after_a_failure_byed(
    grams: list[Datagram], uac: str, *, profile: str, t1: float = 0.5
) -> None:
    """15: "If an initial INVITE generates a non-2xx final response, that terminates all
    sessions (if any) and all dialogs (if any) that were created through responses to the
    request ... a non-2xx final response also prevents further sessions from being created as
    a result of the INVITE." A 2xx to that INVITE arriving later (from another branch: a
    forking proxy forwards a 2xx at once, 16.7 step 5) can make no session, so its dialog is
    not wanted, and 13.2.2.4: "If, after acknowledging any 2xx response to an INVITE, the UAC
    does not want to continue with that dialog, then the UAC MUST terminate the dialog by
    sending a BYE request". So ``uac`` sends a BYE on the 2xx's dialog (its To tag) after it,
    unless that dialog already saw a BYE (``uac``'s own, on its early dialog: 15, or the
    peer's). Only a 2xx that reaches the core is judged (:func:`_invite_tx_holds`)."""
    failed: set[tuple[str, int]] = set()
    for i, d in enumerate(grams):
        m = d.msg
        if d.sender == uac or not d.delivered or not isinstance(m, Response) or not m.cseq:
            continue
        call = (m.call_id or "", m.cseq.seq)
        if _method(d) != "INVITE" or m.status < 200:
            continue
        if m.status >= 300:
            failed.add(call)
            continue
        if call not in failed or not _invite_tx_holds(grams, i, uac, profile=profile, t1=t1):
            continue
        tag = _tags(m)[1]
        byes = [
            e
            for e in grams
            if isinstance(e.msg, Request)
            and e.msg.method == "BYE"
            and e.msg.call_id == m.call_id
            and (
                (e.sender == uac and _tags(e.msg)[1] == tag)
                or (e.sender != uac and e.delivered and _tags(e.msg)[0] == tag and e.t <= d.t)
            )
        ]
        assert byes, (
            f"13.2.2.4, 15: {uac} sent no BYE on the dialog (To tag {tag}) of a 2xx at {d.t} "
            f"to INVITE {call[1]}, which had already failed"
        )


def _expected_route(route_set: list[Any], resp: Response) -> list[str]:
    """12.2.1.1: loose routing (first route has lr, or none): Route = the route set; strict:
    Route = the rest of the route set, then the remote target (the 2xx's Contact)."""
    if not route_set or route_set[0].lr:
        return [str(u) for u in route_set]
    contact = [c.uri for c in resp.contact if hasattr(c, "uri")]
    return [str(u) for u in route_set[1:]] + [str(contact[0])]


def _lws(value: str | None) -> str:
    return " ".join((value or "").split())  # 7.3.1: a run of LWS reads as one SP


def _ack_fields(ack: Request, invite: Request, final: Response) -> None:
    """17.1.1.3: the fields of the ACK of ``final``, a 300-699 to ``invite``."""
    what = f"17.1.1.3: the ACK of {final.status} to INVITE {invite.cseq.seq if invite.cseq else 0}"
    assert _branch(ack) == _branch(invite), f"{what} has branch {_branch(ack)}, not the INVITE's"
    assert [_lws(v) for v in ack.get_all("Via")] == [_lws(invite.get_all("Via")[0])], (
        f"{what}: one Via, equal to the INVITE's top Via"
    )
    assert str(ack.uri) == str(invite.uri), f"{what}: Request-URI {ack.uri} is not {invite.uri}"
    assert ack.call_id == invite.call_id, f"{what}: Call-ID differs"
    assert _lws(ack.get("From")) == _lws(invite.get("From")), f"{what}: From differs"
    assert _lws(ack.get("To")) == _lws(final.get("To")), f"{what}: To is not the response's"
    assert ack.cseq is not None and invite.cseq is not None
    assert (ack.cseq.seq, ack.cseq.method) == (invite.cseq.seq, "ACK"), f"{what}: CSeq {ack.cseq}"
    assert [_lws(r) for r in ack.get_all("Route")] == [_lws(r) for r in invite.get_all("Route")], (
        f"{what}: the INVITE's Route header fields"
    )


def _alive(
    d: Datagram,
    first: Datagram,
    invite: Datagram,
    provisional: bool,
    t1: float,
    cancelled: float | None = None,
) -> bool:
    """Whether the client transaction of ``invite`` is there to ACK ``d``, a 300-699 it
    received (17.1.1.2): the first final response in Proceeding, or in Calling before Timer B
    (64*T1), and not later than 64*T1 after a CANCEL of it sent at ``cancelled`` (9.1: then
    it is destroyed, :func:`check_cancelled_invite_destroyed`); a retransmission of it in
    Completed, which lasts Timer D (at least 32 s over UDP; over a reliable transport there
    is no retransmission to ACK)."""
    if cancelled is not None and first.t > cancelled + 64 * t1 + 1e-9:
        return False  # 9.1: destroyed before the first final response came
    if d is first:
        return provisional or d.t < invite.t + 64 * t1 - 1e-9
    return isinstance(first.msg, Response) and first.msg.status >= 300 and d.t < first.t + 32.0


def check_non_2xx_acks(grams: list[Datagram], uac: str, t1: float = 0.5) -> None:
    """17.1.1.2, 17.1.1.3: every 300-699 final response to an INVITE of ``uac`` that its
    client transaction receives is ACKed (its retransmissions in Completed again), and the ACK
    has the INVITE's Request-URI, Call-ID and From, the response's To (with its tag), one Via
    equal to the INVITE's top Via (so the INVITE's branch), the INVITE's CSeq number with
    method ACK, and the INVITE's Route header fields. An ACK on an INVITE's branch answers such
    a response: the ACK of a 2xx has a branch of its own (13.2.2.4)."""
    invites = {
        (d.msg.call_id or "", d.msg.cseq.seq): d
        for d in first_sends(grams, uac)
        if isinstance(d.msg, Request) and d.msg.method == "INVITE" and d.msg.cseq
    }
    provisional: set[tuple[str, int]] = set()
    first_final: dict[tuple[str, int], Datagram] = {}
    finals: dict[tuple[str, int, str], Response] = {}  # by (Call-ID, CSeq, To tag)
    unacked: dict[tuple[str, int, str], int] = {}
    for d in grams:
        m = d.msg
        if isinstance(m, Response) and d.sender != uac and d.delivered and m.cseq:
            call = (m.call_id or "", m.cseq.seq)
            if _method(d) != "INVITE" or call not in invites:
                continue
            if m.status < 200:
                provisional.add(call)
                continue
            first = first_final.setdefault(call, d)
            alive = _alive(
                d, first, invites[call], call in provisional, t1, _cancel_sent(grams, uac, call)
            )
            if m.status >= 300 and alive:
                key = (*call, _tags(m)[1])
                finals[key] = m
                unacked[key] = unacked.get(key, 0) + 1
        elif isinstance(m, Request) and d.sender == uac and m.method == "ACK" and m.cseq:
            key = (m.call_id or "", m.cseq.seq, _tags(m)[1])
            invite = invites.get(key[:2])
            if invite is not None and _branch(m) == _branch(invite.msg):
                assert key in finals, (
                    f"17.1.1.3: ACK {key} on the INVITE's branch answers no 300-699"
                )
            if key in finals and invite is not None:
                _ack_fields(m, invite.msg, finals[key])  # type: ignore[arg-type]
                unacked[key] = max(0, unacked[key] - 1)
    missing = {k: n for k, n in unacked.items() if n}
    assert not missing, f"17.1.1.2: 300-699 responses not ACKed (Call-ID, CSeq, To tag): {missing}"


def retransmit_times(t0: float, t1: float, t2: float, until: float) -> list[float]:
    """13.3.1.4: the 2xx goes at t0, then at intervals T1, 2*T1, 4*T1 ... capped at T2,
    while less than 64*T1 has passed."""
    out, t, interval = [t0], t0, t1
    while t + interval < min(until, t0 + 64 * t1) - 1e-9:
        t += interval
        out.append(t)
        interval = min(2 * interval, t2)
    return out


def check_2xx_retransmissions(
    grams: list[Datagram], uas: str, t1: float, t2: float, until: float | None = None
) -> None:
    """13.3.1.4: each 2xx to an INVITE is sent at the instants of :func:`retransmit_times`
    until the first ACK for it is delivered (JsSIP stopped at T2, sipml5 went on after the
    ACK); after 64*T1 without an ACK a BYE is sent (the session SHOULD be terminated).

    ``until`` is when the observation ended (default: the last datagram): a log that went
    quiet before 64*T1 but was watched past it must show the BYE too."""
    firsts: dict[tuple[str, int], float] = {}
    sends: dict[tuple[str, int], list[float]] = {}
    for d in grams:
        m = d.msg
        if (
            d.sender == uas
            and isinstance(m, Response)
            and 200 <= m.status < 300
            and _method(d) == "INVITE"
            and m.cseq
        ):
            key = (_tags(m)[1], m.cseq.seq)
            firsts.setdefault(key, d.t)
            sends.setdefault(key, []).append(d.t)
    for key, t0 in firsts.items():
        acked = [
            d.t
            for d in grams
            if d.sender != uas
            and d.delivered
            and isinstance(d.msg, Request)
            and d.msg.method == "ACK"
            and d.msg.cseq
            and d.msg.cseq.seq == key[1]
            and _tags(d.msg)[1] == key[0]
            and d.t >= t0
        ]
        bye_in = [
            d.t
            for d in grams
            if d.sender != uas
            and d.delivered
            and isinstance(d.msg, Request)
            and d.msg.method == "BYE"
            and d.t >= t0
        ]
        end_log = max([d.t for d in grams] + ([until] if until is not None else []))
        stop = min([*acked, *bye_in, end_log + 1e-6])
        want = [t for t in retransmit_times(t0, t1, t2, stop + 1e-6) if t <= stop + 1e-9]
        got = sends[key]
        # At the instant the ACK arrives a retransmission may or may not have gone first.
        at_stop = bool(want) and abs(want[-1] - stop) < 1e-9
        assert _close(got, want) or (at_stop and _close(got, want[:-1])), (
            f"13.3.1.4: 2xx {key} sent at {got}, expected {want}"
        )
        if not acked and not bye_in and end_log >= t0 + 64 * t1:
            byes = [
                d.t
                for d in grams
                if d.sender == uas
                and isinstance(d.msg, Request)
                and d.msg.method == "BYE"
                and d.t >= t0
            ]
            assert byes and abs(byes[0] - (t0 + 64 * t1)) < 1e-6, (
                f"13.3.1.4: no BYE at 64*T1 after the un-ACKed 2xx {key}: {byes}"
            )


def _close(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) < 1e-6 for x, y in zip(a, b, strict=True))


def check_no_request_after_bye(grams: list[Datagram], sender: str) -> None:
    """12.3 and 15: once a BYE was sent or received on a dialog, the UA sends no new request
    on it (retransmissions by their transactions of requests sent before excepted; an ACK is
    no new request: 13.2.2.4 and 17.1.1.3 require it for every final response received)."""
    ended: dict[tuple[str, str, str], str] = {}
    before: set[tuple[str, str]] = set()
    for d in grams:
        m = d.msg
        if not isinstance(m, Request) or m.method in ("CANCEL", "ACK"):
            continue
        frm, to = _tags(m)
        mine = d.sender == sender
        key = (m.call_id or "", frm, to) if mine else (m.call_id or "", to, frm)
        again = (_branch(m), m.method) in before
        if mine and key in ended and _branch(m) != ended[key] and not again:
            raise AssertionError(f"12.3: {sender} sent {m.method} on a dialog ended by BYE")
        if mine:
            before.add((_branch(m), m.method))
        if m.method == "BYE" and (mine or d.delivered):
            ended.setdefault(key, _branch(m) if mine else "")


def _final_from(grams: list[Datagram], start: int, uas: str, req: Request) -> Response | None:
    """The first final response ``uas`` sent to ``req`` (its branch and method) after
    position ``start`` of the log."""
    for d in grams[start:]:
        m = d.msg
        if (
            d.sender == uas
            and isinstance(m, Response)
            and m.status >= 200
            and _method(d) == req.method
            and _branch(m) == _branch(req)
        ):
            return m
    return None


def _answered_before(grams: list[Datagram], end: int, uas: str, req: Request) -> bool:
    return _final_from(grams[:end], 0, uas, req) is not None


def _in_progress(grams: list[Datagram], end: int, sender: str, call_id: str) -> bool:
    """Whether an INVITE ``sender`` sent in the call ``call_id`` has had no final response
    delivered to it by position ``end`` of the log (14.2: "in progress")."""
    for d in first_sends(grams[:end], sender):
        m = d.msg
        if isinstance(m, Request) and m.method == "INVITE" and m.call_id == call_id:
            got = [
                e
                for e in grams[:end]
                if e.sender != sender
                and e.delivered
                and isinstance(e.msg, Response)
                and e.msg.status >= 200
                and _method(e) == "INVITE"
                and _branch(e.msg) == _branch(m)
            ]
            if not got:
                return True
    return False


def _glare_status(grams: list[Datagram], i: int, uas: str, req: Request) -> set[int]:
    """14.2: what the INVITE at position ``i``, on a dialog of ``uas`` (it has a To tag), must
    be answered: 491 while an INVITE ``uas`` sent in the call is in progress; 500 while an
    INVITE of the peer with a lower CSeq on the dialog has no final response yet."""
    want: set[int] = set()
    call = req.call_id or ""
    if _in_progress(grams, i, uas, call):
        want.add(491)
    seq = req.cseq.seq if req.cseq else 0
    for d in first_sends(grams[:i], grams[i].sender):
        m = d.msg
        if (
            isinstance(m, Request)
            and m.method == "INVITE"
            and m.call_id == call
            and _tags(m)[0] == _tags(req)[0]
            and m.cseq is not None
            and m.cseq.seq < seq
            and d.delivered
            and not _answered_before(grams, i, uas, m)
        ):
            want.add(500)
    return want


def _ended_by_bye(grams: list[Datagram], i: int, uas: str, req: Request) -> bool:
    """15.1.2: a BYE on the dialog of ``req`` reached ``uas``, or ``uas`` sent one, after it."""
    peer_tag = _tags(req)[0]
    for d in grams[i + 1 :]:
        m = d.msg
        if not isinstance(m, Request) or m.method != "BYE" or m.call_id != req.call_id:
            continue
        if (d.sender != uas and d.delivered and _tags(m)[0] == peer_tag) or (
            d.sender == uas and _tags(m)[1] == peer_tag
        ):
            return True
    return False


def _cancelled(grams: list[Datagram], i: int, uas: str, req: Request) -> bool:
    """9.2: a CANCEL of ``req`` (its branch) reached ``uas`` after it."""
    return any(
        d.sender != uas
        and d.delivered
        and isinstance(d.msg, Request)
        and d.msg.method == "CANCEL"
        and _branch(d.msg) == _branch(req)
        for d in grams[i + 1 :]
    )


def check_requests_answered(grams: list[Datagram], uas: str) -> None:
    """Every request delivered to ``uas`` gets a final response from it (8.2.6, 17.2): every
    non-INVITE request (ACK excepted: it has none); an INVITE once a CANCEL of it arrived
    (9.2), once a BYE ended its dialog (15.1.2: "The UAS MUST still respond to any pending
    requests received for that dialog"; and a BYE the UAS sends itself, 15), and an INVITE on
    a dialog of ``uas`` at once with the code 14.2 prescribes: 491 while an INVITE ``uas``
    sent on the dialog is in progress, 500 with a Retry-After of 0-10 s while an INVITE of
    the peer with a lower CSeq has no final response yet. (An INVITE that waits for its TU
    otherwise may wait: 13.3.1 sets no bound without Expires.)"""
    seen: set[tuple[str, str]] = set()
    for i, d in enumerate(grams):
        m = d.msg
        if d.sender == uas or not d.delivered or not isinstance(m, Request) or m.method == "ACK":
            continue
        key = (_branch(m), m.method)
        if key in seen:
            continue
        seen.add(key)
        final = _final_from(grams, i, uas, m)
        what = f"{m.method} CSeq {m.cseq.seq if m.cseq else 0} from {d.sender} at {d.t}"
        if m.method != "INVITE":
            assert final is not None, f"8.2.6, 15.1.2: {uas} never answered {what}"
            continue
        want = _glare_status(grams, i, uas, m) if _tags(m)[1] else set()
        if want:
            assert final is not None and final.status in want, (
                f"14.2: {uas} answered {what} {final.status if final else 'never'}, not {want}"
            )
            if final.status == 500:
                after = final.get("Retry-After") or ""
                assert after.isdigit() and 0 <= int(after) <= 10, (
                    f"14.2: the 500 to {what} has Retry-After {after!r}, not 0-10 s"
                )
        elif _cancelled(grams, i, uas, m):
            assert final is not None, f"9.2: {uas} never answered the cancelled {what}"
        elif _ended_by_bye(grams, i, uas, m):
            assert final is not None, f"15.1.2: {uas} never answered {what}, its dialog ended"


def check_callee_bye_after_ack(grams: list[Datagram], uas: str, t1: float = 0.5) -> None:
    """15: "the callee's UA MUST NOT send a BYE on a confirmed dialog until it has received an
    ACK for its 2xx response or until the server transaction times out" (64*T1: Timer H,
    13.3.1.4). The callee: ``uas`` answering 2xx to an INVITE without To tag it received."""
    initial = {
        (d.msg.call_id or "", d.msg.cseq.seq)
        for d in grams
        if d.sender != uas
        and isinstance(d.msg, Request)
        and d.msg.method == "INVITE"
        and d.msg.cseq
        and not _tags(d.msg)[1]
    }
    answered: dict[str, float] = {}  # Call-ID -> when the first 2xx went
    acked: set[str] = set()
    for d in grams:
        m = d.msg
        call = m.call_id or ""
        if (
            d.sender == uas
            and isinstance(m, Response)
            and 200 <= m.status < 300
            and _method(d) == "INVITE"
            and m.cseq
            and (call, m.cseq.seq) in initial
        ):
            answered.setdefault(call, d.t)
        elif d.sender != uas and d.delivered and isinstance(m, Request) and m.method == "ACK":
            acked.add(call)
        elif d.sender == uas and isinstance(m, Request) and m.method == "BYE" and call in answered:
            t0 = answered[call]
            assert call in acked or d.t >= t0 + 64 * t1 - 1e-6, (
                f"15: {uas} sent BYE at {d.t} before the ACK of its 2xx (sent at {t0})"
            )


def check_glare_retry(grams: list[Datagram], uac: str, owner: bool) -> None:
    """14.1: after a 491 to its re-INVITE, a UAC retries (if it does) after a random time in
    units of 10 ms: 2.1-4 s when it owns the Call-ID, 0-2 s otherwise."""
    low, high = (2.1, 4.0) if owner else (0.0, 2.0)
    for i, d in enumerate(grams):
        m = d.msg
        if d.sender != uac and d.delivered and isinstance(m, Response) and m.status == 491:
            later = [
                e
                for e in grams[i + 1 :]
                if e.sender == uac
                and isinstance(e.msg, Request)
                and e.msg.method == "INVITE"
                and e.msg.cseq
                and m.cseq
                and e.msg.cseq.seq > m.cseq.seq
            ]
            if not later:
                continue
            wait = later[0].t - d.t
            assert low - 1e-6 <= wait <= high + 1e-6, f"14.1: retried after {wait} s"
            assert abs(wait * 100 - round(wait * 100)) < 1e-6, "14.1: not in 10 ms units"


def check_stray_2xx(grams: list[Datagram], uac: str, *, profile: str, t1: float = 0.5) -> None:
    """RFC 6026 8.9 (replacing the last paragraph of 18.1.2): a response matching no client
    transaction is silently discarded by every element but a stateless proxy. The INVITE
    client transaction lives 64*T1 (Timer M, RFC 6026 8.4) after the first 2xx it receives;
    a 2xx to that INVITE arriving later matches nothing, so under ``rfc6026`` the UAC sends
    no ACK for it and opens no dialog for its To tag (no ACK, no BYE on it). Under ``rfc3261``
    the old rule stands (the core gets it, :func:`check_acks`): nothing to check here."""
    if profile != "rfc6026":
        return
    first: dict[int, float] = {}
    strays: list[Datagram] = []
    for d in grams:
        m = d.msg
        if d.sender == uac or not d.delivered or not isinstance(m, Response):
            continue
        if not (200 <= m.status < 300 and _method(d) == "INVITE" and m.cseq is not None):
            continue
        start = first.setdefault(m.cseq.seq, d.t)
        if d.t > start + 64 * t1:
            strays.append(d)
    for stray in strays:
        m = stray.msg
        assert isinstance(m, Response) and m.cseq is not None
        known = any(
            x.t < stray.t
            and x.sender != uac
            and isinstance(x.msg, Response)
            and _tags(x.msg) == _tags(m)
            and x.t <= first[m.cseq.seq] + 64 * t1
            for x in grams
        )
        for d in grams:
            r = d.msg
            if d.sender != uac or d.t < stray.t or not isinstance(r, Request):
                continue
            ack = r.method == "ACK" and r.cseq is not None and r.cseq.seq == m.cseq.seq
            if ack and _tags(r) == _tags(m):
                raise AssertionError(
                    f"RFC 6026 8.9: ACK at {d.t} for a 2xx arriving at {stray.t}, after "
                    f"Timer M ({first[m.cseq.seq] + 64 * t1}): it matched no transaction"
                )
            if not known and _tags(r) == _tags(m):
                raise AssertionError(
                    f"RFC 6026 8.9: {r.method} at {d.t} on a dialog of a 2xx discarded at "
                    f"{stray.t} (no dialog is opened by a stray response)"
                )


def check_early_dialogs_end(grams: list[Datagram], uac: str, *, t1: float = 0.5) -> None:
    """13.2.2.4: "The UAC core considers the INVITE transaction completed 64*T1 seconds after
    the reception of the first 2xx response. At this point all the early dialogs that have not
    transitioned to established dialogs are terminated." An early dialog of ``uac`` is one a
    provisional response with a To tag created (12.1.2) and no 2xx with that tag confirmed
    within those 64*T1; a request within it delivered to ``uac`` after that instant matches no
    dialog and is answered 481 (12.2.2)."""
    first_2xx: dict[str, float] = {}  # Call-ID of an initial INVITE of uac -> first 2xx
    tags: dict[str, set[str]] = {}  # Call-ID -> To tags of its provisional responses
    confirmed: dict[str, set[str]] = {}
    mine: dict[str, str] = {}  # Call-ID -> uac's From tag
    for d in grams:
        m = d.msg
        if d.sender == uac and isinstance(m, Request) and m.method == "INVITE":
            if not _tags(m)[1]:
                mine.setdefault(m.call_id or "", _tags(m)[0])
            continue
        if d.sender == uac or not d.delivered or not isinstance(m, Response):
            continue
        call = m.call_id or ""
        if _method(d) != "INVITE" or call not in mine or not _tags(m)[1]:
            continue
        if m.status < 200:
            tags.setdefault(call, set()).add(_tags(m)[1])
        elif m.status < 300:
            t0 = first_2xx.setdefault(call, d.t)
            if d.t <= t0 + 64 * t1 + 1e-9:
                confirmed.setdefault(call, set()).add(_tags(m)[1])
    for i, d in enumerate(grams):
        m = d.msg
        if d.sender == uac or not d.delivered or not isinstance(m, Request) or m.method == "ACK":
            continue
        call = m.call_id or ""
        frm, to = _tags(m)
        if call not in first_2xx or to != mine.get(call) or d.t <= first_2xx[call] + 64 * t1:
            continue
        if frm in tags.get(call, set()) - confirmed.get(call, set()):
            final = _final_from(grams, i, uac, m)
            assert final is not None and final.status == 481, (
                f"13.2.2.4: {uac} answered {m.method} at {d.t} on an early dialog "
                f"{final.status if final else 'never'}, not 481: it ended at "
                f"{first_2xx[call] + 64 * t1} (64*T1 after the first 2xx)"
            )


def _cancel_sent(grams: list[Datagram], uac: str, call: tuple[str, int]) -> float | None:
    """When ``uac`` first sent a CANCEL of its INVITE ``call`` (Call-ID, CSeq number), 9.1."""
    for d in grams:
        m = d.msg
        if (
            d.sender == uac
            and isinstance(m, Request)
            and m.method == "CANCEL"
            and m.cseq is not None
            and (m.call_id or "", m.cseq.seq) == call
        ):
            return d.t
    return None


def check_cancelled_invite_destroyed(grams: list[Datagram], uac: str, *, t1: float = 0.5) -> None:
    """9.1: "If there is no final response for the original request in 64*T1 seconds ...,
    the client SHOULD then consider the original transaction cancelled and SHOULD destroy the
    client transaction handling the original request." A 300-699 to a cancelled INVITE of
    ``uac`` that arrives later than 64*T1 after the CANCEL, no final response having arrived
    before, finds no transaction (17.1.3): ``uac`` sends no ACK for it (17.1.1.3, the ACK of a
    non-2xx is the transaction's)."""
    late: dict[tuple[str, int], float] = {}
    answered: set[tuple[str, int]] = set()
    for d in grams:
        m = d.msg
        if d.sender == uac or not d.delivered or not isinstance(m, Response) or not m.cseq:
            continue
        call = (m.call_id or "", m.cseq.seq)
        if _method(d) != "INVITE" or m.status < 200 or call in answered:
            continue
        answered.add(call)
        sent = _cancel_sent(grams, uac, call)
        if m.status >= 300 and sent is not None and d.t > sent + 64 * t1 + 1e-9:
            late[call] = d.t
    for d in grams:
        m = d.msg
        if d.sender == uac and isinstance(m, Request) and m.method == "ACK" and m.cseq:
            call = (m.call_id or "", m.cseq.seq)
            assert call not in late or d.t < late[call], (
                f"9.1: {uac} ACKed at {d.t} a final response to INVITE {call[1]} arriving at "
                f"{late[call]}, more than 64*T1 after its CANCEL: the transaction was not destroyed"
            )


def check_call(
    grams: list[Datagram],
    parties: tuple[str, ...] = ("alice", "bob"),
    *,
    profile: str,
    t1: float = 0.5,
    t2: float = 4.0,
    until: float | None = None,
) -> None:
    """Every rule above that holds for each party of a call, whatever the flow, under
    ``profile`` (``rfc3261`` or ``rfc6026``: which stray 2xx reach the UA core)."""
    for who in parties:
        check_cseq_increasing(grams, who)
        check_dialog_requests(grams, who)
        check_no_request_after_bye(grams, who)
        check_acks(grams, who, profile=profile, t1=t1)
        check_2xx_after_a_failure_byed(grams, who, profile=profile, t1=t1)
        check_stray_2xx(grams, who, profile=profile, t1=t1)
        check_cancelled_invite_destroyed(grams, who, t1=t1)
        check_non_2xx_acks(grams, who, t1)
        check_requests_answered(grams, who)
        check_callee_bye_after_ack(grams, who, t1)
        check_2xx_retransmissions(grams, who, t1, t2, until)
        check_early_dialogs_end(grams, who, t1=t1)


def sequence(grams: list[Datagram], *, delivered_only: bool = True) -> list[str]:
    """The message sequence as ``sender:METHOD`` or ``sender:STATUS``."""
    out = []
    for d in grams:
        if delivered_only and not d.delivered:
            continue
        m = d.msg
        out.append(f"{d.sender}:{m.method if isinstance(m, Request) else m.status}")
    return out
