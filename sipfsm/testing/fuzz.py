"""What a fuzzed input must not do to the parser (issue 11), checked by :func:`judge` for the
Hypothesis harness (tests/test_fuzz.py) and the long run (``scripts/fuzz``) alike.

For any octets ``x``, delivered whole (a datagram) and trickled through a
:class:`sipfsm.StreamFramer` (a TCP stream cut anywhere, section 18.3):

1. nothing but :class:`sipfsm.ParseError` escapes, and never its code ``internal-error``;
2. when strict parsing accepts ``x`` as ``m``: ``serialize(m)`` is ``x`` itself, less the
   octets after the body (18.3) and perhaps the CRLFs before the start line (7.5);
3. every typed view of ``m`` reads (:func:`sipfsm.testing.views.read_every_view`); when only
   lazy parsing accepts ``x``, a view may raise a ParseError (strict parsing raised one too);
4. ``parse(canonical(m), strict=True)`` accepts the canonical form (issue 11, defect 4);
5. the stream yields the same messages and the same error codes whether ``x`` comes in one
   piece or in the pieces of :func:`sipfsm.testing.mutations.chunks`.

A broken property is a :class:`Violation`; :func:`judge` returns the input's fate.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field

from sipfsm.errors import ParseError
from sipfsm.message.parse import StreamFramer, parse
from sipfsm.message.serialize import canonical, serialize
from sipfsm.testing.mutations import chunks
from sipfsm.testing.views import read_every_view

__all__ = ["Verdict", "Violation", "judge"]


@dataclass(frozen=True)
class Violation:
    """A property of the module docstring broken: ``kind`` is ``exception`` (not a
    ParseError), ``internal-error``, ``round-trip``, ``view``, ``canonical`` or ``stream``."""

    kind: str
    detail: str


@dataclass
class Verdict:
    """The fate of one input: ``code`` is None when strict parsing accepted it, else the
    ParseError code; ``violations`` lists what broke (empty: every property held)."""

    code: str | None = None
    violations: list[Violation] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.code is None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _lead(data: bytes) -> int:
    """Octets of the CRLFs before the start line (section 7.5)."""
    i = 0
    while data.startswith(b"\r\n", i):
        i += 2
    return i


def _accepted(x: bytes, m: object, verdict: Verdict) -> None:
    from sipfsm.message.message import Message

    assert isinstance(m, Message)
    out = serialize(m)
    if not out or not (x.startswith(out) or x[_lead(x) :].startswith(out)):
        verdict.violations.append(Violation("round-trip", f"serialize gave {out[:80]!r}"))
    try:
        read_every_view(m)
    except Exception as exc:  # a ParseError too: strict parsing accepted x
        verdict.violations.append(Violation("view", _describe(exc)))
    try:
        parse(canonical(m), strict=True)
    except Exception as exc:
        verdict.violations.append(Violation("canonical", _describe(exc)))


def _lazy(x: bytes, verdict: Verdict) -> None:
    """Lazily parsed, a message strict parsing rejected: its views raise only ParseError."""
    try:
        m = parse(x)
    except ParseError as exc:
        if exc.code == "internal-error":
            verdict.violations.append(Violation("internal-error", f"lazy: {exc}"))
        return
    except Exception as exc:
        verdict.violations.append(Violation("exception", f"lazy parse: {_describe(exc)}"))
        return
    try:
        read_every_view(m)
    except ParseError as exc:
        if exc.code == "internal-error":
            verdict.violations.append(Violation("internal-error", f"lazy view: {exc}"))
    except Exception as exc:
        verdict.violations.append(Violation("exception", f"lazy view: {_describe(exc)}"))


def _stream(pieces: list[bytes], verdict: Verdict) -> tuple[list[bytes], list[str]]:
    """Feed ``pieces`` to a strict StreamFramer, then ``b""`` until it has nothing more to
    say: the raw octets of the messages it yields and the codes it raises, each in order (a
    framing error ends the stream).

    A feed raises at most one ParseError, and what follows the message it names is taken by
    the next call (the messages framed before it too): so the stream is drained with empty
    feeds, as a reader of the stream does (``sipfsm.net.framing.SipStreamFramer``), or a
    stream delivered in few pieces would leave complete messages unread that the same stream
    in many pieces yields (issue 11: ``whole ['bad-version'], trickled ['bad-version',
    'missing-content-length']``)."""
    framer = StreamFramer(strict=True)
    raws: list[bytes] = []
    codes: list[str] = []
    queue = [*pieces, b""]
    drains = sum(map(len, pieces)) + 1  # a message in error takes an octet at least
    while queue:
        piece = queue.pop(0)
        try:
            raws.extend(m.raw for m in framer.feed(piece))
        except ParseError as exc:
            codes.append(exc.code)
            if exc.code == "internal-error":
                verdict.violations.append(Violation("internal-error", f"stream: {exc}"))
            if framer.broken is not None:
                with contextlib.suppress(ParseError):  # framed before the error: next call
                    raws.extend(m.raw for m in framer.feed(b""))
                break
            if not queue:
                drains -= 1
                if drains < 0:
                    verdict.violations.append(Violation("stream", "raises, takes nothing"))
                    break
                queue.append(b"")  # drain: what follows the message in error
        except Exception as exc:
            verdict.violations.append(Violation("exception", f"stream: {_describe(exc)}"))
            break
    return raws, codes


def judge(x: bytes, rng: random.Random | None = None) -> Verdict:
    """Check the properties of the module docstring on ``x``; ``rng`` cuts the stream
    (None: no stream delivery)."""
    verdict = Verdict()
    try:
        m = parse(x, strict=True)
    except ParseError as exc:
        verdict.code = exc.code
        if exc.code == "internal-error":
            verdict.violations.append(Violation("internal-error", str(exc)))
        _lazy(x, verdict)
    except Exception as exc:
        verdict.code = "exception"
        verdict.violations.append(Violation("exception", _describe(exc)))
    else:
        _accepted(x, m, verdict)
    if rng is not None:
        whole = _stream([x], verdict)
        cut = _stream(list(chunks(x, rng)), verdict)
        if whole != cut:
            verdict.violations.append(Violation("stream", f"whole {whole[1]}, trickled {cut[1]}"))
    return verdict
