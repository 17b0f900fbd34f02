"""Parse SIP messages: framing (RFC 3261 sections 7, 18.3), the grammar, message-level rules.

``parse(data)`` frames one message received as a datagram; :class:`StreamFramer` cuts a byte
stream (TCP, TLS) into messages. Both:

1. skip CRLFs before the start line (section 7.5), find the empty line ending the header
   section, check every header line has the shape ``token *WSP ":" value`` with folded
   continuation lines (section 7.3.1), and apply the :class:`Limits`;
2. match the start line against ``Method``, ``Request-URI`` and ``SIP-Version`` (or
   ``SIP-Version``, ``Status-Code`` and ``Reason-Phrase``), as compiled from the ABNF;
3. take the body by Content-Length (section 18.3 and 20.14);
4. with ``strict=True``, match every header value against its own ABNF rule and apply the
   message-level rules the ABNF cannot say (each cites its section): scalar ranges, the CSeq
   method, no URI headers in a Request-URI, a URI with ``?`` only inside ``<>``.

Without ``strict`` (lazy), header values are only parsed when :meth:`Header.tree` is called.
Whatever the bytes, only :class:`ParseError` escapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from sipfsm.errors import ParseError
from sipfsm.message import grammar as _grammar
from sipfsm.message.constants import SIP_VERSION
from sipfsm.message.grammar import HeaderRule
from sipfsm.message.message import Header, Message, Request, Response

if TYPE_CHECKING:  # pragma: no cover
    from lark import Token, Tree

__all__ = ["Limits", "StreamFramer", "parse"]


@dataclass(frozen=True)
class Limits:
    """Bounds on what a message may be; going past one is a :class:`ParseError` with its own
    ``code``, never a hang or a MemoryError.

    The datagram default is the largest UDP payload (65,535 octets; RFC 3261 section 18.1.1
    keeps UDP messages well below that); :class:`StreamFramer` defaults to 1 MiB.
    """

    max_message_size: int = 65535
    """Octets in one message, body included (``message-too-large``)."""
    max_headers: int = 256
    """Header fields in one message (``too-many-headers``)."""
    max_header_line: int = 16384
    """Octets in one header field, folded lines included (``header-line-too-long``)."""
    max_nesting: int = 32
    """Depth of nested comments ``( ( ) )`` in a value (``nesting-too-deep``)."""


DEFAULT_LIMITS = Limits()
STREAM_LIMITS = Limits(max_message_size=1 << 20)

_TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
_DIGITS = re.compile(r"[0-9]+")
_WS = " \t"
#: A character outside every alternative of Reason-Phrase / header-value (section 25):
#: used only to point at the first bad octet in an error.
_NOT_REASON = re.compile(r"[^\t -~\x80-\xfd]")
_NOT_TEXT = re.compile(r"[^\t -~\x80-\xfd]")

_SECTION_71 = "RFC 3261 section 7.1"


def _err(code: str, reason: str, line: int, column: int, rule: str) -> ParseError:
    return ParseError(code, reason, line=line, column=column, rule=rule)


def _pos(text: str, offset: int) -> tuple[int, int]:
    """(line, column), 1-based, of ``offset`` in ``text`` (octets as latin-1)."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


# ---------------------------------------------------------------------------------------------
# Framing

_TOKEN_RE = re.compile(_TOKEN)
#: A header field cut from its lines: (first line, line count, colon offset, name as
#: written, rule, key, unfolded value).
_FieldT = tuple[int, int, int, str, "HeaderRule | None", str, str]
#: Field names seen before (as written, white space before the colon included) ->
#: (name, rule, key); bounded, so a flood of distinct names cannot grow it without end.
_NAME_CACHE: dict[str, tuple[str, HeaderRule | None, str]] = {}


def _name_info(raw_name: str) -> tuple[str, HeaderRule | None, str] | None:
    got = _NAME_CACHE.get(raw_name)
    if got is not None:
        return got
    name = raw_name.rstrip(_WS)
    if _TOKEN_RE.fullmatch(name) is None:
        return None
    rule = _grammar.HEADERS.get(name.lower())
    key = rule.long_name.lower() if rule is not None else name.lower()
    if len(_NAME_CACHE) >= 4096:
        _NAME_CACHE.clear()
    got = _NAME_CACHE[raw_name] = (name, rule, key)
    return got


class _Frame:
    __slots__ = (
        "cl_pos",
        "content_length",
        "doubtful",
        "fields",
        "head",
        "line0",
        "lines",
        "start_line",
    )

    def __init__(self, head: str, start_line: str, line0: int) -> None:
        self.head = head
        self.start_line = start_line
        self.line0 = line0
        self.content_length: int | None = None
        self.cl_pos = 0  # offset of the (first) Content-Length value in head
        self.lines: list[str] | None = None  # head split into lines (when cut at once)
        self.fields: list[_FieldT] | None = None  # the header fields (when cut at once)
        self.doubtful: list[_FieldT] = []  # fields that need the full checks (strict)

    @property
    def cl_at(self) -> tuple[int, int]:
        return _line_col(self.head, self.cl_pos, self.line0)


#: A Content-Length (or ``l``) field, any case: name, optional SP/HTAB, the colon and the
#: (folded) value as group 1. Lines start with CRLF, so one search finds them all in order.
_CL_FIELD = re.compile(
    r"\r\n(?:content-length|l)[ \t]*+:([^\r\n]*+(?:\r\n[ \t][^\r\n]*+)*+)", re.I | re.A
)


