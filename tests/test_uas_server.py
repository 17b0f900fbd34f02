"""The UAS behaviour of RFC 3261 8.2 (``sipfsm.ua.screen``, sans-IO) and the server that binds
any sans-IO element to loopback sockets (``sipfsm.net.server``)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from typing import Any

import pytest
from conftest import CORPUS

from sipfsm.errors import ParseError
from sipfsm.message.build import build_request, build_response
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.net import server as _server
from sipfsm.net.endpoint import Received, SipEndpoint, Transport
from sipfsm.net.server import Server
from sipfsm.ua import core as _core
from sipfsm.ua.core import UA
from sipfsm.ua.screen import UA_METHODS, Rejection, UasBehaviour, rejection, screen, unparsable

LOOPBACK = "127.0.0.1"


def _request(
    method: str = "OPTIONS",
    uri: str = "sip:ref@127.0.0.1",
    headers: tuple[tuple[str, str], ...] = (),
    sent_by: str = "127.0.0.1:5999",
    transport: str = "UDP",
) -> Request:
    return build_request(
        method,
        uri,
        from_="<sip:probe@127.0.0.1>",
        sent_by=sent_by,
        transport=transport,
        headers=headers,
        rng=random.Random(7),
    )


# --------------------------------------------------------------------------- 8.2, sans-IO


def test_a_good_request_passes() -> None:
    assert screen(_request()) is None
    assert screen(_request("INVITE")) is None


def test_method_not_allowed_lists_allow() -> None:
    """8.2.1: a method the UAS does not implement gets 405 with an Allow header."""
    rej = screen(_request("REGISTER"))
    assert rej is not None and rej.status == 405
    assert dict(rej.headers)["Allow"] == ", ".join(UA_METHODS)
    resp = parse(rejection(_request("REGISTER"), rej) or b"")
    assert isinstance(resp, Response) and resp.status == 405 and resp.get("Allow")


def test_unsupported_uri_scheme_and_require() -> None:
    """8.2.2.1: 416 for a scheme it does not know; 8.2.2.3: 420 listing the extensions."""
    rej = screen(_request(uri="soap.beep://192.0.2.103:3002"))
    assert rej is not None and rej.status == 416
    req = _request(headers=(("Require", "nothing-known, 100rel"),))
    rej = screen(req)
    assert rej is not None and rej.status == 420
    resp = parse(rejection(req, rej) or b"")
    assert isinstance(resp, Response) and resp.status == 420
    assert "nothing-known" in (resp.get("Unsupported") or "")
    assert resp.to is not None and resp.to.tag == "refrej" and resp.call_id == req.call_id


def test_ack_is_never_answered() -> None:
    """17.1.1.3: an ACK gets no response, whatever its findings."""
    raw = _request("INVITE", headers=(("Require", "nothing-known"),)).raw
    ack = parse(raw.replace(b"INVITE", b"ACK"), strict=True)
    assert isinstance(ack, Request) and ack.method == "ACK"
    assert screen(ack) is None
    assert rejection(ack, Rejection(420)) is None


def test_unparsable_bytes() -> None:
    """RFC 4475 3.1.2: 505 for another SIP version (21.5.7), 400 otherwise; nothing for a
    response or without a Via to answer to (RFC 4475 3.1.2.16: a SIP/7.0 Via cannot be)."""
    data = _request().raw.replace(b" SIP/2.0\r\n", b" SIP/7.0\r\n", 1)
    with pytest.raises(ParseError) as bad:
        parse(data, strict=True)
    assert bad.value.code == "bad-version"
    answer = unparsable(data, bad.value)
    assert answer is not None and answer.startswith(b"SIP/2.0 505 Version Not Supported\r\n")
    assert b"\r\nVia: SIP/2.0/UDP " in answer and b"\r\nCall-ID: " in answer
    broken = _request().raw.replace(b"\r\nCSeq: 1 ", b"\r\nCSeq: one ", 1)
    with pytest.raises(ParseError) as bad400:
        parse(broken, strict=True)
    assert (unparsable(broken, bad400.value) or b"").startswith(b"SIP/2.0 400 Bad Request\r\n")
    assert unparsable(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n", bad.value) is None
    assert unparsable(b"OPTIONS sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\n\r\n", bad.value) is None
    if CORPUS.is_dir():
        torture = (CORPUS / "badvers.dat").read_bytes()
        with pytest.raises(ParseError) as bad7:
            parse(torture, strict=True)
        assert unparsable(torture, bad7.value) is None


def test_uas_behaviour_answers_before_the_ua() -> None:
    ua = UA("ref", "127.0.0.1:5060")
    uas = UasBehaviour(ua)
    uas.receive(_request(uri="soap.beep://192.0.2.103:3002").raw, 0.0)
    out = uas.drain()
    assert len(out) == 1 and out[0].startswith(b"SIP/2.0 416 ")
    assert not ua.trace  # the UA never saw it
    uas.receive(_request().raw, 0.0)
    assert ua.requests and ua.requests[0][0].method == "OPTIONS"


# --------------------------------------------------------------------------- the server


class _Echo:
    """The smallest element: answers every request 200 (no ``drain``, only an outbox)."""

    def __init__(self) -> None:
        self.outbox: list[bytes] = []
        self.seen = 0

    def receive(self, data: bytes, now: float) -> None:
        self.seen += 1
        msg = parse(data)
        if isinstance(msg, Request) and msg.method != "ACK":
            self.outbox.append(build_response(msg, 200, to_tag="echo").raw)

    def get_timer(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> None:
        return None


async def _exchange(server: Server, transport: Transport, make: Callable[[str], bytes]) -> Received:
    async with SipEndpoint(host=LOOPBACK, udp_port=0 if transport == "udp" else None) as ep:
        if transport == "tcp":
            local = await ep.connect(LOOPBACK, server.port)
            sent_by = f"{local[0]}:{local[1]}"
        else:
            sent_by = f"{ep.udp_addr[0]}:{ep.udp_addr[1]}"
        await ep.send(make(sent_by), transport, LOOPBACK, server.port)
        return await _reply(server, ep, 5.0)


async def _reply(server: Server, ep: SipEndpoint, timeout: float) -> Received:
    """The server's answer within ``timeout`` seconds, or at once what its element raised
    (the server keeps it in ``errors`` and answers nothing): a broken element, such as a UA
    whose models fail to load, fails the test at once instead of after the whole wait."""
    end = ep.loop.time() + timeout
    while not server.errors:
        remaining = end - ep.loop.time()
        if remaining <= 0:
            raise TimeoutError(f"no answer within {timeout} s and no error in the server")
        with contextlib.suppress(TimeoutError):
            return await ep.recv(min(remaining, 0.05))
    raise server.errors[0]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_server_binds_any_element(transport: Transport) -> None:
    async def main() -> tuple[Received, int]:
        echo = _Echo()
        async with Server(lambda _t, _a: echo, host=LOOPBACK) as server:
            got = await _exchange(
                server,
                transport,
                lambda sent_by: _request(sent_by=sent_by, transport=transport.upper()).raw,
            )
            return got, echo.seen

    got, seen = asyncio.run(main())
    resp = got.parse()
    assert isinstance(resp, Response) and resp.status == 200 and seen == 1


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_each_datagram_parsed_once(transport: Transport, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server parses each received message once and the UA gets it parsed: the UA core
    never parses it again; a rejected one (416) never reaches the UA."""
    counts = {"server": 0, "ua": 0}

    def counting(key: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kw: Any) -> Any:
            counts[key] += 1
            return real(*args, **kw)

        return wrapped

    monkeypatch.setattr(_server, "parse", counting("server", parse))
    monkeypatch.setattr(_core, "parse", counting("ua", parse))
    uas: list[UA] = []

    def element(t: Transport, addr: tuple[str, int]) -> UasBehaviour:
        uas.append(UA("ref", f"{addr[0]}:{addr[1]}", transport=t))
        return UasBehaviour(uas[-1])

    def tu(t: Transport) -> None:  # the TU answers each request outside a dialog (8.2.6)
        for req, _tx in list(uas[0].requests):
            server.call(t, lambda now, req=req: uas[0].respond(req, 200, now))  # type: ignore[misc]

    server = Server(element, transports=(transport,), host=LOOPBACK, on_received=tu)

    async def main() -> list[int]:
        async with server:
            statuses = []
            for uri in ("soap.beep://192.0.2.103:3002", f"sip:ref@127.0.0.1:{server.port}"):
                got = await _exchange(
                    server,
                    transport,
                    lambda sent_by, uri=uri: (
                        _request(  # type: ignore[misc]
                            uri=uri, sent_by=sent_by, transport=transport.upper()
                        ).raw
                    ),
                )
                resp = got.parse()
                statuses.append(resp.status if isinstance(resp, Response) else 0)
            return statuses

    assert asyncio.run(main()) == [416, 200]
    assert counts["ua"] == 0 and len(uas[0].trace) > 0  # the UA had the OPTIONS, parsed
    # two received, each parsed once; each response sent parsed once to route it (18.2.2)
    assert counts["server"] == 4
