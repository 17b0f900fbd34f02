"""Malformed and semantically wrong requests for the ``malformed`` check, with what the RFC
says a receiver does with each (RFC 3261 8.2, 16.3, 21.4; RFC 4475 section 3).

Two sources:

* the RFC 4475 torture messages (shipped in ``sipfsm/data/rfc4475``, see its ``NOTICE``), each
  rewritten for the target:
  the Request-URI's host becomes the target's, the top Via's sent-by becomes ours (with a fresh
  branch unless the branch is the defect), every Call-ID a fresh one. The defect under test is
  left as it is. :data:`EXPECT` is the oracle: RFC 4475's recommendation for each, in data;
* :func:`sipfsm.testing.strategies.malformed_messages`: a valid request with one named defect. The
  probe rewrites the *valid* original for the target and applies the defect again.

Verdicts (:meth:`Expectation.judge`): RFC 4475 mostly says "should", and often allows an
element to be liberal. So a case fails only when the receiver (a) answers 2xx where the RFC
says to reject, (b) answers another code where the RFC says the element *will* answer one
(``strict``), or (c) says nothing where dropping is not allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sipfsm.data import RFC4475_DIR
from sipfsm.errors import ParseError
from sipfsm.message.grammar import names_of
from sipfsm.message.message import Request
from sipfsm.message.parse import parse
from sipfsm.probe.wire import branch as new_branch
from sipfsm.probe.wire import token

__all__ = ["CORPUS_DIR", "EXPECT", "Case", "Expectation", "corpus_cases", "rewrite_generated"]

#: The RFC 4475 torture messages shipped with the package (``sipfsm/data/rfc4475``).
CORPUS_DIR: Path = RFC4475_DIR


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a receiver should do with one malformed request (the oracle of ``malformed``)."""

    section: str
    #: The response codes the RFC names.
    codes: frozenset[int]
    #: The RFC allows processing it normally ("liberal"): any answer, or none, is fine.
    liberal: bool = False
    #: Any error response (>= 300) is acceptable, not only ``codes`` (the RFC says "should").
    any_error: bool = True
    #: Silence is acceptable (e.g. the response cannot be routed, or "may be discarded").
    drop_ok: bool = True
    #: The RFC's words, shortened.
    says: str = ""

    def describe(self) -> str:
        """E.g. ``400 (or any error, or no answer)``."""
        want = "/".join(str(c) for c in sorted(self.codes))
        if self.liberal:
            return f"{want} or normal processing (liberal)"
        alts = [
            *(["any error"] if self.any_error else []),
            *(["no answer"] if self.drop_ok else []),
        ]
        return want + (f" (or {', or '.join(alts)})" if alts else "")

    def judge(self, final: int | None) -> tuple[bool, str]:
        """``final``: the final status received, None for none. Returns (ok, why)."""
        if final is not None and final in self.codes:
            return True, f"answered {final} as {self.section} says"
        if self.liberal:
            return True, f"answered {final or 'nothing'}: processing it liberally is allowed"
        if final is None:
            return (
                self.drop_ok,
                "no answer (dropping is allowed)"
                if self.drop_ok
                else "no answer: the RFC says it is answered",
            )
        if 200 <= final < 300:
            return False, f"accepted it ({final}) where {self.section} says reject"
        if final >= 300 and self.any_error:
            return True, f"rejected it ({final}); the RFC suggests {self.describe()}"
        return False, f"answered {final}; {self.section} says {self.describe()}"


def _e(section: str, codes: set[int], says: str, **kw: bool) -> Expectation:
    return Expectation(section, frozenset(codes), says=says, **kw)


