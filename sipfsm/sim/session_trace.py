"""``sipfsm trace`` for the INVITE session models: one UA and a scripted peer, virtual clock.

``sipfsm trace invite_session_client recv=180 recv=200 +5 tu=bye recv=200`` runs a caller
(a :class:`~sipfsm.ua.core.UA`: the session model over its transaction layer) from t = 0, when it
has sent its INVITE; ``invite_session_server`` runs a callee that has just received one. The
peer is the script: ``recv=CODE`` the peer answers the newest request of ours still without a
final response (with none: it sends the last final response again, a retransmission);
``recv=ACK|BYE|INVITE|CANCEL`` the peer sends that request within the dialog (an ACK for our
last final response, a BYE, a re-INVITE, a CANCEL of its pending INVITE); ``tu=bye|cancel|
invite`` and ``tu=CODE`` are our TU's wishes; ``+S`` advances the clock. Every message is
built as bytes and parsed strictly, and the trace shows what the UA sent and received, its
session timers and its session's states.

``sipfsm trace dialog recv=180 recv=200 send=INFO recv=BYE`` runs the dialog model on its own
(a :class:`~sipfsm.ua.dialog.Dialog` of the caller, 12): ``recv=CODE`` a response to the
dialog-creating INVITE (with the peer's To tag, but for 100: 8.2.6.2), or, while a request we
sent within the dialog waits, a response to it (481 and 408 end the dialog, 12.2.1.2);
``send=METHOD`` a request within the dialog (``send=BYE`` ends it, 15); ``recv=METHOD`` one
from the peer (``recv=METHOD/CSEQ`` with that CSeq; an INVITE refreshes the remote target);
``timeout`` no response to our request (12.2.1.2). The trace shows the dialog's ID, route
set, remote target and sequence numbers as they change.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from sipfsm.engine.outputs import Step
from sipfsm.errors import ProtocolError
from sipfsm.message.build import (
    build_ack,
    build_cancel,
    build_in_dialog,
    build_request,
    build_response,
)
from sipfsm.message.constants import MAGIC_COOKIE
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.model.loader import DEFAULT_PROFILE, Machine, load_timers
from sipfsm.model.timers import Timers
from sipfsm.sim.steps import TraceInputError, TraceRefused
from sipfsm.ua.core import UA, InviteSession
from sipfsm.ua.dialog import Dialog

PEER = "peer.example.com"
PEER_TAG = "peertag"
PEER_CONTACT = f"<sip:peer@{PEER}>"
_WORDS = "+SECONDS, recv=CODE, recv=ACK|BYE|INVITE|CANCEL, tu=bye|cancel|invite|CODE (CODE 100-699)"
_DIALOG_WORDS = "+SECONDS, recv=CODE, recv=METHOD[/CSEQ], send=METHOD, timeout (CODE 100-699)"


def is_session_model(model: str | Machine) -> bool:
    """Whether ``model`` is one of the UA-core models ``sipfsm trace`` runs with a UA."""
    name = model.name if isinstance(model, Machine) else model
    return name in ("invite_session_client", "invite_session_server", "dialog")


class _Peer:
    """The scripted other side: it builds what it sends from what our UA sent it."""

    def __init__(self, ua: UA) -> None:
        self.ua = ua
        self.seen: list[Request | Response] = []  # everything our UA sent, in order
        self.finals: dict[str, Response] = {}  # our requests' final responses by branch
        self.sent: list[Request] = []  # requests the peer sent
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
        resp = build_response(
            req, code, to_tag=PEER_TAG, contact=PEER_CONTACT if code < 300 else None
        )
        if code >= 200:
            self.finals[_branch(req) + req.method] = resp
        return resp.raw

    def initial_invite(self, target: str) -> bytes:
        self.seq += 1
        req = build_request(
            "INVITE",
            target,
            from_=f"<sip:peer@{PEER}>;tag={PEER_TAG}",
            call_id=f"call@{PEER}",
            cseq=self.seq,
            sent_by=PEER,
            branch=self._branch(),
            contact=PEER_CONTACT,
        )
        self.sent.append(req)
        return req.raw

    def _branch(self) -> str:
        self.n += 1
        return f"{MAGIC_COOKIE}peer{self.n}"

    def request(self, method: str, session: InviteSession) -> bytes:
        """A request of the peer within the dialog (from our dialog state, mirrored)."""
        d = session.dialog or next(iter(session.dialogs.values()), None)
        invites = [r for r in self.sent if r.method == "INVITE"]
        if method in ("ACK", "CANCEL"):
            if not invites:
                raise TraceInputError(f"recv={method}: the peer sent no INVITE")
            inv = invites[-1]
            ours = [
                m
                for m in self.seen
                if isinstance(m, Response)
                and m.cseq
                and m.cseq.method == "INVITE"
                and m.cseq.seq == (inv.cseq.seq if inv.cseq else 0)
            ]
            final = [m for m in ours if m.status >= 200]
            if method == "CANCEL":
                return build_cancel(inv).raw  # 9.1
            if not final:
                raise TraceInputError(
                    "recv=ACK: our UA has sent no final response to the peer's INVITE"
                )
            if final[-1].status >= 300:
                return build_ack(inv, final[-1]).raw  # 17.1.1.3: on the INVITE's branch
            seq = inv.cseq.seq if inv.cseq else 1  # 13.2.2.4: the ACK of a 2xx
            return build_in_dialog(
                "ACK",
                inv.uri,
                to=final[-1].get("To") or "",
                from_=inv.get("From") or "",
                call_id=inv.get("Call-ID") or "",
                cseq=seq,
                sent_by=PEER,
                branch=self._branch(),
            ).raw
        if d is None or d.id is None or d.local_uri is None or d.remote_uri is None:
            raise TraceInputError(f"recv={method}: there is no dialog yet")
        self.seq = max(self.seq, d.remote_seq or 0) + 1
        req = _mirror(d, method, self.seq, f"sip:{self.ua.user}@{self.ua.host}", self._branch())
        self.sent.append(req)
        return req.raw


def _mirror(d: Dialog, method: str, seq: int, uri: str, branch: str) -> Request:
    """A request of the peer within ``d``: our dialog state seen from the other side."""
    assert d.id is not None and d.local_uri is not None and d.remote_uri is not None
    return build_in_dialog(
        method,
        uri,
        to=f"<{d.local_uri}>;tag={d.id.local_tag}",
        from_=f"<{d.remote_uri}>;tag={d.id.remote_tag}",
        call_id=d.id.call_id,
        cseq=seq,
        sent_by=PEER,
        branch=branch,
        contact=PEER_CONTACT if method == "INVITE" else None,
    )


def _branch(m: Request | Response) -> str:
    return m.via[0].branch or ""


def run_session_trace(
    model: str | Machine,
    events: Sequence[str],
    *,
    transport: str = "udp",
    profile: str = DEFAULT_PROFILE,
    timers: Timers | None = None,
    directory: Path | None = None,
) -> list[Step]:
    """Run the script against a UA of the session model; raise :class:`TraceRefused` (with
    the steps so far) when the model refuses an event. A loaded ``model`` runs as given, with
    the timers of its ``directory`` when one is named."""
    name = model.name if isinstance(model, Machine) else model
    if name == "dialog":
        return run_dialog_trace(events, profile=profile, model=model)
    script = [_word(w) for w in events]
    ua = UA(
        "me",
        "me.example.com",
        transport=transport,
        profile=profile,
        timers=timers or Timers(),
        random=lambda: 0.5,
        models={name: model} if isinstance(model, Machine) else None,
        timer_table=load_timers(directory) if directory is not None else None,
    )
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


def _take(ua: UA, peer: _Peer, session: InviteSession, now: float, kind: str, arg: str) -> float:
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


# --- the dialog model on its own (12) -----------------------------------------------------------


def run_dialog_trace(
    events: Sequence[str], *, profile: str = DEFAULT_PROFILE, model: str | Machine = "dialog"
) -> list[Step]:
    """Run the script against the caller's :class:`~sipfsm.ua.dialog.Dialog` (its INVITE sent
    at t = 0; ``model``: the dialog model, by default ``models/dialog.toml``); raise
    :class:`TraceRefused` when the dialog model refuses an event."""
    script = [_dialog_word(w) for w in events]
    rng = random.Random(0)
    invite = build_request(
        "INVITE",
        f"sip:peer@{PEER}",
        call_id="call@me.example.com",
        from_="<sip:me@me.example.com>;tag=metag",
        sent_by="me.example.com",
        rng=rng,
    )
    dialog = Dialog("uac", invite, profile, model=model)
    trace = _DialogTrace(dialog, rng)
    trace.note(0.0, "send INVITE")
    now = 0.0
    try:
        for kind, arg in script:
            if kind == "advance":
                now += float(arg)
            else:
                trace.take(now, kind, arg)
    except ProtocolError as exc:
        raise TraceRefused(trace.steps, exc) from None
    return trace.steps


def _dialog_word(word: str) -> tuple[str, str]:
    if word.startswith("+"):
        return _word(word)
    if word == "timeout":
        return "timeout", ""
    name, sep, arg = word.partition("=")
    head, _, tail = arg.partition("/")
    if sep and name == "recv" and _code(arg):
        return "recv", arg
    if sep and name == "recv" and head.upper() in ("ACK", "CANCEL"):
        raise TraceInputError(
            f"{word!r}: the caller's dialog receives no {head.upper()} (the "
            "callee's does: trace invite_session_server)"
        )
    if sep and name == "recv" and head.isalpha() and (tail == "" or tail.isdigit()):
        return "request", f"{head.upper()}/{tail}"
    if sep and name == "send" and arg.isalpha() and arg.upper() not in ("ACK", "CANCEL"):
        return "send", arg.upper()
    raise TraceInputError(f"bad event {word!r} for the dialog: use {_DIALOG_WORDS}")


class _DialogTrace:
    """The caller's dialog fed by a script; each step names what changed in its state."""

    def __init__(self, dialog: Dialog, rng: random.Random) -> None:
        self.d = dialog
        self.rng = rng
        self.steps: list[Step] = []
        self.waiting: Request | None = None  # our request within the dialog, unanswered
        self.seq = 0

    def note(self, now: float, what: str) -> None:
        self.steps.append(Step(now, what, self.d.state))

    def take(self, now: float, kind: str, arg: str) -> None:
        before = self._view()
        if kind == "recv":
            self._response(now, arg)
        elif kind == "request":
            self._request_in(now, arg)
        elif kind == "send":
            req = self.d.request(arg, sent_by="me.example.com", rng=self.rng)
            self.note(now, f"send {arg}")
            self.waiting = None if arg == "BYE" else req
            if arg == "BYE":
                self.d.bye()  # 15: the dialog ends when the BYE is sent
        else:
            if self.waiting is None:
                raise TraceInputError("timeout: no request of ours within the dialog waits")
            self.note(now, f"timeout ({self.waiting.method})")
            self.waiting = None
            self.d.failed()
        for what in _changes(before, self._view()):
            self.note(now, what)

    def _response(self, now: float, arg: str) -> None:
        code = int(arg)
        if self.waiting is not None:  # a response to our request within the dialog
            req, self.waiting = self.waiting, (self.waiting if code < 200 else None)
            self.note(now, f"recv {code} ({req.method})")
            if code in (408, 481):
                self.d.failed()  # 12.2.1.2
            elif 200 <= code < 300 and req.method == "INVITE":
                self.d.refreshed(build_response(req, code, contact=PEER_CONTACT))
            return
        resp = build_response(
            self.d.invite, code, to_tag=PEER_TAG, contact=PEER_CONTACT if code < 300 else None
        )
        self.note(
            now,
            f"recv {code}"
            + (f" (To tag {resp.to.tag})" if resp.to is not None and resp.to.tag else ""),
        )
        self.d.response(resp)

    def _request_in(self, now: float, arg: str) -> None:
        method, _, cseq = arg.partition("/")
        d = self.d
        if d.id is None or d.local_uri is None or d.remote_uri is None:
            raise TraceInputError(f"recv={method}: there is no dialog yet")
        self.seq = int(cseq) if cseq else max(self.seq, d.remote_seq or 0) + 1
        self.note(now, f"recv {method} (CSeq {self.seq})")
        req = _mirror(d, method, self.seq, "sip:me@me.example.com", f"{MAGIC_COOKIE}peer{self.seq}")
        if method == "BYE":
            if d.receive_request(req) is None:
                d.bye()
                self.note(now, "send 200 (BYE)")
            else:
                self.note(now, "send 500 (BYE): CSeq out of order")
            return
        verdict = d.receive_request(req)
        self.note(
            now,
            f"send 500 ({method}): CSeq out of order" if verdict == 500 else f"to TU ({method})",
        )

    def _view(self) -> dict[str, str]:
        d = self.d
        return {
            "dialog": str(d.id) if d.id else "",
            "route set": " ".join(f"<{u}>" for u in d.route_set),
            "remote target": str(d.remote_target or ""),
            "local CSeq": str(d.local_seq),
            "remote CSeq": str(d.remote_seq),
            "state": d.state,
        }


def _changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    out = [f"{k} {v or '(none)'}" for k, v in after.items() if k != "state" and v != before[k]]
    if after["state"] != before["state"]:
        out.append(f"enter {after['state']}")
    return out
