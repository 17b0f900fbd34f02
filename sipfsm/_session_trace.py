"""``sipfsm trace`` for the INVITE session models: one UA and a scripted peer, virtual clock.

``sipfsm trace invite_session_client recv=180 recv=200 +5 tu=bye recv=200`` runs a caller
(a :class:`~sipfsm._ua.UA`: the session model over its transaction layer) from t = 0, when it
has sent its INVITE; ``invite_session_server`` runs a callee that has just received one. The
peer is the script: ``recv=CODE`` the peer answers the newest request of ours still without a
final response (with none: it sends the last final response again, a retransmission);
``recv=ACK|BYE|INVITE|CANCEL`` the peer sends that request within the dialog (an ACK for our
last final response, a BYE, a re-INVITE, a CANCEL of its pending INVITE); ``tu=bye|cancel|
invite`` and ``tu=CODE`` are our TU's wishes; ``+S`` advances the clock. Every message is
built as bytes and parsed strictly, and the trace shows what the UA sent and received, its
session timers and its session's states.
"""

from __future__ import annotations

from collections.abc import Sequence

from sipfsm._errors import ProtocolError
from sipfsm._model import DEFAULT_PROFILE, Machine
from sipfsm._parse import parse
from sipfsm._timers import Timers
from sipfsm._trace import Step, TraceInputError, TraceRefused
from sipfsm._ua import UA, InviteSession
from sipfsm._uamsg import request as build_request
from sipfsm._uamsg import response as build_response
from sipfsm.message import Request, Response

PEER = "peer.example.com"
PEER_TAG = "peertag"
_WORDS = ("+SECONDS, recv=CODE, recv=ACK|BYE|INVITE|CANCEL, tu=bye|cancel|invite|CODE "
          "(CODE 100-699)")


def is_session_model(model: str | Machine) -> bool:
    """Whether ``model`` is one of the UA-core models ``sipfsm trace`` runs with a UA."""
    name = model.name if isinstance(model, Machine) else model
    return name in ("invite_session_client", "invite_session_server", "dialog")


class _Peer:
    """The scripted other side: it builds what it sends from what our UA sent it."""

    def __init__(self, ua: UA) -> None:
        self.ua = ua
        self.seen: list[Request | Response] = []   # everything our UA sent, in order
        self.finals: dict[str, Response] = {}       # our requests' final responses by branch
        self.sent: list[Request] = []               # requests the peer sent
        self.seq = 0
        self.n = 0

    def collect(self) -> list[bytes]:
        out = self.ua.drain()
        self.seen.extend(parse(d, strict=True) for d in out)
        return out

    def respond(self, code: int) -> bytes:
        """A response to our newest request without a final response (else a retransmission
        of the newest final response)."""
        ours = [m for m in self.seen if isinstance(m, Request) and m.method != "ACK"]
        waiting = [m for m in ours if _branch(m) + m.method not in self.finals]
        if not waiting:
            if not self.finals:
                raise TraceInputError(f"recv={code}: our UA has sent no request to answer")
            return list(self.finals.values())[-1].raw
        req = waiting[-1]
        tag = PEER_TAG if code != 100 else None
        headers = (("Contact", f"<sip:peer@{PEER}>"),) if code < 300 else ()
        resp = build_response(req, code, to_tag=tag, headers=headers,
                              record_route=req.method == "INVITE")
        if code >= 200:
            self.finals[_branch(req) + req.method] = resp
        return resp.raw

    def initial_invite(self, target: str) -> bytes:
        self.seq += 1
        req = build_request("INVITE", target, [
            ("Via", self._via()), ("Max-Forwards", "70"), ("To", f"<{target}>"),
            ("From", f"<sip:peer@{PEER}>;tag={PEER_TAG}"), ("Call-ID", f"call@{PEER}"),
            ("CSeq", f"{self.seq} INVITE"), ("Contact", f"<sip:peer@{PEER}>")])
        self.sent.append(req)
        return req.raw

    def _via(self, branch: str | None = None) -> str:
        self.n += 1
        return f"SIP/2.0/UDP {PEER};branch={branch or f'z9hG4bKpeer{self.n}'}"

    def request(self, method: str, session: InviteSession) -> bytes:
        """A request of the peer within the dialog (from our dialog state, mirrored)."""
        d = session.dialog or next(iter(session.dialogs.values()), None)
        invites = [r for r in self.sent if r.method == "INVITE"]
        if method in ("ACK", "CANCEL"):
            if not invites:
                raise TraceInputError(f"recv={method}: the peer sent no INVITE")
            inv = invites[-1]
            ours = [m for m in self.seen if isinstance(m, Response) and m.cseq
                    and m.cseq.method == "INVITE" and m.cseq.seq == (inv.cseq.seq
                                                                     if inv.cseq else 0)]
            final = [m for m in ours if m.status >= 200]
            to = (final[-1] if final else ours[-1] if ours else inv).get("To") or ""
            branch = _branch(inv) if method == "CANCEL" or (
                final and final[-1].status >= 300) else None
            seq = inv.cseq.seq if inv.cseq else 1
            req = build_request(method, inv.uri, [
                ("Via", self._via(branch)), ("Max-Forwards", "70"), ("To", to),
                ("From", inv.get("From") or ""), ("Call-ID", inv.get("Call-ID") or ""),
                ("CSeq", f"{seq} {method}")])
            return req.raw
        if d is None or d.id is None or d.local_uri is None or d.remote_uri is None:
            raise TraceInputError(f"recv={method}: there is no dialog yet")
        self.seq = max(self.seq, d.remote_seq or 0) + 1
        headers = [("Via", self._via()), ("Max-Forwards", "70"),
                   ("To", f"<{d.local_uri}>;tag={d.id.local_tag}"),
                   ("From", f"<{d.remote_uri}>;tag={d.id.remote_tag}"),
                   ("Call-ID", d.id.call_id), ("CSeq", f"{self.seq} {method}")]
        if method == "INVITE":
            headers.append(("Contact", f"<sip:peer@{PEER}>"))
        req = build_request(method, f"sip:{self.ua.user}@{self.ua.host}", headers)
        self.sent.append(req)
        return req.raw