#: RFC 4475's expectation for each request of the corpus (responses and plainly valid
#: messages are not sent). Keys are file names without ``.dat``.
EXPECT: dict[str, Expectation] = {
    "badinv01": _e("RFC 4475 3.1.2.1", {400}, "should respond with a 400"),
    "clerr": _e("RFC 4475 3.1.2.2", {400}, "over UDP should respond with a 400"),
    "ncl": _e("RFC 4475 3.1.2.3", {400}, "should respond with an error; may discard"),
    "scalar02": _e("RFC 4475 3.1.2.4", {400}, "should respond with a 400 (CSeq)"),
    "quotbal": _e("RFC 4475 3.1.2.6", {400}, "should return a 400"),
    "ltgtruri": _e("RFC 4475 3.1.2.7", {400}, "reasonable to reject; may ignore <>", liberal=True),
    "lwsruri": _e("RFC 4475 3.1.2.8", {400}, "should respond with a 400"),
    "lwsstart": _e("RFC 4475 3.1.2.9", {400}, "acceptable to reject; may be liberal", liberal=True),
    "trws": _e("RFC 4475 3.1.2.10", {400}, "acceptable to reject; may be liberal", liberal=True),
    "escruri": _e(
        "RFC 4475 3.1.2.11", {400}, "should reject; may ignore the headers", liberal=True
    ),
    "baddate": _e("RFC 4475 3.1.2.12", {400}, "may reject; may ignore the Date", liberal=True),
    "regbadct": _e("RFC 4475 3.1.2.13", {400}, "reasonable to reject; may infer <>", liberal=True),
    "badaspec": _e(
        "RFC 4475 3.1.2.14", {400}, "reasonable to reject; may ignore spaces", liberal=True
    ),
    "baddn": _e("RFC 4475 3.1.2.15", {400}, "reasonable to reject; may infer quotes", liberal=True),
    "badvers": _e("RFC 4475 3.1.2.16; RFC 3261 21.5.7", {505}, "should respond with a 505"),
    "mismatch01": _e(
        "RFC 4475 3.1.2.17", {400}, "will respond with a 400", any_error=False, drop_ok=False
    ),
    "mismatch02": _e(
        "RFC 4475 3.1.2.18",
        {501, 400},
        "should respond 501 (400 acceptable)",
        any_error=False,
        drop_ok=False,
    ),
    "badbranch": _e(
        "RFC 4475 3.2.1", {400}, "could reject 400 or fall back to RFC 2543", liberal=True
    ),
    "insuf": _e("RFC 4475 3.3.1; RFC 3261 8.1.1", {400}, "must not break; ideally 400"),
    "unkscm": _e(
        "RFC 4475 3.3.2; RFC 3261 8.2.2.1, 16.3",
        {416},
        "will reject with a 416",
        any_error=False,
        drop_ok=False,
    ),
    "novelsc": _e(
        "RFC 4475 3.3.3; RFC 3261 8.2.2.1",
        {416, 404},
        "416, or 404",
        any_error=False,
        drop_ok=False,
    ),
    "unksm2": _e(
        "RFC 4475 3.3.4; RFC 3261 10.3", {400}, "a registrar would reject with 400", drop_ok=False
    ),
    "bext01": _e(
        "RFC 4475 3.3.5; RFC 3261 8.2.2.3, 16.3",
        {420},
        "will respond with a 420",
        any_error=False,
        drop_ok=False,
    ),
    "invut": _e(
        "RFC 4475 3.3.6; RFC 3261 8.2.3", {415}, "an endpoint would reject with 415", drop_ok=False
    ),
    "regaut01": _e(
        "RFC 4475 3.3.7",
        {401, 405, 200},
        "registrar ignores it, challenges, or a UA rejects 405",
        liberal=True,
    ),
    "multi01": _e(
        "RFC 4475 3.3.8", {400}, "would respond with a 400", any_error=False, drop_ok=False
    ),
    "mcl01": _e(
        "RFC 4475 3.3.9; RFC 3261 18.3", {400}, "should respond with an error; over UDP may discard"
    ),
    "zeromf": _e(
        "RFC 4475 3.3.11; RFC 3261 16.3",
        {483},
        "a proxy 483; an endpoint processes it",
        liberal=True,
    ),
    "sdp01": _e("RFC 4475 3.3.15; RFC 3261 21.4.7", {406, 400}, "406, or 400", drop_ok=False),
}

#: Generated defects (sipfsm.testing.strategies.DEFECTS): syntax is 400 (21.4.1), or dropped when
#: the response cannot be built or routed; never accepted.
GENERATED = Expectation("RFC 3261 21.4.1", frozenset({400}), says="400 Bad Request")


@dataclass(frozen=True, slots=True)
class Case:
    """One malformed request ready to send: its name, bytes, Call-IDs and branch (for
    matching the answer), method, and the oracle's expectation."""

    name: str
    data: bytes
    call_ids: tuple[str, ...]
    branch: str | None
    method: str
    expect: Expectation


def _names(field: str) -> bytes:
    """``Call-ID|i``: a field's long and compact names (7.3.3), for the textual rewrites."""
    return "|".join(names_of(field)).encode()


_CALL_ID = re.compile(rb"^(%s)([ \t]*:[ \t]*)(.*)$" % _names("Call-ID"), re.IGNORECASE)
_VIA = re.compile(
    rb"^(%s)([ \t]*:[ \t]*)(SIP[ \t]*/[ \t]*[^/ \t]+)[ \t]*/[ \t]*\S+[ \t]+"
    rb"([^;, \t\r\n]+)(.*)$" % _names("Via"),
    re.IGNORECASE,
)
_BRANCH = re.compile(rb";[ \t]*branch[ \t]*=[ \t]*[^;, \t]*", re.IGNORECASE)


def _retarget_uri(start: bytes, hostport: bytes, user: bytes | None = None) -> bytes:
    """Replace the host[:port] (and the user, when given) of a sip:/sips: Request-URI in the
    start line."""
    m = re.search(rb"sips?:", start)
    if m is None:
        return start
    i = m.end()
    j = i
    while j < len(start) and start[j : j + 1] not in (b" ", b";", b">", b"?", b"\t"):
        j += 1
    userhost = start[i:j]
    at = userhost.rfind(b"@")
    if at >= 0 and user:
        new = user + b"@" + hostport
    else:
        new = (userhost[: at + 1] if at >= 0 else b"") + hostport
    return start[:i] + new + start[j:]


