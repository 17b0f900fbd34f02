"""The UA core as data: INVITE sessions (RFC 3261 13-15, 9) driving the transaction models (17).

A :class:`UA` is one user agent, sans-IO: it takes bytes (:meth:`UA.receive`) and the TU's
wishes (:meth:`UA.invite`, :meth:`InviteSession.answer`, :meth:`~InviteSession.cancel`,
:meth:`~InviteSession.bye`, :meth:`~InviteSession.reinvite`, :meth:`UA.request`), always with
``now``, and leaves the bytes to send in :attr:`UA.outbox`; :meth:`UA.get_timer` and
:meth:`UA.handle_timer` run the virtual clock, as for a transaction.

How the pieces fit (the design of issue 6):

- Each INVITE session is a :class:`~sipfsm.engine.runner.Runner` of ``models/invite_session_client``
  (caller) or ``models/invite_session_server`` (callee). Its actions *drive the transaction
  models*: ``send_invite`` creates an ``invite_client`` :class:`~sipfsm.Transaction` in the
  :class:`~sipfsm.TransactionLayer`, ``send_bye`` / ``send_cancel`` a ``non_invite_client``
  one, ``send_response`` passes the TU's response to the ``invite_server`` transaction. What
  those transactions output comes back here: ``Send`` goes on the wire, ``ToTU`` becomes the
  session's next event (a response maps to ``recv_2xx``, ``recv_491`` ... by its status, as
  for transactions; a timeout to ``tx_timeout`` or ``bye_done``).
- Each dialog is a :class:`~sipfsm.ua.dialog.Dialog` (``models/dialog.toml``) in a
  :class:`~sipfsm.ua.dialog.DialogSet`: the forks of one INVITE are each their own dialog, each
  2xx is ACKed on its own dialog with its own To tag and route set (13.2.2.4).
- What RFC 3261 puts in the UA core and not in any machine is here, citing its section:
  the ACK of a 2xx built by the core (13.2.2.4), CANCEL answered 200 or 481 (9.2), a request
  for an unknown dialog answered 481 (12.2.2), stray 2xx retransmissions (17.1.1.2: under
  RFC 3261 as published the INVITE client transaction is gone when they come).
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from sipfsm.engine.outputs import Output, Send, ToTU
from sipfsm.engine.runner import Runner
from sipfsm.engine.table import transport_reliable
from sipfsm.engine.transaction import Transaction
from sipfsm.engine.txlayer import TransactionKey, TransactionLayer
from sipfsm.errors import ProtocolError
from sipfsm.message.build import build_ack, build_cancel, build_request, build_response
from sipfsm.message.constants import MAGIC_COOKIE
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.model.loader import DEFAULT_PROFILE, Action, Machine, TimerTable, load_timers
from sipfsm.model.timers import Timers
from sipfsm.sim.trace import Step
from sipfsm.ua.dialog import Dialog, DialogID, DialogSet

Message = Request | Response


class _Via(TypedDict):
    """Where a request of the UA is sent from (8.1.1.7): the keywords of the builders."""

    sent_by: str
    transport: str
    branch: str


@dataclass(frozen=True, slots=True)
class TUEvent:
    """What the UA core tells its TU: ``what`` is ``INVITE``, ``response``, ``ACK``,
    ``request``, ``timeout`` or ``session over``."""

    t: float
    what: str
    status: int | None = None
    message: Message | None = None
    session: InviteSession | None = None


@dataclass(slots=True)
class _Ctx:
    """The context of one session event: the message, its transaction, its dialog."""

    message: Any = None
    tx: Transaction | None = None
    dialog: Dialog | None = None
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()


def _label(msg: Message) -> str:
    if isinstance(msg, Request):
        return msg.method
    cseq = msg.cseq
    return f"{msg.status}" + (f" ({cseq.method})" if cseq and cseq.method != "INVITE" else "")


class InviteSession:
    """One INVITE session: a run of ``invite_session_client`` or ``invite_session_server``.

    ``role`` is ``"client"`` (this UA sent the INVITE, 13.2) or ``"server"`` (13.3).
    ``dialog`` is the session's dialog once a 2xx chose it; ``dialogs`` every dialog of the
    initial INVITE (forks, 12.1.2).
    """

    def __init__(self, ua: UA, role: str, now: float) -> None:
        self.ua = ua
        self.role = role
        self.runner = Runner(
            ua.model(f"invite_session_{role}"),
            self,
            profile=ua.profile,
            timers=ua.timers,
            reliable=ua.reliable,
            random=ua.random,
            owner=role == "client",
            timer_table=ua.timer_table,
        )
        self.invite: Request | None = None  # the initial INVITE
        self.pending: Request | None = None  # our INVITE in progress (initial or re-)
        self.pending_tx: Transaction | None = None
        self.server_invite: Request | None = None  # the peer's INVITE being answered
        self.server_tx: Transaction | None = None
        self.last_2xx: Response | None = None  # our 2xx, retransmitted until ACK
        self.local_tag = ""
        self.dialog: Dialog | None = None
        self.dialogs: dict[str, Dialog] = {}  # by remote tag (UAC) / our tag (UAS)
        self.acked: set[tuple[str, int]] = set()  # (To tag, CSeq) of 2xx received
        self.t0 = now

    @property
    def state(self) -> str:
        """The session model's state."""
        return self.runner.state

    @property
    def terminated(self) -> bool:
        """Whether the session is over (15)."""
        return self.runner.terminated

    def __repr__(self) -> str:
        return f"<InviteSession {self.role} {self.state}>"

    # --- the TU's interface ---------------------------------------------------------------

    def answer(self, status: int, now: float, headers: tuple[tuple[str, str], ...] = ()) -> None:
        """The TU answers the peer's INVITE (initial or re-INVITE) with ``status`` (13.3.1)."""
        if self.server_tx is None:
            raise ProtocolError(
                self.runner.name,
                self.state,
                f"tu {status}",
                "13.3.1",
                "no INVITE of the peer is waiting for an answer",
            )
        event = self.runner.event_for_status(status, "tu")
        if event is None or status == 100:
            raise ProtocolError(
                self.runner.name,
                self.state,
                f"tu {status}",
                "13.3.1",
                "the TU answers an INVITE with 101-699 (the transaction "
                "sends the 100 itself, 17.2.1)",
            )
        self.ua._event(self, event, now, _Ctx(status=status, headers=headers))

    def cancel(self, now: float) -> None:
        """The TU cancels the pending initial INVITE (9.1)."""
        self.ua._event(self, "tu_cancel", now, _Ctx())

    def bye(self, now: float) -> None:
        """The TU ends the session (15.1.1)."""
        self.ua._event(self, "tu_bye", now, _Ctx(dialog=self.dialog))

    def reinvite(self, now: float) -> None:
        """The TU modifies the session: a re-INVITE (14.1)."""
        self.ua._event(self, "tu_invite", now, _Ctx())

    # --- the Runner's host ------------------------------------------------------------------

    def guard(self, name: str, context: object) -> bool:
        """The session models use no guards."""
        raise ProtocolError(self.runner.name, self.state, name, "13", "unknown guard")

    def act(self, action: Action, context: object, now: float) -> None:
        """Carry out one action of the session model (the UA core's verbs)."""
        ctx = context if isinstance(context, _Ctx) else _Ctx()
        self.ua._act(self, action, ctx, now)


