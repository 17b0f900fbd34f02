"""What the exchanges of several checks share: sending to the target, waiting for a final
response, leaving the target clean (ACK, BYE, CANCEL), and building the outcome."""

from __future__ import annotations

from sipfsm.errors import ParseError
from sipfsm.net.bounds import LimitExceeded
from sipfsm.probe import sdp
from sipfsm.probe.checks.base import Outcome, ProbeContext, st
from sipfsm.probe.io import Event, Exchange, Stopped
from sipfsm.probe.wire import Call, Msg, response_to

__all__ = [
    "CLEANUP_FAILURES",
    "REFUSALS",
    "answer_byes",
    "any_transport",
    "expected_train",
    "finish",
    "foreign",
    "give_up",
    "is_final",
    "is_response",
    "judged",
    "prefix_until",
    "refused",
    "send_to_target",
    "skipped",
    "start_invite",
    "unmatched",
    "wait_final",
]


def is_final(m: Msg, call: Call, method: str = "INVITE") -> bool:
    """A final response of our ``method`` transaction (matched per 17.1.3)."""
    return m.status >= 200 and call.matches(m, method)


def is_response(m: Msg, call: Call, method: str = "INVITE") -> bool:
    """Any response of our ``method`` transaction (matched per 17.1.3)."""
    return call.matches(m, method)


def foreign(x: Exchange, call: Call) -> list[Msg]:
    """What reached this exchange (by Call-ID or branch) that is neither a request nor a
    response of one of ``call``'s transactions (17.1.3): a response with another top Via
    branch, sent-by or CSeq method, or bytes that do not parse."""
    return [
        m
        for m in x.received
        if m.request is None and not any(call.matches(m, method) for method in call.branches)
    ]


def _why_foreign(m: Msg, call: Call) -> str:
    if m.msg is None:
        return f"unparsable ({m.error})"
    mine = call.branches.get(m.method)
    if mine is None:
        return f"CSeq method {m.method}: we sent no such request"
    if m.branch != mine:
        return f"top Via branch {m.branch}, ours {mine}"
    return f"top Via sent-by {m.sent_by}, ours {call.local.sent_by}"


def unmatched(x: Exchange, call: Call, expected: str, what: str) -> Outcome | None:
    """A failing outcome when ``what`` never came on our transaction but other messages did:
    8.2.6.2 copies the request's Via into the response, so a response the target meant for
    us matches our client transaction (17.1.3). None when nothing foreign came."""
    odd = foreign(x, call)
    if not odd:
        return None
    return Outcome(
        "fail",
        expected,
        f"no response matched our transaction (17.1.3) while waiting for {what}: "
        f"{len(odd)} other message(s) with our Call-ID, first {odd[0].summary()} "
        f"({_why_foreign(odd[0], call)}; 8.2.6.2: a response copies the request's Via)",
        list(x.trace),
    )


def expected_train(start_rel: float, offsets: list[float], label: str) -> list[Event]:
    return [Event(start_rel + o, "recv", f"{label} (+{o:.3f} s)") for o in offsets]


def any_transport(ctx: ProbeContext) -> st.SearchStrategy[str]:
    return st.sampled_from(list(ctx.target.transports))


async def start_invite(
    ctx: ProbeContext,
    x: Exchange,
    user: str | None,
    transport: str,
) -> Call:
    assert ctx.io is not None
    local = await ctx.io.local(transport)
    call = Call(ctx.target.uri(user), local, offer=sdp.offer(local.host))  # 13.2.1
    x.watch(call.call_id)
    await send_to_target(ctx, x, call.request("INVITE"), transport)
    return call


async def send_to_target(ctx: ProbeContext, x: Exchange, data: bytes, transport: str) -> float:
    return await x.send(data, transport, ctx.target.host, ctx.target.port)


async def wait_final(
    ctx: ProbeContext, x: Exchange, call: Call, wait: float, method: str = "INVITE"
) -> Msg | None:
    _, final = await x.until(x.now + wait, lambda m: is_final(m, call, method))
    return final


#: What may stop :func:`finish`'s cleanup without being the probe's own bug: the transport
#: (a socket error, a TCP connection the target closed: OSError; a timeout), the run being
#: stopped (:class:`~sipfsm.probe.io.Stopped`), a safety bound reached
#: (:class:`~sipfsm.net.bounds.LimitExceeded`), and a final response of the target whose
#: Contact or To breaks the ABNF (ParseError: no dialog can be built from it, 12.1.2). Anything
#: else (a TypeError, an AttributeError ...) is a bug of the probe and is not swallowed.
CLEANUP_FAILURES = (OSError, TimeoutError, Stopped, LimitExceeded, ParseError)


