"""The asyncio adapter (``sipfsm.net.aio``) on local sockets, and real SIP peers on loopback.

Unit tests run the adapter against small asyncio peers written here (UDP echo, TCP servers
writing in pieces); the ``peer`` tests start Kamailio, SIPp, baresip, Linphone and sipsak from their
Debian packages (installed by the harness in ``tests/peers.py``) and exchange real SIP with
them through the adapter, with hand-written requests (RFC 3261 section 8.1.1).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import peer_harness as _peers
import pytest
from sipraw import header, request, sdp_offer, status

from sipfsm import ParseError
from sipfsm.aio import Transport
from sipfsm.net.aio import (
    Bounds,
    Driver,
    FramingError,
    LimitExceeded,
    Received,
    SipEndpoint,
    SipStreamFramer,
    TargetRefused,
    check_target,
)
from sipfsm.sim.aio_clock import run as run_on_virtual_clock

pytest_plugins = ["peers"]

T = TypeVar("T")
LO = "127.0.0.1"


def run(coro: Awaitable[T], timeout: float = 10.0) -> T:
    """Run one test coroutine, never longer than ``timeout``."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def msg(first: str, body: bytes = b"", *, extra: str = "", cl: bool = True) -> bytes:
    length = f"Content-Length: {len(body)}\r\n" if cl else ""
    return f"{first}\r\nCall-ID: x\r\n{extra}{length}\r\n".encode() + body


# --------------------------------------------------------------------------- address guard


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_loopback_targets_accepted(host: str) -> None:
    assert check_target(host)


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "192.0.2.1", "0.0.0.0", "::", "2001:db8::1", "::ffff:192.0.2.1"]
)
def test_remote_targets_refused(host: str) -> None:
    with pytest.raises(TargetRefused, match="loopback"):
        check_target(host)
    assert check_target(host, allow_remote=True)


def test_endpoint_refuses_remote_without_sending() -> None:
    async def main() -> None:
        async with SipEndpoint() as ep:
            with pytest.raises(TargetRefused):
                await ep.send(b"OPTIONS", "udp", "192.0.2.1", 5060)
            with pytest.raises(TargetRefused):
                ep.send_nowait(b"OPTIONS", "udp", "8.8.8.8", 5060)
            with pytest.raises(TargetRefused):
                await ep.connect("192.0.2.1", 5060)
            assert ep.sent == 0

    run(main())
    with pytest.raises(TargetRefused):
        SipEndpoint(host="0.0.0.0")


# --------------------------------------------------------------------------- peer harness


def test_ensure_installed_refuses_clearly_when_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(_peers, "_install_failed", {})
    with pytest.raises(_peers.PeerUnavailable, match="not root: run `apt-get install"):
        _peers.ensure_installed(["sipsak"])


def test_ensure_installed_remembers_an_apt_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def apt(argv: list[str], timeout: float) -> str | None:
        calls.append(argv)
        return "`apt-get install` exited 100: E: Unable to locate package"

    monkeypatch.setattr(shutil, "which", lambda name: name if name == "apt-get" else None)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(_peers, "_apt", apt)
    monkeypatch.setattr(_peers, "_apt_updated", True)
    monkeypatch.setattr(_peers, "_install_failed", {})
    for _ in range(2):
        with pytest.raises(_peers.PeerUnavailable, match="Unable to locate"):
            _peers.ensure_installed(["sipsak"], prefetch=["baresip"])
    # one try with the prefetch, one without; the second call fails from memory
    assert [c[-2:] for c in calls] == [["sipsak", "baresip"], ["DPkg::Lock::Timeout=120", "sipsak"]]


# --------------------------------------------------------------------------- framing (18.3)


def test_framer_byte_by_byte() -> None:
    m1 = msg("SIP/2.0 200 OK", b"v=0\r\n\r\nbody with CRLFCRLF inside", extra="CSeq: 1 X\r\n")
    m2 = msg("BYE sip:a@b SIP/2.0", extra="CSeq: 2 BYE\r\nl: 0\r\n", cl=False)
    framer = SipStreamFramer()
    got: list[bytes] = []
    for i in range(len(m1 + m2)):
        got += framer.feed((m1 + m2)[i : i + 1])
    assert got == [m1, m2]


def test_framer_several_messages_one_write_and_keepalives() -> None:
    ms = [msg(f"SIP/2.0 {100 + i} X", b"x" * i) for i in range(5)]
    assert SipStreamFramer().feed(b"\r\n\r\n" + b"\r\n".join(ms)) == ms


