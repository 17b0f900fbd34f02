"""The deliberate flaws of the reference UA (``sipfsm probe --flaw``): each one small, named
deviation from one rule of RFC 3261, so that the probe can be seen to catch real bugs and each
of its checks can be shown to fail (tests/probe_flaws.toml pairs every check with its flaw).

:data:`CATALOGUE` says what each flaw does; :class:`FlawedElement` applies them on the wire,
around the reference UA's element (:class:`sipfsm.ua.screen.UasBehaviour`): a flaw drops or
rewrites a message the UA receives before the UA hears it, or one it sends after it spoke.
Whether a message is sent because a timer fired (a retransmission of Timer A, E or G) or
because a message arrived (the answer to a retransmitted request) is known, so that a flaw
of a timer never touches an answer.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sipfsm.errors import ParseError
from sipfsm.message.build import build_response
from sipfsm.message.constants import MAGIC_COOKIE
from sipfsm.message.grammar import names_of
from sipfsm.message.message import Request, Response
from sipfsm.message.parse import parse
from sipfsm.message.serialize import serialize
from sipfsm.model.timers import Timers
from sipfsm.ua.screen import UasBehaviour

__all__ = ["CATALOGUE", "FLAWS", "Flaw", "FlawedElement"]

Message = Request | Response


@dataclass(frozen=True, slots=True)
class Flaw:
    """One deliberate deviation: its name, the section it violates, what it does."""

    name: str
    section: str
    what: str


#: Copies of each response the ``flood`` peer sends.
_FLOOD = 16

CATALOGUE: dict[str, Flaw] = {
    f.name: f
    for f in (
        Flaw("timer-g-2", "17.2.1", "Timer G stops after two firings, long before Timer H"),
        Flaw(
            "2xx-until-t2",
            "13.3.1.4",
            "2xx retransmissions stop once the interval reaches T2 (JsSIP's bug)",
        ),
        Flaw(
            "ack-ignored-once",
            "17.2.1",
            "the first ACK of a non-2xx final is lost to its transaction: Timer G goes on",
        ),
        Flaw(
            "2xx-ack-ignored",
            "13.3.1.4",
            "the ACK of a 2xx is ignored: the 2xx is retransmitted as if none came",
        ),
        Flaw("no-bye", "13.3.1.4", "no BYE after 64*T1 without the ACK of the 2xx"),
        Flaw(
            "invite-retransmit-ignored",
            "17.2.1",
            "a retransmitted INVITE is dropped, not answered with the last response",
        ),
        Flaw(
            "non-invite-retransmit-unmatched",
            "17.2.2, 17.2.3",
            "a retransmitted non-INVITE request matches no transaction: answered anew",
        ),
        Flaw("malformed-200", "8.2, 21.4.1", "a request to reject with 400 is answered 200"),
        Flaw("cancel-no-487", "9.2", "a CANCELled INVITE is never answered 487"),
        Flaw("cancel-unknown-200", "9.2", "a CANCEL matching no transaction is answered 200"),
        Flaw(
            "flaky-cancel-unknown",
            "9.2",
            "the first CANCEL matching no transaction is answered 200, every later one 481: "
            "a failure that does not reproduce",
        ),
        Flaw("timer-a-2", "17.1.1.2", "Timer A stops after two firings, long before Timer B"),
        Flaw("timer-e-2", "17.1.2.2", "Timer E stops after two firings, long before Timer F"),
        Flaw(
            "non-2xx-ack-new-branch",
            "17.1.1.3",
            "the ACK of a non-2xx final has a new branch, not the INVITE's",
        ),
        Flaw("2xx-ack-same-branch", "13.2.2.4", "the ACK of a 2xx reuses the INVITE's branch"),
        Flaw(
            "wrong-branch",
            "8.2.6.2, 17.1.3",
            "every response carries a new random top Via branch, not the request's",
        ),
        # hostile peers (tests/test_probe_hostile.py): no check needing a matching
        # transaction may pass against them
        Flaw("garbage", "7", "every message sent has a start line that is not SIP"),
        Flaw("truncated", "7.5, 18.3", "every message sent is cut in the middle of its headers"),
        Flaw(
            "flood",
            "8.2.6.2, 17.1.3",
            f"every response becomes {_FLOOD} copies, each with a new random top Via branch",
        ),
        Flaw("silent", "8.2.6", "nothing is ever sent"),
        # a UA at its call limit (pjsua takes 4 calls, answers the next statelessly)
        Flaw(
            "stateless-503",
            "8.2.7, 21.5.4",
            "every INVITE is answered 503 statelessly (no 100, no transaction), as a UA at "
            "its call limit does",
        ),
        # belle-sip's parser, after an overlong Content-Length over UDP
        Flaw(
            "wedge",
            "18.3",
            "after a request whose Content-Length exceeds its body, every later message from "
            "the same source is taken as that body (never answered)",
        ),
    )
}

#: The names of the flaws :class:`~sipfsm.probe.reference.ReferenceTarget` can be given.
FLAWS: tuple[str, ...] = tuple(CATALOGUE)

#: Copies a stopped timer still sends (Timers A, E, G "after two firings").
_FIRINGS = 2
_STATUS_LINE = re.compile(rb"^SIP/2\.0 \d{3} [^\r\n]*")
_CONTENT_LENGTH = re.compile(  # the long and compact names (7.3.3)
    rb"^(?:%s)[ \t]*:[ \t]*(\d{1,9})" % "|".join(names_of("Content-Length")).encode(), re.I | re.M
)


def _branch(msg: Message) -> str:
    """The top Via's branch ('' when there is none)."""
    try:
        vias = msg.via
    except ParseError:
        return ""
    return (vias[0].branch or "") if vias else ""


