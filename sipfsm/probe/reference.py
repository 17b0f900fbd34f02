"""sipfsm's own reference UA on loopback: the embedded target of ``sipfsm probe``.

It is :class:`sipfsm.ua.core.UA` (the dialog, session and transaction models) behind the UAS
checks of 8.2 (:class:`sipfsm.ua.screen.UasBehaviour`), bound to sockets by
:class:`sipfsm.net.server.Server` on the wall clock, one UA per transport (UDP and TCP on the
same port), with a small TU that answers by user name:

* ``answer``: 180 then 200 (13.3.1.4 then retransmits the 2xx until the ACK);
* ``busy``: 486; ``status-NNN``: NNN; any other user: 404 (21.4.5);
* ``ring``: 180 and nothing more (until CANCEL, 9.2);
* ``ring-603``: 180, then 603 after 8*T1 (a callee who gives up: 17.2.1 Completed);
* OPTIONS: 200 (11.2); other methods outside a dialog: 405 (8.2.1).

Before a request reaches the UA, the UAS checks of 8.2 run (:mod:`sipfsm.ua.screen`): a message
that does not parse gets 400 (505 for another SIP version, 21.5.7) when a response can be
addressed, and :func:`sipfsm.validate`'s rejections (416, 420, 415, 400 ...) are sent
statelessly. Each datagram is parsed once.

For the role-server checks the same UA is the *client*: :meth:`ReferenceTarget.trigger`
makes it send an INVITE (or OPTIONS) to the probe's listener.

``flaws`` breaks it on purpose, on the wire, so tests can see the probe catch real bugs: each
flaw of :mod:`sipfsm.probe.flaws` violates one rule (``timer-g-2`` stops non-2xx
retransmissions after two, 17.2.1; ``2xx-until-t2`` stops 2xx retransmissions once the interval
reaches T2, JsSIP's bug, 13.3.1.4; ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from dataclasses import dataclass, field

from sipfsm.errors import ParseError, SipfsmError
from sipfsm.message.message import Request
from sipfsm.message.parse import parse
from sipfsm.message.uri import URI
from sipfsm.message.validate import validate
from sipfsm.model.timers import Timers
from sipfsm.net.bounds import Bounds
from sipfsm.net.endpoint import Transport
from sipfsm.net.server import Server
from sipfsm.probe.flaws import FLAWS, FlawedElement
from sipfsm.ua.core import UA, InviteSession
from sipfsm.ua.screen import UA_METHODS, UasBehaviour

__all__ = ["FLAWS", "ReferenceTarget"]


def _answer_at(session: InviteSession, status: int, now: float) -> None:
    session.answer(status, now)


def _warm_up() -> None:
    """Parse and validate one request first: the parser builds its tables lazily, and the
    first message must not pay for that while timers run."""
    sample = (
        b"INVITE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKw"
        b"\r\nMax-Forwards: 70\r\nFrom: <sip:w@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>"
        b"\r\nCall-ID: w\r\nCSeq: 1 INVITE\r\nContact: <sip:w@127.0.0.1>\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    with contextlib.suppress(ParseError):
        msg = parse(sample, strict=True)
        validate(msg)
        _ = (msg.via, msg.to, msg.from_, msg.cseq, msg.contact, msg.route)
    # and one whole call between two UAs on a virtual wire (every builder and model path)
    with contextlib.suppress(Exception):
        from sipfsm.sim.wire import Wire

        a, b = UA("wa", "127.0.0.1:1"), UA("wb", "127.0.0.1:2")
        wire = Wire(a, b)
        call = a.invite("sip:wb@127.0.0.1:2", 0.0)
        wire.flush(0.0)
        for ev in b.tu:
            if ev.session is not None:
                ev.session.answer(180, 0.0)
                ev.session.answer(200, 0.0)
        wire.flush(0.0)
        call.bye(0.1)
        wire.run_until(1.0, 0.1)
        a.request("OPTIONS", "sip:wb@127.0.0.1:2", 2.0)
        wire.run_until(3.0, 2.0)


#: ``ring-603`` declines after this many T1 of ringing (inside Timer H's window).
GIVE_UP_T1 = 8


def _plan(user: str) -> list[tuple[float, int]]:
    """What the TU answers an INVITE to ``user`` with: (after how many T1, status)."""
    if user == "answer":
        return [(0, 180), (0, 200)]
    if user == "ring":
        return [(0, 180)]
    if user == "ring-603":  # rings, then gives up: 17.2.1 Completed resends the 603
        return [(0, 180), (GIVE_UP_T1, 603)]
    if user == "busy":
        return [(0, 486)]
    if user.startswith("status-") and user[7:].isdigit() and 101 <= int(user[7:]) < 700:
        return [(0, int(user[7:]))]
    return [(0, 404)]


def _user(text: str) -> str:
    """The user part of a SIP URI (19.1.1), empty when it has none or does not parse."""
    try:
        return URI.parse(text).user or ""
    except (ParseError, ValueError):
        return ""


@dataclass
class _Side:
    """What the TU of one transport's UA has handled."""

    transport: Transport
    ua: UA
    answered: set[int] = field(default_factory=set)  # ids of sessions the TU handled
    tu_seen: int = 0


