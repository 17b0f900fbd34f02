"""The stateful proxy of RFC 3261 16, element by element, from the RFC's text (not from the
``models/proxy_*.toml`` it runs): 16.3's rejections (483, 416, 420 with Unsupported, 482), 16.5's
empty target set (480), 16.6's copy (Max-Forwards, Record-Route, Via), 16.7's response context
(100 not forwarded, 2xx at once, 6xx cancels the others, 503 becomes 500, best response) and
16.8's Timer C (more than 3 minutes; reset by a provisional; a CANCEL, or a 408).

Every message is bytes in and bytes out, strictly parsed.
"""

from __future__ import annotations

from sipfsm import Request, Response, parse
from sipfsm.message.build import build_request, build_response
from sipfsm.message.uri import URI
from sipfsm.proxy.location import Binding, LocationService
from sipfsm.proxy.proxy import StatefulProxy

HOST = "p.example.com"
AOR = "sip:bob@example.com"


def _proxy(contacts: tuple[str, ...] = ("sip:bob@192.0.2.4",), **kw: object) -> StatefulProxy:
    location = LocationService()
    for i, c in enumerate(contacts):
        location.put(AOR, Binding(URI.parse(c), 3600.0, 1.0 - i / 10, "reg", 1), 0.0)
    return StatefulProxy("p", HOST, ["example.com"], location, **kw)  # type: ignore[arg-type]


def _invite(
    uri: str = AOR, *, max_forwards: int = 70, headers: tuple[tuple[str, str], ...] = ()
) -> Request:
    return build_request(
        "INVITE",
        uri,
        from_="<sip:alice@a.example.org>;tag=1928301774",
        to=f"<{AOR}>",
        call_id="a84b4c76e66710@pc33.a.example.org",
        sent_by="pc33.a.example.org",
        branch="z9hG4bK776asdhds",
        max_forwards=max_forwards,
        headers=headers,
    )


def _send(proxy: StatefulProxy, msg: Request | Response, now: float) -> list[Request | Response]:
    proxy.receive(msg.raw, now)
    return [parse(d, strict=True) for d in proxy.drain()]


def _run(proxy: StatefulProxy, until: float) -> list[tuple[float, Request | Response]]:
    """Fire the proxy's timers up to ``until``; what it sends, with the instant."""
    out: list[tuple[float, Request | Response]] = []
    while (at := proxy.get_timer()) is not None and at <= until:
        proxy.handle_timer(at)
        out += [(at, parse(d, strict=True)) for d in proxy.drain()]
    return out


def _first(sent: list[tuple[float, Request | Response]]) -> list[tuple[float, Request | Response]]:
    """Without retransmissions (the same bytes again: Timers E and G over UDP)."""
    seen: set[bytes] = set()
    out = []
    for t, m in sent:
        if m.raw not in seen:
            seen.add(m.raw)
            out.append((t, m))
    return out


def _statuses(msgs: list[Request | Response]) -> list[int]:
    return [m.status for m in msgs if isinstance(m, Response)]


def _requests(msgs: list[Request | Response]) -> list[Request]:
    return [m for m in msgs if isinstance(m, Request)]


def _forwarded(proxy: StatefulProxy, msg: Request | None = None) -> list[Request]:
    return _requests(_send(proxy, msg or _invite(), 0.0))


# --- 16.3: validation -------------------------------------------------------------------


def test_max_forwards_zero_is_483_and_not_forwarded() -> None:
    out = _send(_proxy(), _invite(max_forwards=0), 0.0)
    assert 483 in _statuses(out) and not _requests(out)


def test_an_unknown_request_uri_scheme_is_416() -> None:
    out = _send(_proxy(), _invite("xmpp:bob@example.com"), 0.0)
    assert 416 in _statuses(out) and not _requests(out)