def test_framer_skips_a_malformed_message_and_goes_on() -> None:
    errors: list[Exception] = []
    good = msg("SIP/2.0 200 OK")
    stream = good + msg("NOT A START LINE") + good
    assert SipStreamFramer(on_error=errors.append).feed(stream) == [good, good]
    assert len(errors) == 1 and isinstance(errors[0], ParseError)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (msg("SIP/2.0 200 OK", cl=False), "missing-content-length"),
        (msg("SIP/2.0 200 OK", extra="Content-Length: 1\r\n"), "content-length-conflict"),
        (msg("SIP/2.0 200 OK", extra="Content-Length: x\r\n", cl=False), "bad-content-length"),
        (msg("SIP/2.0 200 OK", b"y" * 200), "message-too-large"),
        (b"SIP/2.0 200 OK\r\n" + b"X: y\r\n" * 100, "message-too-large"),
    ],
)
def test_framer_errors(data: bytes, reason: str) -> None:
    framer = SipStreamFramer(max_message_size=150)
    with pytest.raises(FramingError, match=reason):
        framer.feed(data)
    with pytest.raises(FramingError, match=reason):  # a stream cannot be resynchronised
        framer.feed(msg("SIP/2.0 200 OK"))


# --------------------------------------------------------------------------- UDP and TCP


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(b"echo:" + data, addr)


def test_udp_roundtrip_with_receive_time() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        echo, _ = await loop.create_datagram_endpoint(_Echo, local_addr=(LO, 0))
        port = echo.get_extra_info("sockname")[1]
        try:
            async with SipEndpoint() as ep:
                sent_at = await ep.send(b"hello", "udp", LO, port)
                got = await ep.recv(2.0)
                assert got.data == b"echo:hello"
                assert got.transport == "udp"
                assert got.peer == (LO, port)
                assert got.local == ep.udp_addr
                assert sent_at <= got.time <= loop.time()
                assert (ep.sent, ep.received) == (1, 1)
        finally:
            echo.close()

    run(main())


def test_tcp_client_framing_partial_and_batched_writes() -> None:
    bodies = [b"", b"v=0\r\n", b"\r\n\r\n" * 3, b"z" * 5000]
    messages = [msg(f"SIP/2.0 {200 + i} OK", b) for i, b in enumerate(bodies)]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        stream = messages[0] + messages[1]
        for cut in range(0, len(stream), 7):  # partial writes, 7 bytes at a time
            writer.write(stream[cut : cut + 7])
            await writer.drain()
            await asyncio.sleep(0.001)
        writer.write(messages[2] + messages[3])  # two messages in one write
        await writer.drain()
        await reader.read(100)

    async def main() -> None:
        server = await asyncio.start_server(serve, LO, 0)
        port = server.sockets[0].getsockname()[1]
        async with server, SipEndpoint(udp_port=None) as ep:
            local = await ep.connect(LO, port)
            assert local[0] == LO
            await ep.send(b"go", "tcp", LO, port)
            got = [await ep.recv(3.0) for _ in messages]
            assert [g.data for g in got] == messages
            assert all(g.transport == "tcp" and g.peer == (LO, port) for g in got)
            assert not ep.errors

    run(main())


def test_tcp_server_answers_on_the_same_connection() -> None:
    """Section 18.2.2: the response goes back over the connection the request came on."""
    req = msg("OPTIONS sip:x@127.0.0.1 SIP/2.0", b"abc")

    async def main() -> None:
        async with SipEndpoint(udp_port=None, tcp_port=0) as ep:
            reader, writer = await asyncio.open_connection(*ep.tcp_addr)
            writer.write(req[:10])
            await writer.drain()
            await asyncio.sleep(0.01)
            writer.write(req[10:])
            got = await ep.recv(2.0)
            assert got.data == req
            assert got.local == ep.tcp_addr
            await ep.send(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", "tcp", *got.peer)
            assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)).startswith(
                b"SIP/2.0 200"
            )
            writer.close()

    run(main())


def test_tcp_framing_error_drops_the_connection() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(msg("SIP/2.0 200 OK", cl=False))
        await writer.drain()
        await reader.read(100)  # returns when the endpoint drops the connection

    async def main() -> None:
        server = await asyncio.start_server(serve, LO, 0)
        port = server.sockets[0].getsockname()[1]
        async with server, SipEndpoint(udp_port=None) as ep:
            await ep.connect(LO, port)
            while not ep.errors:  # run()'s bound (10 s) catches a hang
                await asyncio.sleep(0.01)
            assert isinstance(ep.errors[0], FramingError)
            with pytest.raises(ConnectionError):
                ep.send_nowait(b"x", "tcp", LO, port)

    run(main())


