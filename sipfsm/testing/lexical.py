"""The lexical pieces of SIP messages for the strategies of :mod:`sipfsm.testing.strategies`
(RFC 3261 section 25.1): character sets, tokens, escapes, hosts, and the separators with the
optional white space and folding around them (SWS, LWS), rendered tortuously or plainly.

Strategies are built once and cached: building one inside a draw makes Hypothesis validate it
again on every example, which dominates the run time.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeAlias

from hypothesis import strategies as st

from sipfsm.message.validate import KNOWN_METHODS

Draw: TypeAlias = Callable[[st.SearchStrategy[Any]], Any]

ALNUM = string.ascii_letters + string.digits
_MARK = "-_.!~*'()"
_TOKEN_CHARS = ALNUM + "-.!%*_+`'~"
WORD_EXTRA = "-.!%*_+`'~()<>:\\\"/[]?{}"
USER_CHARS = ALNUM + _MARK + "&=+$,;?/"
PASSWORD_CHARS = ALNUM + _MARK + "&=+$,"
PARAM_CHARS = ALNUM + _MARK + "[]/:&+$"
HNV_CHARS = ALNUM + _MARK + "[]/?:+$"
METHODS = KNOWN_METHODS


@cache
def _choice_t(options: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(options)


def choice(options: Sequence[Any] | str) -> st.SearchStrategy[Any]:
    return _choice_t(tuple(options))


@cache
def ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


BOOL = st.booleans()


@cache
def text_of(alphabet: str, min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(alphabet), min_size=min_size, max_size=max_size)


@cache
def _escaped() -> st.SearchStrategy[str]:
    return st.integers(0, 255).map(lambda b: f"%{b:02X}") | st.integers(0, 255).map(
        lambda b: f"%{b:02x}"
    )


@cache
def escapable(alphabet: str, min_size: int = 1) -> st.SearchStrategy[str]:
    """Text over ``alphabet`` with some ``%HH`` escapes (25.1 ``escaped``)."""
    piece = st.one_of(st.sampled_from(alphabet), st.sampled_from(alphabet), _escaped())
    return st.lists(piece, min_size=min_size, max_size=10).map("".join)


@cache
def tokens(max_size: int = 12) -> st.SearchStrategy[str]:
    """``token`` (25.1), all its non-alphanumeric characters included."""
    return text_of(_TOKEN_CHARS, 1, max_size)


@cache
def alnum_token() -> st.SearchStrategy[str]:
    return text_of(ALNUM + "-._", 1, 10).filter(lambda s: s[0].isalnum())


@cache
def _label(first: str) -> st.SearchStrategy[str]:
    """``domainlabel`` / ``toplabel`` (25.1): no leading or trailing hyphen."""
    return st.builds(
        lambda a, mid, z: a + (mid + z if mid or z else ""),
        st.sampled_from(first),
        text_of(ALNUM + "-", 0, 5),
        st.sampled_from(["", *ALNUM]),
    ).filter(lambda s: not s.endswith("-"))


@cache
def hostnames() -> st.SearchStrategy[str]:
    label = _label(ALNUM)
    top = _label(string.ascii_letters)
    return st.builds(
        lambda ls, t, dot: ".".join([*ls, t]) + dot,
        st.lists(label, max_size=3),
        top,
        st.sampled_from(["", "", "", "."]),
    )


@cache
def ipv4() -> st.SearchStrategy[str]:
    return st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))


@cache
def _ipv6() -> st.SearchStrategy[str]:
    h4 = st.integers(0, 0xFFFF).map(lambda n: f"{n:x}")
    full = st.lists(h4, min_size=8, max_size=8).map(":".join)
    short = st.tuples(st.lists(h4, max_size=3), st.lists(h4, max_size=3)).map(
        lambda t: ":".join(t[0]) + "::" + ":".join(t[1])
    )
    return st.one_of(full, short).map(lambda s: f"[{s}]")


@cache
def hosts() -> st.SearchStrategy[str]:
    """``host`` (25.1): hostname, IPv4address or IPv6reference."""
    return st.one_of(hostnames(), hostnames(), ipv4(), _ipv6())


# ---------------------------------------------------------------------------- LWS
@cache
def sws() -> st.SearchStrategy[str]:
    """SWS (25.1), with folding: ``[*WSP CRLF] 1*WSP`` or nothing."""
    return st.sampled_from(["", "", "", " ", "  ", "\t", "\r\n ", " \r\n\t", "\r\n  "])


@cache
def _lws() -> st.SearchStrategy[str]:
    return st.sampled_from([" ", " ", "  ", "\t", "\r\n ", " \r\n\t"])


@dataclass(frozen=True)
class _Sep:
    """A separator of 25.1 (SEMI, COMMA, EQUAL, SLASH, COLON, LAQUOT, RAQUOT, LWS)."""

    char: str
    before: bool = True
    after: bool = True
    required: bool = False


SEMI, COMMA, EQUAL, SLASH, COLON = (_Sep(c) for c in ";,=/:")
LAQUOT = _Sep("<", after=False)
RAQUOT = _Sep(">", before=False)
LWS = _Sep("", after=False, required=True)
Piece: TypeAlias = str | _Sep


def render(draw: Draw, pieces: Sequence[Piece], tortuous: bool) -> str:
    out: list[str] = []
    for p in pieces:
        if isinstance(p, str):
            out.append(p)
        elif p.required:
            out.append(draw(_lws()) if tortuous else " ")
        else:
            pre = draw(sws()) if tortuous and p.before else ""
            post = draw(sws()) if tortuous and p.after else ""
            out.append(pre + p.char + post)
    return "".join(out)
