"""UDP and TCP in memory, for asyncio code run on the virtual clock
(:class:`~sipfsm.sim.aio_clock.VirtualClockLoop`).

:class:`MemoryNetwork` stands behind the loop's ``create_datagram_endpoint``,
``create_server`` and ``create_connection``, so code written for sockets
(:class:`sipfsm.net.endpoint.SipEndpoint`, ``asyncio.open_connection``, ``asyncio.start_server``)
runs unchanged without any: a datagram or a write reaches its peer's protocol on the next turn
of the loop (``call_soon``), at the same virtual instant, and nothing is ever in flight in a
kernel while the virtual clock jumps. Addresses are ``(host, port)`` pairs compared exactly;
a datagram to an address nobody bound is dropped (UDP, RFC 768), a connection to a port nobody
listens on is refused. Ports are handed out from 20000 upward (below the usual ephemeral range,
so a port found free by a real socket rarely collides); none is reused.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable
from typing import Any

__all__ = ["MemoryNetwork", "MemoryServer"]

Addr = tuple[str, int]
FIRST_PORT = 20000
LAST_PORT = 65535


def _addr(value: Any) -> Addr:
    return (str(value[0]), int(value[1]))


class MemoryNetwork:
    """The bound addresses of one loop and the delivery between them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        #: (kind, host, port) -> what is bound there: "udp" a datagram transport, "tcp" a listener.
        self._bound: dict[tuple[str, str, int], _Datagram | MemoryServer] = {}
        self._used: set[int] = set()
        self._next = FIRST_PORT
        #: Datagrams and stream writes delivered so far (a count, for tests and curiosity).
        self.delivered = 0

    def _port(self, kind: str, host: str, port: int) -> int:
        """``port`` if free for ``kind`` on ``host`` (OSError EADDRINUSE if not), or a new one."""
        if port:
            if (kind, host, port) in self._bound:
                raise OSError(errno.EADDRINUSE, f"{host}:{port} ({kind}) in use")
            self._used.add(port)
            return port
        while self._next in self._used:
            self._next += 1
        if self._next > LAST_PORT:
            raise OSError(errno.EADDRNOTAVAIL, "no port left in the memory network")
        self._used.add(self._next)
        return self._next

    def unbind(self, kind: str, addr: Addr, what: object) -> None:
        """Forget ``what`` at ``addr`` (it closed)."""
        if self._bound.get((kind, *addr)) is what:
            del self._bound[(kind, *addr)]

    # -- UDP

    def datagram_endpoint(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], local_addr: Addr | None
    ) -> tuple[asyncio.DatagramTransport, asyncio.BaseProtocol]:
        """Bind a datagram transport at ``local_addr`` (port 0: a new one)."""
        host, port = _addr(local_addr or ("127.0.0.1", 0))
        addr = (host, self._port("udp", host, port))
        protocol = protocol_factory()
        transport = _Datagram(self, protocol, addr)
        self._bound[("udp", *addr)] = transport
        protocol.connection_made(transport)
        return transport, protocol

    def send_datagram(self, data: bytes, src: Addr, dst: Addr) -> None:
        """Deliver ``data`` to whatever is bound at ``dst`` on the next turn of the loop."""
        self.loop.call_soon(self._arrive, data, src, dst)

    def _arrive(self, data: bytes, src: Addr, dst: Addr) -> None:
        target = self._bound.get(("udp", *dst))
        if isinstance(target, _Datagram) and not target.is_closing():
            self.delivered += 1
            target.protocol.datagram_received(data, src)  # type: ignore[attr-defined]

    # -- TCP

    def listen(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], host: str, port: int
    ) -> MemoryServer:
        """A listener at ``host:port`` (port 0: a new one)."""
        addr = (host, self._port("tcp", host, port))
        server = MemoryServer(self, protocol_factory, addr)
        self._bound[("tcp", *addr)] = server
        return server

    def connect(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: str,
        port: int,
        local_addr: Addr | None,
    ) -> tuple[asyncio.Transport, asyncio.BaseProtocol]:
        """A connection to the listener at ``host:port`` (ConnectionRefusedError if none): the
        client's protocol is connected at once, the listener's on the next turn of the loop."""
        server = self._bound.get(("tcp", host, port))
        if not isinstance(server, MemoryServer) or not server.is_serving():
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"nothing listens on {host}:{port}")
        lhost, lport = _addr(local_addr or ("127.0.0.1", 0))
        local = (lhost, self._port("conn", lhost, lport))
        client_protocol = protocol_factory()
        server_protocol = server.protocol_factory()
        client = _Stream(self, client_protocol, local, (host, port))
        accepted = _Stream(self, server_protocol, (host, port), local)
        client.peer, accepted.peer = accepted, client
        self.loop.call_soon(server_protocol.connection_made, accepted)
        client_protocol.connection_made(client)
        return client, client_protocol