def test_an_unsupported_proxy_require_is_420_listing_it_in_unsupported() -> None:
    """16.3 item 6 (8.2.2.3): 420 (Bad Extension) with an Unsupported header field listing
    every option-tag of Proxy-Require the proxy does not support, as one comma list."""
    out = _send(_proxy(), _invite(headers=(("Proxy-Require", "foo"),)), 0.0)
    finals = [m for m in out if isinstance(m, Response) and m.status == 420]
    assert len(finals) == 1 and finals[0].unsupported == ["foo"] and not _requests(out)
    out = _send(_proxy(), _invite(headers=(("Proxy-Require", "foo, bar"),)), 0.0)
    (final,) = [m for m in out if isinstance(m, Response) and m.status == 420]
    assert final.unsupported == ["foo", "bar"]
    assert b"\r\nUnsupported: foo\r\nUnsupported: bar\r\n" in final.raw  # canonical name


def test_a_request_that_comes_back_is_482() -> None:
    """16.3 item 4: a request carrying this proxy's Via with the branch it would compute for
    it again has looped (here: the next hop sent the copy straight back)."""
    proxy = _proxy()
    (copy,) = _forwarded(proxy, _invite("sip:carol@other.example.net"))
    back = copy.with_header("Via", "SIP/2.0/UDP other.example.net;branch=z9hG4bKo1", first=True)
    out = _send(proxy, back, 0.1)
    assert 482 in _statuses(out) and not _requests(out)


def test_an_empty_target_set_is_480() -> None:
    """16.5: no binding for the AOR of our domain: 480 (Temporarily Unavailable)."""
    out = _send(_proxy(contacts=()), _invite(), 0.0)
    assert 480 in _statuses(out) and not _requests(out)


# --- 16.6: the forwarded copy -------------------------------------------------------------


def test_the_copy_goes_to_the_binding_with_max_forwards_one_less_and_a_new_top_via() -> None:
    (copy,) = _forwarded(_proxy())
    assert str(copy.uri) == "sip:bob@192.0.2.4"
    assert copy.max_forwards == 69
    assert [v.host for v in copy.via] == [HOST, "pc33.a.example.org"]
    assert copy.via[0].branch and copy.via[0].branch.startswith("z9hG4bK")


def test_a_copy_without_max_forwards_gets_70() -> None:
    """16.6 item 3: 'the proxy MUST add one with a field value, which SHOULD be 70'."""
    (copy,) = _forwarded(_proxy(), _invite().without_header("Max-Forwards"))
    assert copy.max_forwards == 70


def test_another_domain_s_request_uri_is_the_only_target() -> None:
    """16.5: a Request-URI of a domain the proxy is not responsible for is the target set."""
    (copy,) = _forwarded(_proxy(), _invite("sip:carol@other.example.net"))
    assert str(copy.uri) == "sip:carol@other.example.net"


def test_record_route_when_configured() -> None:
    """16.6 item 4: the proxy's URI with lr, before any existing Record-Route."""
    (copy,) = _forwarded(_proxy(record_route=True))
    assert [str(r.uri) for r in copy.record_route] == [f"sip:{HOST};lr"]
    (plain,) = _forwarded(_proxy())
    assert plain.record_route == []


def test_one_copy_per_binding_each_on_its_own_branch() -> None:
    """16.6: one branch per target; 16.6 item 8: the branch is unique per target."""
    copies = _forwarded(_proxy(contacts=("sip:bob@192.0.2.4", "sip:bob@198.51.100.7")))
    assert sorted(str(c.uri) for c in copies) == ["sip:bob@192.0.2.4", "sip:bob@198.51.100.7"]
    assert len({c.via[0].branch for c in copies}) == 2


# --- 16.7: responses ------------------------------------------------------------------------


def test_a_100_is_the_proxy_s_own_and_a_downstream_100_is_not_forwarded() -> None:
    proxy = _proxy()
    out = _send(proxy, _invite(), 0.0)
    assert _statuses(out) == [100]
    (copy,) = _requests(out)
    assert _send(proxy, build_response(copy, 100), 0.01) == []


def test_provisional_and_2xx_are_forwarded_with_the_top_via_removed() -> None:
    proxy = _proxy()
    (copy,) = _forwarded(proxy)
    ringing = _send(proxy, build_response(copy, 180, to_tag="b1"), 0.1)
    assert _statuses(ringing) == [180]
    assert [v.host for v in ringing[0].via] == ["pc33.a.example.org"]
    ok = _send(proxy, build_response(copy, 200, to_tag="b1"), 0.2)
    assert _statuses(ok) == [200]


