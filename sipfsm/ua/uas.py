"""The UAS half of the UA core (RFC 3261 8.2, 9.2, 12.2.2, 13.3, 14.2, 15.1.2).

Requests that reach this UA: a new INVITE creates a callee session (13.3), a CANCEL is answered
by the core itself (9.2: 200, or 481 when it matches no transaction), a request within a
dialog is checked by the dialog (12.2.2: 481 for an unknown dialog, 500 out of order) and
becomes its session's event (``recv_bye``, ``recv_invite``, ``recv_cancel``), the ACK of a 2xx
goes to the session that sent it (13.3.1.4). And the verbs of the session models that answer:
``send_response`` (the TU's, 13.3.1), ``resend_2xx`` (13.3.1.4), ``respond_200``,
``respond_487``, ``respond_491`` and ``respond_500`` (each with the status the vocabulary gives
it; a 500 to an INVITE carries the Retry-After of 14.2, drawn from ``timers.toml``).
"""

from __future__ import annotations

from sipfsm.engine.outputs import CoreAction
from sipfsm.engine.transaction import Transaction
from sipfsm.engine.txlayer import TransactionKey
from sipfsm.errors import ProtocolError
from sipfsm.message.message import Request
from sipfsm.ua.base import CoreBase
from sipfsm.ua.dialog import Dialog, DialogID
from sipfsm.ua.session import Context, InviteSession, TUEvent