@cache
def _head_shape(maxlen: int) -> re.Pattern[str]:
    """The header section after the start line: ``CRLF field`` repeated, a field being a token,
    optional SP/HTAB, a colon, and its value with folded continuation lines (section 7.3.1);
    no line longer than ``maxlen`` and no CR or LF outside CRLF."""
    rest = f"[^\\r\\n]{{0,{maxlen}}}+"
    return re.compile(rf"(?:\r\n{_TOKEN}[ \t]*+:{rest}(?:\r\n[ \t]{rest})*+)*+")


def _skip_crlf(data: bytes) -> int:
    i = 0
    n = len(data)
    while i + 1 < n and data[i] == 0x0D and data[i + 1] == 0x0A:
        i += 2
    return i


def _frame_head(head: str, line0: int, limits: Limits, shape: bool) -> _Frame:
    """Frame the header section ``head`` (start line first, without the final CRLF CRLF):
    the start line's length, the number of lines and Content-Length; with ``shape`` (strict),
    also cut the header fields, checking every header line and matching every value
    (:func:`_cut_strict`), which lazy parsing leaves to the first access of the fields."""
    sl_end = head.find("\r\n")
    if sl_end < 0:
        sl_end = len(head)
    start_line = head[:sl_end]
    maxlen = limits.max_header_line
    if sl_end > maxlen:
        raise _err(
            "header-line-too-long",
            f"start line longer than {maxlen} octets",
            line0 + 1,
            maxlen + 1,
            "Status-Line" if start_line.startswith("SIP/") else "Request-Line",
        )
    if "\r" in start_line or "\n" in start_line:
        _bare_cr_lf([start_line], line0)
    f = _Frame(head, start_line, line0)
    if shape:
        method = None if start_line.startswith("SIP/") else start_line.partition(" ")[0]
        f.lines, f.fields, f.doubtful = _cut_strict(head, line0, limits, method)
    # Two CRLFs in a row end the header section, so it holds at most (len + 1) / 3 of them.
    if len(head) >= 3 * limits.max_headers and head.count("\r\n") > limits.max_headers:
        lines = head.split("\r\n")
        seen = 0
        for li in range(1, len(lines)):
            if lines[li][:1] not in (" ", "\t"):
                seen += 1
                if seen > limits.max_headers:
                    raise _err(
                        "too-many-headers",
                        f"more than {limits.max_headers} header fields",
                        line0 + li + 1,
                        1,
                        "message-header",
                    )
    # Content-Length (section 20.14), once or more: found with one search, then read.
    first = -1
    for m in _CL_FIELD.finditer(head, sl_end):
        raw = m.group(1)
        text = raw.replace("\r\n", "").strip(_WS) if "\r" in raw else raw.strip(_WS)
        if not (text.isdigit() and text.isascii()):  # 1*DIGIT
            vpos = m.start(1) + len(raw) - len(raw.lstrip(" \t\r\n"))
            raise _err(
                "bad-content-length",
                f"Content-Length {text[:20]!r} is not a non-negative decimal number "
                "(section 20.14)",
                *_line_col(head, vpos, line0),
                "Content-Length",
            )
        value = int(text)
        if first < 0:
            first = value
            f.content_length = value
            f.cl_pos = m.start(1) + len(raw) - len(raw.lstrip(" \t\r\n"))
        elif value != first:
            f.content_length = -1  # conflicting values
    return f


def cut_fields(head: str, line0: int, limits: Limits) -> tuple[list[str], list[_FieldT]]:
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
    out: list[_FieldT] = []
    append = out.append
    names = _NAME_CACHE
    if not folded:
        for li in range(1, n + 1):
            raw_name, sep, rest = lines[li].partition(":")
            info = names.get(raw_name)
            if info is None or not sep:
                info = _name_info(raw_name) if sep else None
                if info is None:
                    _bad_shape(head, line0, limits)
                    raise AssertionError  # pragma: no cover - _bad_shape raises
            append((li, 1, len(raw_name), info[0], info[1], info[2], rest.strip(_WS)))
        return lines, out
    li = 1
    while li <= n:
        raw_name, sep, rest = lines[li].partition(":")
        info = names.get(raw_name)
        if info is None or not sep:
            info = _name_info(raw_name) if sep else None
            if info is None:
                _bad_shape(head, line0, limits)
                raise AssertionError  # pragma: no cover - _bad_shape raises
        nl = 1
        while li + nl <= n and lines[li + nl][:1] in (" ", "\t"):
            nl += 1
        if nl > 1:
            rest = "".join([rest, *lines[li + 1 : li + nl]])
        append((li, nl, len(raw_name), info[0], info[1], info[2], rest.strip(_WS)))
        li += nl
    return lines, out


def _bad_shape(head: str, line0: int, limits: Limits) -> None:
    check_shape(head, line0, limits)
    raise _err("bad-header-line", "malformed header section", line0 + 2, 1, "message-header")


def check_shape(head: str, line0: int, limits: Limits) -> None:
    """Every header line is ``token *WSP ":" value`` or a folded continuation (section
    7.3.1), no line is longer than the limit and no CR or LF stands alone (section 7)."""
    maxlen = limits.max_header_line
    sl_end = head.find("\r\n")
    if sl_end >= 0 and _head_shape(maxlen).fullmatch(head, sl_end) is None:
        _diagnose(head.split("\r\n"), line0, maxlen)


def _line_col(text: str, offset: int, line0: int) -> tuple[int, int]:
    line, col = _pos(text, offset)
    return line + line0, col