def test_the_best_of_two_failures_is_forwarded_when_both_branches_are_done() -> None:
    """16.7 item 6: the lowest class (a 4xx before a 5xx), sent once every branch is done."""
    proxy = _proxy(contacts=("sip:bob@192.0.2.4", "sip:bob@198.51.100.7"))
    first, second = _forwarded(proxy)
    assert _statuses(_send(proxy, build_response(first, 500, to_tag="x"), 0.1)) == []
    out = _send(proxy, build_response(second, 486, to_tag="y"), 0.2)
    assert _statuses(out) == [486]


def test_a_503_chosen_becomes_500() -> None:
    """16.7 item 6: 'If the selected response is a 503 ... the proxy MUST generate a 500'."""
    proxy = _proxy()
    (copy,) = _forwarded(proxy)
    assert _statuses(_send(proxy, build_response(copy, 503, to_tag="x"), 0.1)) == [500]


def test_a_transport_error_on_a_branch_counts_as_a_503_not_a_408() -> None:
    """16.9: a transport error when forwarding: 'the proxy MUST behave as if the forwarded
    request received a 503 (Service Unavailable) response'; the only branch's 503 is chosen
    and, 16.7 item 6, goes upstream as a 500 (a timeout would have given 408)."""
    proxy = _proxy()
    _forwarded(proxy)
    (tx,) = proxy._branch_of  # the one client transaction (the transport is the test's)
    proxy.outputs(tx, proxy.layer.transport_error(tx, 0.1), 0.1)
    assert _statuses([parse(d, strict=True) for d in proxy.drain()]) == [500]


def test_a_6xx_cancels_the_other_branches_and_wins() -> None:
    """16.7 item 5: after a 6xx the pending branches are cancelled; the 6xx is forwarded."""
    proxy = _proxy(contacts=("sip:bob@192.0.2.4", "sip:bob@198.51.100.7"))
    first, second = _forwarded(proxy)
    _send(proxy, build_response(second, 180, to_tag="y"), 0.05)
    out = _send(proxy, build_response(first, 603, to_tag="x"), 0.1)
    assert [r.method for r in _requests(out)] == ["ACK", "CANCEL"]  # 17.1.1.3, then 9.1
    assert str(_requests(out)[1].uri) == str(second.uri)
    done = _send(proxy, build_response(second, 487, to_tag="y"), 0.2)
    assert _statuses(done) == [603]


def test_a_2xx_is_forwarded_at_once_and_cancels_the_other_branches() -> None:
    """16.7 items 5 and 10: the 2xx goes up at once; the pending branch is cancelled after
    its provisional (9.1: never before one)."""
    proxy = _proxy(contacts=("sip:bob@192.0.2.4", "sip:bob@198.51.100.7"))
    first, second = _forwarded(proxy)
    out = _send(proxy, build_response(first, 200, to_tag="x"), 0.1)
    assert _statuses(out) == [200] and not _requests(out)  # no provisional on `second` yet
    late = _send(proxy, build_response(second, 180, to_tag="y"), 0.2)
    assert [c.method for c in _requests(late)] == ["CANCEL"] and _statuses(late) == []


# --- 16.8: Timer C --------------------------------------------------------------------------


def test_timer_c_with_a_provisional_sends_a_cancel_after_more_than_three_minutes() -> None:
    proxy = _proxy()
    (copy,) = _forwarded(proxy)
    _send(proxy, build_response(copy, 180, to_tag="b1"), 1.0)
    sent = _first(_run(proxy, 200.0))
    cancels = [(t, m) for t, m in sent if isinstance(m, Request) and m.method == "CANCEL"]
    assert len(cancels) == 1
    at, cancel = cancels[0]
    assert at - 1.0 > 180 and cancel.via[0].branch == copy.via[0].branch  # 9.1
    upstream = _send(proxy, build_response(copy, 487, to_tag="b1"), at + 0.1)
    assert 487 in _statuses(upstream)


