"""Comments nested deep, with ``Limits.max_nesting`` raised (issue 11, defect 5): the LALR parser
that reads Server, User-Agent and Retry-After (RFC 3261 section 25.1: ``comment`` nests) costs
time and memory linear in the value at any depth, and the views read what it accepts.

Measured as ratios (deterministic enough on a loaded machine): the per-octet cost of a value
eight times longer stays within a small factor of the short one's. Before, the parser copied
its whole stack and every tree built so far for each token: depth 8,000 took seconds and
half a gigabyte.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

import sipfsm
from sipfsm import Limits, ParseError

RAISED = Limits(max_nesting=1 << 20, max_header_line=1 << 16)


def _message(header: bytes, value: bytes) -> bytes:
    return (
        b"OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        b"CSeq: 1 OPTIONS\r\n" + header + b": " + value + b"\r\nContent-Length: 0\r\n\r\n"
    )


def _shapes(depth: int) -> list[tuple[bytes, bytes, str]]:
    """(header, value, expected code or "" for a parse) nested ``depth`` deep."""
    return [
        (b"Server", b"(" * depth + b"a" + b")" * depth, ""),
        (b"User-Agent", b"x/1 " + b"( " * depth + b"a" + b" )" * depth, ""),
        (b"Retry-After", b"5 " + b"(a" * depth + b")" * depth + b";duration=10", ""),
        (b"Server", b"(" * depth + b"a", "bad-header-value"),
        (b"Server", b"(" * depth + b"a" + b")" * depth + b")", "bad-header-value"),
    ]


def _cost(data: bytes) -> tuple[float, int, str]:
    """(CPU seconds, peak octets allocated, outcome) of a strict parse and reading the views."""
    tracemalloc.start()
    t0 = time.process_time()
    try:
        msg = sipfsm.parse(data, strict=True, limits=RAISED)
        outcome = ""
        for view in ("server", "user_agent", "retry_after"):
            getattr(msg, view)
    except ParseError as exc:
        outcome = exc.code
    dt = time.process_time() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return dt, peak, outcome


@pytest.mark.parametrize("shape", range(5))
def test_deep_comments_cost_linear_time_and_memory(shape: int) -> None:
    small, big = 1000, 8000
    _cost(_message(*_shapes(10)[shape][:2]))  # the LALR tables are built once
    header, value, code = _shapes(small)[shape]
    t_small, m_small, got = _cost(_message(header, value))
    assert got == code
    header, value, code = _shapes(big)[shape]
    t_big, m_big, got = _cost(_message(header, value))
    assert got == code
    ratio = big / small
    assert m_big <= 2 * ratio * m_small + (1 << 20), (m_small, m_big)
    assert t_big <= 3 * ratio * t_small + 0.05, (t_small, t_big)


def test_views_read_a_deep_comment() -> None:
    depth = 5000
    msg = sipfsm.parse(
        _message(b"Server", b"x/1 (" + b"(a " * depth + b")" * depth + b")"),
        strict=True,
        limits=RAISED,
    )
    assert msg.server is not None and msg.server.startswith("x/1 ((a (a ")
    assert msg.server.count("(") == depth + 1
    ra = sipfsm.parse(
        _message(b"Retry-After", b"5 " + b"(" * depth + b")" * depth), limits=RAISED
    ).retry_after
    assert (
        ra is not None and ra.seconds == 5 and ra.comment == "(" * (depth - 1) + ")" * (depth - 1)
    )