def fields_of(lines: list[str], folded: bool = True) -> list[_FieldT]:
    """Cut checked header lines into ``(line, count, colon, name, rule, key, value)``;
    ``folded=False`` promises that no line is a continuation line (the fast path)."""
    out: list[_FieldT] = []
    append = out.append
    names = _NAME_CACHE
    nlines = len(lines)
    if not folded:
        for li in range(1, nlines):
            raw_name, _, rest = lines[li].partition(":")
            info = names.get(raw_name) or _name_info(raw_name)
            assert info is not None  # the framer checked every name
            append((li, 1, len(raw_name), info[0], info[1], info[2], rest.strip(_WS)))
        return out
    li = 1
    while li < nlines:
        raw_name, _, rest = lines[li].partition(":")
        info = names.get(raw_name) or _name_info(raw_name)
        assert info is not None
        nl = 1
        while li + nl < nlines and lines[li + nl][:1] in (" ", "\t"):
            nl += 1
        if nl > 1:
            rest = "".join([rest, *lines[li + 1 : li + nl]])
        append((li, nl, len(raw_name), info[0], info[1], info[2], rest.strip(_WS)))
        li += nl
    return out


def _diagnose(lines: list[str], line0: int, maxlen: int) -> None:
    """Find why the header section does not have the shape of section 7.3.1; raise it."""
    _bare_cr_lf(lines, line0)
    for li in range(1, len(lines)):
        line = lines[li]
        if len(line) > maxlen:
            raise _err(
                "header-line-too-long",
                f"line longer than {maxlen} octets",
                line0 + li + 1,
                maxlen + 1,
                "message-header",
            )
        if line[:1] in (" ", "\t"):
            if li == 1:
                raise _err(
                    "bad-folding",
                    "continuation line with no header field before it (section 7.3.1)",
                    line0 + li + 1,
                    1,
                    "LWS",
                )
            continue
        colon = line.find(":")
        if colon < 0:
            raise _err(
                "bad-header-line",
                "header line without a colon (section 7.3.1)",
                line0 + li + 1,
                1,
                "message-header",
            )
        if _name_info(line[:colon]) is None:
            name = line[:colon].rstrip(_WS)
            bad = next((i for i, c in enumerate(name) if not _TOKEN_RE.fullmatch(c)), 0)
            raise _err(
                "bad-header-name",
                "header name is not a token (section 25: header-name = token)",
                line0 + li + 1,
                bad + 1,
                "header-name",
            )
    raise _err("bad-header-line", "malformed header section", line0 + 2, 1, "message-header")


def _bare_cr_lf(lines: list[str], line0: int) -> None:
    for li, line in enumerate(lines):
        for ch in ("\r", "\n"):
            i = line.find(ch)
            if i >= 0:
                raise _err(
                    "bad-line-ending",
                    "CR or LF not part of a CRLF (section 7: lines end in CRLF)",
                    line0 + li + 1,
                    i + 1,
                    "CRLF",
                )


# ---------------------------------------------------------------------------------------------
# Start line


_Matcher = Callable[[str], "re.Match[str] | None"]
#: The start-line regexes (sections 7.1, 7.2), compiled on first use (_start_lines).
_REQUEST_LINE: _Matcher | None = None
_STATUS_LINE: _Matcher | None = None


def _start_lines() -> tuple[_Matcher, _Matcher]:
    global _REQUEST_LINE, _STATUS_LINE
    _REQUEST_LINE = _grammar.request_line()
    _STATUS_LINE = _grammar.status_line()
    return _REQUEST_LINE, _STATUS_LINE


def _start_line(f: _Frame) -> tuple[bool, str, str, str, int, str]:
    """(is_request, method, uri, version, status, reason) of the start line (7.1, 7.2)."""
    line = f.start_line
    ln = f.line0 + 1
    if line.startswith("SIP/"):
        return _status_line(f, line)
    if (_REQUEST_LINE or _start_lines()[0])(line) is not None:
        method, uri, version = line.split(" ")
        if "?" in uri:
            _uri_headers(uri, ln, len(method) + 2)
        return True, method, uri, version, 0, ""
    parts = line.split(" ")
    if len(parts) != 3:
        if not line:
            raise _err("bad-request-line", "empty start line", ln, 1, "Request-Line")
        if line.endswith((" ", "\t")):
            raise _err(
                "bad-request-line",
                f"white space after the SIP-Version ({_SECTION_71}: ... SIP-Version CRLF)",
                ln,
                len(line.rstrip(" \t")) + 1,
                "Request-Line",
            )
        if "  " in line:
            raise _err(
                "bad-request-line",
                f"more than one SP between elements ({_SECTION_71}: single SP separators)",
                ln,
                line.index("  ") + 2,
                "Request-Line",
            )
        if len(parts) > 3:
            raise _err(
                "bad-request-uri",
                "white space inside the Request-URI",
                ln,
                len(parts[0]) + len(parts[1]) + 2,
                "Request-URI",
            )
        raise _err(
            "bad-request-line",
            f"expected Method SP Request-URI SP SIP-Version ({_SECTION_71})",
            ln,
            1,
            "Request-Line",
        )
    method, uri, version = parts
    if _grammar.fullmatcher("METHOD")(method) is None:
        raise _err("bad-method", "the method is not a token (section 25)", ln, 1, "Method")
    uri_col = len(method) + 2
    if _grammar.fullmatcher("REQUEST_URI")(uri) is None:
        raise _err(
            "bad-request-uri",
            "the Request-URI is not a SIP-URI, SIPS-URI or absoluteURI (section 25)",
            ln,
            uri_col,
            "Request-URI",
        )
    _uri_headers(uri, ln, uri_col)
    _check_version(version, ln, len(method) + len(uri) + 3)
    return True, method, uri, version, 0, ""


