"""What the UAC and UAS halves of the UA core share (RFC 3261 8, 12-17): the transaction layer
and the wire, the dialogs and the sessions, and the running of the session models.

:class:`CoreBase` holds the UA's state and the plumbing both halves use: passing a request to
a new client transaction (:meth:`~CoreBase.send_request`), a response to a server transaction
(:meth:`~CoreBase.respond_on`), what the transactions return (``Send`` to the wire, ``ToTU`` to
the UAC or UAS core), and one event of a session model run and its records carried out in
order (:meth:`~CoreBase.session_event`), each step written to the UA's trace exactly as the
session shows it: the actions' lines in the rule's source state, then ``enter`` the
destination.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sipfsm.engine.outputs import CoreAction, Output, Send, StateEntered, Step, TimerEvent, ToTU
from sipfsm.engine.runner import Runner
from sipfsm.engine.table import IGNORE, compiled
from sipfsm.engine.transaction import Transaction
from sipfsm.engine.txlayer import TransactionKey, TransactionLayer
from sipfsm.errors import ProtocolError
from sipfsm.message.build import build_ack, build_response
from sipfsm.message.message import Request, Response
from sipfsm.model.loader import Machine, TimerTable
from sipfsm.model.timers import Timers
from sipfsm.ua.dialog import Dialog, DialogID, DialogSet
from sipfsm.ua.identifiers import Identifiers
from sipfsm.ua.session import Context, InviteSession, Message, TUEvent


def label(msg: Message) -> str:
    """How a message is named in the trace: its method, or its status (and CSeq method)."""
    if isinstance(msg, Request):
        return msg.method
    cseq = msg.cseq
    return f"{msg.status}" + (f" ({cseq.method})" if cseq and cseq.method != "INVITE" else "")


class CoreBase:
    """The state of one UA core and the plumbing its UAC and UAS halves share."""

    def __init__(
        self,
        ids: Identifiers,
        *,
        reliable: bool,
        profile: str,
        timers: Timers,
        random: Callable[[], float],
        strict: bool,
        models: Mapping[str, Machine],
        timer_table: TimerTable,
    ) -> None:
        self._ids = ids
        self.reliable = reliable
        self.profile = profile
        self.timers = timers
        self.random = random
        self.strict = strict
        self.models = models
        self.timer_table = timer_table
        self.layer = TransactionLayer(profile=profile, timers=timers)
        self.dialogs = DialogSet()
        self.sessions: list[InviteSession] = []
        self.outbox: list[bytes] = []
        self.tu: list[TUEvent] = []
        self.trace: list[Step] = []
        self.errors: list[ProtocolError] = []
        #: Requests outside any dialog waiting for the TU's answer (``respond``).
        self.requests: list[tuple[Request, Transaction]] = []
        self._owner: dict[Transaction, tuple[InviteSession | None, str]] = {}
        self._session_of: dict[DialogID, InviteSession] = {}

    @property
    def transport(self) -> str:
        """The transport of the UA's Via (``UDP``, ``TCP`` ...)."""
        return self._ids.transport

    def model(self, name: str) -> str | Machine:
        """The session or dialog model to run: an injected :class:`~sipfsm.Machine`, or the
        name of the one in ``models/``."""
        return self.models.get(name, name)

    # --- running the session models ---------------------------------------------------------

    def _new_session(self, role: str, now: float) -> InviteSession:
        """A session of this UA (``client``: the caller, ``server``: the callee), its machine
        compiled for the UA's profile, timers and transport."""
        table = compiled(
            self.model(f"invite_session_{role}"),
            profile=self.profile,
            reliable=self.reliable,
            timers=self.timers,
            timer_table=self.timer_table,
            owner=role == "client",  # 14.1: the caller generated the Call-ID
        )
        cell: list[InviteSession] = []
        runner = Runner(
            table, random=self.random, guards=lambda name, ctx: self._guard(cell[0], name)
        )
        session = InviteSession(self, role, runner, now)
        cell.append(session)
        self.sessions.append(session)
        return session

    def _guard(self, session: InviteSession, name: str) -> bool:
        """The session guards of the vocabulary: ``early_dialog`` (an early dialog of the
        initial INVITE exists, 12.1.2, 12.3) and its complement ``no_early_dialog``."""
        early = any(d.early for d in session.dialogs.values())
        if name in ("early_dialog", "no_early_dialog"):
            return early == (name == "early_dialog")
        raise ProtocolError(session.runner.name, session.state, name, "13", "no such guard")

    def _start_session(self, session: InviteSession, now: float, ctx: Context) -> None:
        """Take the session model's start event (13.2.1: the INVITE sent; 13.3.1: received)."""
        before = len(self.trace)
        self._carry_out(session, session.runner.start(now, ctx), now, ctx)
        if len(self.trace) == before:
            self._note(now, f"enter {session.state}", session)

    def _session_event(self, session: InviteSession, event: str, now: float, ctx: Context) -> None:
        """Run ``event`` on the session's model and carry out its records in order; the trace
        says ``absorbed`` for an ignore, ``enter`` for a new state, else the event's name when
        the rule left no other line."""
        before = len(self.trace)
        old = session.state
        entry = session.runner.decide(event, now, ctx)
        self._carry_out(session, session.runner.take(entry, now, ctx), now, ctx)
        if entry.kind == IGNORE:
            self._note(now, f"absorbed {event}", session)
        if session.state != old:
            self._note(now, f"enter {session.state}", session)
        elif len(self.trace) == before and entry.kind != IGNORE:
            self._note(now, event, session)

    def _carry_out(
        self, session: InviteSession, outputs: list[Output], now: float, ctx: Context
    ) -> None:
        """Carry out the records of one session event in order: its timers (noted), the UA
        core's verbs, and last the entry into the destination."""
        for out in outputs:
            if isinstance(out, CoreAction):
                self._perform(session, out, ctx, now)
            elif isinstance(out, TimerEvent):
                if out.action == "start":
                    self._note(now, f"start {out.timer} {out.interval}", session)
                elif out.action == "stop":
                    self._note(now, f"stop {out.timer}", session)
            elif isinstance(out, StateEntered):
                session._entered(out.state)

    def _perform(self, s: InviteSession, action: CoreAction, ctx: Context, now: float) -> None:
        """Carry out one verb of the session models (the UA core, ``ua.core``)."""
        raise NotImplementedError

    def _note(self, now: float, what: str, session: InviteSession | None) -> None:
        """One line of the UA's trace, with the state of ``session`` (else the first one's)."""
        state = (
            session.state
            if session is not None
            else (self.sessions[0].state if self.sessions else "-")
        )
        self.trace.append(Step(now, what, state))

    def _register(self, s: InviteSession, dialog: Dialog) -> None:
        """A dialog of ``s`` got its ID: requests within it find it (12.2.2); it replaces a
        terminated dialog of that ID (an early dialog ended, then a 2xx, 13.2.2.4)."""
        known = self.dialogs.get(dialog.id) if dialog.id is not None else None
        if dialog.id is not None and (known is None or (known.terminated and known is not dialog)):
            self.dialogs.add(dialog)
            self._session_of[dialog.id] = s

    # --- transactions ---------------------------------------------------------------------

    def _send_request(
        self, req: Request, session: InviteSession | None, purpose: str, now: float
    ) -> Transaction:
        """Pass ``req`` to a new client transaction (17.1) on behalf of ``session``."""
        key = TransactionKey.from_message(req)
        tx, outputs = self.layer.send_request(key, req, now, transport=self.transport.lower())
        self._owner[tx] = (session, purpose)
        self._outputs(tx, outputs, now)
        return tx

    def _respond_on(
        self,
        tx: Transaction,
        req: Request,
        status: int,
        now: float,
        *,
        headers: tuple[tuple[str, str], ...] = (),
        to_tag: str | None = None,
        contact: str | None = None,
    ) -> Response:
        """A response per 8.2.6 (Record-Route copied into 101-299, 12.1.1), on ``tx``."""
        if to_tag is None and status != 100 and not (req.to and req.to.tag):
            to_tag = self._ids.token("t")
        resp = build_response(req, status, to_tag=to_tag, contact=contact, headers=headers)
        self._outputs(tx, self.layer.respond(tx, status, now, resp), now)
        return resp

    def _outputs(
        self, tx: Transaction, outputs: list[Output], now: float, *, announce: bool = True
    ) -> None:
        """What a transaction returned: ``Send`` to the wire, ``ToTU`` to the UA core."""
        session, purpose = self._owner.get(tx, (None, "request"))
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
                self._note(now, f"{verb} {label(resp)}", session)

    # --- what the UAC and UAS halves take from the transactions ---------------------------

    def _core_response(
        self,
        tx: Transaction,
        resp: Response,
        now: float,
        session: InviteSession | None,
        purpose: str,
    ) -> None:
        """A response a client transaction passes up (the UAC core, ``ua.uac``)."""
        raise NotImplementedError

    def _core_timeout(self, session: InviteSession | None, purpose: str, now: float) -> None:
        """A client transaction's timeout or transport error (the UAC core, ``ua.uac``)."""
        raise NotImplementedError

    def _receive_ack(self, ack: Request, now: float) -> None:
        """An ACK for the UAS core (``ua.uas``)."""
        raise NotImplementedError
