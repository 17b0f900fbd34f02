"""Matching messages to transactions (RFC 3261 17.1.3, 17.2.3) with hand-built keys."""

from __future__ import annotations

from dataclasses import replace
from typing import TypedDict

from hypothesis import given
from hypothesis import strategies as st

from sipfsm import Send, ToTU, TransactionKey, TransactionLayer
from sipfsm.testing import strategies as sips

INVITE = TransactionKey("INVITE", branch="z9hG4bK776asdhds", sent_by="pc33.atlanta.com:5060")


def test_retransmitted_request_matches_and_gets_the_last_response() -> None:
    layer = TransactionLayer()
    tx, out = layer.receive_request(INVITE, "INV", 0.0)
    assert tx is not None and [o.what for o in out if isinstance(o, ToTU)] == ["request"]
    layer.respond(tx, 180, 0.1)
    again, out = layer.receive_request(INVITE, "INV", 0.2)
    assert again is tx and len(layer) == 1
    assert [(o.status, o.retransmission) for o in out if isinstance(o, Send)] == [(180, True)]


def test_sent_by_and_method_are_part_of_the_match() -> None:
    layer = TransactionLayer()
    tx, _ = layer.receive_request(INVITE, "INV", 0.0)
    other_host = TransactionKey("INVITE", branch=INVITE.branch, sent_by="evil.example:5060")
    cancel = TransactionKey("CANCEL", branch=INVITE.branch, sent_by=INVITE.sent_by)
    assert layer.receive_request(other_host, "INV", 0.1)[0] is not tx
    cancel_tx, _ = layer.receive_request(cancel, "CANCEL", 0.2)
    assert cancel_tx is not tx and cancel_tx is not None
    assert cancel_tx.table.name == "non_invite_server"
    assert layer.match_cancel(cancel) is tx  # 9.2: the INVITE the CANCEL is for
    assert len(layer) == 3


def test_ack_for_non_2xx_matches_the_invite_server_transaction() -> None:
    layer = TransactionLayer()
    tx, _ = layer.receive_request(INVITE, "INV", 0.0)
    assert tx is not None
    layer.respond(tx, 486, 0.1)
    ack = TransactionKey("ACK", branch=INVITE.branch, sent_by=INVITE.sent_by)
    matched, _ = layer.receive_request(ack, "ACK", 0.2)
    assert matched is tx and tx.state == "Confirmed"


def test_ack_for_2xx_is_a_new_transaction_of_the_core() -> None:
    layer = TransactionLayer(profile="rfc3261")
    tx, _ = layer.receive_request(INVITE, "INV", 0.0)
    assert tx is not None
    layer.respond(tx, 200, 0.1)
    assert tx.terminated and len(layer) == 0  # RFC 3261: destroyed at once
    ack = TransactionKey("ACK", branch="z9hG4bKnewbranch", sent_by=INVITE.sent_by)
    assert layer.receive_request(ack, "ACK", 0.2) == (None, [])


class _Rfc2543Key(TypedDict):
    """What 17.2.3 matches an RFC 2543 request on, besides method and To tag."""

    request_uri: str
    from_tag: str
    call_id: str
    cseq: int
    top_via: str


def test_rfc2543_requests_match_on_uri_tags_call_id_cseq_and_via() -> None:
    base: _Rfc2543Key = {
        "request_uri": "sip:bob@biloxi.com",
        "from_tag": "88sja8x",
        "call_id": "987asjd97y7atg",
        "cseq": 986759,
        "top_via": "SIP/2.0/UDP pc33.atlanta.com:5060;",
    }
    invite = TransactionKey("INVITE", branch="1234", **base)
    layer = TransactionLayer()
    tx, _ = layer.receive_request(invite, "INV", 0.0)
    assert tx is not None and not invite.rfc3261
    assert layer.receive_request(invite, "INV", 0.1)[0] is tx
    layer.respond(tx, 404, 0.2, to_tag="99sa0xk")
    wrong = TransactionKey("ACK", to_tag="other", **base)
    right = TransactionKey("ACK", to_tag="99sa0xk", **base)
    assert layer.receive_request(wrong, "ACK", 0.3) == (None, [])
    assert layer.receive_request(right, "ACK", 0.3)[0] is tx and tx.state == "Confirmed"
    bye = TransactionKey("BYE", **(base | {"cseq": 986760}))
    assert layer.receive_request(bye, "BYE", 0.4)[0] is not tx