def _uri_headers(uri: str, ln: int, uri_col: int) -> None:
    """Section 19.1.1, table 1: a SIP or SIPS Request-URI carries no headers (``?...``)."""
    if uri[:5].lower().startswith(("sip:", "sips:")):
        hostpart = uri[uri.find("@") + 1 :]
        if "?" in hostpart:
            raise _err(
                "bad-request-uri",
                "headers in a Request-URI are not allowed (section 19.1.1, table 1)",
                ln,
                uri_col + len(uri) - len(hostpart) + hostpart.index("?"),
                "Request-URI",
            )


def _check_version(version: str, ln: int, col: int) -> None:
    if version == SIP_VERSION:
        return
    if _grammar.fullmatcher("SIP_VERSION")(version) is None:
        raise _err(
            "bad-version",
            f"{version[:20]!r} is not a SIP-Version (section 25)",
            ln,
            col,
            "SIP-Version",
        )
    raise _err(
        "bad-version",
        f"{version} is not {SIP_VERSION} (section 7.1; a UAS answers 505, section 21.5.6)",
        ln,
        col,
        "SIP-Version",
    )


def _status_line(f: _Frame, line: str) -> tuple[bool, str, str, str, int, str]:
    fast = (_STATUS_LINE or _start_lines()[1])(line)
    if fast is not None:
        code, reason = fast.groups()
        return False, "", "", SIP_VERSION, int(code), reason
    ln = f.line0 + 1
    parts = line.split(" ", 2)
    version = parts[0]
    _check_version(version, ln, 1)
    if len(parts) < 3:
        raise _err(
            "bad-status-line",
            "expected SIP-Version SP Status-Code SP Reason-Phrase (section 7.2)",
            ln,
            len(line) + 1,
            "Status-Line",
        )
    code, reason = parts[1], parts[2]
    code_col = len(version) + 2
    if _grammar.fullmatcher("STATUS_CODE")(code) is None:
        raise _err(
            "bad-status-code",
            f"status code {code[:20]!r} is not three digits (section 7.2)",
            ln,
            code_col,
            "Status-Code",
        )
    status = int(code)
    if not 100 <= status <= 699:
        raise _err(
            "value-out-of-range",
            f"status code {status} is not in 100-699 (section 21)",
            ln,
            code_col,
            "Status-Code",
        )
    if _grammar.fullmatcher("REASON_PHRASE")(reason) is None:
        found = _NOT_REASON.search(reason)
        raise _err(
            "bad-reason-phrase",
            "character not allowed in a Reason-Phrase (section 25)",
            ln,
            code_col + len(code) + 1 + (found.start() if found else 0),
            "Reason-Phrase",
        )
    return False, "", "", version, status, reason


# ---------------------------------------------------------------------------------------------
# Header values


def _value_error(h: Header, code: str, reason: str, offset: int, rule: str) -> ParseError:
    line, col = h.position(offset)
    return _err(code, reason, line, col, rule)


#: Text before the first DQUOTE that opens a quoted-string never closed: closed
#: quoted-strings (quoted-pairs inside) and the octets between them, in one pass.
_BALANCED = re.compile(r'(?:[^"]*+"(?:[^"\\]++|\\.)*+")*+[^"]*+', re.S)


def _unbalanced_quote(text: str) -> int | None:
    """Offset of a DQUOTE that opens a quoted-string never closed (section 25), if any."""
    m = _BALANCED.match(text)
    assert m is not None  # the pattern matches the empty string
    return None if m.end() == len(text) else m.end()


def _fail_value(h: Header, rule_name: str) -> ParseError:
    text = h._text
    q = _unbalanced_quote(text)
    if q is not None:
        return _value_error(
            h,
            "unterminated-quoted-string",
            f"{h.canonical}: quoted-string opened and never closed (section 25)",
            q,
            "quoted-string",
        )
    rule = h.rule
    offset = 0
    failing = rule_name
    if rule is not None and rule.comma_split:
        assert rule.item is not None
        offset = _first_bad_piece(h, rule.item)
        failing = rule.item.lower().replace("_", "-")
    elif rule is not None and rule.angle and rule.item is None:
        _needs_angle(h, _grammar.fullmatcher(rule.terminal), 0, text)
    elif rule is not None and rule.item is not None:
        # Find the first element of the comma list that does not match.
        item_re = _grammar.regex(rule.item)
        comma = _grammar.regex("COMMA")
        pos = 0
        while pos < len(text):
            m = item_re.match(text, pos)
            if m is None:
                break
            end = m.end()
            c = comma.match(text, end)
            if c is None or c.end() == end:
                break
            pos = c.end()
        offset = pos
        failing = rule.item.lower().replace("_", "-")
    return _value_error(
        h,
        "bad-header-value",
        f"{h.canonical} value does not match its ABNF rule {failing} (section 25)",
        offset,
        failing,
    )


def _first_bad_piece(h: Header, item: str) -> int:
    """Offset of the first element of a ``comma_split`` value (every top-level comma
    separates elements, section 20.10) that does not match ``item``; raises
    ``uri-needs-angle-brackets`` when it fails only for want of ``<>`` (:func:`_needs_angle`).
    Each piece is matched at most three times: linear time."""
    text = h._text
    fm = _grammar.fullmatcher(item)
    prev: tuple[int, str] | None = None
    for at, piece in _grammar.top_pieces(text):
        if fm(piece) is None:
            _needs_angle(h, fm, at, piece)
            if piece and prev is not None and "<" not in prev[1]:
                # A bare URI before the comma that the plain ABNF let it hold?
                window = text[prev[0] : at + len(piece)]
                _needs_angle(h, fm, prev[0], window, text.rfind(",", 0, at))
            return at
        prev = (at, piece)
    return 0  # pragma: no cover - the value failed, so some piece does


