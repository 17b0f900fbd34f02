"""The header section cut into header fields (RFC 3261 sections 7, 7.3.1, 25).

Every header line must have the shape ``token *WSP ":" value`` or be a folded continuation line
(section 7.3.1), no line may be longer than :attr:`Limits.max_header_line`, and CR and LF occur
only as CRLF (section 7). :func:`cut_fields` checks that and cuts the lines into
:data:`Field` records (value unfolded); :func:`check_shape` finds and raises the first defect.
The helpers that place an error (:func:`parse_error`, :func:`position`, :func:`line_col`) are
shared by the other modules of the parser.
"""

from __future__ import annotations

import re
from functools import cache

from sipfsm.errors import ParseError
from sipfsm.message import grammar as _grammar
from sipfsm.message.grammar import HeaderRule
from sipfsm.message.limits import Limits

__all__ = [
    "WSP",
    "Field",
    "bad_shape",
    "bare_cr_lf",
    "check_shape",
    "cut_fields",
    "fields_of",
    "line_col",
    "name_info",
    "parse_error",
    "position",
]

_TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
#: SP and HTAB (``WSP``, RFC 5234 appendix B.1): the white space around values and separators.
WSP = " \t"


def parse_error(code: str, reason: str, line: int, column: int, rule: str) -> ParseError:
    """A :class:`ParseError` at (``line``, ``column``), 1-based, naming the ABNF ``rule``."""
    return ParseError(code, reason, line=line, column=column, rule=rule)