def test_responses_match_client_transactions_on_branch_and_cseq_method() -> None:
    layer = TransactionLayer()
    invite, _ = layer.send_request(INVITE, "INV", 0.0)
    cancel, _ = layer.send_request(TransactionKey("CANCEL", branch=INVITE.branch), "CAN", 0.1)
    resp = TransactionKey("INVITE", branch=INVITE.branch)
    tx, _ = layer.receive_response(resp, "180", 180, 0.2)
    assert tx is invite and invite.state == "Proceeding"
    tx, _ = layer.receive_response(TransactionKey("CANCEL", branch=INVITE.branch), "200", 200, 0.3)
    assert tx is cancel and cancel.state == "Completed"
    stray = TransactionKey("INVITE", branch="z9hG4bKstray")
    assert layer.receive_response(stray, "200", 200, 0.4) == (None, [])


class _Message:
    """A stand-in for the parser's message: ``get(name)`` and a method and URI."""

    def __init__(
        self, headers: dict[str, str], method: str | None = None, uri: str | None = None
    ) -> None:
        self.headers, self.method, self.uri = headers, method, uri

    def get(self, name: str) -> str | None:
        return self.headers.get(name)


def test_key_from_a_message_object() -> None:
    msg = _Message(
        {
            "v": "SIP/2.0/UDP PC33.Atlanta.com;branch=z9hG4bKkjshdyff, SIP/2.0/UDP other.example",
            "To": "Bob <sip:bob@biloxi.com>;tag=99sa0xk",
            "From": "Alice <sip:alice@atlanta.com>;tag=88sja8x",
            "Call-ID": "987asjd97y7atg",
            "CSeq": "986759 ACK",
        },
        method="ACK",
        uri="sip:bob@biloxi.com",
    )
    key = TransactionKey.from_message(msg)
    assert key.method == "ACK" and key.branch == "z9hG4bKkjshdyff" and key.rfc3261
    assert key.sent_by == "pc33.atlanta.com:5060"
    assert (key.to_tag, key.from_tag, key.cseq) == ("99sa0xk", "88sja8x", 986759)
    assert key.server_id() == ("3261", "z9hG4bKkjshdyff", "pc33.atlanta.com:5060", "INVITE")
    response = TransactionKey.from_message(
        _Message({"Via": "SIP/2.0/TLS h;branch=z9hG4bKx", "CSeq": "1 INVITE"})
    )
    assert response.method == "INVITE" and response.sent_by == "h:5061"


def test_one_timer_heap_for_all_transactions_and_terminated_ones_are_forgotten() -> None:
    layer = TransactionLayer()
    for i in range(50):
        layer.send_request(TransactionKey("OPTIONS", branch=f"z9hG4bK{i}"), "OPT", i * 0.01)
    assert layer.get_timer() == 0.5
    fired = layer.handle_timer(0.5)
    assert len(fired) == 1 and isinstance(fired[0][1][-1], Send)
    layer.handle_timer(1000.0)  # every Timer F: all time out, all are forgotten
    assert len(layer) == 0 and layer.get_timer() is None


# --- matching is two-sided: one matched field apart, no match ---------------------------------

RFC2543 = TransactionKey(
    "INVITE",
    branch="1234",
    request_uri="sip:bob@biloxi.com",
    from_tag="88sja8x",
    call_id="987asjd97y7atg",
    cseq=986759,
    top_via="SIP/2.0/UDP pc33.atlanta.com:5060;",
)


