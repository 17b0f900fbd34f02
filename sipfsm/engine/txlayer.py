"""The transaction layer: match messages to transactions (RFC 3261 17.1.3, 17.2.3), sans-IO.

:class:`TransactionKey` holds the few fields matching needs, read from any message object with
``get(header_name) -> str | None`` (the parser's message class plugs in as is) or built by
hand. :class:`TransactionLayer` owns the live transactions: it creates them, routes requests,
responses, TU responses and transport errors to them, keeps one heap of their deadlines
(``get_timer`` / ``handle_timer``, like a transaction) and forgets each one the instant it is
terminated (17.1.1.2, 17.2.1: "destroyed immediately").

Matching (17.2.3, server side): a top Via branch starting with the magic cookie ``z9hG4bK``
matches on branch, sent-by and method, an ACK counting as INVITE (so the ACK for a non-2xx final
response, which reuses the INVITE's Via, 17.1.1.3, reaches the INVITE server transaction while
the ACK for a 2xx, a new transaction of the UAC core, matches nothing); CANCEL has its own
transaction as its method differs. Otherwise (RFC 2543 peers) the Request-URI, To tag, From tag,
Call-ID, CSeq and top Via are compared; an ACK compares the CSeq number only and its To tag
with the tag of the response the server transaction sent. Client side (17.1.3): the top Via
branch and the CSeq method. Field comparison is on normalised text (host names and tokens
case-folded, default ports filled in); the full equality rules of 19.1.4 and 20 come with the
parser's typed header views.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from typing import Protocol

from sipfsm.engine.outputs import Output
from sipfsm.engine.transaction import Backend, Transaction
from sipfsm.errors import ProtocolError
from sipfsm.message.constants import MAGIC_COOKIE, SIP_VERSION, default_port
from sipfsm.message.grammar import COMPACT_OF
from sipfsm.model.loader import DEFAULT_PROFILE
from sipfsm.model.timers import Timers


class HeaderSource(Protocol):
    """What :meth:`TransactionKey.from_message` reads: the first value of a header field."""

    def get(self, name: str) -> str | None:
        """The (top) value of header field ``name``, or ``None``."""


@dataclass(frozen=True, slots=True)
class TransactionKey:
    """The fields of a message that RFC 3261 17.1.3 and 17.2.3 match transactions on.

    ``method`` is the request's method (for a response: the CSeq method); ``sent_by`` is
    ``host:port`` of the top Via, normalised; ``top_via`` the whole top Via value, normalised.
    """

    method: str
    branch: str | None = None
    sent_by: str | None = None
    request_uri: str | None = None
    to_tag: str | None = None
    from_tag: str | None = None
    call_id: str | None = None
    cseq: int | None = None
    top_via: str | None = None

    @property
    def rfc3261(self) -> bool:
        """Whether the branch carries the magic cookie (17.2.3): else RFC 2543 matching."""
        return self.branch is not None and self.branch.startswith(MAGIC_COOKIE)

    def server_id(self) -> tuple[object, ...]:
        """The identity of the server transaction this request belongs to (17.2.3).

        An ACK maps to its INVITE's transaction. Under RFC 2543 rules an ACK has no To tag in
        its identity: :class:`TransactionLayer` checks it against the response's tag.
        """
        if self.rfc3261:
            method = "INVITE" if self.method == "ACK" else self.method
            return ("3261", self.branch, self.sent_by, method)
        if self.method == "ACK":
            return self.ack_id()
        return (
            "2543",
            self.request_uri,
            self.to_tag,
            self.from_tag,
            self.call_id,
            self.cseq,
            self.method,
            self.top_via,
        )

    def ack_id(self) -> tuple[object, ...]:
        """RFC 2543 rules: what an ACK shares with its INVITE (no To tag, CSeq number only)."""
        return ("2543-ACK", self.request_uri, self.from_tag, self.call_id, self.cseq, self.top_via)

    def client_id(self) -> tuple[object, ...]:
        """The identity of the client transaction a response belongs to (17.1.3)."""
        return (self.branch, self.method)

    @classmethod
    def from_message(
        cls, message: HeaderSource, *, method: str | None = None, request_uri: str | None = None
    ) -> TransactionKey:
        """Read the key from a message with ``get(name)``; ``method`` and ``request_uri``
        default to the message's ``method`` and ``uri``/``request_uri`` attributes (a
        response has neither: its method is the CSeq method)."""
        via = _top_value(_header(message, "Via") or "")
        cseq_number, cseq_method = _cseq(_header(message, "CSeq") or "")
        method = method or getattr(message, "method", None) or cseq_method
        uri = request_uri or getattr(message, "request_uri", None) or getattr(message, "uri", None)
        branch, sent_by, normalised = _via(via)
        return cls(
            method=str(method).upper(),
            branch=branch,
            sent_by=sent_by,
            request_uri=None if uri is None else str(uri).strip(),
            to_tag=_tag(_header(message, "To")),
            from_tag=_tag(_header(message, "From")),
            call_id=(_header(message, "Call-ID") or "").strip() or None,
            cseq=cseq_number,
            top_via=normalised,
        )


def _header(message: HeaderSource, name: str) -> str | None:
    value = message.get(name)
    if value is None and name in COMPACT_OF:
        value = message.get(COMPACT_OF[name])
    return value


def _top_value(value: str) -> str:
    """The first comma-separated value of a header (commas inside quotes kept)."""
    quoted = False
    for i, ch in enumerate(value):
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            return value[:i].strip()
    return value.strip()


def _params(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";")[1:]:
        name, _, val = part.partition("=")
        out[name.strip().lower()] = val.strip()
    return out


def _via(via: str) -> tuple[str | None, str | None, str | None]:
    """(branch, sent-by, normalised value) of one Via value (20.42)."""
    if not via:
        return None, None, None
    head = via.split(";", 1)[0]
    protocol, _, sent_by = head.strip().partition(" ")
    transport = protocol.rsplit("/", 1)[-1].strip().upper()
    host, sep, port = sent_by.strip().rpartition(":")
    if not sep or "]" in port:
        host, port = sent_by.strip(), ""
    port = port or str(default_port(transport))
    hostport = f"{host.lower()}:{port}"
    params = _params(via)
    rest = ";".join(f"{k}={v}" if v else k for k, v in sorted(params.items()))
    normalised = f"{SIP_VERSION}/{transport} {hostport};{rest}"
    return params.get("branch"), hostport, normalised


def _tag(value: str | None) -> str | None:
    """The ``tag`` parameter of a To or From value (outside its <...>)."""
    if not value:
        return None
    tail = value.rsplit(">", 1)[-1] if "<" in value else value
    return _params(tail).get("tag") or None


def _cseq(value: str) -> tuple[int | None, str | None]:
    parts = value.split()
    if len(parts) != 2 or not parts[0].isdigit():
        return None, None
    return int(parts[0]), parts[1].upper()


def model_for(method: str, side: str) -> str:
    """The model of a transaction for a request method: 17.1 (client) or 17.2 (server)."""
    kind = "invite" if method.upper() == "INVITE" else "non_invite"
    return f"{kind}_{side}"


class TransactionLayer:
    """All live transactions of one element, with matching and one timer heap (sans-IO).

    Every method takes ``now`` and returns outputs; nothing is sent or read here.
    """

    def __init__(
        self,
        *,
        profile: str = DEFAULT_PROFILE,
        timers: Timers | None = None,
        backend: Backend = "compiled",
    ) -> None:
        self.profile = profile
        self.timers = timers or Timers()
        self.backend: Backend = backend
        self._server: dict[tuple[object, ...], Transaction] = {}
        self._client: dict[tuple[object, ...], Transaction] = {}
        self._ids: dict[Transaction, list[tuple[object, ...]]] = {}
        self._side: dict[Transaction, str] = {}
        self._response_tag: dict[Transaction, str | None] = {}
        self._heap: list[tuple[float, int, Transaction]] = []
        self._scheduled: dict[Transaction, float] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._ids)

    # --- creating and routing --------------------------------------------------------------

    def send_request(
        self, key: TransactionKey, request: object, now: float, *, transport: str = "udp"
    ) -> tuple[Transaction, list[Output]]:
        """The TU sends a request: create its client transaction (17.1) and start it."""
        if key.method == "ACK":
            raise ProtocolError(
                "transaction layer",
                "-",
                "ACK",
                "17.1",
                "there is no client transaction for ACK: send it directly",
            )
        tx = self._new(model_for(key.method, "client"), request, key.method, transport)
        self._add(tx, "client", key.client_id(), self._client)
        return tx, self._after(tx, tx.start(now))

    def receive_request(
        self, key: TransactionKey, request: object, now: float, *, transport: str = "udp"
    ) -> tuple[Transaction | None, list[Output]]:
        """A request arrives: route it to its server transaction or create one (17.2.3).

        Returns ``(None, [])`` for an ACK that matches no transaction (an ACK for a 2xx): it
        goes to the TU core, not to the transaction layer (17, 13.3.1.4).
        """

        tx = self.match_request(key)
        if tx is not None:
            event = "recv_ack" if key.method == "ACK" else "recv_request"
            return tx, self._after(tx, tx.handle(event, now, request))
        if key.method == "ACK":
            return None, []
        tx = self._new(model_for(key.method, "server"), request, key.method, transport)
        self._add(tx, "server", key.server_id(), self._server)
        if key.method == "INVITE" and not key.rfc3261:
            self._add(tx, "server", key.ack_id(), self._server)
        return tx, self._after(tx, tx.start(now, request))

    def match_request(self, key: TransactionKey) -> Transaction | None:
        """The server transaction a request matches (17.2.3), or ``None``."""
        tx = self._server.get(key.server_id())
        if tx is None or key.method != "ACK" or key.rfc3261:
            return tx
        return tx if key.to_tag == self._response_tag.get(tx) else None

    def match_cancel(self, key: TransactionKey) -> Transaction | None:
        """The INVITE server transaction a CANCEL cancels (9.2: 17.2.3 with method INVITE)."""
        return self.match_request(replace(key, method="INVITE"))

    def receive_response(
        self, key: TransactionKey, response: object, status: int, now: float
    ) -> tuple[Transaction | None, list[Output]]:
        """A response arrives: route it to its client transaction (17.1.3).

        ``(None, [])``: it matches none, a stray response. What becomes of it is
        :attr:`stray_to_core`.
        """
        tx = self._client.get(key.client_id())
        if tx is None:
            return None, []
        return tx, self._after(tx, tx.receive_response(status, now, response))

    @property
    def stray_to_core(self) -> bool:
        """Whether a response matching no client transaction goes to the core.

        RFC 3261 18.1.2 (last paragraph): "If there are no matches, the response MUST be passed
        to the core" (the UAC core ACKs a 2xx retransmission or another fork's 2xx that way).
        RFC 6026 8.9 replaces that paragraph: the response MUST be silently discarded by every
        element but a stateless proxy (a UA is none); the INVITE client transaction's Accepted
        state (Timer M, 64*T1) is what passes those 2xx up now, and later ones are dropped.
        """
        return self.profile == "rfc3261"

    def respond(
        self,
        tx: Transaction,
        status: int,
        now: float,
        response: object | None = None,
        *,
        to_tag: str | None = None,
    ) -> list[Output]:
        """The TU passes a response to its server transaction (17.2: the TU names it)."""
        if to_tag is None and hasattr(response, "get"):
            to_tag = _tag(response.get("To") or response.get("t"))
        self._response_tag[tx] = to_tag
        return self._after(tx, tx.respond(status, now, response))

    def transport_error(self, tx: Transaction, now: float) -> list[Output]:
        """The transport layer failed to send for ``tx`` (17.1.4, 17.2.4)."""
        return self._after(tx, tx.handle("transport_error", now))

    def destroy(self, tx: Transaction) -> None:
        """The TU destroys a live transaction: it matches nothing from now on and its timers
        stop (9.1: a cancelled INVITE without a final response after 64*T1, "the client
        SHOULD destroy the client transaction handling the original request")."""
        self._forget(tx)

    # --- timers ----------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """The earliest deadline over all live transactions, or ``None``."""
        heap = self._heap
        while heap and self._scheduled.get(heap[0][2]) != heap[0][0]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def handle_timer(self, now: float) -> list[tuple[Transaction, list[Output]]]:
        """Fire every timer due by ``now``, transaction by transaction, earliest first."""
        fired: list[tuple[Transaction, list[Output]]] = []
        while True:
            deadline = self.get_timer()
            if deadline is None or deadline > now:
                return fired
            _, _, tx = heapq.heappop(self._heap)
            del self._scheduled[tx]
            fired.append((tx, self._after(tx, tx.handle_timer(deadline))))

    # --- bookkeeping -----------------------------------------------------------------------

    def _new(self, model: str, request: object, method: str, transport: str) -> Transaction:
        return Transaction(
            model,
            request,
            transport=transport,
            profile=self.profile,
            timers=self.timers,
            method=method,
            backend=self.backend,
        )

    def _add(
        self,
        tx: Transaction,
        side: str,
        ident: tuple[object, ...],
        table: dict[tuple[object, ...], Transaction],
    ) -> None:
        table[ident] = tx
        self._ids.setdefault(tx, []).append(ident)
        self._side[tx] = side

    def _after(self, tx: Transaction, outputs: list[Output]) -> list[Output]:
        """Destroy ``tx`` if it terminated, else (re)schedule its next deadline."""
        if tx.terminated:
            self._forget(tx)
            return outputs
        deadline = tx.get_timer()
        if deadline is not None and self._scheduled.get(tx) != deadline:
            self._scheduled[tx] = deadline
            self._seq += 1
            heapq.heappush(self._heap, (deadline, self._seq, tx))
        return outputs

    def _forget(self, tx: Transaction) -> None:
        table = self._client if self._side.pop(tx, "") == "client" else self._server
        for ident in self._ids.pop(tx, []):
            if table.get(ident) is tx:
                del table[ident]
        self._scheduled.pop(tx, None)
        self._response_tag.pop(tx, None)

    @property
    def transactions(self) -> list[Transaction]:
        """The live transactions."""
        return list(self._ids)