def _needs_angle(h: Header, fm: _Matcher, at: int, piece: str, offset: int | None = None) -> None:
    """RFC 3261 section 20.10, 20.20, 20.39: a bare ``piece`` (no ``<``) at ``at`` that does
    not match, yet would as ``<piece>``, has a URI with a comma or semicolon outside ``<>``:
    raise ``uri-needs-angle-brackets`` (at ``offset``, default its first ``,`` or ``;``)."""
    if "<" in piece or fm(f"<{piece}>") is None:
        return
    if offset is None:
        found = _SEP.search(piece)
        offset = at + (found.start() if found else 0)
    raise _value_error(
        h,
        "uri-needs-angle-brackets",
        f"{h.canonical}: a URI with a comma or semicolon must be written in <>; outside <> a "
        "comma separates list elements and a semicolon starts a header parameter "
        "(RFC 3261 section 20.10, 20.20, 20.39)",
        offset,
        "name-addr",
    )


_SEP = re.compile("[,;]")


_NOT_PAREN = re.compile(r"(?:\\.|[^()])++", re.S)


def _nesting(text: str, limit: int) -> bool:
    """True when comments nest deeper than ``limit`` (quoted-pairs do not count)."""
    if text.count("(") <= limit:
        return False
    parens = _NOT_PAREN.sub("", text)
    if parens.count("(") <= limit:
        return False
    depth = 0
    for c in parens:
        depth += 1 if c == "(" else -1
        if depth > limit:
            return True
    return False


def check_header(h: Header, limits: Limits | None = None) -> Tree[Token]:
    """Match a header value against its rule; return its tree or raise ParseError."""
    from lark import Token, Tree

    rule = h.rule
    text = h._text
    if rule is None:
        if _grammar.fullmatcher("HEADER_VALUE")(text) is None:
            found = _NOT_TEXT.search(text)
            bad = found.start() if found else 0
            raise _value_error(
                h,
                "bad-header-value",
                f"{h.name}: character not allowed in a header-value (section 25)",
                bad,
                "header-value",
            )
        return Tree("extension_header", [Token("HEADER_VALUE", text)])
    if rule.kind == "regex":
        if _grammar.fullmatcher(rule.terminal)(text) is None:
            raise _fail_value(h, rule.rule)
        return Tree(rule.lark_rule, [Token(rule.terminal, text)])
    lim = limits or DEFAULT_LIMITS
    if _nesting(text, lim.max_nesting):
        raise _too_deep(h, lim.max_nesting)
    try:
        return _grammar.lalr_parse(text, rule.lark_rule)
    except _grammar.LalrError as exc:
        raise _lalr_error(h, exc.pos) from None


def _lalr_error(h: Header, pos: int) -> ParseError:
    """The error of a value of a non-regular field that does not match its rule at ``pos``."""
    assert h.rule is not None
    if _unbalanced_quote(h._text) is not None:
        return _fail_value(h, h.rule.rule)
    return _value_error(
        h,
        "bad-header-value",
        f"{h.canonical} value does not match its ABNF rule {h.rule.rule} (section 25)",
        pos,
        h.rule.rule,
    )


def _too_deep(h: Header, limit: int) -> ParseError:
    return _value_error(
        h, "nesting-too-deep", f"{h.canonical}: comments nested deeper than {limit}", 0, "comment"
    )


#: Longest value of a non-regular field whose error position the LALR parser finds (it
#: reads a token per Python step: about 6 ms per KiB); beyond, the position is where the
#: ``@unrolled`` terminal stops matching.
LALR_ERROR_MAX = 4096


def _validate_unrolled(
    msg: Message, field: _FieldT, rule: _grammar.HeaderRule, lim: Limits
) -> None:
    """Validate a value of a non-regular field (Server, User-Agent, Retry-After) with its
    ``@unrolled`` terminal, a regular approximation exact for comments nested up to
    ``rule.unrolled_depth`` (linear time), with the same verdicts as :func:`check_header`:

    * it matches: the value is valid unless its comments nest deeper than the limit (the
      same linear scan as check_header: ``nesting-too-deep``);
    * it does not match: too deep, ``nesting-too-deep``; else, when the limit is within the
      terminal's depth, the value is invalid, and the error's position comes from the LALR
      parser (short values) or from where the terminal stops matching (long ones);
    * a limit beyond the terminal's depth: what it does not match goes to check_header
      (the LALR parser: exact, and linear, but slower).
    """
    text = field[6]
    term = rule.unrolled
    limit = lim.max_nesting
    if term is not None and _grammar.fullmatcher(term)(text) is not None:
        if _nesting(text, limit):
            raise _too_deep(msg._header(field), limit)
        return
    h = msg._header(field)
    if _nesting(text, limit):
        raise _too_deep(h, limit)
    if term is None or limit > rule.unrolled_depth or len(text) <= LALR_ERROR_MAX:
        check_header(h, lim)  # raises (unless nested deeper than the terminal's depth)
        return
    m = _grammar.regex(term).match(text)
    pos = m.end() if m is not None else 0
    if _open_parens(text):  # a comment never closed: where the LALR parser stops too
        pos = len(text)
    raise _lalr_error(h, pos)


def _open_parens(text: str) -> bool:
    """True when ``text`` opens more parentheses than it closes (quoted-pairs skipped)."""
    parens = _NOT_PAREN.sub("", text)
    return parens.count("(") > parens.count(")")