# --------------------------------------------------------------------------- bounds


def test_max_messages() -> None:
    async def main() -> None:
        async with SipEndpoint(bounds=Bounds(max_messages=3)) as ep:
            for _ in range(3):
                ep.send_nowait(b"x", "udp", LO, 9)
            with pytest.raises(LimitExceeded) as info:
                await ep.send(b"x", "udp", LO, 9)
            assert info.value.limit == "max_messages"
            assert ep.sent == 3

    run(main())


def test_rate_limit_token_bucket() -> None:
    async def main() -> None:
        async with SipEndpoint(bounds=Bounds(rate=100.0, burst=5)) as ep:
            for _ in range(5):
                ep.send_nowait(b"x", "udp", LO, 9)
            with pytest.raises(LimitExceeded) as info:
                ep.send_nowait(b"x", "udp", LO, 9)
            assert info.value.limit == "rate"
            t0 = ep.loop.time()
            for _ in range(10):
                await ep.send(b"x", "udp", LO, 9)  # waits for tokens: 10 at 100/s
            assert ep.loop.time() - t0 >= 0.09
            assert ep.sent == 15

    run(main())


def test_max_duration_closes_the_endpoint() -> None:
    async def main() -> None:
        ep = await SipEndpoint(bounds=Bounds(max_duration=0.2)).start()
        try:
            ep.send_nowait(b"x", "udp", LO, 9)
            with pytest.raises(LimitExceeded):
                await ep.recv(2.0)  # woken by the expiry, not by the 2 s timeout
            assert ep.loop.time() - ep.started_at < 2.0  # before recv's own timeout
            assert ep.closed
            with pytest.raises(LimitExceeded):
                ep.send_nowait(b"x", "udp", LO, 9)
        finally:
            await ep.close()

    run(main())


def test_max_in_flight() -> None:
    async def main() -> None:
        async with SipEndpoint(bounds=Bounds(max_in_flight=2)) as ep:
            assert ep.try_slot() and ep.try_slot()
            assert not ep.try_slot()

            async def third() -> float:
                async with ep.slot():
                    return ep.loop.time()

            task = asyncio.ensure_future(third())
            await asyncio.sleep(0.05)
            assert not task.done()
            released = ep.loop.time()
            ep.release_slot()
            assert await asyncio.wait_for(task, 1) >= released
            assert ep.peak_in_flight == 2

    run(main())


def test_cancellation_closes_sockets() -> None:
    async def main() -> None:
        ready: asyncio.Future[SipEndpoint] = asyncio.get_running_loop().create_future()

        async def user() -> None:
            async with SipEndpoint(tcp_port=0) as ep:
                ready.set_result(ep)
                await ep.connect(*ep.tcp_addr)  # one client connection to itself too
                await asyncio.sleep(100)

        task = asyncio.ensure_future(user())
        ep = await ready
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ep.closed
        assert not _peers.port_bound(ep.udp_addr[1], "udp", LO)
        assert not _peers.port_bound(ep.tcp_addr[1], "tcp", LO)  # not listening any more

    run(main())


# --------------------------------------------------------------------------- driver


class Timers:
    """A stand-in sans-IO object with aioquic's timer shape: fires a list of deadlines."""

    def __init__(self, deadlines: list[float]) -> None:
        self.deadlines = sorted(deadlines)
        self.fired: list[tuple[float, float]] = []

    def get_timer(self) -> float | None:
        return self.deadlines[0] if self.deadlines else None

    def handle_timer(self, now: float) -> list[float]:
        due = [d for d in self.deadlines if d <= now]
        self.deadlines = [d for d in self.deadlines if d > now]
        self.fired += [(d, now) for d in due]
        return due

    def handle(self, event: float, now: float) -> list[float]:
        self.deadlines = sorted([*self.deadlines, now + event])
        return []


