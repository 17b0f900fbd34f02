"""asyncio adapter: the sans-IO core on real UDP and TCP sockets and the wall clock.

Everything in sipfsm's core takes ``now`` as an argument and reports its next deadline
(aioquic's shape: ``handle(event, now) -> outputs``, ``get_timer() -> deadline | None``,
``handle_timer(now)``). This module is the thin layer that does the IO:

* :class:`SipEndpoint` opens a UDP socket and/or a TCP listener on loopback, opens TCP client
  connections on demand, sends bytes to ``(transport, host, port)`` (RFC 3261 section 18.1.1,
  18.2.2) and delivers every received datagram or stream message as a :class:`Received`, stamped
  with ``loop.time()`` on arrival. TCP byte streams are cut into messages by a framer
  (section 18.3: Content-Length delimits the body on stream transports).
* :class:`Driver` runs any object with ``get_timer()`` / ``handle_timer(now)`` on the event loop's
  clock: it keeps exactly one ``loop.call_at`` armed for the next deadline, re-arms after every
  step, records scheduled versus actual fire times (so timer accuracy can be measured) and cancels
  cleanly.
* :func:`check_target` refuses every address that is not loopback unless remote targets were
  allowed explicitly; :class:`Bounds` limits what an endpoint may do (in-flight transactions,
  messages, duration, send rate), with safe defaults.

Probing a SIP implementation sends it unusual traffic, so every bound here fails closed: a limit
reached raises :class:`LimitExceeded` rather than sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

from sipfsm.errors import ParseError, SipfsmError
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import Limits as ParseLimits
from sipfsm.message.parse import StreamFramer, parse

__all__ = [
    "Bounds",
    "Driver",
    "Firing",
    "Framer",
    "FramingError",
    "LimitExceeded",
    "Received",
    "SipEndpoint",
    "SipStreamFramer",
    "TargetRefused",
    "TimerDriven",
    "TimingStats",
    "TokenBucket",
    "Transport",
    "check_target",
    "timing_stats",
]

#: The transports this adapter speaks (RFC 3261 section 18: UDP and TCP are mandatory).
Transport = Literal["udp", "tcp"]
#: A socket address as asyncio reports it: (host, port).
Addr = tuple[str, int]


# --------------------------------------------------------------------------- errors


class TargetRefused(SipfsmError):
    """A target address is not loopback and remote targets were not allowed."""


class LimitExceeded(SipfsmError):
    """A safety bound of :class:`Bounds` was reached: nothing was sent."""

    def __init__(self, limit: str, detail: str) -> None:
        self.limit = limit
        super().__init__(f"limit {limit} reached: {detail}")


class FramingError(SipfsmError):
    """A stream could not be cut into SIP messages (RFC 3261 section 18.3)."""


# --------------------------------------------------------------------------- address guard


def _is_loopback(addr: str) -> bool:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # 127.0.0.0/8 and ::1 (RFC 1122 3.2.1.3, RFC 4291 2.5.3); nothing else, not even 0.0.0.0.
    return ip.is_loopback


def check_target(host: str, allow_remote: bool = False) -> str:
    """Check that ``host`` may be sent to; return it as a numeric address.

    Only loopback (127.0.0.0/8, ``::1``) is allowed unless ``allow_remote``. A name is resolved
    and accepted only when *every* address it resolves to is loopback, so a name cannot smuggle
    traffic off the machine. Raises :class:`TargetRefused` otherwise.
    """
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):  # IPv6reference of RFC 3261 section 25.1
        host = host[1:-1]
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        numeric = True
    except ValueError:
        numeric = False
    if not numeric:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP)
        except OSError as exc:
            raise TargetRefused(f"cannot resolve {host!r}: {exc}") from exc
        addrs = sorted({str(info[4][0]) for info in infos})
        if not addrs:
            raise TargetRefused(f"{host!r} resolves to no address")
        if not allow_remote and not all(_is_loopback(a) for a in addrs):
            raise TargetRefused(
                f"{host!r} resolves to {', '.join(addrs)}: not loopback only "
                "(pass allow_remote / --allow-remote to probe other hosts)"
            )
        return addrs[0]
    if not allow_remote and not _is_loopback(host):
        raise TargetRefused(
            f"{host} is not a loopback address (127.0.0.0/8 or ::1); "
            "pass allow_remote / --allow-remote to probe other hosts"
        )
    return host


# --------------------------------------------------------------------------- bounds


@dataclass(frozen=True, slots=True)
class Bounds:
    """Safety bounds of one :class:`SipEndpoint`; every one is enforced before a send.

    The defaults suit probing a peer on the same machine: a few hundred messages a second at
    most, a minute in all.
    """

    #: Transactions (slots from :meth:`SipEndpoint.slot`) open at once.
    max_in_flight: int = 64
    #: Messages sent in the endpoint's lifetime (retransmissions included).
    max_messages: int = 10_000
    #: Seconds from :meth:`SipEndpoint.start` after which nothing more is sent and it closes.
    max_duration: float = 60.0
    #: Sustained send rate, messages per second (token bucket refill).
    rate: float = 500.0
    #: Token bucket depth: messages that may go out back to back.
    burst: int = 100
    #: Largest message accepted on a stream (header section plus body), bytes.
    max_message_size: int = 65_535
    #: Received messages held for :meth:`SipEndpoint.recv` before new ones are dropped.
    max_queue: int = 10_000

    def __post_init__(self) -> None:
        for name in ("max_in_flight", "max_messages", "burst", "max_message_size", "max_queue"):
            if getattr(self, name) < 1:
                raise ValueError(f"Bounds.{name} must be >= 1")
        if not (self.max_duration > 0 and self.rate > 0):
            raise ValueError("Bounds.max_duration and Bounds.rate must be > 0")


class TokenBucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` stored, one per message."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._stamp = now

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def try_take(self, now: float) -> bool:
        """Take one token if there is one."""
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is)."""
        self._refill(now)
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate


# --------------------------------------------------------------------------- framing


class Framer(Protocol):
    """Cuts a byte stream into SIP messages (RFC 3261 section 18.3)."""

    def feed(self, data: bytes) -> list[bytes]:
        """Take more bytes; return every message now complete, in order.

        Raises :class:`FramingError` when the stream cannot be framed any more.
        """
        ...


class SipStreamFramer:
    """:class:`Framer` over the parser's :class:`~sipfsm.StreamFramer` (section 18.3), giving
    each message's raw bytes as they arrived.

    A message framed correctly but malformed inside is skipped by the parser: its
    :class:`~sipfsm.ParseError` goes to ``on_error`` and framing goes on. A framing error (no
    or conflicting Content-Length, too large) cannot be recovered from on a stream: it is
    raised as :class:`FramingError`.
    """

    def __init__(
        self,
        max_message_size: int = 65_535,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self._framer = StreamFramer(limits=ParseLimits(max_message_size=max_message_size))
        self._on_error = on_error

    def feed(self, data: bytes) -> list[bytes]:
        """Take more bytes; return every message now complete."""
        out: list[bytes] = []
        while True:
            try:
                out += [m.raw for m in self._framer.feed(data)]
                return out
            except ParseError as exc:
                try:  # a fatal error is raised again by every later feed: the same object
                    out += [m.raw for m in self._framer.feed(b"")]
                except ParseError as again:
                    if again is exc:
                        raise FramingError(str(exc)) from exc
                    exc = again
                if self._on_error is not None:
                    self._on_error(exc)
                data = b""


# --------------------------------------------------------------------------- endpoint


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
    ) -> None:
        self.host = check_target(host, allow_remote)
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
        self._bucket = TokenBucket(self.bounds.rate, self.bounds.burst, self.started_at)
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
        if self.sent >= self.bounds.max_messages:
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


# --------------------------------------------------------------------------- driver

O_co = TypeVar("O_co", covariant=True)
OutT = TypeVar("OutT")


class TimerDriven(Protocol[O_co]):
    """The timer half of the aioquic shape: report the next deadline, fire it."""

    def get_timer(self) -> float | None:
        """The next deadline (same clock as ``now``), or None when no timer runs."""
        ...

    def handle_timer(self, now: float) -> O_co:
        """Fire every timer due at ``now``; return what to do (the outputs)."""
        ...


@dataclass(frozen=True, slots=True)
class Firing:
    """One timer fire: when it was due and when the loop ran it (both ``loop.time()``)."""

    scheduled: float
    actual: float

    @property
    def error(self) -> float:
        """Lateness in seconds (negative if early)."""
        return self.actual - self.scheduled


@dataclass(frozen=True, slots=True)
class TimingStats:
    """Summary of lateness samples, in seconds."""

    count: int
    p50: float
    p99: float
    max: float
    mean: float

    def __str__(self) -> str:
        ms = 1000.0
        return (
            f"n={self.count} p50={self.p50 * ms:.3f} ms p99={self.p99 * ms:.3f} ms "
            f"max={self.max * ms:.3f} ms mean={self.mean * ms:.3f} ms"
        )