#: Scalar header fields: canonical name -> (largest value, the rule's section).
_SCALARS: dict[str, tuple[int, str]] = {
    "max-forwards": (255, "RFC 3261 section 20.22: Max-Forwards is 0-255"),
    "expires": (2**32 - 1, "RFC 3261 section 20.19: Expires is at most 2**32-1"),
    "min-expires": (2**32 - 1, "RFC 3261 section 20.23: delta-seconds, at most 2**32-1"),
    "retry-after": (2**32 - 1, "RFC 3261 section 20.33: delta-seconds, at most 2**32-1"),
    "session-expires": (2**32 - 1, "RFC 4028 section 4: delta-seconds, at most 2**32-1"),
    "min-se": (2**32 - 1, "RFC 4028 section 5: delta-seconds, at most 2**32-1"),
    "rseq": (2**31 - 1, "RFC 3262 section 7.1: RSeq is 1 to 2**31-1"),
    "cseq": (2**31 - 1, "RFC 3261 section 8.1.1.5: the CSeq number is less than 2**31"),
    "rack": (2**31 - 1, "RFC 3262 section 7.2: response-num is 1 to 2**31-1"),
}
#: Header fields whose value may be a bare addr-spec (the ABNF's ``@angle`` fields): section
#: 20.10 says the name-addr form MUST be used when the URI contains a comma, semicolon or
#: question mark.
_ADDR_FIELDS = _grammar.ADDR_SPEC_HEADERS
_EXPIRES_PARAM = re.compile(r";[ \t]*expires[ \t]*=[ \t]*([0-9]+)", re.IGNORECASE)
_BRACKETED = re.compile(r'<[^>]*>|"(?:[^"\\]|\\.)*"')


def _range_error(h: Header, value: int, why: str, offset: int, rule: str) -> ParseError:
    return _value_error(h, "value-out-of-range", f"{h.canonical} {value}: {why}", offset, rule)


def _check_scalars(msg: Message, field: _FieldT, method: str | None) -> None:
    """The message-level rules of one field (scalar ranges, CSeq method, addr-spec ``?``)."""
    key, text = field[5], field[6]
    if key == "max-forwards":
        if len(text) <= 3 and int(text) <= 255:
            return
    elif key == "cseq" and method is not None:
        num, _, rest = text.partition(" ")
        if len(num) < 10 and rest.strip(" \t") == method:
            return
    scalar = _SCALARS.get(key)
    if scalar is not None:
        m = _DIGITS.match(text)
        if m is not None:
            n = int(m.group())
            low = 1 if key in ("rseq", "rack") else 0
            if not low <= n <= scalar[0]:
                h = msg._header(field)
                raise _range_error(h, n, scalar[1], 0, h.rule.rule if h.rule else key)
        if key == "cseq" and method is not None:
            cseq_method = text[m.end() :].strip(" \t") if m is not None else text
            if cseq_method != method:
                raise _value_error(
                    msg._header(field),
                    "cseq-method-mismatch",
                    f"CSeq method {cseq_method} differs from the request method {method} "
                    "(RFC 3261 section 8.1.1.5)",
                    len(text) - len(cseq_method),
                    "CSeq",
                )
        elif key == "rack":
            parts = text.split()
            if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) > 2**31 - 1:
                raise _range_error(
                    msg._header(field),
                    int(parts[1]),
                    "RFC 3262 section 7.2: CSeq-num is below 2**31",
                    0,
                    "RAck",
                )
        return
    # (name-addr / addr-spec) fields: only a "?" or an expires parameter needs a closer look.
    has_q = "?" in text
    expires = key == "contact" and "xpires" in text.lower()
    if not has_q and not expires:
        return
    h = msg._header(field)
    items = [text]
    rule = h.rule
    if rule is not None and rule.item is not None:
        from sipfsm.message.message import _split

        items = _split(text, rule)
    offset = 0
    for item in items:
        at = text.find(item, offset)
        offset = max(at, 0)
        stripped = item.strip(_WS)
        if has_q and stripped != "*" and "<" not in stripped:
            uri = stripped.split(";", 1)[0]
            if "?" in uri:
                raise _value_error(
                    h,
                    "uri-needs-angle-brackets",
                    f"{h.canonical}: a URI with '?' (URI headers) must be written in <> "
                    "(RFC 3261 section 20.10, 20.20, 20.39)",
                    offset + item.find("?"),
                    "name-addr",
                )
        if expires:
            _check_expires_param(h, item, offset)


def _check_expires_param(h: Header, item: str, offset: int) -> None:
    outside = _BRACKETED.sub(lambda m: " " * len(m.group()), item)
    for m in _EXPIRES_PARAM.finditer(outside):
        n = int(m.group(1))
        if n > 2**32 - 1:
            raise _range_error(
                h,
                n,
                "RFC 3261 section 20.10: the expires parameter is at most 2**32-1",
                offset + m.start(1),
                "c-p-expires",
            )


# ---------------------------------------------------------------------------------------------
# Whole messages


def _build(
    data: bytes, f: _Frame, strict: bool, limits: Limits, body_start: int, body_end: int
) -> Request | Response:
    is_req, method, uri, version, status, reason = _start_line(f)
    body = data[body_start:body_end]
    raw = data[:body_end]
    msg: Request | Response
    if is_req:
        msg = Request(method, uri, version, f.head, f.line0, body, raw)
    else:
        msg = Response(version, status, _decode_text(reason), f.head, f.line0, body, raw)
    msg._limits = limits
    if strict:
        fields = f.fields
        assert fields is not None  # strict framing cut them
        msg._lines = f.lines
        msg._fields = fields
        if f.doubtful:
            _validate(msg, f.doubtful, method if is_req else None, limits)
    return msg


