"""The scripted peer of the session traces (``sipfsm trace invite_session_*``, the dialog
trace): the other side of the call, building what it sends from what our UA sent it, as the
RFC has a peer do it (responses 8.2.6, a CANCEL 9.1, the ACK of a non-2xx 17.1.1.3 and of a
2xx 13.2.2.4, requests within the dialog 12.2.1.1, seen from the other side)."""

from __future__ import annotations

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
from sipfsm.sim.steps import TraceInputError
from sipfsm.ua.core import UA, InviteSession
from sipfsm.ua.dialog import Dialog

PEER = "peer.example.com"
PEER_TAG = "peertag"
PEER_CONTACT = f"<sip:peer@{PEER}>"


class ScriptedPeer:
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
        waiting = [m for m in ours if _branch_of(m) + m.method not in self.finals]
        if not waiting:
            if not self.finals:
                raise TraceInputError(f"recv={code}: our UA has sent no request to answer")
            return list(self.finals.values())[-1].raw
        req = waiting[-1]
        resp = build_response(
            req, code, to_tag=PEER_TAG, contact=PEER_CONTACT if code < 300 else None
        )
        if code >= 200:
            self.finals[_branch_of(req) + req.method] = resp
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
        req = mirror(d, method, self.seq, f"sip:{self.ua.user}@{self.ua.host}", self._branch())
        self.sent.append(req)
        return req.raw


def mirror(d: Dialog, method: str, seq: int, uri: str, branch: str) -> Request:
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


def _branch_of(m: Request | Response) -> str:
    return m.via[0].branch or ""