def run_virtual(coro: Awaitable[T], timeout: float = 10.0) -> T:
    """Run one test coroutine on the virtual clock (every timer fires at its deadline)."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return run_on_virtual_clock(bounded())


@pytest.mark.parametrize("clock", ["wall", "virtual"])
def test_driver_fires_on_time(clock: str) -> None:
    """Every deadline fires once, in order, never before it; on the virtual clock exactly at
    it. How late the wall clock fires is the machine's figure, not the driver's:
    bench/bench_timing.py prints it against its baseline."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05
        machine = Timers([start + 0.02 * i for i in range(20)])
        outputs: list[list[float]] = []
        with Driver(machine, lambda out, firing: outputs.append(out)) as driver:
            await driver.wait_idle(3.0)
        assert len(driver.firings) == 20
        assert [d for out in outputs for d in out] == [start + 0.02 * i for i in range(20)]
        assert all(now >= deadline for deadline, now in machine.fired)
        stats = driver.timing()
        assert stats.count == 20
        assert stats.p50 >= -0.001, stats  # never early (asyncio's clock resolution aside)
        if clock == "virtual":
            assert all(abs(f.error) <= 1e-9 for f in driver.firings), driver.firings

    (run if clock == "wall" else run_virtual)(main())


def test_driver_rearms_after_handle_and_cancels_stale_deadline() -> None:
    async def main() -> None:
        t0 = asyncio.get_running_loop().time()
        machine = Timers([t0 + 5.0])
        driver = Driver(machine).start()
        driver.handle(0.03)  # an earlier deadline: must fire first, at 30 ms
        await asyncio.sleep(0.2)
        assert len(driver.firings) == 1
        assert driver.firings[0].scheduled == pytest.approx(t0 + 0.03)
        assert abs(driver.firings[0].error) <= 1e-9  # the virtual clock: at its deadline
        assert machine.get_timer() is not None  # the 5 s one, still armed
        driver.close()
        await driver.wait_idle(0.1)

    run_virtual(main())


def test_driver_close_cancels() -> None:
    async def main() -> None:
        machine = Timers([asyncio.get_running_loop().time() + 0.03])
        driver = Driver(machine).start()
        driver.close()
        await asyncio.sleep(0.1)
        assert driver.firings == [] and machine.fired == []
        with pytest.raises(RuntimeError):
            driver.handle(0.01)

    run(main())


def test_driver_keeps_machine_errors() -> None:
    class Broken(Timers):
        def handle_timer(self, now: float) -> list[float]:
            raise ValueError("boom")

    async def main() -> None:
        driver = Driver(Broken([asyncio.get_running_loop().time() + 0.01])).start()
        with pytest.raises(ValueError, match="boom"):
            await driver.wait_idle(1.0)
        assert driver.closed

    run(main())


# --------------------------------------------------------------------------- real peers


def new_call() -> tuple[str, str]:
    """A fresh (Call-ID, From tag)."""
    return f"{secrets.token_hex(8)}@sipfsm", secrets.token_hex(4)


async def responses(
    ep: SipEndpoint, call_id: str, cseq: str, timeout: float = 5.0
) -> list[Received]:
    """Responses of one transaction (Call-ID, CSeq) up to and including the final one."""

    def final(m: Received) -> bool:
        code = status(m.data)
        return code is not None and code >= 200 and mine(m)

    def mine(m: Received) -> bool:
        return header(m.data, "Call-ID") == [call_id] and header(m.data, "CSeq") == [cseq]

    got = await ep.recv_until(final, timeout)
    return [m for m in got if status(m.data) is not None and mine(m)]


def uri_of(name_addr: str) -> str:
    """The URI inside ``<...>`` of a Contact value (or the value itself)."""
    return name_addr.split("<", 1)[1].split(">", 1)[0] if "<" in name_addr else name_addr


def codes(ms: list[Received]) -> list[int | None]:
    return [status(m.data) for m in ms]


async def options(ep: SipEndpoint, transport: Transport, host: str, port: int) -> list[Received]:
    local = ep.udp_addr if transport == "udp" else await ep.connect(host, port)
    call_id, tag = new_call()
    req = request(
        "OPTIONS",
        f"sip:{host}:{port}",
        via=(transport, *local),
        to=f"<sip:{host}:{port}>",
        from_=f"<sip:probe@{local[0]}>;tag={tag}",
        call_id=call_id,
        cseq=1,
    )
    await ep.send(req, transport, host, port)
    return await responses(ep, call_id, "1 OPTIONS")


@pytest.mark.peer
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_kamailio_answers_options(kamailio: _peers.Kamailio, transport: Transport) -> None:
    """OPTIONS to the server itself: a stateless 200 (kamailio.cfg), over UDP and TCP."""

    async def main() -> list[Received]:
        async with SipEndpoint() as ep:
            return await options(ep, transport, kamailio.host, kamailio.port)

    got = run(main())
    assert codes(got) == [200], got
    assert got[0].transport == transport
    assert header(got[0].data, "Server") == ["kamailio-peer"]