# ---------------------------------------------------------------------------------------------
# Strict mode: header values checked while the fields are cut.
#
# Cutting a field also matches its value against its rule's regex and runs the cheap form of
# its message-level rule. Errors must still come in the order of the lazy path (framing, then
# the start line, then the fields in order), so nothing is raised there: a field that does
# not pass (or needs a closer look: the non-regular rules, rare scalar fields) is *doubtful*,
# and _validate runs the full checks of the doubtful fields, in order, once the start line
# is known to be good. A field that passed the cheap checks passes the full ones.

# What message-level rule a header field has (see _check_scalars).
_NO_RULE, _MAX_FORWARDS, _CSEQ, _ADDR, _CONTACT, _SCALAR = range(6)
#: Field names seen before in strict mode (as written) -> (name, rule, key, the bound
#: fullmatch of the value's terminal or None for a non-regular rule, message-level rule).
_StrictName = tuple[str, "HeaderRule | None", str, "_Matcher | None", int]
_STRICT_NAMES: dict[str, _StrictName] = {}


def _strict_name(raw_name: str) -> _StrictName | None:
    info = _name_info(raw_name)
    if info is None:
        return None
    name, rule, key = info
    fm: _Matcher | None
    if rule is None:  # an extension-header: header-value (section 25)
        fm = _grammar.fullmatcher("HEADER_VALUE")
    else:
        fm = _grammar.fullmatcher(rule.terminal) if rule.kind == "regex" else None
    if key == "max-forwards":
        check = _MAX_FORWARDS
    elif key == "cseq":
        check = _CSEQ
    elif key == "contact":
        check = _CONTACT
    elif key in _ADDR_FIELDS:
        check = _ADDR
    elif key in _SCALARS:
        check = _SCALAR
    else:
        check = _NO_RULE
    if len(_STRICT_NAMES) >= 4096:
        _STRICT_NAMES.clear()
    got = _STRICT_NAMES[raw_name] = (name, rule, key, fm, check)
    return got


def _clean(check: int, text: str, method: str | None) -> bool:
    """The cheap form of a message-level rule: True when the value surely passes it."""
    if check == _MAX_FORWARDS:  # the value matched 1*DIGIT
        return len(text) <= 3 and int(text) <= 255
    if check == _CSEQ:  # the value matched 1*DIGIT LWS Method
        num, _, rest = text.partition(" ")
        if len(num) >= 10:
            return False
        return rest.strip(_WS) == method if method is not None else num.isdigit()
    if check == _ADDR:
        return "?" not in text
    if check == _CONTACT:
        return "?" not in text and "xpires" not in text.lower()
    return check == _NO_RULE


def _cut_strict(
    head: str, line0: int, limits: Limits, method: str | None
) -> tuple[list[str], list[_FieldT], list[_FieldT]]:
    """:func:`cut_fields`, matching every value on the way: (lines, fields, doubtful
    fields). ``method`` is the request's method as the start line gives it (None for a
    response); if the start line is bad, that is raised before the doubtful fields are
    looked at."""
    lines = head.split("\r\n")
    n = len(lines) - 1
    folded = "\r\n " in head or "\r\n\t" in head
    if len(head) > limits.max_header_line or head.count("\r") != n or head.count("\n") != n:
        check_shape(head, line0, limits)
        fields = fields_of(lines, folded)
        return lines, fields, fields
    if n > limits.max_headers:  # likely too many fields (raised next): match nothing yet
        lines, fields = cut_fields(head, line0, limits)
        return lines, fields, fields
    out: list[_FieldT] = []
    append = out.append
    doubtful: list[_FieldT] = []
    names = _STRICT_NAMES
    li = 1
    while li <= n:
        raw_name, sep, rest = lines[li].partition(":")
        ent = names.get(raw_name)
        if ent is None or not sep:
            ent = _strict_name(raw_name) if sep else None
            if ent is None:
                _bad_shape(head, line0, limits)
                raise AssertionError  # pragma: no cover - _bad_shape raises
        nl = 1
        if folded:
            while li + nl <= n and lines[li + nl][:1] in (" ", "\t"):
                nl += 1
            if nl > 1:
                rest = "".join([rest, *lines[li + 1 : li + nl]])
        text = rest.strip(_WS)
        field = (li, nl, len(raw_name), ent[0], ent[1], ent[2], text)
        append(field)
        fm = ent[3]
        if fm is None or fm(text) is None or (ent[4] and not _clean(ent[4], text, method)):
            doubtful.append(field)
        li += nl
    return lines, out, doubtful


def _validate(msg: Message, fields: list[_FieldT], method: str | None, limits: Limits) -> None:
    """Every value of ``fields`` by its rule, then its message-level rules; raises the first
    error."""
    for field in fields:
        rule = field[4]
        if rule is not None and rule.kind == "lalr":
            _validate_unrolled(msg, field, rule, limits)
        elif rule is None or rule.kind != "regex":
            check_header(msg._header(field), limits)
        elif _grammar.fullmatcher(rule.terminal)(field[6]) is None:
            raise _fail_value(msg._header(field), rule.rule)
        if field[5] in _SCALARS or field[5] in _ADDR_FIELDS:
            _check_scalars(msg, field, method)


def _decode_text(text: str) -> str:
    if text.isascii():
        return text
    return text.encode("latin-1").decode("utf-8", "surrogateescape")


