"""sipfsm's own reference UA on loopback: the embedded target of ``sipfsm probe``.

It is :class:`sipfsm.ua.core.UA` (the dialog, session and transaction models) run by
:class:`sipfsm.net.aio.Driver` on the wall clock over a :class:`sipfsm.net.aio.SipEndpoint`, one UA
per transport (UDP and TCP on the same port), with a small TU that answers by user name:

* ``answer``: 180 then 200 (13.3.1.4 then retransmits the 2xx until the ACK);
* ``busy``: 486; ``status-NNN``: NNN; any other user: 404 (21.4.5);
* ``ring``: 180 and nothing more (until CANCEL, 9.2);
* OPTIONS: 200 (11.2); other methods outside a dialog: 405 (8.2.1).

Before a request reaches the UA, the UAS core's checks of 8.2 run: a message that does not
parse gets 400 (505 for another SIP version, 21.5.7) when a response can be addressed, and
:func:`sipfsm.validate`'s rejections (416, 420, 415, 400 ...) are sent statelessly.

For the role-server checks the same UA is the *client*: :meth:`ReferenceTarget.trigger`
makes it send an INVITE (or OPTIONS) to the probe's listener.

``flaws`` breaks it on purpose, on the wire, so tests can see the probe catch real bugs:
``timer-g-2`` stops non-2xx retransmissions after two (17.2.1 violated), ``2xx-until-t2``
stops 2xx retransmissions once the interval reaches T2 (JsSIP's bug, 13.3.1.4 violated).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from dataclasses import dataclass, field

from sipfsm.errors import ParseError, SipfsmError
from sipfsm.message.constants import DEFAULT_PORT
from sipfsm.message.grammar import COMPACT_FORMS, names_of
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.message.uri import URI
from sipfsm.message.validate import validate
from sipfsm.model.timers import Timers
from sipfsm.net.aio import Bounds, Driver, Firing, Received, SipEndpoint
from sipfsm.ua.core import UA, InviteSession

__all__ = ["FLAWS", "ReferenceTarget"]

#: The deliberate bugs :class:`ReferenceTarget` can be given.
FLAWS = ("timer-g-2", "2xx-until-t2")

#: The fields copied into a stateless error response, long and compact names (7.3.3).
_COPIED = [n for h in ("Via", "From", "To", "Call-ID", "CSeq") for n in names_of(h)]
_HDR = re.compile(rb"^(%s)[ \t]*:[ \t]*(.*)$" % "|".join(_COPIED).encode(), re.IGNORECASE)
_COMPACT = {c.encode(): name.lower().encode() for c, name in COMPACT_FORMS.items()}


def _stateless_error(data: bytes, status: int, reason: str) -> bytes | None:
    """A response to a request that does not parse (8.2; RFC 4475 3.1.2): the Via, From, To,
    Call-ID and CSeq lines copied textually, or None when there is no Via to answer to."""
    head = data.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    if not lines or lines[0].startswith(b"SIP/"):
        return None  # a response: dropped (RFC 4475 3.1.2.19)
    kept: list[bytes] = []
    have_via = False
    for line in lines[1:]:
        m = _HDR.match(line)
        if m:
            name = m.group(1).lower()
            name = _COMPACT.get(name, name)
            if name == b"via":
                if not re.search(rb"SIP/2\.0/\w+\s+\S", m.group(2)):
                    continue
                have_via = True
            kept.append(name.title() + b": " + m.group(2))
    if not have_via:
        return None
    return (
        b"SIP/2.0 %d %s\r\n" % (status, reason.encode())
        + b"\r\n".join(kept)
        + b"\r\nContent-Length: 0\r\n\r\n"
    )


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


def _uri(text: str) -> tuple[str, str, int]:
    """(user, host, port) of a SIP URI (19.1.1); port 5060 when absent."""
    try:
        u = URI.parse(text)
    except (ParseError, ValueError):
        return "", "127.0.0.1", DEFAULT_PORT
    return u.user or "", (u.host or "127.0.0.1").strip("[]"), int(u.port or DEFAULT_PORT)


@dataclass
class _Side:
    """One transport's UA and its driver."""

    transport: str
    ua: UA
    driver: Driver[None] | None = None
    #: branch of a received request -> where it came from (responses go back there, 18.2.2).
    came_from: dict[str, tuple[str, int]] = field(default_factory=dict)
    answered: set[int] = field(default_factory=set)  # ids of sessions the TU handled
    tu_seen: int = 0
    #: The latest instant given to the UA (its clock never goes back).
    clock: float = 0.0


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
        self.ep: SipEndpoint | None = None
        self.sides: dict[str, _Side] = {}
        self.errors: list[BaseException] = []
        self._sent: dict[bytes, list[float]] = {}  # key of a response -> send instants
        self._tasks: set[asyncio.Task[None]] = set()

    # -- life cycle

    async def start(self) -> ReferenceTarget:
        """Bind UDP and TCP on the same port; start the two UAs."""
        from sipfsm.net.ports import free_port

        _warm_up()
        last: OSError | None = None
        for _ in range(20):
            port = self.port or free_port(host=self.host)
            ep = SipEndpoint(
                host=self.host,
                udp_port=port,
                tcp_port=port,
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
            raise SipfsmError(f"reference UA: no port for UDP and TCP: {last}")
        for transport in ("udp", "tcp"):
            ua = UA(
                "ref",
                f"{self.host}:{self.port}",
                transport=transport,
                timers=self.timers,
                name=f"ref{transport}",
            )
            side = _Side(transport, ua)
            side.driver = Driver(ua, functools.partial(self._on_output, side)).start()
            self.sides[transport] = side
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

    async def __aenter__(self) -> ReferenceTarget:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- receiving: the UAS core's checks (8.2), then the UA

    def _received(self, rcv: Received) -> None:
        try:
            self._receive(rcv)
        except Exception as exc:
            self.errors.append(exc)

    def _receive(self, rcv: Received) -> None:
        side = self.sides[rcv.transport]
        try:
            msg = parse(rcv.data, strict=True)
        except ParseError as exc:
            status, reason = (
                (505, "Version Not Supported")
                if exc.code == "bad-version"
                else (400, "Bad Request")
            )
            answer = _stateless_error(rcv.data, status, reason)
            if answer is not None:
                self._send(answer, rcv.transport, rcv.peer)
            return
        if isinstance(msg, Request):
            methods = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS")
            try:
                findings = validate(msg, "uas", methods=methods)
                vias = msg.via
            except ParseError:  # a header's value breaks its ABNF: 400 (21.4.1)
                answer = _stateless_error(rcv.data, 400, "Bad Request")
                if answer is not None and msg.method != "ACK":
                    self._send(answer, rcv.transport, rcv.peer)
                return
            if msg.method != "ACK":
                for finding in findings:
                    if finding.action == "reject" and finding.response:
                        self._reject(msg, finding.response, finding.unsupported, rcv)
                        return
            if vias and vias[0].branch:
                side.came_from[vias[0].branch] = rcv.peer
        assert side.driver is not None
        # The UA hears the message when it arrived, not when this thread got to it: a busy
        # process must not make an ACK look later than Timer G (17.2.1).
        at = max(rcv.time, side.clock)
        side.clock = at
        try:
            side.driver.call(lambda now: side.ua.receive(rcv.data, min(now, at)))
        except Exception as exc:  # the driver is closed on an exception: restart it
            self.errors.append(exc)
            side.driver = Driver(side.ua, functools.partial(self._on_output, side)).start()
            return
        self._tu(side)

    def _reject(
        self, req: Request, status: int, unsupported: tuple[str, ...], rcv: Received
    ) -> None:
        from sipfsm.probe.wire import response_to

        data = response_to(req, status, to_tag="refrej")
        if status == 420 and unsupported:  # 8.2.2.3: list what is not supported
            data = data.replace(
                b"Content-Length:",
                b"Unsupported: " + ", ".join(unsupported).encode() + b"\r\nContent-Length:",
                1,
            )
        self._send(data, rcv.transport, rcv.peer)

    # -- the TU

    def _tu(self, side: _Side) -> None:
        ua = side.ua
        events = ua.tu[side.tu_seen :]
        side.tu_seen = len(ua.tu)
        assert side.driver is not None
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
                with contextlib.suppress(SipfsmError):
                    side.driver.call(functools.partial(self._respond_at, ua, req, status))

    @staticmethod
    def _respond_at(ua: UA, req: Request, status: int, now: float) -> None:
        headers = (("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"),) if status == 405 else ()
        ua.respond(req, status, now, headers)

    def _answer(self, side: _Side, session: InviteSession, req: object) -> None:
        user = _uri(req.uri)[0] if isinstance(req, Request) else ""
        assert side.driver is not None
        plan: list[int]
        if user == "answer":
            plan = [180, 200]
        elif user == "ring":
            plan = [180]
        elif user == "busy":
            plan = [486]
        elif user.startswith("status-") and user[7:].isdigit() and 101 <= int(user[7:]) < 700:
            plan = [int(user[7:])]
        else:
            plan = [404]
        for status in plan:
            with contextlib.suppress(SipfsmError):
                side.driver.call(functools.partial(_answer_at, session, status))

    # -- role server: the reference UA as the client

    def trigger(self, kind: str, uri: str, transport: str) -> None:
        """Make the reference UA send a request to ``uri`` over ``transport``: ``invite``
        (a call: 13.2.1) or ``options`` (11.1)."""
        side = self.sides[transport]
        assert side.driver is not None
        ua = side.ua

        def send(now: float) -> None:
            if kind == "invite":
                ua.invite(uri, now)
            else:
                ua.request("OPTIONS", uri, now)

        side.driver.call(send)
        self._tu(side)

    # -- sending

    def _on_output(self, side: _Side, _out: None, firing: Firing | None) -> None:
        self._flush(side, firing)

    def _flush(self, side: _Side, firing: Firing | None = None) -> None:
        if firing is not None:
            side.clock = max(side.clock, firing.scheduled, firing.actual)
        for data in side.ua.drain():
            try:
                msg = parse(data)
            except ParseError:
                continue
            if isinstance(msg, Response):
                vias = msg.via
                if not vias:
                    continue
                dest = side.came_from.get(vias[0].branch or "")
                if dest is None:
                    dest = (
                        str(vias[0].param("received") or vias[0].host),
                        int(vias[0].port or DEFAULT_PORT),
                    )
                if self._flawed(msg, data):
                    continue
            else:
                dest = self._request_dest(msg)
            self._send(data, side.transport, dest)

    @staticmethod
    def _request_dest(req: Request) -> tuple[str, int]:
        routes = req.route
        _, host, port = _uri(str(routes[0].uri) if routes else req.uri)
        return host, port

    def _flawed(self, resp: Response, data: bytes) -> bool:
        """Whether a deliberate flaw suppresses this response on the wire."""
        if not self.flaws or resp.cseq is None or resp.cseq.method != "INVITE":
            return False
        key = f"{resp.call_id}|{resp.cseq.seq}|{resp.status}".encode()
        now = self.ep.loop.time() if self.ep is not None else 0.0
        sent = self._sent.setdefault(key, [])
        retransmission = bool(sent)
        if "timer-g-2" in self.flaws and resp.status >= 300 and retransmission and len(sent) >= 3:
            return True
        if "2xx-until-t2" in self.flaws and 200 <= resp.status < 300 and retransmission:
            base = self.timers.base()  # models/timers.toml fills in what is not given
            t1, t2 = base["T1"], base["T2"]
            # the instant the doubling interval first reaches T2 (13.3.1.4)
            at, interval = 0.0, t1
            while interval < t2:
                at += interval
                interval *= 2
            if now - sent[0] > at + 1e-3:
                return True
        sent.append(now)
        return False

    def _send(self, data: bytes, transport: str, dest: tuple[str, int]) -> None:
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

    async def _send_async(self, data: bytes, transport: str, dest: tuple[str, int]) -> None:
        assert self.ep is not None
        try:
            await self.ep.send(data, transport, dest[0], dest[1])  # type: ignore[arg-type]
        except (OSError, SipfsmError, TimeoutError) as exc:
            self.errors.append(exc)


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
