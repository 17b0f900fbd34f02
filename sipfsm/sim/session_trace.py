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

``sipfsm trace dialog`` runs the dialog model on its own (:mod:`~sipfsm.sim.dialog_trace`);
the peer is :class:`~sipfsm.sim.peer.ScriptedPeer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sipfsm.engine.outputs import Step
from sipfsm.errors import ProtocolError
from sipfsm.model.loader import DEFAULT_PROFILE, Machine, load_timers
from sipfsm.model.timers import Timers
from sipfsm.sim.dialog_trace import run_dialog_trace
from sipfsm.sim.peer import PEER, ScriptedPeer
from sipfsm.sim.steps import TraceInputError, TraceRefused, clock_advance, is_status_code
from sipfsm.ua.core import UA, InviteSession

_WORDS = "+SECONDS, recv=CODE, recv=ACK|BYE|INVITE|CANCEL, tu=bye|cancel|invite|CODE (CODE 100-699)"


def is_session_model(model: str | Machine) -> bool:
    """Whether ``model`` is one of the UA-core models ``sipfsm trace`` runs with a UA."""
    name = model.name if isinstance(model, Machine) else model
    return name in ("invite_session_client", "invite_session_server", "dialog")


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
    peer = ScriptedPeer(ua)
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
        return "advance", str(clock_advance(word))
    name, sep, arg = word.partition("=")
    low = arg.lower()
    if (
        sep
        and name == "recv"
        and (low in ("ack", "bye", "invite", "cancel") or is_status_code(arg))
    ):
        return "recv", arg.upper()
    if sep and name == "tu" and (low in ("bye", "cancel", "invite") or is_status_code(arg)):
        return "tu", low
    raise TraceInputError(f"bad event {word!r} for a session: use {_WORDS}")


def _take(
    ua: UA, peer: ScriptedPeer, session: InviteSession, now: float, kind: str, arg: str
) -> float:
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