def _parse_datagram(data: bytes, strict: bool, limits: Limits) -> Request | Response:
    if len(data) > limits.max_message_size:
        raise _err(
            "message-too-large",
            f"{len(data)} octets is more than {limits.max_message_size}",
            1,
            1,
            "SIP-message",
        )
    start = _skip_crlf(data) if data.startswith(b"\r\n") else 0
    hend = data.find(b"\r\n\r\n", start)
    if hend < 0:
        head = data.decode("latin-1")
        if not data[start:]:
            raise _err("empty-message", "no start line", *_pos(head, start), "SIP-message")
        raise _err(
            "incomplete-message",
            "no empty line ends the header section (section 7)",
            *_pos(head, len(head)),
            "SIP-message",
        )
    f = _frame_head(data[start:hend].decode("latin-1"), start // 2, limits, strict)
    body_start = hend + 4
    cl = f.content_length
    if cl is None or cl < 0:
        # Section 18.3: without a (usable) Content-Length, a datagram's body runs to its end.
        body_end = len(data)
    else:
        body_end = body_start + cl
        if body_end > len(data):
            line, col = f.cl_at
            raise _err(
                "content-length-mismatch",
                f"Content-Length {cl} but only {len(data) - body_start} octets follow "
                "the header section (section 18.3)",
                line,
                col,
                "Content-Length",
            )
    return _build(data, f, strict, limits, body_start, body_end)


def parse(data: bytes, *, strict: bool = False, limits: Limits | None = None) -> Request | Response:
    """Parse one SIP message received as a datagram (UDP); see the module docstring.

    Returns a :class:`Request` or :class:`Response`; raises :class:`ParseError` (and nothing
    else) for any malformed input. Octets after Content-Length octets of body are discarded
    (section 18.3); without Content-Length the body runs to the end of ``data``.
    """
    lim = limits or DEFAULT_LIMITS
    try:
        if type(data) is not bytes:
            if not isinstance(data, bytes | bytearray | memoryview):
                raise _err("bad-input", "parse() takes bytes", 1, 1, "SIP-message")
            data = bytes(data)
        return _parse_datagram(data, strict, lim)
    except ParseError:
        raise
    except RecursionError:
        raise _err("nesting-too-deep", "input nested too deeply", 1, 1, "SIP-message") from None
    except MemoryError:
        raise _err("message-too-large", "out of memory", 1, 1, "SIP-message") from None
    except Exception as exc:  # the contract: only ParseError escapes
        raise _err("internal-error", f"{type(exc).__name__}: {exc}", 1, 1, "SIP-message") from None


class StreamFramer:
    """Cut a byte stream (TCP, TLS, ...) into SIP messages (RFC 3261 section 18.3).

    ``feed(data)`` takes any number of octets and returns the messages completed so far
    (possibly none, possibly several). On streams, Content-Length is mandatory (sections 18.3
    and 20.14). A framing error (no or conflicting Content-Length, an over-long header section
    or message) cannot be recovered from: it is raised, and so is every later ``feed``. A
    message that is framed correctly but malformed inside (``strict``) is skipped and its
    ParseError raised; messages framed before it in the same call are returned by the next
    ``feed`` call.
    """

    def __init__(self, *, strict: bool = False, limits: Limits | None = None) -> None:
        self.strict = strict
        self.limits = limits or STREAM_LIMITS
        self._buf = bytearray()
        self._ready: list[Request | Response] = []
        self._broken: ParseError | None = None

    @property
    def buffered(self) -> int:
        """Octets received but not yet part of a complete message."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Request | Response]:
        """Add ``data``; return every message now complete, in order."""
        if self._broken is not None:
            raise self._broken
        self._buf += data
        try:
            while True:
                msg = self._next()
                if msg is None:
                    break
                self._ready.append(msg)
        except ParseError as exc:
            if exc.code in _FATAL:
                self._broken = exc
                self._buf.clear()
            raise
        except Exception as exc:
            err = _err("internal-error", f"{type(exc).__name__}: {exc}", 1, 1, "SIP-message")
            self._broken = err
            raise err from None
        out, self._ready = self._ready, []
        return out

    def _next(self) -> Request | Response | None:
        buf = self._buf
        lim = self.limits
        # Section 7.5: CRLFs before the start line are ignored (and keep-alives).
        i = 0
        n = len(buf)
        while i + 1 < n and buf[i] == 0x0D and buf[i + 1] == 0x0A:
            i += 2
        if i:
            del buf[:i]
        hend = buf.find(b"\r\n\r\n")
        if hend < 0:
            if len(buf) > lim.max_message_size:
                raise _err(
                    "message-too-large",
                    f"no end of header section within {lim.max_message_size} octets",
                    1,
                    1,
                    "SIP-message",
                )
            return None
        f = _frame_head(buf[:hend].decode("latin-1"), 0, lim, self.strict)
        cl = f.content_length
        if cl is None:
            raise _err(
                "missing-content-length",
                "Content-Length is mandatory on a stream (section 18.3, 20.14)",
                1,
                1,
                "Content-Length",
            )
        if cl < 0:
            line, col = f.cl_at
            raise _err(
                "content-length-conflict",
                "several different Content-Length values: the stream cannot be framed",
                line,
                col,
                "Content-Length",
            )
        total = hend + 4 + cl
        if total > lim.max_message_size:
            raise _err(
                "message-too-large",
                f"{total} octets is more than {lim.max_message_size}",
                1,
                1,
                "SIP-message",
            )
        if len(buf) < total:
            return None
        whole = bytes(buf[:total])
        del buf[:total]
        return _build(whole, f, self.strict, lim, hend + 4, total)


_FATAL = frozenset(
    {
        "message-too-large",
        "missing-content-length",
        "content-length-conflict",
        "bad-content-length",
        "too-many-headers",
        "header-line-too-long",
        "bad-line-ending",
        "bad-folding",
        "bad-header-line",
        "bad-header-name",
        "internal-error",
    }
)