def _cseq(msg: Message) -> tuple[int, str]:
    cseq = msg.cseq
    return (cseq.seq, cseq.method) if cseq is not None else (0, "")


def _as_200(data: bytes) -> bytes:
    """``data`` with its status line replaced by ``SIP/2.0 200 OK``."""
    return _STATUS_LINE.sub(b"SIP/2.0 200 OK", data, count=1)


def _fresh_branch() -> str:
    return f"{MAGIC_COOKIE}flaw{secrets.token_hex(6)}"


def _rebranched(resp: Response, data: bytes) -> bytes:
    """``data`` with its top Via's branch replaced by a fresh one (8.2.6.2 copies it)."""
    branch = _branch(resp)
    return data.replace(branch.encode(), _fresh_branch().encode(), 1) if branch else data


class FlawedElement:
    """:class:`~sipfsm.ua.screen.UasBehaviour` with ``flaws`` applied on the wire (the
    element's shape: see :class:`sipfsm.net.server.Element`). ``clock()`` is the server's time;
    ``timers`` the UA's T1 and T2 (for ``2xx-until-t2``)."""

    def __init__(
        self,
        inner: UasBehaviour,
        flaws: frozenset[str],
        timers: Timers,
        clock: Callable[[], float],
        source: Callable[[], tuple[str, int] | None] = lambda: None,
    ) -> None:
        self.inner = inner
        self.source = source
        self._wedged: set[tuple[str, int]] = set()  # sources the wedge flaw no longer hears
        self.flaws = flaws
        self.timers = timers
        self.clock = clock
        self._by_timer = False  # whether what drain() takes was sent because a timer fired
        self._invites_in: set[str] = set()  # branches of the INVITEs received
        self._requests_in: set[tuple[str, str]] = set()  # (branch, method) received
        self._acks_lost: set[str] = set()  # branches whose first ACK was lost
        self._renamed: dict[str, str] = {}  # fresh branch -> the branch it replaced
        self._invites_out: dict[tuple[str, int], str] = {}  # (Call-ID, CSeq) -> INVITE branch
        self._firings: dict[tuple[str, ...], int] = {}  # copies sent by a timer, per message
        self._sent_2xx: dict[tuple[str, int, int], float] = {}  # 2xx -> first sent
        self._flaked = False  # whether flaky-cancel-unknown has answered 200 once
        self._stateless: list[bytes] = []  # stateless answers not drained yet

    # -- the element's shape

    def receive(self, data: bytes, now: float) -> None:
        """A datagram: parsed once, then as :meth:`receive_message`."""
        try:
            msg = parse(data, strict=self.inner.ua.strict)
        except ParseError as exc:
            self.receive_malformed(data, exc, now)
            return
        self.receive_message(msg, now)

    def receive_malformed(self, data: bytes, error: ParseError, now: float) -> None:
        """Bytes that do not parse: as the UA would."""
        if not self._wedges(data):
            self.inner.receive_malformed(data, error, now)

    def receive_message(self, msg: Message, now: float) -> None:
        """A parsed message, unless a flaw drops or rewrites it first."""
        if self._wedges(msg.raw):
            return
        kept = self._inbound(msg) if isinstance(msg, Request) else msg
        if kept is not None:
            self.inner.receive_message(kept, now)

    def drain(self) -> list[bytes]:
        """What the UA sends, with the flaws applied."""
        by_timer, self._by_timer = self._by_timer, False
        out = [self._outbound(data, by_timer) for data in self.inner.drain()]
        out, self._stateless = [*self._stateless, *out], []
        return [hostile for data in out if data is not None for hostile in self._hostile(data)]

    def _hostile(self, data: bytes) -> list[bytes]:
        """The hostile peers' flaws, last: what goes on the wire instead of ``data``."""
        flaws = self.flaws
        if "silent" in flaws:
            return []
        if "garbage" in flaws:
            data = b"\x00\xffNOT-SIP " + secrets.token_hex(6).encode() + data[data.find(b"\r\n") :]
        if "truncated" in flaws:
            data = data[: data.find(b"\r\n\r\n") // 2]
        if "flood" in flaws and data.startswith(b"SIP/2.0 "):
            resp = parse(data)
            if isinstance(resp, Response):
                return [_rebranched(resp, data) for _ in range(_FLOOD)]
        return [data]

    def get_timer(self) -> float | None:
        """The UA's next deadline."""
        return self.inner.get_timer()

    def handle_timer(self, now: float) -> None:
        """Fire the UA's timers; what it sends now is sent because a timer fired."""
        self._by_timer = True
        self.inner.handle_timer(now)

    # -- what the UA receives

    def _wedges(self, data: bytes) -> bool:
        """The ``wedge`` flaw: whether ``data`` is swallowed as the body its source still
        owes (the source is wedged from a request whose Content-Length exceeds its body)."""
        source = self.source()
        if "wedge" not in self.flaws or source is None:
            return False
        if source in self._wedged:
            return True
        head, _, body = data.partition(b"\r\n\r\n")
        length = _CONTENT_LENGTH.search(head)
        if length is not None and int(length.group(1)) > len(body):
            self._wedged.add(source)
            return True
        return False

    def _inbound(self, req: Request) -> Request | None:
        branch = _branch(req)
        if req.method == "INVITE" and "stateless-503" in self.flaws:
            self._stateless.append(serialize(build_response(req, 503)))  # 8.2.7
            return None
        if req.method == "INVITE":
            again = branch in self._invites_in
            self._invites_in.add(branch)
            return None if again and "invite-retransmit-ignored" in self.flaws else req
        if req.method == "ACK":
            return self._inbound_ack(req, branch)
        again = (branch, req.method) in self._requests_in
        self._requests_in.add((branch, req.method))
        if again and req.method != "CANCEL" and "non-invite-retransmit-unmatched" in self.flaws:
            fresh = _fresh_branch()  # the UA sees a new request, answers it as one
            self._renamed[fresh] = branch
            renamed = parse(req.raw.replace(branch.encode(), fresh.encode()), strict=True)
            assert isinstance(renamed, Request)
            return renamed
        return req

    def _inbound_ack(self, ack: Request, branch: str) -> Request | None:
        """17.1.1.3: the ACK of a non-2xx has the INVITE's branch; 13.2.2.4: of a 2xx, a new one."""
        if branch in self._invites_in:
            if "ack-ignored-once" in self.flaws and branch not in self._acks_lost:
                self._acks_lost.add(branch)
                return None
            return ack
        return None if "2xx-ack-ignored" in self.flaws else ack

    # -- what the UA sends

    def _outbound(self, data: bytes, by_timer: bool) -> bytes | None:
        for fresh, branch in self._renamed.items():
            data = data.replace(fresh.encode(), branch.encode())
        try:
            msg = parse(data)
        except ParseError:
            return data
        if isinstance(msg, Response):
            return self._response(msg, data, by_timer)
        return self._request(msg, data, by_timer)

    def _stopped_timer(self, key: tuple[str, ...], by_timer: bool) -> bool:
        """Whether this copy comes from a timer that has already fired twice."""
        if not by_timer:
            return False
        self._firings[key] = self._firings.get(key, 0) + 1
        return self._firings[key] > _FIRINGS

    def _response(self, resp: Response, data: bytes, by_timer: bool) -> bytes | None:
        if "wrong-branch" in self.flaws:
            data = _rebranched(resp, data)
        seq, method = _cseq(resp)
        status, flaws = resp.status, self.flaws
        if method == "CANCEL" and status == 481 and "cancel-unknown-200" in flaws:
            return _as_200(data)
        if method == "CANCEL" and status == 481 and "flaky-cancel-unknown" in flaws:
            self._flaked, flaked = True, self._flaked
            return data if flaked else _as_200(data)
        if status == 400 and "malformed-200" in flaws:
            return _as_200(data)
        if method != "INVITE":
            return data
        key = (resp.call_id or "", str(seq), str(status))
        if status == 487 and "cancel-no-487" in flaws:
            return None
        if status >= 300 and "timer-g-2" in flaws and self._stopped_timer(key, by_timer):
            return None
        if 200 <= status < 300 and "2xx-until-t2" in flaws and self._past_t2(resp, seq):
            return None
        return data

    def _past_t2(self, resp: Response, seq: int) -> bool:
        """Whether this 2xx is a retransmission sent after the interval reached T2."""
        key = (resp.call_id or "", seq, resp.status)
        now = self.clock()
        first = self._sent_2xx.setdefault(key, now)
        if first == now:
            return False
        base = self.timers.base()  # models/timers.toml fills in what is not given
        t1, t2 = base["T1"], base["T2"]
        at, interval = 0.0, t1  # the instant the doubling interval first reaches T2 (13.3.1.4)
        while interval < t2:
            at += interval
            interval *= 2
        return now - first > at + 1e-3

    def _request(self, req: Request, data: bytes, by_timer: bool) -> bytes | None:
        branch, flaws = _branch(req), self.flaws
        seq, _ = _cseq(req)
        if req.method == "INVITE":
            self._invites_out[(req.call_id or "", seq)] = branch
            if "timer-a-2" in flaws and self._stopped_timer(("A", branch), by_timer):
                return None
            return data
        if req.method == "ACK":
            return self._ack_out(req, data, branch, seq)
        if req.method == "BYE" and "no-bye" in flaws:
            return None
        if "timer-e-2" in flaws and self._stopped_timer(("E", branch), by_timer):
            return None
        return data

    def _ack_out(self, ack: Request, data: bytes, branch: str, seq: int) -> bytes:
        invite = self._invites_out.get((ack.call_id or "", seq))
        if invite is None:
            return data
        if branch == invite and "non-2xx-ack-new-branch" in self.flaws:
            return data.replace(branch.encode(), _fresh_branch().encode())
        if branch != invite and "2xx-ack-same-branch" in self.flaws:
            return data.replace(branch.encode(), invite.encode())
        return data