@pytest.mark.peer
def test_kamailio_invite_to_unknown_user_gets_404(kamailio: _peers.Kamailio) -> None:
    """An INVITE to nobody: 100 then a stateful 404; the ACK for it (17.1.1.3) absorbs it."""
    before = kamailio.stats()

    async def main() -> list[Received]:
        async with SipEndpoint() as ep:
            call_id, tag = new_call()
            target = f"sip:nobody@{kamailio.host}:{kamailio.port}"
            branch = "z9hG4bK" + secrets.token_hex(8)
            common: dict[str, Any] = {
                "via": ("udp", *ep.udp_addr),
                "from_": f"<sip:probe@{LO}>;tag={tag}",
                "call_id": call_id,
                "cseq": 1,
                "branch": branch,
            }
            invite = request("INVITE", target, to=f"<{target}>", **common, body=sdp_offer())
            await ep.send(invite, "udp", kamailio.host, kamailio.port)
            got = await responses(ep, call_id, "1 INVITE")
            to = header(got[-1].data, "To")[0]
            await ep.send(
                request("ACK", target, to=to, **common), "udp", kamailio.host, kamailio.port
            )
            with pytest.raises(TimeoutError):  # no retransmission of the 404 after the ACK
                await ep.recv(0.7)
            return got

    got = run(main())
    assert codes(got)[-1] == 404, got
    assert set(codes(got)) <= {100, 404}
    after = kamailio.stats()
    assert after["created"] > before["created"], (before, after)
    assert after["4xx"] > before["4xx"], (before, after)


@pytest.mark.peer
def test_invite_relayed_by_kamailio_to_sipp_uas(
    kamailio: _peers.Kamailio,
    sipp_uas: _peers.SippUas,
    register_contact: Callable[..., str],
) -> None:
    """REGISTER bob -> SIPp (sipsak); INVITE bob via Kamailio: 100 (Kamailio), 180 and 200
    (SIPp); ACK and BYE along the Record-Route (12.1.2, 16.12); SIPp ends its call cleanly."""
    register_contact("bob", sipp_uas.contact, (kamailio.host, kamailio.port))
    proxy = (kamailio.host, kamailio.port)

    async def main() -> tuple[list[Received], list[Received]]:
        async with SipEndpoint() as ep:
            call_id, tag = new_call()
            aor = f"sip:bob@{kamailio.host}:{kamailio.port}"
            me = f"<sip:probe@{LO}:{ep.udp_addr[1]}>"
            common: dict[str, Any] = {
                "via": ("udp", *ep.udp_addr),
                "from_": f"{me};tag={tag}",
                "call_id": call_id,
            }
            invite = request(
                "INVITE", aor, to=f"<{aor}>", cseq=1, headers=[f"Contact: {me}"],
                body=sdp_offer(), **common,
            )  # fmt: skip
            await ep.send(invite, "udp", *proxy)
            inv = await responses(ep, call_id, "1 INVITE", timeout=8)
            ok = inv[-1].data
            to = header(ok, "To")[0]
            remote = uri_of(header(ok, "Contact")[0])
            # 12.1.2: the route set is the Record-Route of the 2xx. SIPp's built-in UAS does
            # not copy Record-Route and sends every response of a call to the address its
            # INVITE came from (Kamailio), so in-dialog requests must pass Kamailio: use the
            # route Kamailio inserted (it is in SIPp's trace) when the 2xx lost it.
            rr = header(ok, "Record-Route") or [f"<sip:{proxy[0]}:{proxy[1]};lr>"]
            route = [f"Route: {r}" for r in rr]
            ack = request("ACK", remote, to=to, cseq=1, headers=route, **common)
            await ep.send(ack, "udp", *proxy)
            bye = request("BYE", remote, to=to, cseq=2, headers=route, **common)
            await ep.send(bye, "udp", *proxy)
            return inv, await responses(ep, call_id, "2 BYE")

    inv, bye = run(main(), timeout=20)
    assert codes(inv)[0] == 100 and codes(inv)[-1] == 200, codes(inv)
    assert 180 in codes(inv)
    assert codes(bye) == [200]
    assert sipp_uas.wait(10) == 0, sipp_uas.log_tail()
    # Kamailio record-routed the INVITE (SIPp received it); SIPp's 200 did not carry it back
    # (RFC 3261 12.1.1 says a UAS MUST copy Record-Route into its 2xx): a finding, not ours.
    assert "Record-Route: <sip:" in sipp_uas.messages()
    assert not header(inv[-1].data, "Record-Route")