def rewrite(
    data: bytes,
    hostport: str,
    sent_by: str,
    *,
    keep_branch: bool = False,
    name: str = "",
    user: str | None = None,
) -> tuple[bytes, tuple[str, ...], str | None]:
    """Aim a corpus request at the target and its answers at us; return (bytes, Call-IDs,
    branch). Only the start line's host, the first Via's sent-by/branch and Call-IDs change."""
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    lines[0] = _retarget_uri(lines[0], hostport.encode(), user.encode() if user else None)
    call_ids: list[str] = []
    br: str | None = None
    via_done = False
    for i, line in enumerate(lines[1:], 1):
        m = _CALL_ID.match(line)
        if m:
            cid = f"{name or 'm'}.{token(6)}@sipfsm.probe"
            call_ids.append(cid)
            lines[i] = m.group(1) + m.group(2) + cid.encode()
            continue
        v = _VIA.match(line)
        if v and not via_done:
            via_done = True
            rest = v.group(5)
            if keep_branch:
                found = re.search(rb"branch[ \t]*=[ \t]*([^;, \t]*)", rest, re.IGNORECASE)
                br = found.group(1).decode("latin-1") if found else None
            else:
                br = new_branch()
                rest = _BRANCH.sub(b"", rest, count=1)
                rest = b";branch=" + br.encode() + b";rport" + rest
            lines[i] = v.group(1) + v.group(2) + v.group(3) + b"/UDP " + sent_by.encode() + rest
    return b"\r\n".join(lines) + sep + body, tuple(call_ids), br


def corpus_cases(
    hostport: str, sent_by: str, directory: Path = CORPUS_DIR, user: str | None = None
) -> list[Case]:
    """Every request of :data:`EXPECT`, rewritten (fresh identifiers on every call); with
    ``user``, Request-URIs that have a user part address that user (so a UA does not answer
    404 by 8.2.2.1 before it looks at the defect)."""
    cases: list[Case] = []
    for name, expect in EXPECT.items():
        path = directory / f"{name}.dat"
        if not path.exists():
            continue
        raw = path.read_bytes()
        data, cids, br = rewrite(
            raw, hostport, sent_by, keep_branch=name == "badbranch", name=name, user=user
        )
        method = raw.split(b" ", 1)[0].decode("latin-1")
        cases.append(Case(name, data, cids, br, method, expect))
    return cases


def corpus_available(directory: Path = CORPUS_DIR) -> bool:
    """Whether the corpus is in ``directory`` (the shipped copy always is)."""
    return (directory / "classes.json").exists()


def corpus_notes(directory: Path = CORPUS_DIR) -> dict[str, str]:
    """``rfc4475_says`` of classes.json, by case name (for reports)."""
    try:
        data = json.loads((directory / "classes.json").read_text())
    except (OSError, ValueError):
        return {}
    return {
        k.removesuffix(".dat"): v.get("rfc4475_says", "")
        for k, v in data.get("messages", {}).items()
    }


def rewrite_generated(
    original: bytes, defect: str, apply: Callable[[bytes], bytes], ruri: str, sent_by: str
) -> Case | None:
    """A :class:`~sipfsm.testing.strategies.Malformed` request aimed at the target: the valid
    ``original`` gets our Request-URI, a single Via of ours, a fresh Call-ID and no Route;
    then ``apply`` (the defect) runs again. None for ACK/CANCEL (never answered) or
    responses."""
    try:
        msg = parse(original)
    except ParseError:
        return None
    if not isinstance(msg, Request) or msg.method in ("ACK", "CANCEL"):
        return None
    br = new_branch()
    cid = f"gen.{token(6)}@sipfsm.probe"
    headers: list[tuple[str, str]] = [("Via", f"SIP/2.0/UDP {sent_by};branch={br};rport")]
    for h in msg.headers:
        key = h.canonical.lower()
        if key in ("via", "route", "content-length"):
            continue
        headers.append((h.canonical, cid if key == "call-id" else h.value))
    if not any(k.lower() == "call-id" for k, _ in headers):
        headers.append(("Call-ID", cid))
    body = msg.body if isinstance(msg.body, bytes) else b""
    text = (
        "\r\n".join(
            [
                f"{msg.method} {ruri} SIP/2.0",
                *(f"{k}: {v}" for k, v in headers),
                f"Content-Length: {len(body)}",
                "",
                "",
            ]
        ).encode()
        + body
    )
    try:
        data = apply(text)
    except (ValueError, IndexError):
        return None
    return Case(f"generated:{defect}", data, (cid,), br, msg.method, GENERATED)
