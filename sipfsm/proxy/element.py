"""What the proxy and the registrar share: an element over a transaction layer (RFC 3261 17).

:class:`Element` has the element shape of the UA (``receive``, ``drain``, ``get_timer``,
``handle_timer``, ``name``): bytes in, bytes out, time passed in. It owns a
:class:`~sipfsm.engine.txlayer.TransactionLayer`; what a transaction returns is carried out
here (``Send``: the message's bytes to the outbox, the ACK of a non-2xx built per 17.1.1.3;
``ToTU``: to the element's core, :meth:`Element.to_core`), and responses are built per 8.2.6
with deterministic To tags.
"""

from __future__ import annotations

from sipfsm.engine.outputs import Output, Send, ToTU
from sipfsm.engine.runner import GuardEvaluator, Runner
from sipfsm.engine.table import compiled
from sipfsm.engine.transaction import Transaction
from sipfsm.engine.txlayer import TransactionKey, TransactionLayer
from sipfsm.errors import ProtocolError
from sipfsm.message.build import build_ack, build_response
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.model.loader import DEFAULT_PROFILE
from sipfsm.model.timers import Timers


class Element:
    """A SIP element named ``name`` at ``host`` over its own transaction layer."""

    def __init__(
        self, name: str, host: str, *, profile: str = DEFAULT_PROFILE, timers: Timers | None = None
    ) -> None:
        self.name = name
        self.host = host
        self.profile = profile
        self.timers = timers or Timers()
        self.layer = TransactionLayer(profile=profile, timers=self.timers)
        self.outbox: list[bytes] = []
        #: What peers did that the models refuse (as for the UA: recorded, not raised).
        self.errors: list[ProtocolError] = []
        self._n = 0

    # --- the element shape ----------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> None:
        """A datagram arrives from the transport (18.1.2, 18.2.1): parse it strictly."""
        msg = parse(data, strict=True)
        try:
            if isinstance(msg, Response):
                self.receive_response(msg, now)
            else:
                self.receive_request(msg, now)
        except ProtocolError as exc:
            self.errors.append(exc)

    def drain(self) -> list[bytes]:
        """Take the bytes to send, in order."""
        out, self.outbox = self.outbox, []
        return out

    def get_timer(self) -> float | None:
        """The next deadline of the element, or ``None``."""
        return self.layer.get_timer()

    def handle_timer(self, now: float) -> None:
        """Fire every transaction timer due by ``now``."""
        for tx, outputs in self.layer.handle_timer(now):
            self.outputs(tx, outputs, now)

    # --- what subclasses do ---------------------------------------------------------------

    def receive_request(self, req: Request, now: float) -> None:
        """A request to its server transaction (17.2.3), a new one's to the core."""
        key = TransactionKey.from_message(req)
        tx, outputs = self.layer.receive_request(key, req, now)
        if tx is None:
            self.stray_ack(req, now)
            return
        self.outputs(tx, outputs, now)

    def receive_response(self, resp: Response, now: float) -> None:
        """A response to its client transaction (17.1.3); a stray one is dropped here."""
        key = TransactionKey.from_message(resp)
        tx, outputs = self.layer.receive_response(key, resp, resp.status, now)
        if tx is not None:
            self.outputs(tx, outputs, now)

    def stray_ack(self, ack: Request, now: float) -> None:
        """An ACK that matches no server transaction (the ACK of a 2xx, 17): dropped."""

    def to_core(self, tx: Transaction, out: ToTU, now: float) -> None:
        """What a transaction passes up to the element's core."""
        raise NotImplementedError

    # --- plumbing -------------------------------------------------------------------------

    def runner(self, model: str, guards: GuardEvaluator | None = None) -> Runner:
        """A Runner of ``model`` compiled for this element's profile and timers."""
        table = compiled(model, profile=self.profile, reliable=False, timers=self.timers)
        return Runner(table, guards=guards)

    def tag(self) -> str:
        """A new To tag (19.3), deterministic: the element's name and a counter."""
        self._n += 1
        return f"{self.name}{self._n}"

    def respond(
        self,
        tx: Transaction,
        req: Request,
        status: int,
        now: float,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Response:
        """Answer ``req`` on ``tx`` with a response built per 8.2.6."""
        to_tag = None if status == 100 or (req.to and req.to.tag) else self.tag()
        resp = build_response(req, status, to_tag=to_tag, headers=headers)
        self.outputs(tx, self.layer.respond(tx, status, now, resp), now)
        return resp

    def outputs(self, tx: Transaction, outputs: list[Output], now: float) -> None:
        """Carry out what ``tx`` returned: sends to the outbox, the rest to the core."""
        for out in outputs:
            if isinstance(out, Send):
                self.send(tx, out)
            elif isinstance(out, ToTU):
                self.to_core(tx, out, now)

    def send(self, tx: Transaction, out: Send) -> None:
        """A transaction's ``Send``: its request, the 17.1.1.3 ACK, or a response."""
        req = tx.request
        if out.what == "request" and isinstance(req, Request):
            self.outbox.append(req.raw)
        elif out.what == "ack" and isinstance(req, Request) and isinstance(out.message, Response):
            self.outbox.append(build_ack(req, out.message).raw)
        elif out.what == "response":
            resp = out.message
            if not isinstance(resp, Response) and isinstance(req, Request):
                resp = build_response(req, out.status or 100)  # 17.2.1: 100 without To tag
            if isinstance(resp, Response):
                self.outbox.append(resp.raw)