def _other(key: TransactionKey, field: str, word: str) -> TransactionKey:
    """``key`` with ``field`` changed to another value built from ``word``."""
    old = getattr(key, field)
    if field == "cseq":
        return replace(key, cseq=old + 1 + len(word))
    if field == "branch" and key.rfc3261:
        return replace(key, branch=f"{old}{word}")  # keeps the magic cookie
    if field == "method":
        return replace(key, method=word if word not in ("INVITE", "ACK") else "OPTIONS")
    return replace(key, **{field: f"{old or ''}{word}"})  # type: ignore[arg-type]


@given(field=st.sampled_from(["branch", "sent_by", "method"]), word=sips.tokens())
def test_a_request_one_field_apart_matches_no_rfc3261_transaction(field: str, word: str) -> None:
    """17.2.3: branch, sent-by and method (ACK and CANCEL aside) identify a server
    transaction; a request that differs in one of them belongs to another one."""
    layer = TransactionLayer()
    tx, _ = layer.receive_request(INVITE, "INV", 0.0)
    other = _other(INVITE, field, word)
    assert layer.match_request(INVITE) is tx and layer.match_request(other) is None
    if field != "method":  # 9.2: the CANCEL of another transaction cancels nothing here
        assert layer.match_cancel(replace(INVITE, method="CANCEL")) is tx
        assert layer.match_cancel(replace(other, method="CANCEL")) is None


@given(
    field=st.sampled_from(["request_uri", "from_tag", "call_id", "cseq", "top_via", "method"]),
    word=sips.tokens(),
)
def test_a_request_one_field_apart_matches_no_rfc2543_transaction(field: str, word: str) -> None:
    """17.2.3, RFC 2543 rules: Request-URI, From tag, Call-ID, CSeq, top Via (and To tag)
    identify the transaction; its ACK matches on all of them but the To tag, checked against
    the response's."""
    layer = TransactionLayer()
    tx, _ = layer.receive_request(RFC2543, "INV", 0.0)
    assert tx is not None
    assert layer.match_request(RFC2543) is tx
    assert layer.match_request(_other(RFC2543, field, word)) is None
    layer.respond(tx, 404, 0.1, to_tag="99sa0xk")
    ack = replace(RFC2543, method="ACK", to_tag="99sa0xk")
    assert layer.match_request(ack) is tx
    if field != "method":
        assert layer.match_request(_other(ack, field, word)) is None
    assert layer.match_request(_other(ack, "to_tag", word)) is None


@given(field=st.sampled_from(["branch", "method"]), word=sips.tokens())
def test_a_response_one_field_apart_matches_no_client_transaction(field: str, word: str) -> None:
    """17.1.3: a response matches the client transaction of its top Via branch and its CSeq
    method; one of them different, it is stray."""
    layer = TransactionLayer()
    tx, _ = layer.send_request(INVITE, "INV", 0.0)
    assert layer.receive_response(_other(INVITE, field, word), "180", 180, 0.1) == (None, [])
    assert layer.receive_response(INVITE, "180", 180, 0.2)[0] is tx


class _Fields:
    """A HeaderSource: a message reduced to its header fields."""

    def __init__(self, **fields: str) -> None:
        self.fields = {k.replace("_", "-").lower(): v for k, v in fields.items()}

    def get(self, name: str) -> str | None:
        return self.fields.get(name.lower())


def test_the_key_of_a_message_without_via_and_of_an_rfc2543_via() -> None:
    """17.2.3: with no Via there is no branch nor sent-by; an RFC 2543 Via (no magic cookie)
    is compared normalised: host lower-cased, default port, parameters sorted and joined by
    ";"."""
    bare = TransactionKey.from_message(
        _Fields(call_id="x", cseq="1 OPTIONS"), method="OPTIONS", request_uri="sip:a@b"
    )
    assert (bare.branch, bare.sent_by, bare.top_via) == (None, None, None)
    old = TransactionKey.from_message(
        _Fields(via="SIP/2.0/UDP Host.Example;b=2;a=1", call_id="x", cseq="1 OPTIONS"),
        method="OPTIONS",
        request_uri="sip:a@b",
    )
    assert old.sent_by == "host.example:5060"
    assert old.top_via == "SIP/2.0/UDP host.example:5060;a=1;b=2"