def _branch(m: Request | Response) -> str:
    return m.via[0].branch or ""


def run_session_trace(model: str | Machine, events: Sequence[str], *, transport: str = "udp",
                      profile: str = DEFAULT_PROFILE, timers: Timers | None = None
                      ) -> list[Step]:
    """Run the script against a UA of the session model; raise :class:`TraceRefused` (with
    the steps so far) when the model refuses an event."""
    name = model.name if isinstance(model, Machine) else model
    if name == "dialog":
        raise TraceInputError("the dialog is traced through its session: use "
                              "invite_session_client or invite_session_server")
    script = [_word(w) for w in events]
    ua = UA("me", "me.example.com", transport=transport, profile=profile,
            timers=timers or Timers(), random=lambda: 0.5)
    peer = _Peer(ua)
    now = 0.0
    try:
        if name == "invite_session_client":
            session = ua.invite(f"sip:peer@{PEER}", now)
        else:
            ua.receive(peer.initial_invite(f"sip:me@{ua.host}"), now)
            session = ua.sessions[0]
        peer.collect()
        for kind, arg in script:
            now = _take(ua, peer, session, now, kind, arg)
    except ProtocolError as exc:
        raise TraceRefused(list(ua.trace), exc) from None
    if ua.errors:
        raise TraceRefused(list(ua.trace), ua.errors[0])
    return list(ua.trace)


def _word(word: str) -> tuple[str, str]:
    if word.startswith("+"):
        try:
            seconds = float(word[1:])
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds < float("inf"):
            raise TraceInputError(f"bad clock advance {word!r}: use +SECONDS, like +0.5")
        return "advance", str(seconds)
    name, sep, arg = word.partition("=")
    low = arg.lower()
    if sep and name == "recv" and (low in ("ack", "bye", "invite", "cancel") or _code(arg)):
        return "recv", arg.upper()
    if sep and name == "tu" and (low in ("bye", "cancel", "invite") or _code(arg)):
        return "tu", low
    raise TraceInputError(f"bad event {word!r} for a session: use {_WORDS}")


def _code(arg: str) -> bool:
    return arg.isdigit() and 100 <= int(arg) <= 699


def _take(ua: UA, peer: _Peer, session: InviteSession, now: float, kind: str,
          arg: str) -> float:
    if kind == "advance":
        target = now + float(arg)
        while (due := ua.get_timer()) is not None and due <= target:
            ua.handle_timer(due)
            peer.collect()
        return target
    if kind == "recv":
        data = peer.respond(int(arg)) if arg.isdigit() else peer.request(arg, session)
        ua.receive(data, now)
    elif arg.isdigit():
        session.answer(int(arg), now)
    else:
        getattr(session, {"invite": "reinvite"}.get(arg, arg))(now)
    peer.collect()
    return now
