"""A server: sans-IO elements bound to real UDP and TCP sockets on one loopback port.

An *element* is anything in the shape of sipfsm's core: ``receive(data, now)`` takes bytes
from the network, ``drain()`` (or an ``outbox`` list) gives the bytes to send,
``get_timer()`` and ``handle_timer(now)`` run its clock; a :class:`~sipfsm.ua.core.UA` is
one. :class:`Server` gives each transport its element, runs it with a
:class:`~sipfsm.net.driver.Driver` on the event loop's clock over one
:class:`~sipfsm.net.endpoint.SipEndpoint` (UDP and TCP on the same port), and does what
RFC 3261 section 18 leaves to the transport:

* every received message is parsed once; an element with ``receive_message(msg, now)`` gets
  it parsed, and one with ``receive_malformed(data, error, now)`` gets what does not parse
  (others: the bytes, and nothing for what does not parse);
* a response goes back where its request came from (18.2.2: the source of the request with
  its top Via's branch; the source of the datagram being handled for an answer to one that
  did not parse; else the top Via's ``received`` or sent-by); a request goes to its first
  Route, else its Request-URI (18.1.1, RFC 3263 reduced to host and port);
* the element hears a message at the instant it arrived, never earlier than what it was
  already told (its clock never goes back).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sipfsm.errors import ParseError, SipfsmError
from sipfsm.message.constants import DEFAULT_PORT, DEFAULT_TLS_PORT, default_port
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.message.uri import URI
from sipfsm.net.bounds import Bounds
from sipfsm.net.driver import Driver, Firing
from sipfsm.net.endpoint import Addr, Received, SipEndpoint, Transport

__all__ = ["Element", "ElementFactory", "Server"]

Message = Request | Response
#: The port a URI or a sent-by without one means (RFC 3261 18.1.1, 19.1.2: sip over UDP, TCP).


class Element(Protocol):
    """What :class:`Server` binds to a transport (the shape of sipfsm's sans-IO core)."""

    def receive(self, data: bytes, now: float) -> object:
        """Bytes from the network at ``now``."""
        ...

    def get_timer(self) -> float | None:
        """The next deadline, or None."""
        ...

    def handle_timer(self, now: float) -> object:
        """Fire every timer due by ``now``."""
        ...


#: A veto on what an element sends: True drops the message (tests break an element on the wire).
Suppress = Callable[[Message, bytes], bool]


@dataclass
class _Side:
    """One transport's element and its driver."""

    transport: Transport
    element: Element
    driver: Driver[object] | None = None
    #: The latest instant given to the element (its clock never goes back).
    clock: float = 0.0


@dataclass
class _Routes:
    """Where responses go (18.2.2)."""

    #: branch of a received request -> where it came from.
    came_from: dict[str, Addr] = field(default_factory=dict)
    #: the source of the datagram being handled, while its element runs.
    replying: Addr | None = None


#: Makes the element of a transport, once the address it listens on is known (an element
#: writes its address into what it sends: Via sent-by, Contact).
ElementFactory = Callable[[Transport, Addr], Element]


class Server:
    """One element per transport (``element_for(transport, (host, port))``) on ``host``, the
    ``transports`` on one port (``port`` 0: any free one).

    ``on_received(transport)`` runs after each message an element took (its TU's turn);
    ``suppress`` may veto a message before it is sent. Exceptions raised by an element are
    kept in :attr:`errors` and its driver restarted, so one bad message does not stop it.
    """

    def __init__(
        self,
        element_for: ElementFactory,
        *,
        transports: Sequence[Transport] = ("udp", "tcp"),
        host: str = "127.0.0.1",
        port: int = 0,
        bounds: Bounds | None = None,
        strict: bool = True,
        on_received: Callable[[Transport], None] | None = None,
        suppress: Suppress | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.bounds = bounds or Bounds()
        self.strict = strict
        self.on_received = on_received
        self.suppress = suppress
        self.element_for = element_for
        self.transports = tuple(transports)
        self.sides: dict[Transport, _Side] = {}
        self.ep: SipEndpoint | None = None
        self.errors: list[BaseException] = []
        self._routes = _Routes()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- life cycle

    async def start(self, attempts: int = 20) -> Server:
        """Bind UDP and TCP on the same port (a free one tried up to ``attempts`` times when
        ``port`` is 0); start every element's driver."""
        from sipfsm.net.ports import free_port

        last: OSError | None = None
        for _ in range(attempts):
            port = self.port or free_port(host=self.host)
            ep = SipEndpoint(
                host=self.host,
                udp_port=port if "udp" in self.transports else None,
                tcp_port=port if "tcp" in self.transports else None,
                bounds=self.bounds,
                on_message=self._received,
            )
            try:
                await ep.start()
            except OSError as exc:
                last = exc
                if self.port:
                    break
                continue
            self.ep, self.port = ep, port
            break
        if self.ep is None:
            raise SipfsmError(f"server: no port for {' and '.join(self.transports)}: {last}")
        for transport in self.transports:
            side = _Side(transport, self.element_for(transport, (self.host, self.port)))
            self.sides[transport] = side
            self._drive(side)
        return self

    async def close(self) -> None:
        """Stop the drivers, close the sockets."""
        for side in self.sides.values():
            if side.driver is not None:
                side.driver.close()
        for task in list(self._tasks):
            task.cancel()
        if self.ep is not None:
            await self.ep.close()

    async def __aenter__(self) -> Server:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def source(self) -> Addr | None:
        """The source of the message an element is taking now (None between messages)."""
        return self._routes.replying

    def time(self) -> float:
        """The event loop's clock (0 before :meth:`start`)."""
        return self.ep.loop.time() if self.ep is not None else 0.0

    def _drive(self, side: _Side) -> Driver[object]:
        side.driver = Driver(side.element, functools.partial(self._on_output, side)).start()
        return side.driver

    # -- running an element

    def call(self, transport: Transport, fn: Callable[[float], object]) -> None:
        """Run ``fn(now)`` on ``transport``'s element (its TU's wishes), then send what it
        produced. An exception from it restarts the driver and is raised again."""
        side = self.sides[transport]
        driver = side.driver if side.driver is not None else self._drive(side)
        try:
            driver.call(fn)
        except Exception:
            self._drive(side)
            raise

    def _received(self, rcv: Received) -> None:
        try:
            self._receive(rcv)
        except Exception as exc:
            self.errors.append(exc)

    def _receive(self, rcv: Received) -> None:
        side = self.sides[rcv.transport]
        msg: Message | ParseError
        try:
            msg = parse(rcv.data, strict=self.strict)
        except ParseError as exc:
            msg = exc
        if isinstance(msg, Request):
            self._note_source(msg, rcv.peer)
        # The element hears the message when it arrived, not when this thread got to it: a
        # busy process must not make an ACK look later than Timer G (17.2.1).
        at = max(rcv.time, side.clock)
        side.clock = at
        step = functools.partial(_deliver_at, side.element, rcv.data, msg, at)
        self._routes.replying = rcv.peer
        try:
            self.call(rcv.transport, step)
        except Exception as exc:
            self.errors.append(exc)
            return
        finally:
            self._routes.replying = None
        if self.on_received is not None:
            self.on_received(rcv.transport)

    def _note_source(self, req: Request, peer: Addr) -> None:
        try:
            vias = req.via
        except ParseError:
            return
        if vias and vias[0].branch:
            self._routes.came_from[vias[0].branch] = peer

    # -- sending

    def _on_output(self, side: _Side, _out: object, firing: Firing | None) -> None:
        if firing is not None:
            side.clock = max(side.clock, firing.scheduled, firing.actual)
        for data in _drain(side.element):
            dest = self._route(data)
            if dest is not None:
                self._send(data, side.transport, dest)

    def _route(self, data: bytes) -> Addr | None:
        """Where ``data`` goes (18.1.1, 18.2.2), or None to drop it."""
        try:
            msg = parse(data)
        except ParseError:
            return self._routes.replying
        dest = self._destination(msg)
        if dest is not None and self.suppress is not None and self.suppress(msg, data):
            return None
        return dest

    def _destination(self, msg: Message) -> Addr | None:
        if isinstance(msg, Request):
            routes = msg.route
            return _host_port(str(routes[0].uri) if routes else msg.uri)
        vias = msg.via
        if not vias:
            return None
        known = self._routes.came_from.get(vias[0].branch or "")
        if known is not None:
            return known
        if self._routes.replying is not None:
            return self._routes.replying
        return str(vias[0].param("received") or vias[0].host), int(
            vias[0].port or default_port(vias[0].transport or "UDP")
        )

    def _send(self, data: bytes, transport: Transport, dest: Addr) -> None:
        if self.ep is None or self.ep.closed:
            return
        if transport == "udp":  # at once: a task would add a loop iteration of delay
            try:
                self.ep.send_nowait(data, "udp", dest[0], dest[1])
                return
            except SipfsmError:
                pass  # rate bound: wait for it below
        task = asyncio.ensure_future(self._send_async(data, transport, dest))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_async(self, data: bytes, transport: Transport, dest: Addr) -> None:
        assert self.ep is not None
        try:
            await self.ep.send(data, transport, dest[0], dest[1])
        except (OSError, SipfsmError, TimeoutError) as exc:
            self.errors.append(exc)


def _deliver_at(
    element: Element, data: bytes, msg: Message | ParseError, at: float, now: float
) -> None:
    """Give ``element`` a received message in the most parsed form it takes, at the instant
    it arrived (``at``) unless that is later than ``now``."""
    now = min(now, at)
    if isinstance(msg, ParseError):
        receive_malformed = getattr(element, "receive_malformed", None)
        if callable(receive_malformed):
            receive_malformed(data, msg, now)
        return
    receive_message = getattr(element, "receive_message", None)
    if callable(receive_message):
        receive_message(msg, now)
    else:
        element.receive(data, now)


def _drain(element: Element) -> list[bytes]:
    """Take what ``element`` has to send: ``drain()``, else its ``outbox`` list."""
    drain = getattr(element, "drain", None)
    if callable(drain):
        return list(drain())
    outbox: Any = getattr(element, "outbox", None)
    if outbox is None:
        return []
    out = list(outbox)
    outbox.clear()
    return out


def _host_port(uri: str) -> Addr:
    """(host, port) of a SIP URI (19.1.1): without a port, 5060 (5061 for sips, 19.1.2);
    loopback when it does not parse (the endpoint refuses other hosts anyway)."""
    try:
        u = URI.parse(uri)
    except (ParseError, ValueError):
        return "127.0.0.1", DEFAULT_PORT
    fallback = DEFAULT_TLS_PORT if u.scheme == "sips" else DEFAULT_PORT
    return (u.host or "127.0.0.1").strip("[]"), int(u.port or fallback)
