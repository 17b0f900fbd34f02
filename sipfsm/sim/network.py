"""A simulated network on the virtual clock: named hosts, links with latency, static DNS.

Every element (a :class:`~sipfsm.UA`, a stateful proxy, a registrar) has the same shape:
``receive(bytes, now)``, ``drain() -> [bytes]``, ``get_timer()``, ``handle_timer(now)``. The
network takes what each sends, parses it with ``parse(strict=True)`` (so every message of a
flow is a real message), finds where it goes, delays it by the link's latency and delivers the
bytes, which the receiver parses again. Where a message goes is the transport's rule, not the
element's:

- a response goes to its top Via's ``received`` or sent-by host (18.2.2);
- an ACK or a CANCEL with the top Via branch of a request the host sent goes where that
  request went (17.1.1.3: the ACK of a non-2xx; 9.1: the CANCEL);
- a request goes to the host of its top Route (a loose route set, 16.6 item 7, 12.2.1.1), else
  to the sender's outbound proxy when it is an initial request (no To tag: 8.1.2), else to the
  host of its Request-URI (its ``maddr`` first, 16.6 item 7; 8.1.2);

a host name is resolved by the scenario's static DNS table (RFC 3263 is out of scope), and
must be joined to the sender by a link. A link may lose datagrams (``loss``: the probability
of each being lost), duplicate them (``duplicate``: a second copy, one latency later) and
reorder them (``jitter``: each is delayed by up to that many seconds more), all drawn from the
network's seeded random source, so a run is repeatable. A lost datagram is logged (``lost``)
and never delivered; the elements' retransmissions (17.1.1.2, 17.1.2.2, 17.2.1, 13.3.1.4)
are what recover the flow.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import Protocol

from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.message.uri import URI


class Element(Protocol):
    """What the network needs of an element."""

    def receive(self, data: bytes, now: float) -> None: ...
    def drain(self) -> list[bytes]: ...
    def get_timer(self) -> float | None: ...
    def handle_timer(self, now: float) -> None: ...


@dataclass(slots=True)
class Host:
    """One host: its column name, its address, its element and its outbound proxy."""

    name: str
    address: str
    element: Element
    outbound: str | None = None


@dataclass(frozen=True, slots=True)
class Datagram:
    """One message on the wire: sent at ``sent``, delivered at ``arrives``."""

    n: int
    sent: float
    arrives: float
    src: str
    dst: str
    data: bytes
    message: Request | Response
    lost: bool = False
    #: A second copy the link made of the datagram before it (not sent again by the host).
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    """A link between two hosts: its one-way latency (seconds), the probabilities that a
    datagram is lost or duplicated, and the most it may be delayed beyond the latency."""

    latency: float
    loss: float = 0.0
    duplicate: float = 0.0
    jitter: float = 0.0


class RoutingError(ValueError):
    """A message has nowhere to go: an unknown name, or no link to its next hop."""


@dataclass
class Network:
    """Hosts joined by links (latency in seconds), a static DNS table, one virtual clock."""

    hosts: dict[str, Host] = field(default_factory=dict)
    dns: dict[str, str] = field(default_factory=dict)
    links: dict[frozenset[str], Link] = field(default_factory=dict)
    #: Draws the losses (seed it for a repeatable run).
    random: random.Random = field(default_factory=lambda: random.Random(0))
    log: list[Datagram] = field(default_factory=list)
    now: float = 0.0
    _queue: list[tuple[float, int, Datagram]] = field(default_factory=list)
    #: (sender, top Via branch) of each request sent -> the host it went to.
    _went: dict[tuple[str, str], Host] = field(default_factory=dict)

    def add(self, host: Host) -> None:
        """Add ``host``; its address resolves to it."""
        self.hosts[host.name] = host

    def link(
        self,
        a: str,
        b: str,
        latency: float,
        loss: float = 0.0,
        duplicate: float = 0.0,
        jitter: float = 0.0,
    ) -> None:
        """Join hosts ``a`` and ``b`` with a link (:class:`Link`), both ways."""
        self.links[frozenset((a, b))] = Link(latency, loss, duplicate, jitter)

    # --- routing --------------------------------------------------------------------------

    def resolve(self, name: str) -> Host:
        """The host a name (or an address) stands for (the static DNS table)."""
        address = self.dns.get(name.lower(), name)
        for host in self.hosts.values():
            if host.address == address:
                return host
        raise RoutingError(f"{name!r} resolves to no host")

    def next_hop(self, src: Host, msg: Request | Response) -> Host:
        """Where ``msg`` sent by ``src`` goes (the rules of the module docstring)."""
        if isinstance(msg, Response):
            via = msg.via[0]
            return self.resolve(via.received or via.host)
        key = (src.name, msg.via[0].branch or "")
        if msg.method in ("ACK", "CANCEL") and key in self._went:
            return self._went[key]
        dst = self._request_hop(src, msg)
        self._went.setdefault(key, dst)
        return dst

    def _request_hop(self, src: Host, msg: Request) -> Host:
        if msg.route:
            return self.resolve(_host(msg.route[0].uri))
        if src.outbound is not None and not (msg.to and msg.to.tag):
            return self.resolve(src.outbound)
        return self.resolve(_host(URI.parse(str(msg.uri))))

    # --- the clock ------------------------------------------------------------------------

    def collect(self) -> None:
        """Take what every host has to send now and put it on the wire."""
        for host in self.hosts.values():
            for data in host.element.drain():
                msg = parse(data, strict=True)
                dst = self.next_hop(host, msg)
                link = self.links.get(frozenset((host.name, dst.name)))
                if link is None:
                    raise RoutingError(f"no link from {host.name} to {dst.name}")
                self._put(host.name, dst.name, data, msg, link)

    def _put(self, src: str, dst: str, data: bytes, msg: Request | Response, link: Link) -> None:
        """One datagram on ``link``: lost, delayed (jitter) and duplicated as the link draws."""
        draw = self.random.random
        copies = 2 if link.duplicate > 0 and draw() < link.duplicate else 1
        for copy in range(copies):
            lost = link.loss > 0 and draw() < link.loss
            extra = link.jitter * draw() if link.jitter > 0 else 0.0
            arrives = self.now + link.latency * (1 + copy) + extra
            n = len(self.log) + 1
            gram = Datagram(n, self.now, arrives, src, dst, data, msg, lost, copy > 0)
            self.log.append(gram)
            if not lost:
                heapq.heappush(self._queue, (gram.arrives, gram.n, gram))

    def next_instant(self) -> float | None:
        """The next arrival or element deadline, or ``None`` when all is quiet."""
        times = [h.element.get_timer() for h in self.hosts.values()]
        if self._queue:
            times.append(self._queue[0][0])
        due = [t for t in times if t is not None]
        return min(due) if due else None

    def run_until(self, until: float) -> None:
        """Deliver messages and fire timers, in time order, up to ``until``."""
        self.collect()
        while (at := self.next_instant()) is not None and at <= until:
            self.advance(at)
        self.now = max(self.now, until)

    def advance(self, at: float) -> list[Datagram]:
        """Move the clock to ``at``: deliver what arrives then, fire what is due; return the
        datagrams delivered."""
        self.collect()
        self.now = max(self.now, at)
        delivered = []
        while self._queue and self._queue[0][0] <= self.now:
            _, _, gram = heapq.heappop(self._queue)
            self.hosts[gram.dst].element.receive(gram.data, self.now)
            delivered.append(gram)
            self.collect()
        for host in self.hosts.values():
            host.element.handle_timer(self.now)
        self.collect()
        return delivered

    def quiet(self) -> bool:
        """Nothing in flight and no timer running anywhere."""
        return self.next_instant() is None


def _host(uri: URI) -> str:
    """The host a URI sends to: its ``maddr``, else its host (16.6 item 7, 19.1.1)."""
    return uri.maddr or uri.host or ""