def test_no_final_response_64_t1_after_the_cancel_is_a_408_upstream() -> None:
    """9.1: no final response 64*T1 after the CANCEL: the INVITE's client transaction is
    taken as cancelled and destroyed; 16.7: the context's best response, none came: 408."""
    proxy = _proxy()
    (copy,) = _forwarded(proxy)
    _send(proxy, build_response(copy, 180, to_tag="b1"), 1.0)
    sent = _first(_run(proxy, 600.0))
    (cancel_at,) = [t for t, m in sent if isinstance(m, Request) and m.method == "CANCEL"]
    timeouts = [t for t, m in sent if isinstance(m, Response) and m.status == 408]
    assert timeouts and timeouts[0] - cancel_at == 64 * 0.5
    assert all(tx.request is not copy for tx in proxy.layer.transactions)


def test_a_provisional_resets_timer_c() -> None:
    """16.7 item 2: a 101-199 resets Timer C; the CANCEL comes that long after the last one."""
    proxy = _proxy()
    (copy,) = _forwarded(proxy)
    _send(proxy, build_response(copy, 180, to_tag="b1"), 1.0)
    assert [m for _, m in _run(proxy, 100.0) if isinstance(m, Request)] == []
    _send(proxy, build_response(copy, 183, to_tag="b1"), 100.0)
    sent = _first(_run(proxy, 600.0))
    (at,) = [t for t, m in sent if isinstance(m, Request) and m.method == "CANCEL"]
    assert at - 100.0 > 180


# --- 16.10: CANCEL --------------------------------------------------------------------------


def _cancel_of(invite: Request) -> Request:
    from sipfsm.message.build import build_cancel

    return build_cancel(invite)


def test_a_matching_cancel_is_answered_200_and_waits_for_a_provisional_downstream() -> None:
    """16.10: 200 to the CANCEL at once, the branches cancelled; 9.1: not before a provisional
    response on the branch; then the 487 is the best response upstream."""
    proxy = _proxy()
    invite = _invite()
    (copy,) = _requests(_send(proxy, invite, 0.0))
    out = _send(proxy, _cancel_of(invite), 1.0)
    assert _statuses(out) == [200] and not _requests(out)
    ringing = _send(proxy, build_response(copy, 180, to_tag="b1"), 1.1)
    cancels = [r for r in _requests(ringing) if r.method == "CANCEL"]  # (INVITE resent: A)
    assert len(cancels) == 1 and cancels[0].via[0].branch == copy.via[0].branch
    final = _send(proxy, build_response(copy, 487, to_tag="b1"), 1.2)
    assert 487 in _statuses(final)


def test_a_cancel_after_the_final_response_is_still_answered_200() -> None:
    """16.10: a matching context exists: 200; nothing is cancelled downstream."""
    proxy = _proxy()
    invite = _invite()
    (copy,) = _requests(_send(proxy, invite, 0.0))
    _send(proxy, build_response(copy, 200, to_tag="b1"), 0.5)
    out = _send(proxy, _cancel_of(invite), 0.6)
    assert _statuses(out) == [200] and not _requests(out)


def test_timer_c_after_a_100_only_cancels_and_then_a_408_goes_upstream() -> None:
    """16.8: a 100 is a provisional response (9.1), so Timer C (not reset by it, 16.7 item 2)
    brings a CANCEL; with no final response 64*T1 later (9.1), the context's best is a 408."""
    proxy = _proxy()
    (copy,) = _forwarded(proxy)
    _send(proxy, build_response(copy, 100), 0.01)
    sent = _first(_run(proxy, 600.0))
    (cancel_at,) = [t for t, m in sent if isinstance(m, Request) and m.method == "CANCEL"]
    assert 180 < cancel_at < 182
    timeouts = [(t, m) for t, m in sent if isinstance(m, Response) and m.status == 408]
    assert len(timeouts) == 1 and timeouts[0][0] == cancel_at + 64 * 0.5
    assert [v.host for v in timeouts[0][1].via] == ["pc33.a.example.org"]


def test_a_cancel_before_any_provisional_waits_for_the_100() -> None:
    """9.1: 'If no provisional response has been received, the CANCEL request MUST NOT be
    sent'; a 100 is a provisional response."""
    proxy = _proxy()
    invite = _invite()
    (copy,) = _requests(_send(proxy, invite, 0.0))
    _send(proxy, _cancel_of(invite), 0.1)
    trying = _send(proxy, build_response(copy, 100), 0.2)
    assert [r.method for r in _requests(trying)] == ["CANCEL"]