class _Datagram(asyncio.DatagramTransport):
    """A bound datagram socket of the memory network."""

    def __init__(self, net: MemoryNetwork, protocol: asyncio.BaseProtocol, addr: Addr) -> None:
        super().__init__(extra={"sockname": addr})
        self.net = net
        self.protocol = protocol
        self.addr = addr
        self._closing = False

    def sendto(self, data: Any, addr: Any = None) -> None:
        if self._closing or addr is None:
            return
        self.net.send_datagram(bytes(data), self.addr, _addr(addr))

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self.net.unbind("udp", self.addr, self)
        self.net.loop.call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def get_write_buffer_size(self) -> int:
        return 0

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol


class _Stream(asyncio.Transport):
    """One end of a connection of the memory network."""

    def __init__(
        self, net: MemoryNetwork, protocol: asyncio.BaseProtocol, local: Addr, peer: Addr
    ) -> None:
        super().__init__(extra={"sockname": local, "peername": peer})
        self.net = net
        self.protocol = protocol
        self.peer: _Stream | None = None
        self._closing = False
        self._reading = True

    def write(self, data: Any) -> None:
        if self._closing or not data or self.peer is None:
            return
        self.net.loop.call_soon(self.peer._arrive, bytes(data))

    def _arrive(self, data: bytes) -> None:
        if not self._closing:
            self.net.delivered += 1
            self.protocol.data_received(data)  # type: ignore[attr-defined]

    def _peer_closed(self) -> None:
        """The other end closed: end of stream here; close too unless the protocol keeps
        the half-open connection (its ``eof_received`` returns True)."""
        if self._closing:
            return
        keep = self.protocol.eof_received()  # type: ignore[attr-defined]
        if not keep:
            self.close()

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        loop = self.net.loop
        loop.call_soon(self.protocol.connection_lost, None)
        if self.peer is not None:
            loop.call_soon(self.peer._peer_closed)

    def abort(self) -> None:
        self.close()

    def can_write_eof(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        return None

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        self._reading = True

    def is_reading(self) -> bool:
        return self._reading

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol


class _Socket:
    """What ``Server.sockets`` holds: an address."""

    def __init__(self, addr: Addr) -> None:
        self._addr = addr

    def getsockname(self) -> Addr:
        return self._addr


class MemoryServer:
    """A listener of the memory network, in the shape of :class:`asyncio.Server` (what
    ``asyncio.start_server`` returns): ``sockets``, ``close``, ``wait_closed``."""

    def __init__(
        self,
        net: MemoryNetwork,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        addr: Addr,
    ) -> None:
        self.net = net
        self.protocol_factory = protocol_factory
        self.addr = addr
        self._serving = True

    @property
    def sockets(self) -> tuple[_Socket, ...]:
        """The one address it listens on."""
        return (_Socket(self.addr),) if self._serving else ()

    def is_serving(self) -> bool:
        """Until :meth:`close`."""
        return self._serving

    def close(self) -> None:
        """Stop accepting (open connections stay, as with sockets)."""
        self._serving = False
        self.net.unbind("tcp", self.addr, self)

    async def wait_closed(self) -> None:
        """Closing is immediate."""
        return None

    def get_loop(self) -> asyncio.AbstractEventLoop:
        """The loop it runs on."""
        return self.net.loop

    async def __aenter__(self) -> MemoryServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