class ReferenceTarget:
    """The reference UA on ``host``, UDP and TCP on one port (``port`` 0: any free one)."""

    def __init__(
        self,
        timers: Timers,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        flaws: frozenset[str] = frozenset(),
        bounds: Bounds | None = None,
    ) -> None:
        unknown = set(flaws) - set(FLAWS)
        if unknown:
            raise SipfsmError(f"unknown flaws {sorted(unknown)} (known: {', '.join(FLAWS)})")
        self.timers = timers
        self.host = host
        self.port = port
        self.flaws = flaws
        self.bounds = bounds or Bounds(
            max_duration=3600.0,
            max_messages=1_000_000,
            rate=10_000.0,
            burst=1000,
            max_in_flight=1000,
        )
        self.server: Server | None = None
        self.sides: dict[Transport, _Side] = {}
        self._later: list[asyncio.TimerHandle] = []  # answers the TU gives later

    @property
    def errors(self) -> list[BaseException]:
        """What went wrong on the network side (kept, never raised)."""
        return self.server.errors if self.server is not None else []

    # -- life cycle

    async def start(self) -> ReferenceTarget:
        """Bind UDP and TCP on the same port; start the two UAs, each behind the UAS
        checks of 8.2 (:class:`~sipfsm.ua.screen.UasBehaviour`)."""
        _warm_up()
        self.server = Server(
            self._element,
            host=self.host,
            port=self.port,
            bounds=self.bounds,
            on_received=self._tu,
        )
        await self.server.start()
        self.port = self.server.port
        return self

    def _element(self, transport: Transport, addr: tuple[str, int]) -> UasBehaviour | FlawedElement:
        """One transport's UA, behind the UAS checks of 8.2."""
        ua = UA(
            "ref",
            f"{addr[0]}:{addr[1]}",
            transport=transport,
            timers=self.timers,
            name=f"ref{transport}",
        )
        self.sides[transport] = _Side(transport, ua)
        if self.flaws:
            return FlawedElement(
                UasBehaviour(ua), self.flaws, self.timers, self._time, source=self._source
            )
        return UasBehaviour(ua)

    def _time(self) -> float:
        return self.server.time() if self.server is not None else 0.0

    def _source(self) -> tuple[str, int] | None:
        return self.server.source if self.server is not None else None

    async def close(self) -> None:
        """Stop the drivers, close the sockets."""
        for handle in self._later:
            handle.cancel()
        if self.server is not None:
            await self.server.close()

    async def __aenter__(self) -> ReferenceTarget:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the TU

    def _tu(self, transport: Transport) -> None:
        side = self.sides[transport]
        ua = side.ua
        events = ua.tu[side.tu_seen :]
        side.tu_seen = len(ua.tu)
        for ev in events:
            if (
                ev.what == "INVITE"
                and ev.session is not None
                and id(ev.session) not in side.answered
                and ev.session.role == "server"
            ):
                side.answered.add(id(ev.session))
                self._answer(side, ev.session, ev.message)
            elif ev.what == "request" and isinstance(ev.message, Request):
                req = ev.message
                status = 200 if req.method == "OPTIONS" else 405
                self._call(side, functools.partial(self._respond_at, ua, req, status))

    def _call(self, side: _Side, fn: functools.partial[None]) -> None:
        assert self.server is not None
        with contextlib.suppress(SipfsmError):
            self.server.call(side.transport, fn)

    @staticmethod
    def _respond_at(ua: UA, req: Request, status: int, now: float) -> None:
        headers = (("Allow", ", ".join(UA_METHODS)),) if status == 405 else ()
        ua.respond(req, status, now, headers)

    def _answer(self, side: _Side, session: InviteSession, req: object) -> None:
        user = _user(req.uri) if isinstance(req, Request) else ""
        t1 = self.timers.base()["T1"]  # models/timers.toml fills in what is not given
        for after, status in _plan(user):
            answer = functools.partial(_answer_at, session, status)
            if after:
                loop = asyncio.get_running_loop()
                self._later.append(loop.call_later(after * t1, self._call, side, answer))
            else:
                self._call(side, answer)

    # -- role server: the reference UA as the client

    def trigger(self, kind: str, uri: str, transport: str) -> None:
        """Make the reference UA send a request to ``uri`` over ``transport``: ``invite``
        (a call: 13.2.1) or ``options`` (11.1)."""
        side = self.sides[transport]  # type: ignore[index]
        ua = side.ua

        def send(now: float) -> None:
            if kind == "invite":
                ua.invite(uri, now)
            else:
                ua.request("OPTIONS", uri, now)

        assert self.server is not None
        self.server.call(side.transport, send)
        self._tu(side.transport)


