"""Hostile mutations of SIP messages, for fuzzing a parser (issue 11): each operator takes a
message's octets and a :class:`random.Random` and returns other octets.

Unlike :mod:`sipfsm.testing.malformed` (one named defect, its ParseError code predicted),
these predict nothing: they are what an attacker or a broken peer sends, and the property is
that the parser stays within its contract whatever comes (only a named
:class:`sipfsm.ParseError`, linear time; :mod:`sipfsm.testing.fuzz` states the checks). The
operators of :data:`OPERATORS`:

* ``flip``: one to four bits flipped;
* ``insert``: a CR, LF, CRLF, NUL, HTAB, SP or a high octet (0x80-0xFF) inserted anywhere
  (section 7: lines end in CRLF; section 25: what a value may hold);
* ``delete``: a span of up to 16 octets removed;
* ``truncate``: the message cut anywhere (an incomplete message, 18.3);
* ``duplicate``: a header line repeated (7.3.1; a single-value field twice: RFC 4475 3.3.8);
* ``params``: a long list of ``;name=value`` parameters on a header line or the Request-URI
  (19.1.1, 25.1 ``generic-param``);
* ``comment``: deep (and sometimes unbalanced) comments ``((( ... )))`` in a field whose rule
  nests them (Server, User-Agent, Retry-After: 20.33, 20.35, 20.41) or anywhere;
* ``digits``: a run of digits replaced by a huge one (Content-Length, CSeq, Max-Forwards,
  Expires, ports, status codes: the ranges of 20.14, 20.16, 20.22, 20.19, 7.2);
* ``long-value``: a header field with a very long value (the limits of
  :class:`sipfsm.Limits`).

:func:`mutate` applies one to three of them; :func:`chunks` cuts octets into the pieces a TCP
peer might deliver them in (18.3: a stream cut anywhere).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator

__all__ = ["OPERATORS", "chunks", "mutate"]

Operator = Callable[[bytes, random.Random], bytes]

#: Octets the ``insert`` operator puts in: line ends alone and together, NUL, white space,
#: and a few high octets (the others are drawn).
_INSERTS = (b"\r", b"\n", b"\r\n", b"\x00", b"\t", b" ", b"\x80", b"\xff", b"\xfe", b"\xc3")
#: The fields whose ABNF nests ``comment`` (sections 20.33, 20.35, 20.41).
_COMMENT_FIELDS = (b"Server: ", b"User-Agent: ", b"Retry-After: 120 ")
_DIGITS = re.compile(rb"[0-9]+")


def _pos(data: bytes, rng: random.Random) -> int:
    return rng.randint(0, len(data))


def _lines(data: bytes) -> tuple[list[bytes], bytes]:
    """The header section's lines (start line first) and what follows the empty line."""
    head, sep, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), sep + body


def _join(lines: list[bytes], rest: bytes) -> bytes:
    return b"\r\n".join(lines) + rest


def flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def insert(data: bytes, rng: random.Random) -> bytes:
    what = rng.choice(_INSERTS) if rng.random() < 0.8 else bytes([rng.randint(0x80, 0xFF)])
    i = _pos(data, rng)
    return data[:i] + what * rng.choice((1, 1, 1, 2, 7)) + data[i:]


def delete(data: bytes, rng: random.Random) -> bytes:
    i = _pos(data, rng)
    return data[:i] + data[i + rng.randint(1, 16) :]


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: _pos(data, rng)]


def duplicate(data: bytes, rng: random.Random) -> bytes:
    lines, rest = _lines(data)
    if len(lines) < 2:
        return data
    i = rng.randrange(1, len(lines))
    where = rng.choice((i + 1, rng.randrange(1, len(lines) + 1)))
    return _join([*lines[:where], lines[i], *lines[where:]], rest)


def params(data: bytes, rng: random.Random) -> bytes:
    lines, rest = _lines(data)
    n = rng.choice((40, 300, 2000))
    tail = b"".join(b";p%d=v%d" % (k, k) for k in range(n))
    i = rng.randrange(len(lines))
    line = lines[i]
    if i == 0 and line.count(b" ") >= 2:  # the Request-URI (a status line takes it too)
        a, b, c = line.split(b" ", 2)
        lines[0] = a + b" " + b + tail + b" " + c
    else:
        lines[i] = line + tail
    return _join(lines, rest)


def comment(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice((3, 33, 500, 5000))
    close = depth if rng.random() < 0.6 else rng.randint(0, depth)
    text = b"(" * depth + b"x" + b")" * close
    lines, rest = _lines(data)
    if rng.random() < 0.7:
        lines.insert(rng.randint(1, len(lines)), rng.choice(_COMMENT_FIELDS) + text)
    else:
        i = rng.randrange(len(lines))
        lines[i] = lines[i] + b" " + text
    return _join(lines, rest)


def digits(data: bytes, rng: random.Random) -> bytes:
    runs = list(_DIGITS.finditer(data))
    huge = b"9" * rng.choice((10, 11, 20, 4301, 20000))
    if rng.random() < 0.5:
        huge = b"0" * rng.choice((5, 5000)) + rng.choice((b"1", b"256", b"4294967296"))
    if not runs:
        return data + huge
    m = rng.choice(runs)
    return data[: m.start()] + huge + data[m.end() :]


def long_value(data: bytes, rng: random.Random) -> bytes:
    lines, rest = _lines(data)
    size = rng.choice((1000, 16380, 16385, 70000))
    name = rng.choice((b"Subject: ", b"X-Long: ", b"Via: SIP/2.0/UDP ", b"Call-ID: "))
    lines.insert(rng.randint(1, len(lines)), name + b"a" * size)
    return _join(lines, rest)


#: Every operator by name (see the module docstring).
OPERATORS: dict[str, Operator] = {
    "flip": flip,
    "insert": insert,
    "delete": delete,
    "truncate": truncate,
    "duplicate": duplicate,
    "params": params,
    "comment": comment,
    "digits": digits,
    "long-value": long_value,
}


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, tuple[str, ...]]:
    """``data`` after one to three operators drawn from :data:`OPERATORS` (the cheap ones
    more often), and their names in order."""
    names = list(OPERATORS)
    weights = [5, 4, 3, 2, 3, 1, 1, 2, 1]
    used = tuple(rng.choices(names, weights, k=rng.choice((1, 1, 1, 2, 3))))
    for name in used:
        data = OPERATORS[name](data, rng)
    return data, used


def chunks(data: bytes, rng: random.Random) -> Iterator[bytes]:
    """``data`` cut into pieces of 1 to 64 octets (sometimes the rest at once): a TCP
    peer's delivery."""
    i = 0
    while i < len(data):
        n = rng.choice((1, 1, 2, 3, 8, 13, 64, len(data)))
        yield data[i : i + n]
        i += n
