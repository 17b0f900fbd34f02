"""``sipfsm trace dialog``: the dialog model on its own (RFC 3261 section 12), virtual clock.

``sipfsm trace dialog recv=180 recv=200 send=INFO recv=BYE`` runs a
:class:`~sipfsm.ua.dialog.Dialog` of the caller: ``recv=CODE`` a response to the
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

from sipfsm.engine.outputs import Step
from sipfsm.errors import ProtocolError
from sipfsm.message.build import build_request, build_response
from sipfsm.message.constants import MAGIC_COOKIE
from sipfsm.message.message import Request
from sipfsm.model.loader import DEFAULT_PROFILE, Machine
from sipfsm.sim.peer import PEER, PEER_CONTACT, PEER_TAG, mirror
from sipfsm.sim.steps import TraceInputError, TraceRefused, clock_advance, is_status_code
from sipfsm.ua.dialog import Dialog

_DIALOG_WORDS = "+SECONDS, recv=CODE, recv=METHOD[/CSEQ], send=METHOD, timeout (CODE 100-699)"


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
        return "advance", str(clock_advance(word))
    if word == "timeout":
        return "timeout", ""
    name, sep, arg = word.partition("=")
    head, _, tail = arg.partition("/")
    if sep and name == "recv" and is_status_code(arg):
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
        req = mirror(d, method, self.seq, "sip:me@me.example.com", f"{MAGIC_COOKIE}peer{self.seq}")
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
