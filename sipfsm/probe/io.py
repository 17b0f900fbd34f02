"""The probe's IO: targets, exchanges and their traces, over :mod:`sipfsm.net.aio`.

An :class:`Exchange` is one run of one check: it sends through a
:class:`~sipfsm.net.aio.SipEndpoint` (all of :class:`~sipfsm.net.aio.Bounds` apply), receives the
messages that belong to it (by Call-ID or branch: concurrent checks share one endpoint), and
records the trace: every message sent and received with its time since the exchange began.
Every wait is bounded and ends early when the run is stopped (Ctrl-C, ``--duration``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from sipfsm.errors import SipfsmError
from sipfsm.message.constants import DEFAULT_PORT
from sipfsm.message.grammar import names_of
from sipfsm.message.message import Request
from sipfsm.net.aio import Bounds, Received, SipEndpoint, check_target
from sipfsm.net.bounds import Budget
from sipfsm.probe.lag import note as note_lag
from sipfsm.probe.wire import Local, Msg, response_to, summary, token

__all__ = ["Event", "Exchange", "ProbeIO", "Stopped", "Target", "UsageError", "parse_target"]


class UsageError(SipfsmError):
    """A bad TARGET or option (exit 2)."""


class Stopped(Exception):
    """The run was stopped (Ctrl-C or the duration bound): the exchange ends at once."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where the implementation under test listens: transports, host, port, and a user."""

    transports: tuple[str, ...]
    host: str
    port: int
    user: str | None = None
    text: str = ""

    def uri(self, user: str | None) -> str:
        """``sip:user@host:port`` (no user: the server itself)."""
        return f"sip:{user + '@' if user else ''}{self.host}:{self.port}"

    @property
    def hostport(self) -> str:
        """``host:port``."""
        return f"{self.host}:{self.port}"


_SIMPLE = re.compile(r"^(udp|tcp|udp\+tcp|tcp\+udp):(\[[^\]]+\]|[^:]+):(\d+)$", re.IGNORECASE)
_URI = re.compile(
    r"^sips?:(?:([^@;]+)@)?(\[[^\]]+\]|[^:;?]+)(?::(\d+))?((?:;[^?]*)?)$", re.IGNORECASE
)


def parse_target(text: str, allow_remote: bool = False) -> Target:
    """``udp:HOST:PORT``, ``tcp:HOST:PORT``, ``udp+tcp:HOST:PORT`` or a SIP URI
    (``sip:bob@127.0.0.1:5090;transport=tcp``; no transport parameter: UDP, 18.1.1).
    The host must pass :func:`~sipfsm.net.aio.check_target` (loopback unless ``allow_remote``).
    """
    m = _SIMPLE.match(text.strip())
    user: str | None = None
    if m:
        kind, host, port = m.group(1).lower(), m.group(2), int(m.group(3))
        transports = ("udp", "tcp") if "+" in kind else (kind,)
    else:
        u = _URI.match(text.strip())
        if u is None:
            raise UsageError(
                f"bad TARGET {text!r}: use udp:HOST:PORT, tcp:HOST:PORT or a SIP "
                "URI such as sip:bob@127.0.0.1:5090;transport=tcp"
            )
        user = unquote(u.group(1)) if u.group(1) else None
        host, port = u.group(2), int(u.group(3) or DEFAULT_PORT)
        params = {
            p.split("=", 1)[0].lower(): ([*p.split("=", 1), ""])[1].lower()
            for p in u.group(4).split(";")
            if p
        }
        transport = params.get("transport", "udp")
        if transport not in ("udp", "tcp"):
            raise UsageError(f"transport={transport} is not supported (udp, tcp)")
        transports = (transport,)
    if not 0 < port < 65536:
        raise UsageError(f"bad port {port}")
    host = check_target(host, allow_remote)
    return Target(transports, host, port, user, text)


@dataclass(frozen=True, slots=True)
class Event:
    """One line of a trace: ``t`` seconds since the exchange began, ``dir`` (``send``,
    ``recv`` or ``note``) and a one-line summary; a message's bytes as they went over the
    wire and its transport (for the report's replayable exchanges, :mod:`sipfsm.probe.report`)."""

    t: float
    dir: str
    summary: str
    raw: bytes | None = field(default=None, compare=False, repr=False)
    transport: str | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, object]:
        """``{t, dir, summary}`` with t in seconds, 3 decimals."""
        return {"t": round(self.t, 3), "dir": self.dir, "summary": self.summary}


