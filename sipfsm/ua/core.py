"""The UA core as data: INVITE sessions (RFC 3261 13-15, 9) driving the transaction models (17).

A :class:`UA` is one user agent, sans-IO: it takes bytes (:meth:`UA.receive`) and the TU's
wishes (:meth:`UA.invite`, :meth:`InviteSession.answer`, :meth:`~InviteSession.cancel`,
:meth:`~InviteSession.bye`, :meth:`~InviteSession.reinvite`, :meth:`UA.request`), always with
``now``, and leaves the bytes to send in :attr:`UA.outbox`; :meth:`UA.get_timer` and
:meth:`UA.handle_timer` run the virtual clock, as for a transaction.

How the pieces fit (the design of issue 6):

- Each INVITE session is a :class:`~sipfsm.engine.runner.Runner` of
  ``models/invite_session_client`` (caller) or ``models/invite_session_server`` (callee),
  the one engine of every model. It returns records, and the UA core carries out each in
  order: a :class:`~sipfsm.engine.outputs.CoreAction` is a verb of the core. Those verbs *drive
  the transaction models*: ``send_invite`` creates an ``invite_client``
  :class:`~sipfsm.Transaction` in the :class:`~sipfsm.TransactionLayer`, ``send_bye`` /
  ``send_cancel`` a ``non_invite_client`` one, ``send_response`` passes the TU's response to
  the ``invite_server`` transaction. What those transactions output comes back here: ``Send``
  goes on the wire, ``ToTU`` becomes the session's next event (a response maps to
  ``recv_2xx``, ``recv_491`` ... by its status, as for transactions; a timeout to
  ``tx_timeout`` or ``bye_done``).
- Each dialog is a :class:`~sipfsm.ua.dialog.Dialog` (``models/dialog.toml``) in a
  :class:`~sipfsm.ua.dialog.DialogSet`: the forks of one INVITE are each their own dialog, each
  2xx is ACKed on its own dialog with its own To tag and route set (13.2.2.4).
- What RFC 3261 puts in the UA core and not in any machine is here, citing its section, in
  two halves: the UAC core (``ua.uac``: responses, the ACK of a 2xx built by the core,
  13.2.2.4; stray 2xx retransmissions, 17.1.1.2) and the UAS core (``ua.uas``: CANCEL answered
  200 or 481, 9.2; a request for an unknown dialog answered 481, 12.2.2), over what both share
  (``ua.base``) and the UA's identifiers (``ua.identifiers``).
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Mapping

from sipfsm.engine.outputs import CoreAction
from sipfsm.errors import ProtocolError
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.model.loader import DEFAULT_PROFILE, Machine, TimerTable, load_timers
from sipfsm.model.timers import Timers, transport_reliable
from sipfsm.ua.base import label
from sipfsm.ua.identifiers import Identifiers
from sipfsm.ua.session import Context, InviteSession, TUEvent
from sipfsm.ua.uac import UACore
from sipfsm.ua.uas import UASCore

__all__ = ["UA", "InviteSession", "TUEvent"]

_Verb = Callable[["UA", InviteSession, CoreAction, Context, float], None]
_SESSION_MODELS = frozenset({"invite_session_client", "invite_session_server", "dialog"})


class UA(UACore, UASCore):
    """A user agent: the UA core (8, 12-15, 9) over a transaction layer (17), sans-IO.

    ``user`` and ``host`` make its address of record ``sip:user@host`` and its Contact
    (``domain``, when given, replaces the host in the address of record: 8.1.1.3, 10);
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
        domain: str | None = None,
    ) -> None:
        chosen = dict(models or {})
        unknown = set(chosen) - _SESSION_MODELS
        if unknown:
            raise ValueError(f"models replaces the session and dialog models, not {unknown}")
        super().__init__(
            Identifiers(user, host, name or user, transport.upper(), domain),
            reliable=transport_reliable(transport),
            profile=profile,
            timers=timers or Timers(),
            random=random or _random.Random(0).random,
            strict=strict,
            models=chosen,
            timer_table=timer_table or load_timers(),
        )
        self.user = user
        self.host = host
        self.name = name or user

    @property
    def aor(self) -> str:
        """The address of record, ``sip:user@host`` (``sip:user@domain`` with a domain)."""
        return self._ids.aor

    def __repr__(self) -> str:
        return f"<UA {self.aor} sessions={len(self.sessions)}>"

    # --- the TU's interface -----------------------------------------------------------------

    def invite(self, target: str, now: float) -> InviteSession:
        """Start a call to ``target`` (a SIP URI): the initial INVITE (13.2.1)."""
        session = self._new_session("client", now)
        self._start_session(session, now, Context(message=target))
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
        req = self._ids.new_request(method, target, to or target, headers)
        self._send_request(req, None, "request", now)
        return req

    def respond(
        self, req: Request, status: int, now: float, headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        """The TU answers a request outside any dialog (8.2.6)."""
        for i, (pending, tx) in enumerate(self.requests):
            if pending is req:
                del self.requests[i]
                return self._respond_on(
                    tx, req, status, now, headers=headers, to_tag=self._ids.token("t")
                )
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
                    event = session.runner.table.timer_event[due[0]]
                    self._session_event(session, event, at, Context(dialog=session.dialog))
                    break

    def drain(self) -> list[bytes]:
        """Take the bytes to send (in order)."""
        out, self.outbox = self.outbox, []
        return out

    # --- receiving --------------------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> None:
        """A datagram arrives from the transport (18.1.2, 18.2.1): parse it and handle it."""
        self.receive_message(parse(data, strict=self.strict), now)

    def receive_message(self, msg: Request | Response, now: float) -> None:
        """A message the transport has already parsed arrives (18.1.2, 18.2.1): handle it.

        What a peer does that the models refuse is recorded in :attr:`errors` and the trace."""
        try:
            if isinstance(msg, Response):
                self._receive_response(msg, now)
            else:
                self._receive_request(msg, now)
        except ProtocolError as exc:  # a peer did something the models refuse: recorded
            self.errors.append(exc)
            self._note(now, f"refused {label(msg)}: {exc}", None)

    # --- the verbs of the session models (vocabulary.toml, "session actions") ---------------

    def _perform(self, s: InviteSession, action: CoreAction, ctx: Context, now: float) -> None:
        verb = _VERBS.get(action.verb)
        if verb is None:
            raise ProtocolError(
                s.runner.name, s.state, action.verb, "13", "the UA core has no meaning for it"
            )
        verb(self, s, action, ctx, now)

    def _pass_to_tu(self, s: InviteSession, action: CoreAction, ctx: Context, now: float) -> None:
        """Tell the TU of the event's message (a response, or a request by its method)."""
        msg = ctx.message
        what = (
            "response"
            if isinstance(msg, Response)
            else (msg.method if isinstance(msg, Request) else "event")
        )
        code = msg.status if isinstance(msg, Response) else None
        self.tu.append(TUEvent(now, what, code, msg, s))
        self._note(now, f"tu {code if code is not None else what}", s)

    def _tu_session_end(
        self, s: InviteSession, action: CoreAction, ctx: Context, now: float
    ) -> None:
        """Tell the TU that the session (and its dialog) is over (15)."""
        self.tu.append(TUEvent(now, "session over", None, None, s))
        self._note(now, "tu session over", s)


_VERBS: dict[str, _Verb] = {
    "send_invite": UA._send_invite,
    "send_ack_2xx": UA._send_ack_2xx,
    "send_cancel": UA._send_cancel,
    "send_bye": UA._send_bye,
    "send_response": UA._send_response,
    "resend_2xx": UA._resend_2xx,
    "respond_200": UA._respond_with,
    "respond_491": UA._respond_with,
    "respond_500": UA._respond_with,
    "respond_487": UA._respond_487,
    "end_early_dialogs": UA._end_early_dialogs,
    "destroy_invite": UA._destroy_invite,
    "pass_to_tu": UA._pass_to_tu,
    "tu_session_end": UA._tu_session_end,
}
