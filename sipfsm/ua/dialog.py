"""A dialog (RFC 3261 section 12): its state as data, run by ``models/dialog.toml``.

:class:`Dialog` holds what 12 calls the dialog state (its :class:`DialogID` of Call-ID, local
tag and remote tag; local and remote sequence numbers; local and remote URI; remote target;
route set; secure flag) and a :class:`~sipfsm.engine.runner.Runner` of the dialog model, which
decides what every message does to it (the records it returns are carried out here, in
order): created by a 1xx with a To tag or by a 2xx (12.1.1 UAS,
12.1.2 UAC), confirmed by a 2xx (13.2.2.4), ended by BYE (15), by a non-2xx final response
while early (12.3), or by a 481/408/timeout to a request within it (12.2.1.2).

:meth:`Dialog.request` builds a request within the dialog per 12.2.1.1 (Request-URI and
Route for loose and strict routing, To, From, Call-ID, CSeq: :meth:`Dialog.request_parts`) with
:func:`sipfsm.message.build.build_in_dialog`, and :meth:`Dialog.ack` the ACK of a 2xx (13.2.2.4);
:meth:`Dialog.receive_request` applies the UAS checks of 12.2.2 (a lower CSeq is rejected
with 500). :class:`DialogSet` keeps the dialogs of one UA by ID: a request for an unknown
dialog gets 481 (12.2.2), and the early dialogs of a forked INVITE are each their own
(12.1.2, 13.2.2.4).

Messages are read through the typed header views of :mod:`sipfsm.message.message` (``msg.to.tag``,
``msg.cseq.seq``, ``msg.record_route`` ...): any object with those attributes will do.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sipfsm.engine.outputs import CoreAction, Output
from sipfsm.engine.runner import Runner
from sipfsm.engine.table import compiled
from sipfsm.errors import ProtocolError
from sipfsm.message.build import build_in_dialog
from sipfsm.message.uri import URI
from sipfsm.model.loader import DEFAULT_PROFILE, Machine
from sipfsm.model.timers import Timers

if TYPE_CHECKING:  # pragma: no cover
    from sipfsm.message.message import Request

#: 12.2.1.1 and 8.1.1.5: the first CSeq of a UAC is any number below 2**31.
FIRST_CSEQ = 1
_TIMERS = Timers()


@dataclass(frozen=True, slots=True)
class DialogID:
    """The dialog ID (12): Call-ID, local tag and remote tag, from this UA's point of view.

    At the UAC the local tag is the From tag and the remote tag the To tag (12.1.2); at the
    UAS the other way round (12.1.1).
    """

    call_id: str
    local_tag: str
    remote_tag: str

    def __str__(self) -> str:
        return f"{self.call_id};local={self.local_tag};remote={self.remote_tag}"


@dataclass(frozen=True, slots=True)
class RequestParts:
    """The header values of a request within a dialog (12.2.1.1), ready to write."""

    method: str
    request_uri: str
    route: tuple[str, ...]
    to: str
    from_: str
    call_id: str
    cseq: int

    def build(
        self,
        *,
        sent_by: str,
        transport: str = "UDP",
        branch: str | None = None,
        contact: str | URI | None = None,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
        rng: random.Random | None = None,
    ) -> Request:
        """The request: these parts, one Via (``sent_by``, ``transport``, ``branch`` or a
        fresh one), Max-Forwards, ``contact`` (8.1.1.8), extra headers and body."""
        return build_in_dialog(
            self.method,
            self.request_uri,
            to=self.to,
            from_=self.from_,
            call_id=self.call_id,
            cseq=self.cseq,
            route=self.route,
            sent_by=sent_by,
            transport=transport,
            branch=branch,
            contact=contact,
            headers=headers,
            body=body,
            content_type=content_type,
            rng=rng,
        )


def _uri_of(entry: Any) -> URI:
    """The URI of a name-addr view (Contact, Record-Route) or a URI."""
    return entry if isinstance(entry, URI) else entry.uri


def _contact(message: Any) -> URI | None:
    contacts = [c for c in message.contact if hasattr(c, "uri")]
    return contacts[0].uri if contacts else None


def _name_addr(uri: URI, tag: str | None) -> str:
    return f"<{uri}>" + (f";tag={tag}" if tag else "")


@dataclass(slots=True)
class Dialog:
    """One dialog and its state machine (``models/dialog.toml``), seen from one UA.

    Create it when the dialog-creating INVITE is sent (``role="uac"``) or received
    (``role="uas"``) with that INVITE; it starts in ``Trying`` without an ID. Then feed it the
    responses (:meth:`response`) and requests (:meth:`receive_request`, :meth:`request`).
    ``model`` is the dialog model to run (default ``models/dialog.toml``; tests inject mutated
    ones).
    """

    role: str
    invite: Any
    profile: str = DEFAULT_PROFILE
    id: DialogID | None = None
    local_seq: int | None = None
    remote_seq: int | None = None
    local_uri: URI | None = None
    remote_uri: URI | None = None
    remote_target: URI | None = None
    route_set: tuple[URI, ...] = ()
    secure: bool = False
    #: What the last request received was given: None (accepted) or 500 (12.2.2).
    verdict: int | None = None
    model: str | Machine = field(default="dialog", kw_only=True)
    runner: Runner = field(init=False)
    _pending: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.role not in ("uac", "uas"):
            raise ValueError(f"role is 'uac' or 'uas', not {self.role!r}")
        table = compiled(self.model, profile=self.profile, reliable=False, timers=_TIMERS)
        self.runner = Runner(table, guards=self.guard)
        self._carry_out(self.runner.start(0.0, None))
        if self.role == "uac":
            # 12.2.1.1: the local sequence number is the CSeq of the dialog-creating request.
            self.local_seq = self.invite.cseq.seq
        else:
            self.remote_seq = self.invite.cseq.seq

    # --- state --------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """``Trying``, ``Early``, ``Confirmed`` or ``Terminated`` (models/dialog.toml)."""
        return self.runner.state

    @property
    def early(self) -> bool:
        """Whether the dialog is in the early state (12)."""
        return self.state == "Early"

    @property
    def confirmed(self) -> bool:
        """Whether the dialog is confirmed (12)."""
        return self.state == "Confirmed"

    @property
    def terminated(self) -> bool:
        """Whether the dialog is terminated (12.3): no request may be sent on it."""
        return self.runner.terminated

    def __repr__(self) -> str:
        return f"<Dialog {self.role} {self.id} {self.state}>"

    # --- events -------------------------------------------------------------------------

    def response(self, response: Any) -> None:
        """A response to the dialog-creating INVITE, received (UAC) or sent (UAS) (12.1)."""
        status = response.status
        event = self.runner.event_for_status(status, "dialog")  # vocabulary.toml
        if event is None or (status < 200 and not (response.to is not None and response.to.tag)):
            return  # 12.1: a provisional response without a To tag creates no dialog
        self._event(event, response)

    def receive_request(self, request: Any) -> int | None:
        """A request within this dialog arrives (12.2.2): ``None`` if accepted, else 500.

        Target refresh requests (re-INVITE) also replace the remote target (12.2.2).
        ACK and CANCEL neither take a sequence number nor are checked against it.
        """
        if request.method in ("ACK", "CANCEL"):
            return None
        self.verdict = None
        self._event("dlg_request_in", request)
        if self.verdict is None and request.method == "INVITE" and _contact(request):
            self._event("dlg_target_refresh", request)
        return self.verdict

    def refreshed(self, response: Any) -> None:
        """A 2xx to a target refresh request this UA sent: new remote target (12.2.1.2)."""
        if _contact(response) is not None:
            self._event("dlg_target_refresh", response)

    def bye(self) -> None:
        """A BYE is sent or received on the dialog: it is terminated (15)."""
        self._event("dlg_bye")

    def invite_completed(self) -> None:
        """64*T1 after the first 2xx the UAC core considers the INVITE completed: an early
        dialog not confirmed by then is terminated (13.2.2.4)."""
        self._event("dlg_invite_completed")

    def failed(self) -> None:
        """A request within the dialog got 481, 408 or no response (12.2.1.2)."""
        self._event("dlg_481_408")

    # --- requests within the dialog (12.2.1.1) ------------------------------------------

    def request(
        self,
        method: str,
        *,
        sent_by: str,
        transport: str = "UDP",
        branch: str | None = None,
        contact: str | URI | None = None,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
        rng: random.Random | None = None,
    ) -> Request:
        """A new request within the dialog (12.2.1.1), the local CSeq incremented
        (:meth:`next_request`); the rest as :meth:`RequestParts.build`. A target refresh
        (re-INVITE) carries ``contact`` (8.1.1.8, 12.2.1.1)."""
        return self.next_request(method).build(
            sent_by=sent_by,
            transport=transport,
            branch=branch,
            contact=contact,
            headers=headers,
            body=body,
            content_type=content_type,
            rng=rng,
        )

    def ack(
        self,
        response: Any,
        *,
        sent_by: str,
        transport: str = "UDP",
        branch: str | None = None,
        rng: random.Random | None = None,
    ) -> Request:
        """The ACK of a 2xx to an INVITE (13.2.2.4): a request within this dialog (the 2xx's
        dialog: its To tag, its route set) with the CSeq number of the INVITE and method ACK,
        on a new branch (its own transaction). A non-2xx is ACKed by its INVITE client
        transaction (17.1.1.3: :func:`sipfsm.message.build.build_ack`)."""
        cseq = response.cseq
        if not 200 <= response.status < 300 or cseq is None or cseq.method != "INVITE":
            raise ValueError("13.2.2.4 is the ACK of a 2xx to an INVITE (else 17.1.1.3)")
        return self.request_parts("ACK", cseq.seq).build(
            sent_by=sent_by, transport=transport, branch=branch, rng=rng
        )

    def next_request(self, method: str) -> RequestParts:
        """The parts of a new request within the dialog: the local CSeq is incremented.

        Raises :class:`~sipfsm.ProtocolError` when the dialog is terminated (or not yet
        created): nothing is sent on it (12.3).
        """
        if method in ("ACK", "CANCEL"):
            raise ValueError("ACK and CANCEL reuse a request's CSeq: use request_parts")
        self._event("dlg_request_out")
        assert self.local_seq is not None
        return self.request_parts(method, self.local_seq)

    def request_parts(self, method: str, cseq: int) -> RequestParts:
        """The parts of a request within the dialog with the given CSeq number (12.2.1.1).

        Used as is for the ACK of a 2xx (13.2.2.4: the CSeq number of the INVITE). Loose
        routing: Request-URI = remote target, Route = route set. Strict routing (the first
        route has no ``lr``): Request-URI = the first route without the parameters a
        Request-URI may not carry, Route = the rest and the remote target last.
        """
        # 13.2.2.4: every 2xx is ACKed, also one that reaches a dialog our BYE has ended.
        if self.id is None or (self.terminated and method != "ACK"):
            raise ProtocolError(
                "dialog",
                self.state,
                f"{method} sent",
                "12.2.1.1",
                "no request is sent outside a live dialog",
            )
        assert self.remote_target is not None and self.remote_uri and self.local_uri
        target = self.remote_target
        routes = self.route_set
        route: tuple[str, ...]
        if not routes:
            request_uri, route = str(target), ()
        elif routes[0].lr:
            request_uri, route = str(target), tuple(f"<{r}>" for r in routes)
        else:
            # 19.1.1 Table 1: a Request-URI carries no method parameter and no headers.
            first = routes[0]
            allowed = tuple((k, v) for k, v in first.params if k.lower() != "method")
            request_uri = str(replace(first, params=allowed, headers=(), text=""))
            route = (*(f"<{r}>" for r in routes[1:]), f"<{target}>")
        return RequestParts(
            method=method,
            request_uri=request_uri,
            route=route,
            to=_name_addr(self.remote_uri, self.id.remote_tag),
            from_=_name_addr(self.local_uri, self.id.local_tag),
            call_id=self.id.call_id,
            cseq=cseq,
        )

    # --- the dialog model's guards and actions (models/dialog.toml) ---------------------

    def guard(self, name: str, context: object) -> bool:
        """``cseq_in_order`` / ``cseq_out_of_order`` (12.2.2): the request's CSeq against the
        remote sequence number."""
        seq = getattr(context, "cseq", None)
        lower = seq is not None and self.remote_seq is not None and seq.seq < self.remote_seq
        if name == "cseq_out_of_order":
            return lower
        if name == "cseq_in_order":
            return not lower
        raise ProtocolError("dialog", self.state, name, "12", "unknown guard")

    def _event(self, event: str, message: object = None) -> None:
        """Run one event of the dialog model and carry out what it returns."""
        self._carry_out(self.runner.handle(event, 0.0, message))

    def _carry_out(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, CoreAction):
                self._act(out)

    def _act(self, action: CoreAction) -> None:
        """Carry out one verb of the dialog model (vocabulary.toml, "dialog actions")."""
        verb = action.verb
        msg: Any = action.context
        if verb in ("create_dialog", "confirm_dialog"):
            self._establish(msg, create=verb == "create_dialog")
        elif verb == "set_remote_target":
            target = _contact(msg)
            if target is not None:
                self.remote_target = target
        elif verb == "set_remote_cseq":
            self.remote_seq = msg.cseq.seq
        elif verb == "incr_local_cseq":
            self.local_seq = FIRST_CSEQ if self.local_seq is None else self.local_seq + 1
        elif verb == "respond_500":
            self.verdict = action.status
        elif verb == "pass_to_tu":
            self.verdict = None
        else:
            raise ProtocolError("dialog", self.state, verb, "12", "no meaning for this action")

    def _establish(self, response: Any, *, create: bool) -> None:
        """12.1.1 (UAS) and 12.1.2 (UAC); on confirmation, 13.2.2.4 recomputes the route set."""
        invite = self.invite
        if self.role == "uac":
            # 12.1.2: route set = Record-Route of the response, reversed; remote target =
            # Contact of the response; local URI = From, remote URI = To of the request.
            routes = tuple(_uri_of(r) for r in reversed(response.record_route))
            target = _contact(response)
            ident = DialogID(invite.call_id, invite.from_.tag or "", response.to.tag or "")
        else:
            # 12.1.1: route set = Record-Route of the request, in order; remote target =
            # Contact of the request; remote sequence number = CSeq of the request.
            routes = tuple(_uri_of(r) for r in invite.record_route)
            target = _contact(invite)
            ident = DialogID(invite.call_id, response.to.tag or "", invite.from_.tag or "")
        self.route_set = routes
        if target is not None:
            self.remote_target = target
        if create:
            self.id = ident
            # 12.1.1/12.1.2: secure if the request was sent over TLS with a SIPS Request-URI.
            self.secure = str(invite.uri).lower().startswith("sips:")
            if self.role == "uac":
                self.local_uri, self.remote_uri = invite.from_.uri, invite.to.uri
            else:
                self.local_uri, self.remote_uri = invite.to.uri, invite.from_.uri


class DialogSet:
    """The dialogs of one UA, by :class:`DialogID` (12): forks of one INVITE are each their own.

    ``match(call_id, local_tag, remote_tag)`` is how a request or a response finds its dialog;
    a request within a dialog that matches none gets 481 (12.2.2). Terminated dialogs are
    kept (for the record) but match nothing.
    """

    def __init__(self) -> None:
        self._by_id: dict[DialogID, Dialog] = {}

    def add(self, dialog: Dialog) -> Dialog:
        """Register a dialog that has an ID (created by a 1xx with To tag or a 2xx)."""
        if dialog.id is None:
            raise ValueError("a dialog has an ID once a 1xx with To tag or a 2xx created it")
        self._by_id[dialog.id] = dialog
        return dialog

    def get(self, ident: DialogID) -> Dialog | None:
        """The dialog with this ID, terminated or not."""
        return self._by_id.get(ident)

    def match(self, ident: DialogID) -> Dialog | None:
        """The live dialog with this ID, or None (a request for it gets 481, 12.2.2)."""
        dialog = self._by_id.get(ident)
        return None if dialog is None or dialog.terminated else dialog

    def __iter__(self) -> Iterator[Dialog]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)