@pytest.mark.peer
def test_sipp_uac_calls_sipp_uas_through_kamailio(
    kamailio: _peers.Kamailio,
    sipp_uas: _peers.SippUas,
    sipp_uac: Callable[..., _peers.SippRun],
    register_contact: Callable[..., str],
) -> None:
    register_contact("carol", sipp_uas.contact, (kamailio.host, kamailio.port))
    result = sipp_uac(f"{kamailio.host}:{kamailio.port}", service="carol", timeout=10)
    assert result.ok, result.output[-3000:]
    assert sipp_uas.wait(10) == 0, sipp_uas.log_tail()


@pytest.mark.peer
def test_baresip_answers_invite(baresip: _peers.Baresip) -> None:
    """baresip auto-answers: provisional(s) then 200 with an SDP answer; BYE gets 200."""
    peer = (baresip.host, baresip.port)

    async def main() -> tuple[list[Received], list[Received]]:
        async with SipEndpoint() as ep:
            call_id, tag = new_call()
            me = f"<sip:probe@{LO}:{ep.udp_addr[1]}>"
            common: dict[str, Any] = {
                "via": ("udp", *ep.udp_addr),
                "from_": f"{me};tag={tag}",
                "call_id": call_id,
            }
            invite = request(
                "INVITE", baresip.uri, to=f"<{baresip.uri}>", cseq=1,
                headers=[f"Contact: {me}"], body=sdp_offer(), **common,
            )  # fmt: skip
            await ep.send(invite, "udp", *peer)
            inv = await responses(ep, call_id, "1 INVITE", timeout=8)
            to = header(inv[-1].data, "To")[0]
            remote = uri_of(header(inv[-1].data, "Contact")[0])
            await ep.send(request("ACK", remote, to=to, cseq=1, **common), "udp", *peer)
            await ep.send(request("BYE", remote, to=to, cseq=2, **common), "udp", *peer)
            return inv, await responses(ep, call_id, "2 BYE")

    inv, bye = run(main(), timeout=20)
    assert codes(inv)[-1] == 200, codes(inv)
    # baresip sends no 100 (allowed: 17.2.1 asks for one only when the TU takes > 200 ms).
    assert 180 in codes(inv), codes(inv)
    assert b"m=audio" in inv[-1].data
    assert codes(bye) == [200]


@pytest.mark.peer
def test_linphone_answers_invite(linphone: _peers.Linphone) -> None:
    """linphone-daemon auto-answers: 100 then 200 with an SDP answer, no 180 (auto-answer does
    not ring; 13.3.1 lets a UAS answer at once); BYE gets 200; its log (belle-sip's) shows the
    INVITE it took."""
    peer = (linphone.host, linphone.port)

    async def main() -> tuple[list[Received], list[Received]]:
        async with SipEndpoint() as ep:
            call_id, tag = new_call()
            me = f"<sip:probe@{LO}:{ep.udp_addr[1]}>"
            common: dict[str, Any] = {
                "via": ("udp", *ep.udp_addr),
                "from_": f"{me};tag={tag}",
                "call_id": call_id,
            }
            invite = request(
                "INVITE", linphone.uri, to=f"<{linphone.uri}>", cseq=1,
                headers=[f"Contact: {me}"], body=sdp_offer(), **common,
            )  # fmt: skip
            await ep.send(invite, "udp", *peer)
            inv = await responses(ep, call_id, "1 INVITE", timeout=8)
            to = header(inv[-1].data, "To")[0]
            remote = uri_of(header(inv[-1].data, "Contact")[0])
            await ep.send(request("ACK", remote, to=to, cseq=1, **common), "udp", *peer)
            await ep.send(request("BYE", remote, to=to, cseq=2, **common), "udp", *peer)
            return inv, await responses(ep, call_id, "2 BYE")

    inv, bye = run(main(), timeout=20)
    assert codes(inv) == [100, 200], (codes(inv), linphone.log_tail())
    assert b"m=audio" in inv[-1].data
    assert codes(bye) == [200]
    assert "INVITE sip:bob@" in linphone.log()


@pytest.mark.peer
def test_sofia_sip_options_to_baresip(
    baresip: _peers.Baresip, sip_options: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """A third stack: sofia-sip's ``sip-options`` gets a 2xx from baresip (exit 0)."""
    done = sip_options(baresip.uri)
    assert done.returncode == 0, done.stdout + done.stderr
