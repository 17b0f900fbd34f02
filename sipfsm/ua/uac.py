"""The UAC half of the UA core (RFC 3261 8.1, 13.2, 14.1, 9.1, 15.1.1, 12.2.1.2).

Responses to this UA's requests: a response to one of its INVITEs becomes the session's next
event (``recv_1xx``, ``recv_2xx``, ``recv_2xx_again``, ``recv_2xx_fork``, ``recv_491`` ...),
each To tag of the initial INVITE its own dialog (12.1.2, 13.2.2.4); a timeout ends the
dialogs of the request (12.2.1.2). And the verbs of the session models that send requests:
``send_invite``, ``send_ack_2xx`` (13.2.2.4, built by the core), ``send_cancel`` (9.1),
``send_bye`` (15.1.1; before a 2xx, on each early dialog, 15). A 2xx on a dialog whose early
incarnation our BYE ended is ACKed and nothing more (that BYE ends it); a 2xx of any other
dialog of a call that is over is ACKed and BYEd (13.2.2.4).
"""

from __future__ import annotations

from sipfsm.engine.outputs import CoreAction
from sipfsm.engine.transaction import Transaction
from sipfsm.engine.txlayer import TransactionKey
from sipfsm.message.build import build_cancel
from sipfsm.message.message import Response
from sipfsm.ua.base import CoreBase, label
from sipfsm.ua.dialog import Dialog
from sipfsm.ua.session import Context, InviteSession, TUEvent