class ProbeIO:
    """One endpoint (UDP, and TCP when needed) for client-role exchanges, routing every
    received message to the exchange whose Call-ID or branch it carries, and answering every
    request of the target the moment it arrives (:meth:`_answer`). Each check has its own
    (:meth:`fresh`): one source port and From user per check, so that a target that wedges
    on one source, or refuses a second call from it, touches one check only."""

    def __init__(
        self,
        target: Target,
        *,
        bounds: Bounds,
        allow_remote: bool,
        stop: asyncio.Event,
        host: str = "127.0.0.1",
        listen_port: int | None = None,
        user: str = "probe",
        udp_only: bool = False,
        budget: Budget | None = None,
    ) -> None:
        self.target = target
        self.stop = stop
        #: Our user in From and Contact (:class:`~sipfsm.probe.wire.Local`).
        self.user = user
        self.bounds, self.allow_remote, self.host = bounds, allow_remote, host
        #: ``bounds``' rate and message count, shared by every endpoint :meth:`fresh` opens.
        self.budget = budget or Budget(bounds)
        self.ep = SipEndpoint(
            host=host,
            udp_port=listen_port or 0,
            tcp_port=(listen_port or 0) if "tcp" in target.transports and not udp_only else None,
            bounds=bounds,
            allow_remote=allow_remote,
            on_message=self._dispatch,
            budget=self.budget,
        )
        self._by_key: dict[str, Exchange] = {}
        self._answering: set[asyncio.Task[None]] = set()  # answers to the target's requests
        #: Messages that belong to no exchange (late retransmissions of finished ones).
        self.stray: list[Msg] = []

    async def start(self) -> ProbeIO:
        """Bind the sockets."""
        await self.ep.start()
        return self

    async def close(self) -> None:
        """Close every socket."""
        await self.ep.close()

    def _dispatch(self, rcv: Received) -> None:
        m = Msg.of(rcv.time, rcv.data, rcv.transport, rcv.peer)
        x = next(
            (
                self._by_key[key]
                for key in (m.call_id, m.branch, *_call_ids(rcv.data))
                if key and key in self._by_key
            ),
            None,
        )
        if x is not None:
            x.deliver(m)
        else:
            self.stray.append(m)
        if m.request is not None and m.method != "ACK":
            task = asyncio.ensure_future(self._answer(m, m.request, x))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)

    async def _answer(self, m: Msg, req: Request, x: Exchange | None) -> None:
        """Answer a request of the target at once, as a UA does (8.2): BYE 200 (15.1.2) in a
        call of an exchange, else 481 (12.2.2: no such dialog any more); OPTIONS 200
        (11.2); a re-INVITE 488 (the probe changes no session, 14.2); CANCEL 481 (9.2: the
        probe has no pending INVITE of the target's); anything else 501 (21.5.2). The answer
        goes back the way the request came (18.2.2) and into the exchange's trace."""
        status = _ANSWERS.get(req.method, 501)
        if req.method == "BYE" and x is None:
            status = 481
        data = response_to(req, status, to_tag=token(4))
        with contextlib.suppress(Stopped, OSError, SipfsmError):
            if x is not None:
                await x.reply(data, m)
            else:
                await self.ep.send(data, m.transport, m.peer[0], m.peer[1])  # type: ignore[arg-type]

    def register(self, key: str, x: Exchange) -> None:
        """Route messages with this Call-ID or branch to ``x``."""
        self._by_key[key] = x

    def unregister(self, x: Exchange) -> None:
        """Forget every key of ``x``."""
        for k in [k for k, v in self._by_key.items() if v is x]:
            del self._by_key[k]

    async def local(self, transport: str) -> Local:
        """Our address for ``transport`` toward the target (TCP: opens the connection)."""
        if transport == "tcp":
            host, port = await self.ep.connect(self.target.host, self.target.port)
            return Local("tcp", host, port, contact_port=self.ep.tcp_addr[1], user=self.user)
        host, port = self.ep.udp_addr
        return Local("udp", host, port, user=self.user)

    async def fresh(self, user: str | None = None, *, udp_only: bool = False) -> ProbeIO:
        """Another endpoint toward the same target, with sockets of its own (its own source
        port, its own TCP connections), started; ``user`` in From (default: this one's). It
        shares this one's :class:`~sipfsm.net.bounds.Budget`: ``--rate`` and
        ``--max-messages`` bound the whole run, not each endpoint."""
        return await ProbeIO(
            self.target,
            bounds=self.bounds,
            allow_remote=self.allow_remote,
            stop=self.stop,
            host=self.host,
            user=user or self.user,
            udp_only=udp_only,
            budget=self.budget,
        ).start()

    def exchange(self, label: str) -> Exchange:
        """A new exchange on the shared endpoint."""
        return Exchange(self.ep, self.stop, label, self)


#: What the probe answers each request of the target with (:meth:`ProbeIO._answer`).
_ANSWERS = {"BYE": 200, "OPTIONS": 200, "INVITE": 488, "CANCEL": 481}

_CID_NAMES = "|".join(names_of("Call-ID")).encode()  # long and compact (7.3.3)
_CID = re.compile(rb"^(?:%s)[ \t]*:[ \t]*(\S+)" % _CID_NAMES, re.IGNORECASE | re.MULTILINE)
_BR = re.compile(rb"branch[ \t]*=[ \t]*([^;, \t\r\n]+)", re.IGNORECASE)