class UASCore(CoreBase):
    """Requests that reach this UA, and the session verbs that answer them."""

    def _receive_request(self, req: Request, now: float) -> None:
        key = TransactionKey.from_message(req)
        existing = self.layer.match_request(key)
        cancelled = self.layer.match_cancel(key) if req.method == "CANCEL" else None
        tx, outputs = self.layer.receive_request(key, req, now, transport=self.transport.lower())
        session = self._session_for_request(req)
        self._note(now, f"recv {req.method}" + ("" if existing is None else " again"), session)
        if tx is not None:
            self._outputs(tx, outputs, now)
        if existing is not None:
            return  # a retransmission: its transaction handled it (17.2.3)
        if req.method == "ACK":
            self._receive_ack(req, now)
            return
        assert tx is not None
        if req.method == "CANCEL":
            self._receive_cancel(req, tx, cancelled, now)
            return
        to_tag = req.to.tag if req.to else None
        if not to_tag:
            if req.method == "INVITE":
                self._new_server_session(req, tx, now)
            else:
                self.requests.append((req, tx))
                self.tu.append(TUEvent(now, "request", None, req))
            return
        self._receive_in_dialog(req, tx, to_tag, now)

    def _receive_cancel(
        self, req: Request, tx: Transaction, cancelled: Transaction | None, now: float
    ) -> None:
        """9.2: a CANCEL matching a transaction is answered 200 by the UAS core itself, one
        matching none 481; its effect on the session is the model's."""
        owner = self._owner.get(cancelled) if cancelled is not None else None
        tag = owner[0].local_tag if owner is not None and owner[0] is not None else None
        self._respond_on(tx, req, 200 if cancelled is not None else 481, now, to_tag=tag or None)
        if owner is not None and owner[0] is not None and not owner[0].terminated:
            self._session_event(owner[0], "recv_cancel", now, Context(message=req, tx=tx))

    def _receive_in_dialog(self, req: Request, tx: Transaction, to_tag: str, now: float) -> None:
        """A request with a To tag: within a dialog of this UA, or for none (12.2.2)."""
        from_tag = (req.from_.tag if req.from_ else None) or ""
        dialog = self.dialogs.match(DialogID(req.call_id or "", to_tag, from_tag))
        if dialog is None:
            self._respond_on(tx, req, 481, now)  # 12.2.2: no dialog matches
            return
        if dialog.receive_request(req) == 500:
            self._respond_on(tx, req, 500, now)  # 12.2.2: lower CSeq, out of order
            return
        owner = self._session_of.get(dialog.id) if dialog.id else None
        ctx = Context(message=req, tx=tx, dialog=dialog)
        if req.method == "BYE":
            dialog.bye()
            if owner is not None and self._session_dialog(owner, dialog):
                self._session_event(owner, "recv_bye", now, ctx)
            else:
                self._respond_on(tx, req, 200, now)  # 15.1.2, on a fork's dialog
        elif req.method == "INVITE" and owner is not None and not owner.terminated:
            self._owner[tx] = (owner, "invite-server")
            saved = (owner.server_invite, owner.server_tx)
            owner.server_invite, owner.server_tx = req, tx
            try:
                self._session_event(owner, "recv_invite", now, ctx)
            except ProtocolError:  # refused: the INVITE waiting for the TU, if any, stays
                owner.server_invite, owner.server_tx = saved
                raise
            if owner.server_tx is tx and tx.state != "Proceeding":
                # 491 or 500 given (14.2): the INVITE waiting for the TU, if any, stays.
                owner.server_invite, owner.server_tx = saved
        else:
            self._respond_on(tx, req, 200, now)

    @staticmethod
    def _session_dialog(s: InviteSession, dialog: Dialog) -> bool:
        """Whether ``dialog`` is the live session's own: the one its 2xx chose, or for the
        callee before any 2xx its early dialog (the caller may BYE it, 15)."""
        if s.terminated:
            return False
        early = s.role == "server" and s.dialog is None and s.dialogs.get(s.local_tag) is dialog
        return s.dialog is dialog or early

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
        self._session_event(session, "recv_ack_2xx", now, Context(message=ack))

    def _new_server_session(self, req: Request, tx: Transaction, now: float) -> None:
        session = self._new_session("server", now)
        session.invite = session.server_invite = req
        session.server_tx = tx
        session.local_tag = self._ids.token("t")
        self._owner[tx] = (session, "invite-server")
        dialog = Dialog("uas", req, self.profile, model=self.model("dialog"))
        session.dialogs[session.local_tag] = dialog
        self._start_session(session, now, Context(message=req, tx=tx, dialog=dialog))

    # --- the session verbs that answer ------------------------------------------------------

    def _send_response(
        self, s: InviteSession, action: CoreAction, ctx: Context, now: float
    ) -> None:
        """The TU's response to the peer's INVITE (13.3.1), on its server transaction."""
        req, tx = s.server_invite, s.server_tx
        assert req is not None and tx is not None and ctx.status is not None
        status = ctx.status
        initial = req is s.invite
        # 12.1.1: a response that creates a dialog carries the UAS's Contact (remote target).
        resp = self._respond_on(
            tx,
            req,
            status,
            now,
            headers=ctx.headers,
            to_tag=s.local_tag,
            contact=self._ids.contact() if status < 300 else None,
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

    def _resend_2xx(self, s: InviteSession, action: CoreAction, ctx: Context, now: float) -> None:
        """13.3.1.4: the UAS core passes its 2xx straight to the transport again."""
        assert s.last_2xx is not None
        self.outbox.append(s.last_2xx.raw)
        self._note(now, f"resend {s.last_2xx.status}", s)

    def _respond_with(self, s: InviteSession, action: CoreAction, ctx: Context, now: float) -> None:
        """``respond_200``, ``respond_491``, ``respond_500``: answer the event's request on its
        own server transaction with the verb's status (vocabulary.toml)."""
        assert ctx.tx is not None and action.status is not None
        headers: tuple[tuple[str, str], ...] = ()
        if (
            action.verb == "respond_500"
            and ctx.message is not None
            and ctx.message.method == "INVITE"
        ):
            headers = (("Retry-After", self._retry_after()),)
        self._respond_on(ctx.tx, ctx.message, action.status, now, headers=headers, to_tag=None)

    def _retry_after(self) -> str:
        """14.2: a Retry-After of a random value in the range of ``timers.toml``."""
        chosen = self.timer_table.ranges["retry_after"]
        value = chosen.draw(self.random(), self.timers.base(self.timer_table))
        return f"{value:g}"

    def _respond_487(self, s: InviteSession, action: CoreAction, ctx: Context, now: float) -> None:
        """9.2: the cancelled INVITE gets 487; 12.3: the early dialog of the callee ends."""
        req = s.server_invite
        if s.server_tx is None or req is None or action.status is None:
            return
        to_tag = s.local_tag if s.role == "server" else None
        resp = self._respond_on(s.server_tx, req, action.status, now, to_tag=to_tag)
        if req is s.invite and s.role == "server":
            dialog = s.dialogs[s.local_tag]
            if not dialog.terminated:
                dialog.response(resp)
        self._answered(s, action.status)

    def _answered(self, s: InviteSession, status: int) -> None:
        if status >= 200:
            s.server_tx = None
            if status >= 300:
                s.server_invite = None