class UA:
    """A user agent: the UA core (8, 12-15, 9) over a transaction layer (17), sans-IO.

    ``user`` and ``host`` make its address of record ``sip:user@host`` and its Contact;
    ``random`` (numbers in [0, 1)) picks glare retry times (14.1) and Retry-After values
    (14.2): inject one for determinism. ``strict`` parses every message received with
    ``sipfsm.parse(..., strict=True)``.

    ``models`` replaces the session and dialog models by name (``invite_session_client``,
    ``invite_session_server``, ``dialog``: loaded :class:`~sipfsm.Machine` objects), and
    ``timer_table`` the ``timers.toml`` of their timers: the meta-tests run deliberately
    broken models this way to prove the oracle catches them. The transactions always run
    the models of ``models/``.
    """

    def __init__(
        self,
        user: str,
        host: str,
        *,
        transport: str = "udp",
        profile: str = DEFAULT_PROFILE,
        timers: Timers | None = None,
        random: Callable[[], float] | None = None,
        strict: bool = True,
        name: str | None = None,
        models: Mapping[str, Machine] | None = None,
        timer_table: TimerTable | None = None,
    ) -> None:
        self.user = user
        self.host = host
        self.name = name or user
        self.transport = transport.upper()
        self.reliable = transport_reliable(transport)
        self.profile = profile
        self.timers = timers or Timers()
        self.random: Callable[[], float] = random or _random.Random(0).random
        self.strict = strict
        self.models: Mapping[str, Machine] = dict(models or {})
        unknown = set(self.models) - {"invite_session_client", "invite_session_server", "dialog"}
        if unknown:
            raise ValueError(f"models replaces the session and dialog models, not {unknown}")
        self.timer_table = timer_table or load_timers()
        self.layer = TransactionLayer(profile=profile, timers=self.timers)
        self.dialogs = DialogSet()
        self.sessions: list[InviteSession] = []
        self.outbox: list[bytes] = []
        self.tu: list[TUEvent] = []
        self.trace: list[Step] = []
        self.errors: list[ProtocolError] = []
        #: Requests outside any dialog waiting for the TU's answer (:meth:`respond`).
        self.requests: list[tuple[Request, Transaction]] = []
        self._n = 0
        self._owner: dict[Transaction, tuple[InviteSession | None, str]] = {}
        self._session_of: dict[DialogID, InviteSession] = {}

    @property
    def aor(self) -> str:
        """The address of record, ``sip:user@host``."""
        return f"sip:{self.user}@{self.host}"

    def __repr__(self) -> str:
        return f"<UA {self.aor} sessions={len(self.sessions)}>"

    def model(self, name: str) -> str | Machine:
        """The session or dialog model to run: an injected :class:`~sipfsm.Machine`, or the
        name of the one in ``models/``."""
        return self.models.get(name, name)

    # --- identifiers (8.1.1.3, 8.1.1.4, 8.1.1.7) --------------------------------------------

    def _token(self, kind: str) -> str:
        self._n += 1
        return f"{kind}{self.name}{self._n}"

    def _via(self) -> _Via:
        """Where a request of this UA is sent from: its Via (8.1.1.7), a new branch."""
        return _Via(
            sent_by=self.host, transport=self.transport, branch=f"{MAGIC_COOKIE}{self._token('b')}"
        )

    def _contact(self) -> str:
        return f"<sip:{self.user}@{self.host}>"

    def _new_request(
        self, method: str, target: str, to: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> Request:
        """A request outside any dialog (8.1.1): a new From tag and Call-ID, CSeq 1."""
        via = self._via()
        return build_request(
            method,
            target,
            **via,
            to=f"<{to}>",
            from_=f"<{self.aor}>;tag={self._token('t')}",
            call_id=f"{self._token('c')}@{self.host}",
            contact=self._contact(),
            headers=headers,
        )

    # --- the TU's interface -----------------------------------------------------------------

    def invite(self, target: str, now: float) -> InviteSession:
        """Start a call to ``target`` (a SIP URI): the initial INVITE (13.2.1)."""
        session = InviteSession(self, "client", now)
        self.sessions.append(session)
        self._start(session, now, _Ctx(message=target))
        return session

    def request(
        self,
        method: str,
        target: str,
        now: float,
        *,
        to: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Request:
        """Send a request outside any dialog (8.1.1): REGISTER (10.2), OPTIONS (11) ..."""
        req = self._new_request(method, target, to or target, headers)
        self._send_request(req, None, "request", now)
        return req

    def respond(
        self, req: Request, status: int, now: float, headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        """The TU answers a request outside any dialog (8.2.6)."""
        for i, (pending, tx) in enumerate(self.requests):
            if pending is req:
                del self.requests[i]
                return self._respond(tx, req, status, now, headers=headers, to_tag=self._token("t"))
        raise ProtocolError(
            "UA core", "-", f"tu {status}", "8.2.6", "no such request waits for an answer"
        )

    # --- the clock ----------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """The next deadline over the transactions and the sessions, or ``None``."""
        times = [
            t
            for t in [self.layer.get_timer(), *(s.runner.get_timer() for s in self.sessions)]
            if t is not None
        ]
        return min(times) if times else None

    def handle_timer(self, now: float) -> None:
        """Fire every timer due by ``now``, earliest first, each at its own instant."""
        while True:
            at = self.get_timer()
            if at is None or at > now:
                return
            if self.layer.get_timer() == at:
                for tx, outputs in self.layer.handle_timer(at):
                    self._outputs(tx, outputs, at)
                continue
            for session in self.sessions:
                due = session.runner.pop_due(at)
                if due is not None:
                    self._note(at, f"fire {due[0]}", session)
                    self._event(session, f"timer_{due[0]}", at, _Ctx(dialog=session.dialog))
                    break

    def drain(self) -> list[bytes]:
        """Take the bytes to send (in order)."""
        out, self.outbox = self.outbox, []
        return out

    # --- receiving --------------------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> None:
        """A datagram arrives from the transport (18.1.2, 18.2.1): parse it and handle it."""
        msg = parse(data, strict=self.strict)
        try:
            if isinstance(msg, Response):
                self._receive_response(msg, now)
            else:
                self._receive_request(msg, now)
        except ProtocolError as exc:  # a peer did something the models refuse: recorded
            self.errors.append(exc)
            self._note(now, f"refused {_label(msg)}: {exc}", None)

    def _receive_response(self, resp: Response, now: float) -> None:
        self._note(now, f"recv {_label(resp)}", self._session_for_response(resp))
        key = TransactionKey.from_message(resp)
        tx, outputs = self.layer.receive_response(key, resp, resp.status, now)
        if tx is not None:
            self._outputs(tx, outputs, now)
            return
        # 17.1.1.2 / RFC 6026: a 2xx the transaction layer does not match goes to the core,
        # which matches it to a dialog of its INVITE (a retransmission, or another fork).
        session = self._session_for_response(resp)
        if (
            session is not None
            and resp.cseq
            and resp.cseq.method == "INVITE"
            and 200 <= resp.status < 300
        ):
            self._invite_response(session, resp, now)
        else:
            self._note(now, f"stray {resp.status} dropped", session)

    def _session_for_response(self, resp: Response) -> InviteSession | None:
        tag = resp.from_.tag if resp.from_ else None
        for s in self.sessions:
            if (
                s.role == "client"
                and s.invite is not None
                and s.invite.from_
                and s.invite.from_.tag == tag
                and s.invite.call_id == resp.call_id
            ):
                return s
        for s in self.sessions:
            if s.dialog is not None and s.dialog.id and s.dialog.id.local_tag == tag:
                return s
        return None

    def _receive_request(self, req: Request, now: float) -> None:
        key = TransactionKey.from_message(req)
        existing = self.layer.match_request(key)
        cancelled = self.layer.match_cancel(key) if req.method == "CANCEL" else None
        tx, outputs = self.layer.receive_request(key, req, now, transport=self.transport.lower())
        session = self._session_for_request(req)
        self._note(now, f"recv {req.method}" + ("" if existing is None else " again"), session)
        if tx is not None:
            self._outputs(tx, outputs, now, announce=False)
        if existing is not None:
            return  # a retransmission: its transaction handled it (17.2.3)
        if req.method == "ACK":
            self._receive_ack(req, now)
            return
        assert tx is not None
        if req.method == "CANCEL":
            # 9.2: a CANCEL matching a transaction is answered 200 by the UAS core itself,
            # one matching none 481; its effect on the session is the model's.
            owner = self._owner.get(cancelled) if cancelled is not None else None
            tag = owner[0].local_tag if owner is not None and owner[0] is not None else None
            self._respond(tx, req, 200 if cancelled is not None else 481, now, to_tag=tag or None)
            if owner is not None and owner[0] is not None and not owner[0].terminated:
                self._event(owner[0], "recv_cancel", now, _Ctx(message=req, tx=tx))
            return
        to_tag = req.to.tag if req.to else None
        if not to_tag:
            if req.method == "INVITE":
                self._new_server_session(req, tx, now)
            else:
                self.requests.append((req, tx))
                self.tu.append(TUEvent(now, "request", None, req))
            return
        from_tag = (req.from_.tag if req.from_ else None) or ""
        dialog = self.dialogs.match(DialogID(req.call_id or "", to_tag, from_tag))
        if dialog is None:
            self._respond(tx, req, 481, now)  # 12.2.2: no dialog matches
            return
        if dialog.receive_request(req) == 500:
            self._respond(tx, req, 500, now)  # 12.2.2: lower CSeq, out of order
            return
        owner_session = self._session_of.get(dialog.id) if dialog.id else None
        ctx = _Ctx(message=req, tx=tx, dialog=dialog)
        if req.method == "BYE":
            dialog.bye()
            if (
                owner_session is not None
                and owner_session.dialog is dialog
                and not owner_session.terminated
            ):
                self._event(owner_session, "recv_bye", now, ctx)
            else:
                self._respond(tx, req, 200, now)  # 15.1.2, on a fork's dialog
        elif req.method == "INVITE" and owner_session is not None and not owner_session.terminated:
            self._owner[tx] = (owner_session, "invite-server")
            saved = (owner_session.server_invite, owner_session.server_tx)
            owner_session.server_invite, owner_session.server_tx = req, tx
            self._event(owner_session, "recv_invite", now, ctx)
            if owner_session.server_tx is tx and tx.state != "Proceeding":
                # 491 or 500 given (14.2): the INVITE waiting for the TU, if any, stays.
                owner_session.server_invite, owner_session.server_tx = saved
        else:
            self._respond(tx, req, 200, now)

    def _session_for_request(self, req: Request) -> InviteSession | None:
        to_tag = req.to.tag if req.to else None
        from_tag = req.from_.tag if req.from_ else None
        if to_tag:
            return self._session_of.get(DialogID(req.call_id or "", to_tag, from_tag or ""))
        for s in self.sessions:
            if s.role == "server" and s.invite is not None and s.invite.call_id == req.call_id:
                return s
        return None

    def _receive_ack(self, ack: Request, now: float) -> None:
        """An ACK that matches no transaction: the ACK of a 2xx, for the UAS core (13.3.1.4)."""
        to_tag = ack.to.tag if ack.to else ""
        from_tag = ack.from_.tag if ack.from_ else ""
        ident = DialogID(ack.call_id or "", to_tag or "", from_tag or "")
        session = self._session_of.get(ident)
        if session is None or session.terminated or session.last_2xx is None:
            self._note(now, "ACK absorbed", session)
            return
        sent = session.last_2xx.cseq
        if ack.cseq is None or sent is None or ack.cseq.seq != sent.seq:
            self._note(now, "ACK absorbed (for an earlier 2xx)", session)
            return
        self._event(session, "recv_ack_2xx", now, _Ctx(message=ack))

    def _new_server_session(self, req: Request, tx: Transaction, now: float) -> None:
        session = InviteSession(self, "server", now)
        session.invite = session.server_invite = req
        session.server_tx = tx
        session.local_tag = self._token("t")
        self.sessions.append(session)
        self._owner[tx] = (session, "invite-server")
        dialog = Dialog("uas", req, self.profile, model=self.model("dialog"))
        session.dialogs[session.local_tag] = dialog
        self._start(session, now, _Ctx(message=req, tx=tx, dialog=dialog))

    # --- transaction outputs ----------------------------------------------------------------

    def _outputs(
        self, tx: Transaction, outputs: list[Output], now: float, *, announce: bool = True
    ) -> None:
        owner = self._owner.get(tx, (None, "request"))
        session, purpose = owner
        for out in outputs:
            if isinstance(out, Send):
                self._wire(tx, out, now, session)
            elif isinstance(out, ToTU):
                if out.what == "response" and isinstance(out.message, Response):
                    self._core_response(tx, out.message, now, session, purpose)
                elif out.what == "ack" and session is not None and isinstance(out.message, Request):
                    self._receive_ack(out.message, now)
                elif out.what in ("timeout", "transport_error"):
                    self._core_timeout(session, purpose, now)
                elif announce and out.what == "request":
                    pass
        if tx.terminated:
            self._owner.pop(tx, None)

    def _wire(self, tx: Transaction, out: Send, now: float, session: InviteSession | None) -> None:
        verb = "resend" if out.retransmission else "send"
        req = tx.request
        if out.what == "request" and isinstance(req, Request):
            self.outbox.append(req.raw)
            self._note(now, f"{verb} {req.method}", session)
        elif out.what == "ack" and isinstance(req, Request) and isinstance(out.message, Response):
            ack = build_ack(req, out.message)  # 17.1.1.3: on the INVITE's branch
            self.outbox.append(ack.raw)
            self._note(now, f"{verb} ACK ({out.status})", session)
        elif out.what == "response":
            resp = out.message
            if not isinstance(resp, Response) and isinstance(req, Request):
                resp = build_response(req, out.status or 100)  # 17.2.1: 100 without To tag
            if isinstance(resp, Response):
                self.outbox.append(resp.raw)
                self._note(now, f"{verb} {_label(resp)}", session)

    def _core_timeout(self, session: InviteSession | None, purpose: str, now: float) -> None:
        if session is None or session.terminated:
            self.tu.append(TUEvent(now, "timeout"))
            return
        if purpose == "invite":
            # 12.2.1.2: no response at all to a request within a dialog ends the dialog; the
            # initial INVITE's early dialogs end with it (12.3, decision: as on a failure).
            for d in {
                id(d): d for d in [*session.dialogs.values(), session.dialog] if d is not None
            }.values():
                if d.state in ("Early", "Confirmed"):
                    d.failed()
            session.pending = None
            self._event(session, "tx_timeout", now, _Ctx(dialog=session.dialog))
        elif purpose == "bye":
            self._event(session, "bye_done", now, _Ctx())

    def _core_response(
        self,
        tx: Transaction,
        resp: Response,
        now: float,
        session: InviteSession | None,
        purpose: str,
    ) -> None:
        if session is None:
            self.tu.append(TUEvent(now, "response", resp.status, resp))
            return
        if purpose == "invite":
            self._invite_response(session, resp, now)
        elif purpose == "bye" and resp.status >= 200 and not session.terminated:
            self._event(session, "bye_done", now, _Ctx(message=resp))

    def _invite_response(self, s: InviteSession, resp: Response, now: float) -> None:
        """A response to one of our INVITEs reaches the UAC core (13.2.2, 14.1)."""
        tag = (resp.to.tag if resp.to else None) or ""
        seq = resp.cseq.seq if resp.cseq else -1
        initial = (
            s.role == "client"
            and s.invite is not None
            and s.invite.cseq is not None
            and seq == s.invite.cseq.seq
        )
        if initial:
            dialog = s.dialogs.get(tag) if tag else None
        else:
            mine = s.dialog
            dialog = mine if mine is not None and mine.id and mine.id.remote_tag == tag else None
        if initial and tag and dialog is None and resp.status < 300:
            # 12.1.2, 13.2.2.4: each To tag is its own (early or confirmed) dialog.
            assert s.invite is not None
            dialog = Dialog("uac", s.invite, self.profile, model=self.model("dialog"))
            s.dialogs[tag] = dialog
        if s.terminated:
            return
        if 200 <= resp.status < 300:
            if (tag, seq) in s.acked:
                if dialog is None or dialog.terminated:
                    self._note(now, f"{resp.status} again: its dialog is over, dropped", s)
                    return
                self._event(s, "recv_2xx_again", now, _Ctx(message=resp, dialog=dialog))
                return
            s.acked.add((tag, seq))
            assert dialog is not None
            if initial:
                dialog.response(resp)
                self._register(s, dialog)
            is_pending = (
                s.pending is not None and s.pending.cseq is not None and seq == s.pending.cseq.seq
            )
            if is_pending and (s.dialog is None or s.dialog is dialog):
                s.dialog = dialog
                if not initial:
                    dialog.refreshed(resp)  # 12.2.1.2: the 2xx of a target refresh
                s.pending = None
                self._event(s, "recv_2xx", now, _Ctx(message=resp, dialog=dialog))
            else:
                self._event(s, "recv_2xx_fork", now, _Ctx(message=resp, dialog=dialog))
            return
        pending = s.pending is not None and s.pending.cseq is not None and seq == s.pending.cseq.seq
        if resp.status < 200:
            if initial and dialog is not None:
                dialog.response(resp)
                self._register(s, dialog)
            if pending:
                self._event(s, "recv_1xx", now, _Ctx(message=resp, dialog=dialog))
            return
        if initial:  # 12.3: a non-2xx final response ends every early dialog of the INVITE
            for d in s.dialogs.values():
                if not d.terminated:
                    d.response(resp)
        elif resp.status in (408, 481) and s.dialog is not None and not s.dialog.terminated:
            s.dialog.failed()  # 12.2.1.2
        if pending:
            s.pending = None
            event = s.runner.event_for_status(resp.status, "tl") or "recv_3xx_6xx"
            self._event(s, event, now, _Ctx(message=resp, dialog=s.dialog))

    def _register(self, s: InviteSession, dialog: Dialog) -> None:
        if dialog.id is not None and self.dialogs.get(dialog.id) is None:
            self.dialogs.add(dialog)
            self._session_of[dialog.id] = s

    # --- running the session models ---------------------------------------------------------

    def _start(self, session: InviteSession, now: float, ctx: _Ctx) -> None:
        before = len(self.trace)
        session.runner.start(now, ctx)
        self._note_state(session, now, before)

    def _event(self, session: InviteSession, event: str, now: float, ctx: _Ctx) -> None:
        before = len(self.trace)
        old = session.state
        rule = session.runner.handle(event, now, ctx)
        if rule.kind == "ignore":
            self._note(now, f"absorbed {event}", session)
        if session.state != old:
            self._note(now, f"enter {session.state}", session)
        elif len(self.trace) == before and rule.kind != "ignore":
            self._note(now, event, session)

    def _note_state(self, session: InviteSession, now: float, before: int) -> None:
        if len(self.trace) == before:
            self._note(now, f"enter {session.state}", session)

    def _note(self, now: float, what: str, session: InviteSession | None) -> None:
        state = (
            session.state
            if session is not None
            else (self.sessions[0].state if self.sessions else "-")
        )
        self.trace.append(Step(now, what, state))

    def _act(self, s: InviteSession, action: Action, ctx: _Ctx, now: float) -> None:
        """The verbs of the session models (vocabulary.toml, 'session actions')."""
        verb = action.verb
        if verb == "start":
            self._note(now, f"start {action.timer} {action.interval}", s)
        elif verb == "stop":
            self._note(now, f"stop {action.timer}", s)
        elif verb == "send_invite":
            self._send_invite(s, ctx, now)
        elif verb == "send_ack_2xx":
            self._send_ack_2xx(s, ctx, now)
        elif verb == "send_cancel":
            self._send_cancel(s, now)
        elif verb == "send_bye":
            self._send_bye(s, ctx, now)
        elif verb == "send_response":
            self._send_response(s, ctx, now)
        elif verb == "resend_2xx":
            assert s.last_2xx is not None
            self.outbox.append(s.last_2xx.raw)  # 13.3.1.4: straight to the transport
            self._note(now, f"resend {s.last_2xx.status}", s)
        elif verb in ("respond_200", "respond_491", "respond_500"):
            status = int(verb[-3:])
            headers: tuple[tuple[str, str], ...] = ()
            if verb == "respond_500" and ctx.message is not None and ctx.message.method == "INVITE":
                # 14.2: a Retry-After of a random value between 0 and 10 seconds.
                headers = (("Retry-After", str(int(self.random() * 11) % 11)),)
            assert ctx.tx is not None
            self._respond(ctx.tx, ctx.message, status, now, headers=headers, to_tag=None, session=s)
        elif verb == "respond_487":
            req = s.server_invite
            if s.server_tx is not None and req is not None:
                resp = self._respond(
                    s.server_tx,
                    req,
                    487,
                    now,
                    to_tag=s.local_tag if s.role == "server" else None,
                    session=s,
                )
                if req is s.invite and s.role == "server":  # 12.3: the early dialog ends
                    dialog = s.dialogs[s.local_tag]
                    if not dialog.terminated:
                        dialog.response(resp)
                self._answered(s, 487)
        elif verb == "pass_to_tu":
            what = (
                "response"
                if isinstance(ctx.message, Response)
                else (ctx.message.method if isinstance(ctx.message, Request) else "event")
            )
            code = ctx.message.status if isinstance(ctx.message, Response) else None
            self.tu.append(TUEvent(now, what, code, ctx.message, s))
            self._note(now, f"tu {code if code is not None else what}", s)
        elif verb == "tu_session_end":
            self.tu.append(TUEvent(now, "session over", None, None, s))
            self._note(now, "tu session over", s)
        else:
            raise ProtocolError(
                s.runner.name, s.state, verb, "13", "the UA core has no meaning for this action"
            )

    def _send_request(
        self, req: Request, session: InviteSession | None, purpose: str, now: float
    ) -> Transaction:
        key = TransactionKey.from_message(req)
        tx, outputs = self.layer.send_request(key, req, now, transport=self.transport.lower())
        self._owner[tx] = (session, purpose)
        self._outputs(tx, outputs, now)
        return tx

    def _send_invite(self, s: InviteSession, ctx: _Ctx, now: float) -> None:
        if s.invite is None:  # 13.2.1 and 8.1.1: the initial INVITE
            target = str(ctx.message)
            req = self._new_request("INVITE", target, target)
            s.invite = req
            s.local_tag = (req.from_.tag if req.from_ else None) or ""
        else:  # 14.1: a re-INVITE within the dialog, built per 12.2.1.1
            assert s.dialog is not None
            req = s.dialog.request("INVITE", **self._via(), contact=self._contact())
        s.pending = req
        s.pending_tx = self._send_request(req, s, "invite", now)

    def _send_ack_2xx(self, s: InviteSession, ctx: _Ctx, now: float) -> None:
        """13.2.2.4: one ACK per 2xx received, on the 2xx's dialog, with a new branch."""
        resp = ctx.message
        dialog = ctx.dialog
        assert isinstance(resp, Response) and dialog is not None
        ack = dialog.ack(resp, **self._via())
        self.outbox.append(ack.raw)
        self._note(now, f"send ACK ({resp.status})", s)

    def _send_cancel(self, s: InviteSession, now: float) -> None:
        """9.1: Request-URI, Call-ID, To, From, CSeq number and top Via of the INVITE."""
        assert s.invite is not None
        self._send_request(build_cancel(s.invite), s, "cancel", now)

    def _send_bye(self, s: InviteSession, ctx: _Ctx, now: float) -> None:
        """15.1.1: a BYE within the dialog (the session's, or a fork's, 13.2.2.4)."""
        dialog = ctx.dialog or s.dialog
        assert dialog is not None
        bye = dialog.request("BYE", **self._via())
        dialog.bye()
        purpose = "bye" if dialog is s.dialog else "fork-bye"
        self._send_request(bye, s, purpose, now)

    def _send_response(self, s: InviteSession, ctx: _Ctx, now: float) -> None:
        """The TU's response to the peer's INVITE (13.3.1), on its server transaction."""
        req, tx = s.server_invite, s.server_tx
        assert req is not None and tx is not None and ctx.status is not None
        status = ctx.status
        initial = req is s.invite
        # 12.1.1: a response that creates a dialog carries the UAS's Contact (remote target).
        resp = self._respond(
            tx,
            req,
            status,
            now,
            headers=ctx.headers,
            to_tag=s.local_tag,
            contact=self._contact() if status < 300 else None,
            session=s,
        )
        if initial:
            dialog = s.dialogs[s.local_tag]
            dialog.response(resp)
            self._register(s, dialog)
            if 200 <= status < 300:
                s.dialog = dialog
        if 200 <= status < 300:
            s.last_2xx = resp
        self._answered(s, status)

    def _answered(self, s: InviteSession, status: int) -> None:
        if status >= 200:
            s.server_tx = None
            if status >= 300:
                s.server_invite = None

    def _respond(
        self,
        tx: Transaction,
        req: Request,
        status: int,
        now: float,
        *,
        headers: tuple[tuple[str, str], ...] = (),
        to_tag: str | None = None,
        contact: str | None = None,
        session: InviteSession | None = None,
    ) -> Response:
        """A response per 8.2.6 (Record-Route copied into 101-299, 12.1.1), on ``tx``."""
        if to_tag is None and status != 100 and not (req.to and req.to.tag):
            to_tag = self._token("t")
        resp = build_response(req, status, to_tag=to_tag, contact=contact, headers=headers)
        self._outputs(tx, self.layer.respond(tx, status, now, resp), now)
        return resp
