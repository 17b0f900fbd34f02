"""Bare LF line endings (issue 11, defect 6): RFC 3261 section 7 ends every line in CRLF, so a
message whose lines end in LF alone (any hand-written file) is ``bare-lf``, naming the line;
``parse(..., lenient_line_endings=True)`` and ``sipfsm parse --lenient`` read such messages as if
their header lines ended in CRLF, never in strict mode."""

from __future__ import annotations

from pathlib import Path

import pytest

import sipfsm
from sipfsm import ParseError, StreamFramer
from sipfsm.cli.main import main as cli_main

CRLF_MESSAGE = (
    b"OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    b"To: <sip:bob@biloxi.example.com>\r\n"
    b"From: <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Subject: folded\r\n  over two lines\r\n"
    b"Call-ID: a84b4c76e66710\r\n"
    b"CSeq: 63104 OPTIONS\r\n"
    b"Content-Length: 5\r\n"
    b"\r\n"
    b"a\nb\r\n"
)
#: The same message as typed in an editor: every header line ends in LF (the body is kept).
LF_MESSAGE = CRLF_MESSAGE.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n") + b"\n\na\nb\r\n"


@pytest.mark.parametrize("strict", [False, True])
def test_bare_lf_line_endings_are_named_with_their_line(strict: bool) -> None:
    with pytest.raises(ParseError) as err:
        sipfsm.parse(LF_MESSAGE, strict=strict)
    e = err.value
    assert (e.code, e.line, e.rule) == ("bare-lf", 1, "CRLF"), e
    assert e.column == len(b"OPTIONS sip:bob@biloxi.example.com SIP/2.0") + 1
    assert "lenient" in e.reason


def test_bare_lf_on_a_later_line_names_that_line() -> None:
    data = CRLF_MESSAGE.replace(b"Call-ID: a84b4c76e66710\r\n", b"Call-ID: a84b4c76e66710\n")
    data = data.replace(b"Content-Length: 5\r\n\r\n", b"Content-Length: 5\n\n")
    with pytest.raises(ParseError) as err:
        sipfsm.parse(data)
    assert (err.value.code, err.value.line) == ("bare-lf", 7)


def test_lenient_line_endings_read_the_message_as_with_crlf() -> None:
    lenient = sipfsm.parse(LF_MESSAGE, lenient_line_endings=True)
    strict = sipfsm.parse(CRLF_MESSAGE, strict=True)
    assert lenient.same_as(strict)
    assert lenient.body == b"a\nb\r\n"
    assert lenient.get("Subject") == "folded  over two lines"
    assert lenient.raw == CRLF_MESSAGE  # the header lines as they should have been written
    # Already CRLF: unchanged; mixed endings: every header line gets its CRLF.
    assert sipfsm.parse(CRLF_MESSAGE, lenient_line_endings=True).raw == CRLF_MESSAGE
    mixed = CRLF_MESSAGE.replace(b"CSeq: 63104 OPTIONS\r\n", b"CSeq: 63104 OPTIONS\n")
    assert sipfsm.parse(mixed, lenient_line_endings=True).raw == CRLF_MESSAGE
    # CRLFs before the start line (section 7.5), as LFs.
    assert sipfsm.parse(b"\n\n" + LF_MESSAGE, lenient_line_endings=True).same_as(strict)


def test_lenient_line_endings_are_never_strict() -> None:
    with pytest.raises(ValueError, match="strict"):
        sipfsm.parse(LF_MESSAGE, strict=True, lenient_line_endings=True)


def test_a_stream_with_bare_lf_line_endings_is_named() -> None:
    framer = StreamFramer()
    with pytest.raises(ParseError) as err:
        for i in range(0, len(LF_MESSAGE), 7):
            framer.feed(LF_MESSAGE[i : i + 7])
    assert err.value.code == "bare-lf"
    with pytest.raises(ParseError):
        framer.feed(b"\r\n")  # a stream that cannot be framed stays broken


def test_cli_lenient(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "typed.sip"
    path.write_bytes(LF_MESSAGE)
    assert cli_main(["parse", str(path)]) == 1
    assert " bare-lf: " in capsys.readouterr().out
    assert cli_main(["parse", "--lenient", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok OPTIONS sip:bob@biloxi.example.com SIP/2.0\n"
    assert cli_main(["parse", "--lenient", "--strict", str(path)]) == 2
    assert "--lenient" in capsys.readouterr().err