class UACore(CoreBase):
    """Responses to this UA's requests, and the session verbs that send requests."""

    def _receive_response(self, resp: Response, now: float) -> None:
        self._note(now, f"recv {label(resp)}", self._session_for_response(resp))
        key = TransactionKey.from_message(resp)
        tx, outputs = self.layer.receive_response(key, resp, resp.status, now)
        if tx is not None:
            self._outputs(tx, outputs, now)
            return
        session = self._session_for_response(resp)
        if not self.layer.stray_to_core:  # RFC 6026 8.9: silently discarded
            self._note(now, f"stray {resp.status} discarded (RFC 6026 8.9)", session)
            return
        # 18.1.2 as published: a 2xx the transaction layer does not match goes to the core,
        # which matches it to a dialog of its INVITE (a retransmission, or another fork).
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

    # --- what the client transactions pass up (17.1: to the TU, here the UAC core) --------

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
            self._session_event(session, "tx_timeout", now, Context(dialog=session.dialog))
        elif purpose == "bye":
            self._session_event(session, "bye_done", now, Context())

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
            self._session_event(session, "bye_done", now, Context(message=resp))

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
        fresh = dialog is None or (
            dialog.terminated and 200 <= resp.status < 300 and (tag, seq) not in s.acked
        )
        if initial and tag and fresh and resp.status < 300:
            # 12.1.2, 13.2.2.4: each To tag is its own (early or confirmed) dialog; a 2xx on
            # an early dialog that was ended (13.2.2.4, 12.3) creates a dialog anew (12.1.2).
            assert s.invite is not None
            dialog = Dialog("uac", s.invite, self.profile, model=self.model("dialog"))
            s.dialogs[tag] = dialog
        if s.terminated:
            if 200 <= resp.status < 300:
                self._late_2xx(s, resp, dialog, now)
            return
        if 200 <= resp.status < 300:
            self._invite_2xx(s, resp, dialog, initial, now)
            return
        pending = s.pending is not None and s.pending.cseq is not None and seq == s.pending.cseq.seq
        if resp.status < 200:
            if initial and dialog is not None and not dialog.terminated:
                dialog.response(resp)
                self._register(s, dialog)
            if pending:
                self._session_event(s, "recv_1xx", now, Context(message=resp, dialog=dialog))
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
            self._session_event(s, event, now, Context(message=resp, dialog=s.dialog))

    def _invite_2xx(
        self, s: InviteSession, resp: Response, dialog: Dialog | None, initial: bool, now: float
    ) -> None:
        """A 2xx to one of our INVITEs: the first of its dialog, again, or another fork's."""
        tag = (resp.to.tag if resp.to else None) or ""
        seq = resp.cseq.seq if resp.cseq else -1
        if (tag, seq) in s.acked:
            self._session_event(s, "recv_2xx_again", now, Context(message=resp, dialog=dialog))
            return
        s.acked.add((tag, seq))
        assert dialog is not None
        if initial:
            dialog.response(resp)
            self._register(s, dialog)
        is_pending = (
            s.pending is not None and s.pending.cseq is not None and seq == s.pending.cseq.seq
        )
        ended = initial and tag in s.byed  # 15: our BYE on its early dialog ended it
        if ended:
            dialog.bye()
        chosen = s.dialog is dialog or (s.dialog is None and (ended or not s.byed))
        if is_pending and chosen:
            s.dialog = dialog
            if not initial:
                dialog.refreshed(resp)  # 12.2.1.2: the 2xx of a target refresh
            s.pending = None
            self._session_event(s, "recv_2xx", now, Context(message=resp, dialog=dialog))
        else:
            self._session_event(s, "recv_2xx_fork", now, Context(message=resp, dialog=dialog))

    def _late_2xx(
        self, s: InviteSession, resp: Response, dialog: Dialog | None, now: float
    ) -> None:
        """A 2xx to our INVITE once the session is over (its machine is destroyed): 13.2.2.4
        still holds for the UAC core. It MUST ACK each 2xx received, the same ACK again for a
        retransmission; a 2xx of a dialog it does not want (another fork's) it ACKs, then
        ends the dialog with BYE (15)."""
        tag = (resp.to.tag if resp.to else None) or ""
        seq = resp.cseq.seq if resp.cseq else -1
        if (tag, seq) in s.acks or dialog is None:
            if (tag, seq) in s.acks:
                self._ack_2xx(s, resp, dialog, now)
            return
        s.acked.add((tag, seq))
        dialog.response(resp)
        self._register(s, dialog)
        self._ack_2xx(s, resp, dialog, now)
        if tag in s.byed:  # 15: our BYE on its early dialog ends the dialog it confirmed
            dialog.bye()
        else:
            self._bye_on(s, dialog, now)

    def _destroy_invite(
        self, s: InviteSession, action: CoreAction, ctx: Context, now: float
    ) -> None:
        """9.1: no final response to the cancelled INVITE within 64*T1 of the CANCEL: its
        client transaction is destroyed (a late response matches nothing, 17.1.3)."""
        tx = s.pending_tx
        if tx is not None and not tx.terminated:
            self.layer.destroy(tx)
            self._owner.pop(tx, None)
        s.pending = s.pending_tx = None
        self._note(now, "INVITE transaction destroyed", s)

    def _end_early_dialogs(
        self, s: InviteSession, action: CoreAction, ctx: Context, now: float
    ) -> None:
        """13.2.2.4: the INVITE is completed for the UAC core; every dialog of it is told,
        and its model ends the early ones (12.3)."""
        for d in s.dialogs.values():
            if not d.terminated:
                d.invite_completed()
        self._note(now, "early dialogs end", s)

    # --- the session verbs that send requests ---------------------------------------------

    def _send_invite(self, s: InviteSession, action: CoreAction, ctx: Context, now: float) -> None:
        """13.2.1 and 8.1.1: the initial INVITE; 14.1: a re-INVITE within the dialog."""
        if s.invite is None:
            target = str(ctx.message)
            req = self._ids.new_request("INVITE", target, target)
            s.invite = req
            s.local_tag = (req.from_.tag if req.from_ else None) or ""
        else:  # built per 12.2.1.1
            assert s.dialog is not None
            req = s.dialog.request("INVITE", **self._ids.via(), contact=self._ids.contact())
        s.pending = req
        s.pending_tx = self._send_request(req, s, "invite", now)

    def _send_ack_2xx(self, s: InviteSession, action: CoreAction, ctx: Context, now: float) -> None:
        """13.2.2.4: one ACK per 2xx received, on the 2xx's dialog, with a new branch."""
        assert isinstance(ctx.message, Response)
        self._ack_2xx(s, ctx.message, ctx.dialog, now)

    def _ack_2xx(self, s: InviteSession, resp: Response, dialog: Dialog | None, now: float) -> None:
        """13.2.2.4: the ACK of ``resp`` straight to the transport; for a retransmission of
        a 2xx already ACKed, the same ACK again ("The ACK MUST be passed to the client
        transport every time a retransmission of the 2xx final response that triggered the
        ACK arrives")."""
        key = ((resp.to.tag if resp.to else None) or "", resp.cseq.seq if resp.cseq else -1)
        ack = s.acks.get(key)
        if ack is not None:
            self.outbox.append(ack.raw)
            self._note(now, f"resend ACK ({resp.status})", s)
            return
        assert dialog is not None
        ack = s.acks[key] = dialog.ack(resp, **self._ids.via())
        self.outbox.append(ack.raw)
        self._note(now, f"send ACK ({resp.status})", s)

    def _send_cancel(self, s: InviteSession, action: CoreAction, ctx: Context, now: float) -> None:
        """9.1: Request-URI, Call-ID, To, From, CSeq number and top Via of the INVITE."""
        assert s.invite is not None
        self._send_request(build_cancel(s.invite), s, "cancel", now)

    def _send_bye(self, s: InviteSession, action: CoreAction, ctx: Context, now: float) -> None:
        """15.1.1: a BYE within the dialog (the session's, or a fork's, 13.2.2.4); before any
        2xx chose the session's dialog, the caller's BYE on each early dialog (15)."""
        dialog = ctx.dialog or s.dialog
        if dialog is not None:
            self._bye_on(s, dialog, now)
            return
        early = [(tag, d) for tag, d in s.dialogs.items() if d.early]
        for i, (tag, d) in enumerate(early):
            s.byed.add(tag)
            self._bye_on(s, d, now, "bye" if i == 0 else "fork-bye")

    def _bye_on(
        self, s: InviteSession, dialog: Dialog, now: float, purpose: str | None = None
    ) -> None:
        """A BYE on ``dialog``; the session's own BYE (``bye``: its answer ends the session,
        15.1.1) when ``dialog`` is the session's, else another fork's (``fork-bye``)."""
        bye = dialog.request("BYE", **self._ids.via())
        dialog.bye()
        purpose = purpose or ("bye" if dialog is s.dialog else "fork-bye")
        self._send_request(bye, s, purpose, now)