def test_the_proxy_forgets_a_request_once_its_transactions_end() -> None:
    """17.1.1.2, 17.2.1 (RFC 6026 Timers L, M): the transactions end; the proxy keeps no
    response context or branch of them (nothing grows with the calls it has carried)."""
    proxy = _proxy()
    (copy,) = _forwarded(proxy)
    _send(proxy, build_response(copy, 180, to_tag="b1"), 0.1)
    _send(proxy, build_response(copy, 200, to_tag="b1"), 0.2)
    _run(proxy, 600.0)
    assert proxy.get_timer() is None
    assert len(proxy.layer) == 0 and proxy.contexts == {}


def test_a_branch_still_cancelling_outlives_its_server_transaction() -> None:
    """16.7 item 10, 9.1: after a 2xx the other branch is CANCELled; if its final response
    never comes, its 64*T1 still runs out after the server transaction ended (RFC 6026 Timer
    L), so its client transaction ends too."""
    proxy = _proxy(contacts=("sip:bob@192.0.2.4", "sip:bob@198.51.100.7"))
    first, second = _forwarded(proxy)
    _send(proxy, build_response(second, 180, to_tag="y"), 0.1)
    _send(proxy, build_response(first, 200, to_tag="x"), 20.0)  # CANCEL of `second` at 20 s
    _run(proxy, 600.0)
    assert proxy.get_timer() is None
    assert len(proxy.layer) == 0 and proxy.contexts == {}


def test_a_strict_router_upstream_is_undone_keeping_the_other_routes() -> None:
    """16.4: a Request-URI that this proxy put in a Record-Route is replaced by the last Route
    value, which is removed; every other Route value stays, in order."""
    from sipfsm.proxy.forward import preprocessed

    req = build_request(
        "BYE",
        "sip:p1.atlanta.com;lr",
        from_="<sip:alice@atlanta.com>;tag=1928301774",
        to="<sip:bob@biloxi.com>;tag=a6c85cf",
        call_id="a84b4c76e66710",
        cseq=231,
        sent_by="pc33.atlanta.com",
        branch="z9hG4bKstrict1",
        headers=[
            ("Route", "<sip:p2.biloxi.com;lr>"),
            ("Route", "<sip:p3.biloxi.com;lr>"),
            ("Route", "<sip:bob@192.0.2.4>"),
        ],
    )
    out = preprocessed(req, "p1.atlanta.com")
    assert str(out.uri) == "sip:bob@192.0.2.4"
    assert [str(r.uri) for r in out.route] == ["sip:p2.biloxi.com;lr", "sip:p3.biloxi.com;lr"]


def test_a_loop_is_only_a_via_of_this_proxy_with_its_key() -> None:
    """16.3 item 4: a loop is a Via whose sent-by this proxy placed, with the branch it would
    compute now; the same branch under another host's sent-by is not this proxy's."""
    from sipfsm.proxy.forward import branch_for, is_loop

    def invite(via_host: str, branch: str) -> Request:
        probe = build_request(
            "INVITE",
            "sip:bob@biloxi.com",
            from_="<sip:alice@atlanta.com>;tag=1928301774",
            to="<sip:bob@biloxi.com>",
            call_id="a84b4c76e66710",
            cseq=314159,
            sent_by="pc33.atlanta.com",
            branch="z9hG4bK776asdhds",
        )
        return probe.evolve(
            headers=[("Via", f"SIP/2.0/UDP {via_host};branch={branch}")]
            + [(h.canonical, h.value) for h in probe.headers]
        )

    base = invite("pc33.atlanta.com", "z9hG4bKx")
    ours = branch_for(base, "p1.atlanta.com", 0)
    assert is_loop(invite("p1.atlanta.com", ours), "p1.atlanta.com")
    assert not is_loop(invite("p2.biloxi.com", ours), "p1.atlanta.com")
    assert not is_loop(invite("p1.atlanta.com", "z9hG4bKother.0"), "p1.atlanta.com")