class ReferenceThread:
    """:class:`ReferenceTarget` on its own event loop in its own thread, so the probe's load
    (parsing, Hypothesis) never delays the reference UA's timers on a shared loop; like a peer
    process, but in-process. Same ``host``/``port``/``trigger`` surface."""

    def __init__(
        self, timers: Timers, *, host: str = "127.0.0.1", flaws: frozenset[str] = frozenset()
    ) -> None:
        import threading

        self.target = ReferenceTarget(timers, host=host, flaws=flaws)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._done: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="sipfsm-reference-ua", daemon=True)

    @property
    def host(self) -> str:
        """Its address."""
        return self.target.host

    @property
    def port(self) -> int:
        """Its UDP and TCP port."""
        return self.target.port

    def _main(self) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._done = asyncio.Event()
            try:
                await self.target.start()
            except BaseException as exc:
                self._error = exc
                self._ready.set()
                return
            self._ready.set()
            await self._done.wait()
            await self.target.close()

        asyncio.run(serve())

    async def start(self) -> ReferenceThread:
        """Start the thread; wait until the UA listens."""
        self._thread.start()
        await asyncio.to_thread(self._ready.wait, 30.0)
        if self._error is not None:
            raise self._error
        return self

    def trigger(self, kind: str, uri: str, transport: str) -> None:
        """:meth:`ReferenceTarget.trigger`, on the reference's loop."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.target.trigger, kind, uri, transport)

    async def close(self) -> None:
        """Stop the UA and the thread."""
        if self._loop is not None and self._done is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._done.set)
        await asyncio.to_thread(self._thread.join, 10.0)


class ReferenceProcess:
    """:class:`ReferenceTarget` in a child process (``python -m sipfsm.probe.reference``),
    so its timers never wait for the probe's CPU or GIL: the embedded default target is
    as separate from the probe as a real peer. Triggers go to it over its stdin."""

    def __init__(
        self, timers: Timers, *, host: str = "127.0.0.1", flaws: frozenset[str] = frozenset()
    ) -> None:
        self.timers = timers
        self.host = host
        self.flaws = flaws
        self.port = 0
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 30.0) -> ReferenceProcess:
        """Start the child; wait for its ``READY PORT`` line."""
        import sys

        base = self.timers.base()  # models/timers.toml fills in what is not given
        argv = [
            sys.executable,
            "-m",
            "sipfsm.probe._child",
            "--host",
            self.host,
            "--t1",
            repr(base["T1"]),
            "--t2",
            repr(base["T2"]),
            "--t4",
            repr(base["T4"]),
            *(f"--flaw={f}" for f in self.flaws),
        ]
        self.proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        except TimeoutError:
            await self.close()
            raise SipfsmError("reference UA did not start") from None
        words = line.decode().split()
        if len(words) != 2 or words[0] != "READY":
            await self.close()
            raise SipfsmError(f"reference UA did not start: {line!r}")
        self.port = int(words[1])
        return self

    def trigger(self, kind: str, uri: str, transport: str) -> None:
        """Ask the child to send a request (:meth:`ReferenceTarget.trigger`)."""
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.write(f"trigger {kind} {uri} {transport}\n".encode())

    async def close(self) -> None:
        """Stop the child: ``quit`` on stdin, then SIGTERM/SIGKILL by PID."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(Exception):
            assert proc.stdin is not None
            proc.stdin.write(b"quit\n")
            await proc.stdin.drain()
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
