"""The dialog (RFC 3261 section 12) as data: models/dialog.toml run over sipfsm/ua/dialog.py.

Unit tests of 12.1.1/12.1.2 (the dialog state), 12.2.1.1 (requests within), 12.2.2 (UAS
checks), 12.3 (termination), and a Hypothesis state machine whose oracle is the RFC text:
CSeq strictly increasing per direction, dialog ID stable, route set fixed once confirmed, no
request in a terminated dialog.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sipfsm import ProtocolError, Request, Response, Timers, parse
from sipfsm.engine.table import compiled
from sipfsm.model.loader import PROFILES, load_models
from sipfsm.ua.dialog import Dialog, DialogID, DialogSet

INVITE = (
    "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
    "To: Bob <sip:bob@biloxi.com>\r\n"
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.com>\r\n"
    "Content-Length: 0\r\n\r\n"
)


def _invite() -> Request:
    msg = parse(INVITE.encode(), strict=True)
    assert isinstance(msg, Request)
    return msg


def _response(
    status: int,
    tag: str | None = "a6c85cf",
    contact: str = "sip:bob@192.0.2.4",
    rr: str = "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
) -> Response:
    to = "Bob <sip:bob@biloxi.com>" + (f";tag={tag}" if tag else "")
    lines = [
        f"SIP/2.0 {status} X",
        "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds",
        f"To: {to}",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.com",
        "CSeq: 314159 INVITE",
    ]
    if rr:
        lines.append(f"Record-Route: {rr}")
    if contact:
        lines.append(f"Contact: <{contact}>")
    msg = parse(("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode(), strict=True)
    assert isinstance(msg, Response)
    return msg


def _request(method: str, cseq: int, contact: str | None = None) -> Request:
    """A request from Alice within the dialog, as Bob (the UAS) receives it."""
    lines = [
        f"{method} sip:bob@192.0.2.4 SIP/2.0",
        "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.com",
        f"CSeq: {cseq} {method}",
    ]
    if contact:
        lines.append(f"Contact: <{contact}>")
    msg = parse(("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode(), strict=True)
    assert isinstance(msg, Request)
    return msg


# --- the model ------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_dialog_model_is_total_and_has_the_states_of_section_12(profile: str) -> None:
    machine = load_models()["dialog"]
    assert set(machine.state_names(profile)) == {"Trying", "Early", "Confirmed", "Terminated"}
    rows = compiled(machine, profile=profile, reliable=False, timers=Timers()).rows
    for state in machine.state_names(profile):
        assert set(rows[state]) == set(machine.events)


# --- 12.1.2 (UAC) and 12.1.1 (UAS) ----------------------------------------------------------


def test_uac_dialog_state_from_a_2xx() -> None:
    """12.1.2: ID (Call-ID, From tag, To tag), route set = Record-Route reversed, remote
    target = Contact, local seq = CSeq of the INVITE, remote seq empty, URIs From / To."""
    d = Dialog("uac", _invite())
    assert d.state == "Trying" and d.id is None
    d.response(_response(200))
    assert d.state == "Confirmed"
    assert d.id == DialogID("a84b4c76e66710@pc33.atlanta.com", "1928301774", "a6c85cf")
    assert [str(u) for u in d.route_set] == ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]
    assert str(d.remote_target) == "sip:bob@192.0.2.4"
    assert (d.local_seq, d.remote_seq) == (314159, None)
    assert str(d.local_uri) == "sip:alice@atlanta.com" and str(d.remote_uri) == "sip:bob@biloxi.com"
    assert d.secure is False


def test_uas_dialog_state() -> None:
    """12.1.1: route set = Record-Route of the request in order; remote target = its
    Contact; remote seq = its CSeq; local seq empty; ID (Call-ID, To tag, From tag)."""
    d = Dialog("uas", _invite())
    d.response(_response(180))
    assert d.early
    assert d.id == DialogID("a84b4c76e66710@pc33.atlanta.com", "a6c85cf", "1928301774")
    assert [str(u) for u in d.route_set] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert str(d.remote_target) == "sip:alice@pc33.atlanta.com"
    assert (d.local_seq, d.remote_seq) == (None, 314159)
    parts = d.next_request("BYE")
    assert parts.cseq == 1  # an empty local sequence number starts fresh (12.2.1.1)


def test_1xx_without_to_tag_creates_no_dialog_and_failure_ends_early() -> None:
    d = Dialog("uac", _invite())
    d.response(_response(100, tag=None))
    assert d.state == "Trying"
    d.response(_response(180))
    assert d.early
    d.response(_response(486))
    assert d.terminated  # 12.3


def test_confirmation_recomputes_the_route_set_then_it_is_fixed() -> None:
    """13.2.2.4: the 2xx recomputes the route set of the early dialog; later 2xx (and target
    refreshes) never change it (12.2.1.2)."""
    d = Dialog("uac", _invite())
    d.response(_response(183, rr="<sip:p9.example.com;lr>"))
    assert [str(u) for u in d.route_set] == ["sip:p9.example.com;lr"]
    d.response(_response(200))
    fixed = d.route_set
    assert [str(u) for u in fixed] == ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]
    d.response(_response(200, rr="<sip:evil.example.com;lr>", contact="sip:bob@198.51.100.1"))
    d.refreshed(_response(200, rr="<sip:evil.example.com;lr>", contact="sip:bob@198.51.100.9"))
    assert d.route_set == fixed
    assert str(d.remote_target) == "sip:bob@198.51.100.9"  # target refresh (12.2.1.2)


def test_requests_within_the_dialog_loose_and_strict() -> None:
    """12.2.1.1: loose routing keeps the remote target as Request-URI; strict routing puts
    the first route there and the remote target last in Route."""
    d = Dialog("uac", _invite())
    d.response(_response(200))
    bye = d.next_request("BYE")
    assert bye.request_uri == "sip:bob@192.0.2.4"
    assert bye.route == ("<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>")
    assert bye.cseq == 314160 and bye.to.endswith(";tag=a6c85cf")
    assert bye.from_.endswith(";tag=1928301774")
    ack = d.request_parts("ACK", 314159)  # 13.2.2.4: the INVITE's CSeq number
    assert ack.cseq == 314159 and d.local_seq == 314160
    strict = Dialog("uac", _invite())
    strict.response(_response(200, rr="<sip:p1.example.com>, <sip:p2.example.com;method=INVITE>"))
    parts = strict.next_request("INFO")
    assert parts.request_uri == "sip:p2.example.com"  # method parameter stripped (19.1.1)
    assert parts.route == ("<sip:p1.example.com>", "<sip:bob@192.0.2.4>")


def test_requests_and_the_2xx_ack_are_built_from_the_dialog_state() -> None:
    """12.2.1.1 as bytes: Dialog.request builds the request (parsed back strictly) with the
    dialog's Request-URI, Route, tags, Call-ID and next CSeq, a new z9hG4bK branch, Contact
    for a target refresh; Dialog.ack the ACK of a 2xx (13.2.2.4): the INVITE's CSeq number,
    method ACK, a branch of its own, no Contact."""
    d = Dialog("uac", _invite())
    ok = _response(200)
    d.response(ok)
    reinvite = d.request(
        "INVITE", sent_by="pc33.atlanta.com", contact="<sip:alice@pc33.atlanta.com>"
    )
    assert reinvite.uri == "sip:bob@192.0.2.4"
    assert [str(r.uri) for r in reinvite.route] == [
        "sip:p2.example.com;lr",
        "sip:p1.example.com;lr",
    ]
    assert reinvite.to and reinvite.to.tag == "a6c85cf"
    assert reinvite.from_ and reinvite.from_.tag == "1928301774"
    assert reinvite.call_id == "a84b4c76e66710@pc33.atlanta.com"
    assert (reinvite.cseq.seq, reinvite.cseq.method) == (314160, "INVITE")  # type: ignore[union-attr]  # built with a CSeq
    assert reinvite.via[0].is_rfc3261_branch and reinvite.via[0].host == "pc33.atlanta.com"
    assert [str(c.uri) for c in reinvite.contact] == ["sip:alice@pc33.atlanta.com"]  # type: ignore[union-attr]  # no "*" Contact here
    ack = d.ack(ok, sent_by="pc33.atlanta.com", branch="z9hG4bKack1")
    assert (ack.method, ack.cseq.seq, ack.cseq.method) == ("ACK", 314159, "ACK")  # type: ignore[union-attr]  # built with a CSeq
    assert ack.via[0].branch == "z9hG4bKack1" and not ack.contact
    assert ack.route == reinvite.route and ack.uri == reinvite.uri
    assert d.local_seq == 314160  # the ACK takes no new sequence number
    with pytest.raises(ValueError):
        d.ack(_response(486), sent_by="pc33.atlanta.com")  # 17.1.1.3: the transaction's


def test_uas_checks_cseq_and_target_refresh() -> None:
    """12.2.2: a lower CSeq is out of order (500); an equal or higher one is taken; a
    re-INVITE's Contact becomes the remote target."""
    d = Dialog("uas", _invite())
    d.response(_response(200))
    assert d.receive_request(_request("INFO", 314160)) is None
    assert d.remote_seq == 314160
    assert d.receive_request(_request("INFO", 314159)) == 500
    assert d.remote_seq == 314160
    assert d.receive_request(_request("INVITE", 314161, contact="sip:alice@203.0.113.7")) is None
    assert str(d.remote_target) == "sip:alice@203.0.113.7"
    assert d.receive_request(_request("ACK", 1)) is None  # ACK is not checked