async def finish(
    ctx: ProbeContext, x: Exchange, call: Call, final: Msg | None, transport: str
) -> None:
    """Leave the target clean: ACK a non-2xx (17.1.1.3), ACK and BYE a 2xx (13.2.2.4, 15.1.1),
    CANCEL a call still ringing (9.1). (A BYE from the target is answered by
    :class:`~sipfsm.probe.io.ProbeIO` the moment it arrives.) The cleanup is best effort
    against the failures of :data:`CLEANUP_FAILURES` only: the verdict was reached before it."""
    try:
        if final is None:
            await send_to_target(ctx, x, call.cancel(), transport)
            final = await wait_final(ctx, x, call, ctx.answer_wait)
            if final is None:
                return
        resp = final.response
        assert resp is not None
        if resp.status >= 300:
            await send_to_target(ctx, x, call.ack_non_2xx(resp), transport)
            return
        await send_to_target(ctx, x, call.ack_2xx(resp), transport)
        await send_to_target(ctx, x, call.in_dialog("BYE"), transport)
        await x.until(x.now + ctx.answer_wait, lambda m: is_final(m, call, "BYE"))
    except CLEANUP_FAILURES:
        return


async def give_up(
    ctx: ProbeContext, x: Exchange, call: Call, final: Msg | None, transport: str, why: str
) -> Outcome:
    """The exchange cannot judge its rule: leave the target clean (:func:`finish`) and skip
    with ``why``; but when no final response came on our transaction and other messages did,
    fail (:func:`unmatched`); and when the target refused the INVITE before any provisional
    (:func:`refused`), inconclusive. Only checks whose rule is not about refusals give up on
    a final refusal."""
    await finish(ctx, x, call, final, transport)
    odd = unmatched(x, call, "", "a final response") if final is None else None
    return odd or refused(x, call, final) or skipped(x, why)


#: The final responses that turn a call away for the target's own state, whoever is called
#: (issue 13, defect 7): Temporarily Unavailable (21.4.18), Busy Here (21.4.24), Service
#: Unavailable (21.5.4), Busy Everywhere (21.6.1), Decline (21.6.2). A 404 or a 403 is about
#: the user called: a check that needs another user skips.
REFUSALS = frozenset({480, 486, 503, 600, 603})


def refused(x: Exchange, call: Call, final: Msg | None) -> Outcome | None:
    """A refusal (:data:`REFUSALS`) of our INVITE that came before any provisional response:
    the target turned the call away (a stateless 486 or 503 of a UA at its call limit, 8.2.7)
    before any transaction behaviour could be seen. Inconclusive with the reason, for a check
    whose rule is not about refusals; None otherwise."""
    if final is None or final.status not in REFUSALS:
        return None
    if any(is_response(m, call) and m.status < 200 and m.t <= final.t for m in x.received):
        return None
    resp = final.response
    reason = f"{final.status} {resp.reason if resp is not None else ''}".strip()
    return Outcome(
        "inconclusive",
        "",
        f"target refused: {reason} before any provisional response; a refusal, not the "
        "transaction behaviour this check judges",
        list(x.trace),
    )


async def answer_byes(x: Exchange, msgs: list[Msg]) -> None:
    """Role server: answer the BYEs among ``msgs`` (15.1.2) on a listener of our own."""
    for m in msgs:
        if m.request is not None and m.method == "BYE":
            await x.reply(response_to(m.request, 200), m)


def prefix_until(x: Exchange, until: float) -> list[Event]:
    """What happened before ``until``: the expected timeline starts the same way."""
    return [e for e in x.trace if e.t < x.rel(until) - 1e-9]


def skipped(x: Exchange, why: str, expected: str = "") -> Outcome:
    return Outcome("skip", expected, why, list(x.trace))


def judged(
    x: Exchange, problems: list[str], expected: str, ok: str, expected_trace: list[Event]
) -> Outcome:
    """Fail with the problems found, or pass saying ``ok``, with the exchange's trace."""
    return Outcome(
        "fail" if problems else "pass",
        expected,
        "; ".join(problems) or ok,
        list(x.trace),
        expected_trace,
    )
