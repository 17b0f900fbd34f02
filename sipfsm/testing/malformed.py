"""Near-valid messages with one named defect each, for :mod:`sipfsm.testing.strategies`: the
defects of :data:`DEFECTS`, each citing the rule it breaks and the :class:`sipfsm.ParseError`
code it gets (RFC 3261, RFC 4475 section 3.1.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from sipfsm.message.grammar import names_of
from sipfsm.testing.lexical import Draw, choice
from sipfsm.testing.message_bytes import message_bytes_of


@dataclass(frozen=True)
class Malformed:
    """A near-valid message with exactly one named defect.

    ``data`` is the message; ``defect`` names what is wrong (a key of :data:`DEFECTS`);
    ``section`` cites the rule it breaks; ``code`` is the :class:`sipfsm.ParseError` code that
    ``sipfsm.parse(data, strict=True)`` raises, or None when the defect is semantic (the message
    parses and :func:`sipfsm.validate` reports it instead); ``original`` is the valid message
    the defect was applied to.
    """

    data: bytes
    defect: str
    section: str
    code: str | None
    original: bytes


def _names(field: str) -> bytes:
    """``via|v``: a field's long and compact names (7.3.3), as :func:`_replace_header` takes."""
    return "|".join(names_of(field)).lower().encode()


def _replace_header(data: bytes, name: bytes, new_line: bytes) -> bytes:
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    out = []
    skip = False
    for ln in lines:
        if skip and ln[:1] in (b" ", b"\t"):
            continue
        skip = False
        key = ln.split(b":", 1)[0].strip().lower()
        if key in name.lower().split(b"|"):
            skip = True
            if new_line:
                out.append(new_line)
            new_line = b""
            continue
        out.append(ln)
    return b"\r\n".join(out) + sep + body


def _start_line_edit(f: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        first, rest = data.split(b"\r\n", 1)
        return f(first) + b"\r\n" + rest

    return apply


def _insert_header(line: bytes) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        first, rest = data.split(b"\r\n", 1)
        return first + b"\r\n" + line + b"\r\n" + rest

    return apply


@dataclass(frozen=True)
class _Defect:
    section: str
    code: str | None
    applies_to: str  # "request", "response" or "any"
    apply: Callable[[bytes], bytes]


def _cl(value: bytes) -> Callable[[bytes], bytes]:
    return lambda d: _replace_header(d, _names("Content-Length"), b"Content-Length: " + value)


#: The defects :func:`malformed_messages` applies: name -> section, ParseError code, how.
DEFECTS: dict[str, _Defect] = {
    "negative-content-length": _Defect(
        "20.14; RFC 4475 3.1.2.3", "bad-content-length", "any", _cl(b"-1")
    ),
    "content-length-too-large": _Defect(
        "18.3; RFC 4475 3.1.2.2", "content-length-mismatch", "any", _cl(b"99999")
    ),
    "non-numeric-cseq": _Defect(
        "20.16",
        "bad-header-value",
        "any",
        lambda d: _replace_header(d, _names("CSeq"), b"CSeq: one INVITE"),
    ),
    "unquoted-display-name-with-separators": _Defect(
        "25.1 display-name; RFC 4475 3.1.2.15",
        "bad-header-value",
        "any",
        lambda d: _replace_header(d, _names("To"), b"To: Bob, the builder <sip:bob@b.example.com>"),
    ),
    "space-in-addr-spec": _Defect(
        "25.1 addr-spec; RFC 4475 3.1.2.14",
        "bad-header-value",
        "any",
        lambda d: _replace_header(d, _names("To"), b"To: sip:bob @b.example.com"),
    ),
    "unterminated-quoted-string": _Defect(
        "25.1 quoted-string",
        "unterminated-quoted-string",
        "any",
        lambda d: _replace_header(d, _names("From"), b'From: "Alice <sip:a@a.example.com>;tag=1'),
    ),
    "via-without-sent-by": _Defect(
        "20.42",
        "bad-header-value",
        "any",
        lambda d: _replace_header(d, _names("Via"), b"Via: SIP/2.0/UDP"),
    ),
    "status-code-too-large": _Defect(
        "7.2, 21; RFC 4475 3.1.2.19",
        "value-out-of-range",
        "response",
        _start_line_edit(lambda s: s[:8] + b"700" + s[11:]),
    ),
    "lws-in-request-uri": _Defect(
        "25.1 Request-Line; RFC 4475 3.1.2.10",
        "bad-request-uri",
        "request",
        _start_line_edit(lambda s: s.replace(b":", b": ", 1)),
    ),
    "missing-sip-version": _Defect(
        "7.1",
        "bad-request-line",
        "request",
        _start_line_edit(lambda s: s.rsplit(b" ", 1)[0]),
    ),
    "header-without-colon": _Defect(
        "7.3.1", "bad-header-line", "any", _insert_header(b"NoColonHere value")
    ),
    "bare-lf-line-end": _Defect(
        "7.1 (CRLF)", "bad-line-ending", "any", lambda d: d.replace(b"\r\n", b"\n", 1)
    ),
    # Semantic: syntactically valid, reported by sipfsm.validate.
    "missing-call-id": _Defect(
        "8.1.1; RFC 4475 3.3.1",
        None,
        "request",
        lambda d: _replace_header(d, _names("Call-ID"), b""),
    ),
    "duplicate-to": _Defect(
        "7.3.1; RFC 4475 3.3.8", None, "request", _insert_header(b"To: <sip:x@y.example.com>")
    ),
}


@st.composite
def _malformed(draw: Draw, defect: str | None) -> Malformed:
    names = sorted(DEFECTS) if defect is None else [defect]
    name = draw(choice(names))
    d = DEFECTS[name]
    kind = d.applies_to if d.applies_to != "any" else draw(choice(["request", "response"]))
    original = draw(message_bytes_of(kind, None, None, False))
    return Malformed(d.apply(original), name, d.section, d.code, original)


def malformed_messages(defect: str | None = None) -> st.SearchStrategy[Malformed]:
    """Near-valid messages with one named defect each (:class:`Malformed`).

    The message is a plain (non-tortuous) valid message from :func:`requests` or
    :func:`responses` with one defect of :data:`DEFECTS` applied; ``defect`` restricts to
    one. For syntactic defects, ``case.code`` is the ParseError code sipfsm raises.

    >>> from hypothesis import given
    >>> @given(malformed_messages())
    ... def test_rejected(case):
    ...     if case.code is not None:
    ...         with pytest.raises(ParseError):
    ...             parse(case.data, strict=True)
    """
    if defect is not None and defect not in DEFECTS:
        raise ValueError(f"unknown defect {defect!r}; known: {sorted(DEFECTS)}")
    return _malformed(defect)