def position(text: str, offset: int) -> tuple[int, int]:
    """(line, column), 1-based, of ``offset`` in ``text`` (octets as latin-1)."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


_TOKEN_RE = re.compile(_TOKEN)
#: A header field cut from its lines: (first line, line count, colon offset, name as
#: written, rule, key, unfolded value).
Field = tuple[int, int, int, str, HeaderRule | None, str, str]
#: Field names seen before (as written, white space before the colon included) ->
#: (name, rule, key); bounded, so a flood of distinct names cannot grow it without end.
_NAME_CACHE: dict[str, tuple[str, HeaderRule | None, str]] = {}


def name_info(raw_name: str) -> tuple[str, HeaderRule | None, str] | None:
    """(name, rule, key) of a field name as written (white space before the colon
    included), or None when the name is not a ``token`` (section 25: header-name)."""
    got = _NAME_CACHE.get(raw_name)
    if got is not None:
        return got
    name = raw_name.rstrip(WSP)
    if _TOKEN_RE.fullmatch(name) is None:
        return None
    rule = _grammar.HEADERS.get(name.lower())
    key = rule.long_name.lower() if rule is not None else name.lower()
    if len(_NAME_CACHE) >= 4096:
        _NAME_CACHE.clear()
    got = _NAME_CACHE[raw_name] = (name, rule, key)
    return got


@cache
def _head_shape(maxlen: int) -> re.Pattern[str]:
    """The header section after the start line: ``CRLF field`` repeated, a field being a token,
    optional SP/HTAB, a colon, and its value with folded continuation lines (section 7.3.1);
    no line longer than ``maxlen`` and no CR or LF outside CRLF."""
    rest = f"[^\\r\\n]{{0,{maxlen}}}+"
    return re.compile(rf"(?:\r\n{_TOKEN}[ \t]*+:{rest}(?:\r\n[ \t]{rest})*+)*+")


def cut_fields(head: str, line0: int, limits: Limits) -> tuple[list[str], list[Field]]:
    """Split the header section into lines and cut them into fields (:func:`fields_of`),
    checking the shape of every header line on the way (:func:`check_shape`): raises the
    same errors as :func:`check_shape`, which it falls back to on anything unusual."""
    lines = head.split("\r\n")
    n = len(lines) - 1
    folded = "\r\n " in head or "\r\n\t" in head
    if len(head) > limits.max_header_line or head.count("\r") != n or head.count("\n") != n:
        # A line may be too long, or a CR or LF stands alone: the regex says which.
        check_shape(head, line0, limits)
        return lines, fields_of(lines, folded)
    # No line is too long and every CR LF is a line end: what is left to check is that each
    # field starts with ``token *WSP ":"`` (the names seen before are known to) and that
    # no continuation line comes first.
    out: list[Field] = []
    append = out.append
    names = _NAME_CACHE
    if not folded:
        for li in range(1, n + 1):
            raw_name, sep, rest = lines[li].partition(":")
            info = names.get(raw_name)
            if info is None or not sep:
                info = name_info(raw_name) if sep else None
                if info is None:
                    bad_shape(head, line0, limits)
                    raise AssertionError  # pragma: no cover - bad_shape raises
            append((li, 1, len(raw_name), info[0], info[1], info[2], rest.strip(WSP)))
        return lines, out
    li = 1
    while li <= n:
        raw_name, sep, rest = lines[li].partition(":")
        info = names.get(raw_name)
        if info is None or not sep:
            info = name_info(raw_name) if sep else None
            if info is None:
                bad_shape(head, line0, limits)
                raise AssertionError  # pragma: no cover - bad_shape raises
        nl = 1
        while li + nl <= n and lines[li + nl][:1] in (" ", "\t"):
            nl += 1
        if nl > 1:
            rest = "".join([rest, *lines[li + 1 : li + nl]])
        append((li, nl, len(raw_name), info[0], info[1], info[2], rest.strip(WSP)))
        li += nl
    return lines, out


def bad_shape(head: str, line0: int, limits: Limits) -> None:
    check_shape(head, line0, limits)
    raise parse_error("bad-header-line", "malformed header section", line0 + 2, 1, "message-header")


def check_shape(head: str, line0: int, limits: Limits) -> None:
    """Every header line is ``token *WSP ":" value`` or a folded continuation (section
    7.3.1), no line is longer than the limit and no CR or LF stands alone (section 7)."""
    maxlen = limits.max_header_line
    sl_end = head.find("\r\n")
    if sl_end >= 0 and _head_shape(maxlen).fullmatch(head, sl_end) is None:
        _diagnose(head.split("\r\n"), line0, maxlen)


def line_col(text: str, offset: int, line0: int) -> tuple[int, int]:
    line, col = position(text, offset)
    return line + line0, col


def fields_of(lines: list[str], folded: bool = True) -> list[Field]:
    """Cut checked header lines into ``(line, count, colon, name, rule, key, value)``;
    ``folded=False`` promises that no line is a continuation line (the fast path)."""
    out: list[Field] = []
    append = out.append
    names = _NAME_CACHE
    nlines = len(lines)
    if not folded:
        for li in range(1, nlines):
            raw_name, _, rest = lines[li].partition(":")
            info = names.get(raw_name) or name_info(raw_name)
            assert info is not None  # the framer checked every name
            append((li, 1, len(raw_name), info[0], info[1], info[2], rest.strip(WSP)))
        return out
    li = 1
    while li < nlines:
        raw_name, _, rest = lines[li].partition(":")
        info = names.get(raw_name) or name_info(raw_name)
        assert info is not None
        nl = 1
        while li + nl < nlines and lines[li + nl][:1] in (" ", "\t"):
            nl += 1
        if nl > 1:
            rest = "".join([rest, *lines[li + 1 : li + nl]])
        append((li, nl, len(raw_name), info[0], info[1], info[2], rest.strip(WSP)))
        li += nl
    return out


def _diagnose(lines: list[str], line0: int, maxlen: int) -> None:
    """Find why the header section does not have the shape of section 7.3.1; raise it."""
    bare_cr_lf(lines, line0)
    for li in range(1, len(lines)):
        line = lines[li]
        if len(line) > maxlen:
            raise parse_error(
                "header-line-too-long",
                f"line longer than {maxlen} octets",
                line0 + li + 1,
                maxlen + 1,
                "message-header",
            )
        if line[:1] in (" ", "\t"):
            if li == 1:
                raise parse_error(
                    "bad-folding",
                    "continuation line with no header field before it (section 7.3.1)",
                    line0 + li + 1,
                    1,
                    "LWS",
                )
            continue
        colon = line.find(":")
        if colon < 0:
            raise parse_error(
                "bad-header-line",
                "header line without a colon (section 7.3.1)",
                line0 + li + 1,
                1,
                "message-header",
            )
        if name_info(line[:colon]) is None:
            name = line[:colon].rstrip(WSP)
            bad = next((i for i, c in enumerate(name) if not _TOKEN_RE.fullmatch(c)), 0)
            raise parse_error(
                "bad-header-name",
                "header name is not a token (section 25: header-name = token)",
                line0 + li + 1,
                bad + 1,
                "header-name",
            )
    raise parse_error("bad-header-line", "malformed header section", line0 + 2, 1, "message-header")


def bare_cr_lf(lines: list[str], line0: int) -> None:
    """Raise ``bad-line-ending`` at the first CR or LF of ``lines`` (section 7: CRLF only)."""
    for li, line in enumerate(lines):
        for ch in ("\r", "\n"):
            i = line.find(ch)
            if i >= 0:
                raise parse_error(
                    "bad-line-ending",
                    "CR or LF not part of a CRLF (section 7: lines end in CRLF)",
                    line0 + li + 1,
                    i + 1,
                    "CRLF",
                )
