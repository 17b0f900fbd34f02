"""An INVITE session (RFC 3261 13-15, 9): a run of ``models/invite_session_client`` (the caller,
13.2) or ``models/invite_session_server`` (the callee, 13.3), and what the UA core keeps for it.

The session's machine is a :class:`~sipfsm.engine.runner.Runner` of the session model; the UA
core (``ua.core``) feeds it events and carries out the records it returns. :class:`Context`
is what comes with one event (the message, its transaction, its dialog); :class:`TUEvent` is
what the UA core tells its TU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sipfsm.engine.runner import Runner
from sipfsm.engine.transaction import Transaction
from sipfsm.errors import ProtocolError
from sipfsm.message.message import Request, Response
from sipfsm.ua.dialog import Dialog

Message = Request | Response


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
class Context:
    """The context of one session event: the message, its transaction, its dialog."""

    message: Any = None
    tx: Transaction | None = None
    dialog: Dialog | None = None
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()


class SessionOwner(Protocol):
    """What a session asks of its UA core: to run one event of its model."""

    def _session_event(self, session: InviteSession, event: str, now: float, ctx: Context) -> None:
        """Run ``event`` on the session's model and carry out what it returns."""


class InviteSession:
    """One INVITE session: a run of ``invite_session_client`` or ``invite_session_server``.

    ``role`` is ``"client"`` (this UA sent the INVITE, 13.2) or ``"server"`` (13.3).
    ``dialog`` is the session's dialog once a 2xx chose it; ``dialogs`` every dialog of the
    initial INVITE (forks, 12.1.2). :attr:`state` is the state as the UA core has carried
    it out: while it carries out a rule's actions, still the rule's source state (the actions
    run before the destination is entered).
    """

    def __init__(self, owner: SessionOwner, role: str, runner: Runner, now: float) -> None:
        self.owner = owner
        self.role = role
        self.runner = runner
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
        #: The ACK sent for each 2xx, by (To tag, CSeq): sent again, the same, for each
        #: retransmission of that 2xx (13.2.2.4).
        self.acks: dict[tuple[str, int], Request] = {}
        #: Remote tags of the early dialogs our BYE ended (15): a 2xx on one is ACKed, and the
        #: dialog it confirmed is over (that BYE ends it, 15.1.2), not BYEd again.
        self.byed: set[str] = set()
        self.t0 = now
        self._state = runner.state

    @property
    def state(self) -> str:
        """The session model's state (as carried out so far)."""
        return self._state

    @property
    def terminated(self) -> bool:
        """Whether the session is over (15)."""
        return self._state in self.runner.table.terminal

    def _entered(self, state: str) -> None:
        """The UA core carried out the model's entry into ``state``."""
        self._state = state

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
        self.owner._session_event(self, event, now, Context(status=status, headers=headers))

    def cancel(self, now: float) -> None:
        """The TU cancels the pending initial INVITE (9.1)."""
        self.owner._session_event(self, "tu_cancel", now, Context())

    def bye(self, now: float) -> None:
        """The TU ends the session (15.1.1); the caller before any 2xx: a BYE on each early
        dialog (15), the INVITE's transaction going on alone."""
        self.owner._session_event(self, "tu_bye", now, Context(dialog=self.dialog))

    def reinvite(self, now: float) -> None:
        """The TU modifies the session: a re-INVITE (14.1)."""
        self.owner._session_event(self, "tu_invite", now, Context())