def test_termination_by_bye_and_by_481_408() -> None:
    for end in ("bye", "failed"):
        d = Dialog("uac", _invite())
        d.response(_response(200))
        getattr(d, end)()
        assert d.terminated
        with pytest.raises(ProtocolError, match=r"12\.3"):
            d.next_request("INFO")


def test_dialog_set_keys_forks_by_id() -> None:
    """12.1.2, 13.2.2.4: each To tag of a forked INVITE is its own dialog."""
    dialogs = DialogSet()
    a, b = Dialog("uac", _invite()), Dialog("uac", _invite())
    a.response(_response(180, tag="fork1"))
    b.response(_response(180, tag="fork2"))
    dialogs.add(a)
    dialogs.add(b)
    assert len(dialogs) == 2 and a.id != b.id
    a.response(_response(200, tag="fork1"))
    b.response(_response(486, tag="fork2"))
    assert dialogs.match(a.id) is a  # type: ignore[arg-type]  # a.id is set: a is early
    assert dialogs.match(b.id) is None  # type: ignore[arg-type]  # as a's; 481 for it (12.2.2)


# --- Hypothesis: the dialog against the RFC text ------------------------------------------


class DialogMachine(RuleBasedStateMachine):
    """Random responses, requests and terminations on a UAC dialog; the oracle is 12."""

    def __init__(self) -> None:
        super().__init__()
        self.d = Dialog("uac", _invite())
        self.ident: DialogID | None = None
        self.routes: tuple[object, ...] | None = None
        self.sent: list[int] = []
        self.received: list[int] = []
        self.over = False

    @rule(
        status=st.sampled_from([100, 180, 183, 200, 486, 603]),
        rr=st.sampled_from(["", "<sip:p1.example.com;lr>", "<sip:a.example.com>"]),
    )
    def response(self, status: int, rr: str) -> None:
        if self.over:
            with pytest.raises(ProtocolError):
                self.d.response(_response(status, rr=rr))
            return
        self.d.response(_response(status, rr=rr))
        if status >= 300 and self.routes is None:
            self.over = True  # 12.3: a failure ends an early (or not yet created) dialog

    @rule(method=st.sampled_from(["INFO", "BYE", "INVITE", "OPTIONS"]))
    def send(self, method: str) -> None:
        if self.d.id is None or self.over:
            with pytest.raises(ProtocolError):
                self.d.next_request(method)
            return
        parts = self.d.next_request(method)
        self.sent.append(parts.cseq)
        if method == "BYE":
            self.d.bye()
            self.over = True

    @precondition(lambda self: self.d.id is not None and not self.over)
    @rule(cseq=st.integers(1, 20))
    def receive(self, cseq: int) -> None:
        verdict = self.d.receive_request(_request("INFO", cseq))
        lower = bool(self.received) and cseq < max(self.received)
        assert verdict == (500 if lower else None)  # 12.2.2
        if not lower:
            self.received.append(cseq)

    @precondition(lambda self: self.d.id is not None and not self.over)
    @rule()
    def failure(self) -> None:
        self.d.failed()
        self.over = True

    @invariant()
    def rfc_section_12(self) -> None:
        d = self.d
        assert self.sent == sorted(set(self.sent))  # strictly increasing (12.2.1.1)
        if d.id is not None:
            if self.ident is None:
                self.ident = d.id
            assert d.id == self.ident  # the dialog ID never changes
        if d.confirmed or (d.terminated and self.routes is not None):
            if self.routes is None:
                self.routes = d.route_set
            assert d.route_set == self.routes  # fixed once confirmed (12.2.1.2)
        assert d.terminated == self.over


TestDialogMachine = DialogMachine.TestCase
TestDialogMachine.settings = settings(stateful_step_count=20)


@given(st.lists(st.integers(0, 2**31 - 1), min_size=1, max_size=8))
def test_remote_cseq_never_decreases(seqs: list[int]) -> None:
    """12.2.2: whatever arrives, the remote sequence number only grows."""
    d = Dialog("uas", _invite())
    d.response(_response(200))
    last = d.remote_seq or 0
    for seq in seqs:
        d.receive_request(_request("INFO", seq))
        assert (d.remote_seq or 0) >= last
        last = d.remote_seq or 0
