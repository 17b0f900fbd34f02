"""UDP and TCP endpoints on loopback for the sans-IO core (RFC 3261 section 18).

:class:`SipEndpoint` opens a UDP socket and/or a TCP listener, opens TCP client connections
on demand, sends bytes to ``(transport, host, port)`` (sections 18.1.1, 18.2.2) and delivers
every received datagram or stream message (framed per section 18.3 by
:mod:`sipfsm.net.framing`) as a :class:`Received`, stamped with ``loop.time()`` on arrival.
Every send passes the loopback guard (:mod:`sipfsm.net.guard`) and the bounds of
:mod:`sipfsm.net.bounds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.net.bounds import Bounds, Budget, LimitExceeded, TokenBucket
from sipfsm.net.framing import Framer, FramingError, SipStreamFramer
from sipfsm.net.guard import check_target

__all__ = ["Addr", "Received", "SipEndpoint", "Transport"]

#: The transports this adapter speaks (RFC 3261 section 18: UDP and TCP are mandatory).
Transport = Literal["udp", "tcp"]
#: A socket address as asyncio reports it: (host, port).
Addr = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Received:
    """One message as it arrived: a whole datagram (UDP) or one framed message (TCP)."""

    data: bytes
    transport: Transport
    #: The sender's address (for TCP: the connection's remote end).
    peer: Addr
    #: Our address it arrived on.
    local: Addr
    #: ``loop.time()`` when the adapter got it.
    time: float

    def parse(self, *, strict: bool = False) -> Request | Response:
        """The message parsed by :func:`sipfsm.parse` (for UDP, section 18.3's rules apply:
        octets past Content-Length are discarded)."""
        return parse(self.data, strict=strict)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, endpoint: SipEndpoint) -> None:
        self.endpoint = endpoint

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.endpoint._deliver(data, "udp", (str(addr[0]), int(addr[1])), self.endpoint.udp_addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors reported on the socket (section 18.4): kept for the transport user.
        self.endpoint.errors.append(exc)


@dataclass(slots=True)
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    local: Addr
    peer: Addr
    task: asyncio.Task[None] | None = None


def _addr(sockname: Any) -> Addr:
    return (str(sockname[0]), int(sockname[1]))


class SipEndpoint:
    """UDP and TCP on loopback for the sans-IO core, with the safety bounds of :class:`Bounds`.

    Use as ``async with SipEndpoint(...) as ep:``. Received messages go to ``on_message`` if
    given, else to a queue read with :meth:`recv`. Sends refuse non-loopback targets unless
    ``allow_remote`` (:func:`check_target`) and fail closed on any bound (:class:`LimitExceeded`).
    Closing (also on cancellation, or when ``max_duration`` runs out) closes every socket and
    connection and wakes every waiter.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        udp_port: int | None = 0,
        tcp_port: int | None = None,
        bounds: Bounds | None = None,
        allow_remote: bool = False,
        on_message: Callable[[Received], None] | None = None,
        framer_factory: Callable[[], Framer] | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.host = check_target(host, allow_remote)
        #: The rate and message count shared with other endpoints (None: this one's own).
        self.budget = budget
        self.udp_port = udp_port
        self.tcp_port = tcp_port
        self.bounds = bounds or Bounds()
        self.allow_remote = allow_remote
        self.on_message = on_message
        self.framer_factory = framer_factory or (
            lambda: SipStreamFramer(self.bounds.max_message_size, self.errors.append)
        )
        #: Transport errors seen (ICMP errors, framing errors, connection failures).
        self.errors: list[Exception] = []
        self.sent = 0
        self.received = 0
        self.dropped = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.udp_addr: Addr = ("", 0)
        self.tcp_addr: Addr = ("", 0)
        self.started_at = 0.0
        self.deadline = math.inf
        self._loop: asyncio.AbstractEventLoop | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._conns: dict[Addr, _Conn] = {}
        self._connecting: dict[Addr, asyncio.Future[_Conn]] = {}
        self._queue: asyncio.Queue[Received | None] = asyncio.Queue()
        self._bucket = TokenBucket(self.bounds.rate, self.bounds.burst, 0.0)
        self._slot_freed = asyncio.Event()
        self._expiry: asyncio.TimerHandle | None = None
        self._closed = False
        self._started = False

    # -- life cycle

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop the endpoint was started on."""
        if self._loop is None:
            raise RuntimeError("SipEndpoint not started")
        return self._loop

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran (or the duration bound expired)."""
        return self._closed

    async def start(self) -> SipEndpoint:
        """Bind the sockets; start the duration clock."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.started_at = loop.time()
        self.deadline = self.started_at + self.bounds.max_duration
        if self.budget is None:
            self._bucket = TokenBucket(self.bounds.rate, self.bounds.burst, self.started_at)
        else:
            self._bucket = self.budget.bucket
        self._started = True
        try:
            if self.udp_port is not None:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Udp(self), local_addr=(self.host, self.udp_port)
                )
                self._udp = transport
                self.udp_addr = _addr(transport.get_extra_info("sockname"))
            if self.tcp_port is not None:
                self._server = await asyncio.start_server(self._accepted, self.host, self.tcp_port)
                self.tcp_addr = _addr(self._server.sockets[0].getsockname())
        except BaseException:
            await self.close()
            raise
        self._expiry = loop.call_at(self.deadline, self._expire)
        return self

    async def __aenter__(self) -> SipEndpoint:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _expire(self) -> None:
        self.errors.append(LimitExceeded("max_duration", f"{self.bounds.max_duration} s elapsed"))
        self._close_now()

    def _close_now(self) -> None:
        """Close everything without awaiting (safe from callbacks and on cancellation)."""
        if self._closed:
            return
        self._closed = True
        if self._expiry is not None:
            self._expiry.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._server is not None:
            self._server.close()
        self._slot_freed.set()
        for fut in self._connecting.values():
            fut.cancel()
        for conn in list(self._conns.values()):
            conn.writer.close()
            if conn.task is not None and conn.task is not asyncio.current_task():
                conn.task.cancel()
        self._conns.clear()
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)  # wake recv()

    async def close(self) -> None:
        """Close sockets, listener and connections; cancel readers. Idempotent, bounded."""
        conns = list(self._conns.values())
        tasks = [
            c.task for c in conns if c.task is not None and c.task is not asyncio.current_task()
        ]
        self._close_now()
        # Give the transports one bounded chance to finish closing; never hang here.
        waits: list[Any] = [c.writer.wait_closed() for c in conns]
        if self._server is not None:
            waits.append(self._server.wait_closed())
        if waits or tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(
                    asyncio.gather(*waits, *tasks, return_exceptions=True), timeout=1.0
                )

    # -- bounds

    def _check_send(self, now: float) -> None:
        if self._closed:
            raise LimitExceeded("closed", "endpoint closed")
        if now >= self.deadline:
            self._expire()
            raise LimitExceeded("max_duration", f"{self.bounds.max_duration} s elapsed")
        if self.sent >= self.bounds.max_messages or (
            self.budget is not None and self.budget.sent >= self.bounds.max_messages
        ):
            raise LimitExceeded("max_messages", f"{self.bounds.max_messages} messages sent")

    def try_slot(self) -> bool:
        """Open one transaction slot without waiting; False when ``max_in_flight`` are open."""
        if self._closed or self.in_flight >= self.bounds.max_in_flight:
            return False
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        return True

    def release_slot(self) -> None:
        """Close a slot opened with :meth:`try_slot`."""
        self.in_flight -= 1
        self._slot_freed.set()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of ``max_in_flight`` transaction slots for the ``async with`` body; waits
        for a free one, at most until the duration bound."""
        while not self.try_slot():
            if self._closed:
                raise LimitExceeded("closed", "endpoint closed")
            self._slot_freed.clear()
            remaining = self.deadline - self.loop.time()
            try:
                await asyncio.wait_for(self._slot_freed.wait(), timeout=max(remaining, 0.0))
            except TimeoutError:
                raise LimitExceeded(
                    "max_duration", "no transaction slot before the deadline"
                ) from None
        try:
            yield
        finally:
            self.release_slot()

    # -- sending

    def send_nowait(self, data: bytes, transport: Transport, host: str, port: int) -> float:
        """Send at once; return ``loop.time()`` just after the send.

        UDP always; TCP only over an open connection (see :meth:`connect`). Raises
        :class:`LimitExceeded` when the token bucket is empty instead of waiting, so timer-driven
        sends (retransmissions) are never delayed silently.
        """
        host = check_target(host, self.allow_remote)
        now = self.loop.time()
        self._check_send(now)
        if not self._bucket.try_take(now):
            raise LimitExceeded(
                "rate", f"more than {self.bounds.rate}/s (burst {self.bounds.burst})"
            )
        self._write(data, transport, host, port)
        return self.loop.time()

    async def send(self, data: bytes, transport: Transport, host: str, port: int) -> float:
        """Send ``data`` to ``(transport, host, port)``, waiting for the rate limit and for a TCP
        connection if needed; return ``loop.time()`` just after the send.

        Sections 18.1.1 and 18.2.2: over TCP a request opens (or reuses) a connection to the
        target, and a response goes back over the connection the request came on.
        """
        host = check_target(host, self.allow_remote)
        if transport == "tcp" and (host, port) not in self._conns:
            self._check_send(self.loop.time())
            await self.connect(host, port)
        while True:
            now = self.loop.time()
            self._check_send(now)
            if self._bucket.try_take(now):
                break
            wait = self._bucket.wait_time(now)
            if now + wait >= self.deadline:
                raise LimitExceeded("max_duration", "the rate limit would pass the deadline")
            await asyncio.sleep(wait)
        self._write(data, transport, host, port)
        return self.loop.time()

    def _write(self, data: bytes, transport: Transport, host: str, port: int) -> None:
        if transport == "udp":
            if self._udp is None:
                raise RuntimeError("endpoint has no UDP socket (udp_port=None)")
            self._udp.sendto(data, (host, port))
        elif transport == "tcp":
            conn = self._conns.get((host, port))
            if conn is None or conn.writer.is_closing():
                raise ConnectionError(f"no open TCP connection to {host}:{port}")
            conn.writer.write(data)
        else:
            raise ValueError(f"unknown transport {transport!r}")
        self.sent += 1
        if self.budget is not None:
            self.budget.sent += 1

    async def connect(self, host: str, port: int, timeout: float = 5.0) -> Addr:
        """Open (or reuse) a TCP connection to ``host:port``; return our local address of it."""
        host = check_target(host, self.allow_remote)
        key = (host, port)
        if key in self._conns:
            return self._conns[key].local
        if key not in self._connecting:
            self._connecting[key] = asyncio.ensure_future(self._open(host, port, timeout))
        fut = self._connecting[key]
        try:
            conn = await asyncio.shield(fut)
        finally:
            if fut.done():
                self._connecting.pop(key, None)
        return conn.local

    async def _open(self, host: str, port: int, timeout: float) -> _Conn:
        if self._closed:
            raise LimitExceeded("closed", "endpoint closed")
        timeout = min(timeout, max(self.deadline - self.loop.time(), 0.0))
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=(self.host, 0)), timeout=timeout
        )
        return self._register(reader, writer)

    def _register(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> _Conn:
        conn = _Conn(
            reader,
            writer,
            _addr(writer.get_extra_info("sockname")),
            _addr(writer.get_extra_info("peername")),
        )
        if self._closed:
            writer.close()
            raise LimitExceeded("closed", "endpoint closed")
        self._conns[conn.peer] = conn
        conn.task = asyncio.ensure_future(self._read(conn))
        return conn

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(LimitExceeded):
            conn = self._register(reader, writer)
            assert conn.task is not None
            await asyncio.wait([conn.task])

    async def _read(self, conn: _Conn) -> None:
        framer = self.framer_factory()
        try:
            while not self._closed:
                data = await conn.reader.read(65_536)
                if not data:
                    break
                for message in framer.feed(data):
                    self._deliver(message, "tcp", conn.peer, conn.local)
        except FramingError as exc:
            self.errors.append(exc)
        except (ConnectionError, OSError) as exc:
            self.errors.append(exc)
        finally:
            if self._conns.get(conn.peer) is conn:
                del self._conns[conn.peer]
            conn.writer.close()

    # -- receiving

    def _deliver(self, data: bytes, transport: Transport, peer: Addr, local: Addr) -> None:
        if self._closed:
            return
        self.received += 1
        msg = Received(data, transport, peer, local, self.loop.time())
        if self.on_message is not None:
            self.on_message(msg)
        elif self._queue.qsize() >= self.bounds.max_queue:
            self.dropped += 1
        else:
            self._queue.put_nowait(msg)

    async def recv(self, timeout: float) -> Received:
        """The next received message; :class:`TimeoutError` after ``timeout`` seconds,
        :class:`LimitExceeded` once the endpoint is closed."""
        if self._closed and self._queue.empty():
            raise LimitExceeded("closed", "endpoint closed")
        msg = await asyncio.wait_for(self._queue.get(), timeout=timeout)
        if msg is None:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)  # keep waking later callers
            raise LimitExceeded("closed", "endpoint closed")
        return msg

    async def recv_until(
        self, accept: Callable[[Received], bool], timeout: float
    ) -> list[Received]:
        """Collect messages until one satisfies ``accept`` (included); bounded by ``timeout``."""
        end = self.loop.time() + timeout
        got: list[Received] = []
        while True:
            remaining = end - self.loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no accepted message within {timeout} s; got {len(got)}")
            msg = await self.recv(remaining)
            got.append(msg)
            if accept(msg):
                return got