def _call_ids(data: bytes) -> list[str]:
    """Call-IDs and branches found textually (for messages that do not parse)."""
    head = data.split(b"\r\n\r\n", 1)[0]
    return [v.decode("latin-1") for v in _CID.findall(head) + _BR.findall(head)]


@dataclass
class Exchange:
    """One run of one check: sends, receives and the trace of both."""

    ep: SipEndpoint
    stop: asyncio.Event
    label: str
    io: ProbeIO | None = None
    t0: float = 0.0
    trace: list[Event] = field(default_factory=list)
    received: list[Msg] = field(default_factory=list)
    _queue: asyncio.Queue[Msg] = field(default_factory=asyncio.Queue)
    #: The instant the last timed wait was scheduled to end, while no message came since:
    #: the next send was scheduled for it (:mod:`sipfsm.probe.lag`).
    _due: float | None = None

    def __post_init__(self) -> None:
        self.t0 = self.ep.loop.time()

    @property
    def now(self) -> float:
        """The loop's clock."""
        return self.ep.loop.time()

    def rel(self, t: float) -> float:
        """``t`` as seconds since the exchange began."""
        return t - self.t0

    def note(self, text: str) -> None:
        """Add a note to the trace."""
        self.trace.append(Event(self.rel(self.now), "note", text))

    def watch(self, *keys: str | None) -> None:
        """Receive the messages carrying these Call-IDs / branches."""
        if self.io is not None:
            for k in keys:
                if k:
                    self.io.register(k, self)

    def deliver(self, m: Msg) -> None:
        """A message for this exchange arrived."""
        self.trace.append(Event(self.rel(m.t), "recv", m.summary(), m.data, m.transport))
        self.received.append(m)
        self._queue.put_nowait(m)

    async def send(self, data: bytes, transport: str, host: str, port: int) -> float:
        """Send; return the send instant."""
        if self.stop.is_set():
            raise Stopped()
        self.watch(*_call_ids(data))
        due, self._due = self._due, None
        t = await self.ep.send(data, transport, host, port)  # type: ignore[arg-type]
        if due is not None:  # scheduled for ``due``, left at ``t``
            note_lag(t - due, f"a send at +{self.rel(due):.3f} s")
        self.trace.append(Event(self.rel(t), "send", summary(data), data, transport))
        return t

    async def reply(self, data: bytes, to: Msg) -> float:
        """Send ``data`` back the way ``to`` came (18.2.2: same connection / source)."""
        return await self.send(data, to.transport, to.peer[0], to.peer[1])

    async def recv(self, timeout: float) -> Msg | None:
        """The next message within ``timeout`` seconds, or None. Raises :class:`Stopped`."""
        if self.stop.is_set():
            raise Stopped()
        if timeout <= 0:
            return self._queue.get_nowait() if not self._queue.empty() else None
        due = self.now + timeout
        get = asyncio.ensure_future(self._queue.get())
        stop = asyncio.ensure_future(self.stop.wait())
        try:
            done, _ = await asyncio.wait(
                {get, stop}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stop.cancel()
            if not get.done():
                get.cancel()
        if get in done:
            self._due = None
            return get.result()
        if self.stop.is_set():
            raise Stopped()
        note_lag(self.now - due, f"a wait ending at +{self.rel(due):.3f} s")
        self._due = due
        return None

    async def until(
        self, deadline: float, accept: Callable[[Msg], bool] | None = None
    ) -> tuple[list[Msg], Msg | None]:
        """Collect messages until ``deadline`` (loop time) or one ``accept`` takes (returned
        second, and included in the list)."""
        got: list[Msg] = []
        while True:
            m = await self.recv(deadline - self.now)
            if m is None:
                return got, None
            got.append(m)
            if accept is not None and accept(m):
                return got, m

    async def sleep_until(self, deadline: float) -> list[Msg]:
        """Wait until ``deadline``, collecting what arrives."""
        got, _ = await self.until(deadline)
        return got

    def close(self) -> None:
        """Stop receiving."""
        if self.io is not None:
            self.io.unregister(self)


async def open_listener(
    host: str,
    bounds: Bounds,
    on_message: Callable[[Received], None],
    allow_remote: bool = False,
    port: int = 0,
) -> SipEndpoint:
    """An endpoint with UDP and TCP on the same port (``port`` 0: a free one)."""
    from sipfsm.net.ports import free_port

    last: Exception | None = None
    for _ in range(20):
        chosen = port or free_port(host=host)
        ep = SipEndpoint(
            host=host,
            udp_port=chosen,
            tcp_port=chosen,
            bounds=bounds,
            allow_remote=allow_remote,
            on_message=on_message,
        )
        try:
            return await ep.start()
        except OSError as exc:
            last = exc
            if port:
                break
    raise UsageError(f"cannot listen on {host}:{port or 'any'} (UDP and TCP): {last}")
