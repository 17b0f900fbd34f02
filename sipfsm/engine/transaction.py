"""The sans-IO transaction: RFC 3261 section 17 run from the models, on the caller's clock.

A :class:`Transaction` is a :class:`~sipfsm.engine.runner.Runner` of one of the four transaction
models with the interface of section 17: it never reads a clock, owns no socket and calls no TU:
time comes in as ``now`` (seconds, any origin), events come in as names of
``models/vocabulary.toml`` (or status codes, :meth:`Transaction.receive_response` /
:meth:`Transaction.respond`), and what to do goes out as records of ``engine.outputs``. The
caller asks :meth:`~Runner.get_timer` for the next deadline and calls
:meth:`~Runner.handle_timer` when it is due (aioquic's shape). Unlike a dialog or a session, a
transaction fires its own timers as its clock passes them: those overdue before an event, and
those due at its instant (a timer of 0 s) right after it. An ``error`` pair of the model raises
:class:`~sipfsm.ProtocolError`.
"""

from __future__ import annotations

from sipfsm.engine.outputs import Output, Send
from sipfsm.engine.runner import NOT_STARTED, Backend, Runner
from sipfsm.engine.table import (
    RESEND_ACK,
    RESEND_REQUEST,
    RESEND_RESPONSE,
    SEND_100,
    SEND_ACK,
    SEND_REQUEST,
    SEND_RESPONSE,
    Table,
    table_for,
)
from sipfsm.errors import ProtocolError
from sipfsm.model.loader import DEFAULT_PROFILE, Machine
from sipfsm.model.timers import Timers

__all__ = ["Backend", "Transaction"]

_DEFAULT_TIMERS = Timers()
_SENT_100 = (None, 100)


class Transaction(Runner):
    """One client or server transaction (RFC 3261 17.1, 17.2) of a model in ``models/``.

    ``model`` is a model name (``"invite_client"``, ``"non_invite_server"`` ...) or a loaded
    :class:`~sipfsm.Machine`, or a compiled table. ``request`` is the caller's request object
    (sent by a client, received by a server); ``method`` names it in traces. Call
    :meth:`start` once, then :meth:`handle` / :meth:`handle_timer`.
    """

    __slots__ = ("last_response", "method", "request")

    def __init__(
        self,
        model: str | Machine | Table,
        request: object | None = None,
        *,
        transport: str = "udp",
        profile: str = DEFAULT_PROFILE,
        timers: Timers = _DEFAULT_TIMERS,
        method: str | None = None,
        backend: Backend = "compiled",
    ) -> None:
        table = model if isinstance(model, Table) else table_for(model, profile, transport, timers)
        Runner.__init__(self, table, None, None, backend)
        self.request = request
        self.method = method or table.machine.method or "request"
        #: The most recent response sent (message, status): what ``resend_response`` resends.
        self.last_response: tuple[object | None, int | None] | None = None

    # --- the caller's interface ----------------------------------------------------------

    def start(self, now: float, message: object | None = None) -> list[Output]:
        """Begin: a client sends its request (17.1), a server passes it to the TU (17.2).

        ``message`` is the request for a server transaction (default: ``request``).
        """
        if message is not None and self._row is NOT_STARTED:
            self.request = message
        out = Runner.start(self, now, self.request)
        if self._due <= now:
            self._fire_due(now, out)
        return out

    def handle(
        self, event: str, now: float, message: object | None = None, *, status: int | None = None
    ) -> list[Output]:
        """Take one event (a vocabulary name: ``recv_1xx``, ``tu_2xx``, ``transport_error`` ...).

        Timers overdue (due before ``now``) fire first, each at its deadline; timers due at
        ``now`` (a timer of 0 s) fire after the event, before this returns.
        """
        if event in self.table.timer_names:
            raise ProtocolError(
                self.table.name,
                self.state,
                event,
                self.table.machine.section,
                "timers are the transaction's own: they fire in handle_timer",
            )
        out: list[Output] = []
        if self._due < now:
            self._fire_due(now, out, before=True)
        self._dispatch(event, now, message, status, out)
        if self._due <= now:
            self._fire_due(now, out)
        return out

    def receive_response(
        self, status: int, now: float, message: object | None = None
    ) -> list[Output]:
        """A response with this status code arrives from the transport layer (17.1.1, 17.1.2)."""
        event = self.table.tl_status.get(status) or self._no_event(status, "recv")
        return self.handle(event, now, message, status=status)

    def respond(self, status: int, now: float, message: object | None = None) -> list[Output]:
        """The TU passes a response with this status code (17.2.1, 17.2.2)."""
        event = self.table.tu_status.get(status) or self._no_event(status, "tu")
        return self.handle(event, now, message, status=status)

    def __repr__(self) -> str:
        return f"<Transaction {self.table.name} {self.method} {self.state}>"

    def _no_event(self, status: int, origin: str) -> str:
        raise ProtocolError(
            self.table.name,
            self.state,
            f"{origin} {status}",
            self.table.machine.section,
            "no event of this machine takes that status code",
        )

    # --- the section-17 actions ----------------------------------------------------------

    def _send(
        self, code: int, message: object, status: int | None, section: str, out: list[Output]
    ) -> None:
        if code in (SEND_REQUEST, RESEND_REQUEST):
            out.append(Send("request", self.request, None, code == RESEND_REQUEST, section))
        elif code in (SEND_ACK, RESEND_ACK):
            out.append(Send("ack", message, status, code == RESEND_ACK, section))
        elif code == SEND_RESPONSE:
            self.last_response = (message, status)
            out.append(Send("response", message, status, False, section))
        elif code == SEND_100:
            self.last_response = _SENT_100
            out.append(Send("response", None, 100, False, section))
        elif code == RESEND_RESPONSE and self.last_response is not None:
            last = self.last_response
            out.append(Send("response", last[0], last[1], True, section))