def timing_stats(errors: Iterable[float]) -> TimingStats:
    """p50 / p99 (nearest rank) / max / mean of ``errors``; all zero when there are none."""
    xs = sorted(errors)
    if not xs:
        return TimingStats(0, 0.0, 0.0, 0.0, 0.0)

    def rank(p: float) -> float:
        return xs[min(len(xs) - 1, max(0, math.ceil(p * len(xs)) - 1))]

    return TimingStats(len(xs), rank(0.50), rank(0.99), xs[-1], sum(xs) / len(xs))


class Driver(Generic[OutT]):
    """Run a sans-IO object on the event loop's clock (aioquic's ``QuicConnectionProtocol``
    pattern: one ``call_at`` for ``get_timer()``, re-armed after every step).

    ``on_output(outputs, firing)`` gets what every step returned; ``firing`` is the
    :class:`Firing` when the step was a timer, else None. The object is called with
    ``now = max(deadline, loop.time())`` on a timer, because asyncio may run a ``call_at``
    handle up to its clock resolution early and the core must see its deadline reached.
    An exception from the object stops the driver and is kept in :attr:`error`.
    """

    def __init__(
        self,
        machine: TimerDriven[OutT],
        on_output: Callable[[OutT, Firing | None], None] | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        record: bool = True,
    ) -> None:
        self.machine = machine
        self.on_output = on_output
        self.loop = loop or asyncio.get_running_loop()
        self.record = record
        self.error: BaseException | None = None
        #: Every timer fire so far, in order (when ``record``).
        self.firings: list[Firing] = []
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None
        self._closed = False
        self._idle = asyncio.Event()

    @property
    def closed(self) -> bool:
        """True after :meth:`close` or an exception from the machine."""
        return self._closed

    def timing(self) -> TimingStats:
        """Lateness of the timer fires so far."""
        return timing_stats(f.error for f in self.firings)

    def now(self) -> float:
        """The clock the machine runs on."""
        return self.loop.time()

    def start(self) -> Driver[OutT]:
        """Arm the first deadline."""
        self.rearm()
        return self

    def __enter__(self) -> Driver[OutT]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def rearm(self) -> None:
        """Ask the machine for its next deadline and keep one ``call_at`` for it."""
        if self._closed:
            return
        deadline = self.machine.get_timer()
        if deadline == self._armed_for and self._handle is not None:
            return
        self._disarm()
        self._armed_for = deadline
        if deadline is None:
            self._idle.set()
            return
        self._idle.clear()
        self._handle = self.loop.call_at(deadline, self._fire, deadline)

    def _disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._armed_for = None

    def _fire(self, scheduled: float) -> None:
        actual = self.loop.time()
        self._handle = None
        self._armed_for = None
        if self._closed:
            return
        firing = Firing(scheduled, actual)
        if self.record:
            self.firings.append(firing)
        # An exception is kept in self.error (the loop's handler would only log it).
        with contextlib.suppress(Exception):
            self._step(self.machine.handle_timer, max(scheduled, actual), firing)

    def _step(self, fn: Callable[[float], OutT], now: float, firing: Firing | None) -> OutT:
        try:
            out = fn(now)
            if self.on_output is not None:
                self.on_output(out, firing)
        except Exception as exc:
            self.error = exc
            self.close()
            raise
        self.rearm()
        return out

    def call(self, fn: Callable[[float], OutT]) -> OutT:
        """Run ``fn(now)`` on the machine (e.g. ``lambda now: tx.handle(event, now)``), pass
        its result to ``on_output``, re-arm; return the result."""
        if self._closed:
            raise RuntimeError("driver closed") from self.error
        return self._step(fn, self.loop.time(), None)

    def handle(self, event: object) -> OutT:
        """``machine.handle(event, now)`` through :meth:`call` (aioquic shape)."""
        method: Callable[[object, float], OutT] = getattr(self.machine, "handle")  # noqa: B009
        return self.call(lambda now: method(event, now))

    async def wait_idle(self, timeout: float) -> None:
        """Wait until the machine reports no timer (or the driver stops); bounded."""
        await asyncio.wait_for(self._idle.wait(), timeout=timeout)
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Cancel the armed timer; later fires do nothing. Idempotent."""
        self._closed = True
        self._disarm()
        self._idle.set()
