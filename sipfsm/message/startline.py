"""The start line (RFC 3261 sections 7.1, 7.2): ``Method SP Request-URI SP SIP-Version`` or
``SIP-Version SP Status-Code SP Reason-Phrase``, matched against the rules compiled from the
ABNF, with the rules the ABNF cannot say (no URI headers in a SIP Request-URI, section
19.1.1; SIP/2.0 only, section 7.1; status codes 100-699, section 21).
"""

from __future__ import annotations

import re

from sipfsm.message import grammar as _grammar
from sipfsm.message.constants import SIP_VERSION
from sipfsm.message.fields import parse_error
from sipfsm.message.grammar import Matcher

__all__ = ["StartLine", "start_line"]

#: (is_request, method, uri, version, status, reason) of a start line.
StartLine = tuple[bool, str, str, str, int, str]

#: A character outside every alternative of Reason-Phrase (section 25): used only to point at
#: the first bad octet in an error.
_NOT_REASON = re.compile(r"[^\t -~\x80-\xfd]")

_SECTION_71 = "RFC 3261 section 7.1"

#: The start-line regexes (sections 7.1, 7.2), compiled on first use (:func:`_start_lines`).
_REQUEST_LINE: Matcher | None = None
_STATUS_LINE: Matcher | None = None


def _start_lines() -> tuple[Matcher, Matcher]:
    global _REQUEST_LINE, _STATUS_LINE
    _REQUEST_LINE = _grammar.request_line()
    _STATUS_LINE = _grammar.status_line()
    return _REQUEST_LINE, _STATUS_LINE


def start_line(line: str, line0: int) -> StartLine:
    """(is_request, method, uri, version, status, reason) of the start line ``line`` (7.1,
    7.2), ``line0`` lines after the first of the datagram (CRLFs skipped, 7.5)."""
    ln = line0 + 1
    if line[:4].upper() == "SIP/":  # SIP-Version is case-insensitive (section 7.1)
        return _status_line(line, ln)
    if (_REQUEST_LINE or _start_lines()[0])(line) is not None:
        method, uri, version = line.split(" ")
        if "?" in uri:
            _uri_headers(uri, ln, len(method) + 2)
        return True, method, uri, version, 0, ""
    parts = line.split(" ")
    if len(parts) != 3:
        if not line:
            raise parse_error("bad-request-line", "empty start line", ln, 1, "Request-Line")
        if line.endswith((" ", "\t")):
            raise parse_error(
                "bad-request-line",
                f"white space after the SIP-Version ({_SECTION_71}: ... SIP-Version CRLF)",
                ln,
                len(line.rstrip(" \t")) + 1,
                "Request-Line",
            )
        if "  " in line:
            raise parse_error(
                "bad-request-line",
                f"more than one SP between elements ({_SECTION_71}: single SP separators)",
                ln,
                line.index("  ") + 2,
                "Request-Line",
            )
        if len(parts) > 3:
            raise parse_error(
                "bad-request-uri",
                "white space inside the Request-URI",
                ln,
                len(parts[0]) + len(parts[1]) + 2,
                "Request-URI",
            )
        raise parse_error(
            "bad-request-line",
            f"expected Method SP Request-URI SP SIP-Version ({_SECTION_71})",
            ln,
            1,
            "Request-Line",
        )
    method, uri, version = parts
    if _grammar.fullmatcher("METHOD")(method) is None:
        raise parse_error("bad-method", "the method is not a token (section 25)", ln, 1, "Method")
    uri_col = len(method) + 2
    if _grammar.fullmatcher("REQUEST_URI")(uri) is None:
        raise parse_error(
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
            raise parse_error(
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
        raise parse_error(
            "bad-version",
            f"{version[:20]!r} is not a SIP-Version (section 25)",
            ln,
            col,
            "SIP-Version",
        )
    raise parse_error(
        "bad-version",
        f"{version} is not {SIP_VERSION} (section 7.1; a UAS answers 505, section 21.5.6)",
        ln,
        col,
        "SIP-Version",
    )


def _status_line(line: str, ln: int) -> StartLine:
    fast = (_STATUS_LINE or _start_lines()[1])(line)
    if fast is not None:
        code, reason = fast.groups()
        if 100 <= int(code) <= 699:  # else value-out-of-range, below
            return False, "", "", SIP_VERSION, int(code), reason
    parts = line.split(" ", 2)
    version = parts[0]
    _check_version(version, ln, 1)
    if len(parts) < 3:
        raise parse_error(
            "bad-status-line",
            "expected SIP-Version SP Status-Code SP Reason-Phrase (section 7.2)",
            ln,
            len(line) + 1,
            "Status-Line",
        )
    code, reason = parts[1], parts[2]
    code_col = len(version) + 2
    if _grammar.fullmatcher("STATUS_CODE")(code) is None:
        raise parse_error(
            "bad-status-code",
            f"status code {code[:20]!r} is not three digits (section 7.2)",
            ln,
            code_col,
            "Status-Code",
        )
    status = int(code)
    if not 100 <= status <= 699:
        raise parse_error(
            "value-out-of-range",
            f"status code {status} is not in 100-699 (section 21)",
            ln,
            code_col,
            "Status-Code",
        )
    if _grammar.fullmatcher("REASON_PHRASE")(reason) is None:
        found = _NOT_REASON.search(reason)
        raise parse_error(
            "bad-reason-phrase",
            "character not allowed in a Reason-Phrase (section 25)",
            ln,
            code_col + len(code) + 1 + (found.start() if found else 0),
            "Reason-Phrase",
        )
    return False, "", "", version, status, reason
