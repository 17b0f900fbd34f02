"""The ``malformed`` check (8.2, 21.4, RFC 4475): malformed and semantically wrong requests
(:mod:`sipfsm.probe.corpus`) get the response the RFC prescribes, or are dropped where that
is allowed; never accepted."""

from __future__ import annotations

from typing import Any

from sipfsm.errors import ParseError
from sipfsm.message.message import Response
from sipfsm.probe import sdp
from sipfsm.probe.checks.base import Outcome, Params, ProbeContext, st
from sipfsm.probe.checks.common import finish, send_to_target, skipped
from sipfsm.probe.corpus import Case, corpus_available, corpus_cases
from sipfsm.probe.io import Event, Exchange, ProbeIO
from sipfsm.probe.wire import Call, Local, Msg


def malformed_explicit(ctx: ProbeContext) -> list[Params]:
    if not corpus_available():
        return []
    return [{"case": c.name} for c in corpus_cases(ctx.target.hostport, "127.0.0.1:1")]


def malformed_params(ctx: ProbeContext) -> st.SearchStrategy[Params]:
    from sipfsm.testing.strategies import DEFECTS, malformed_messages

    names = sorted(n for n, d in DEFECTS.items() if d.applies_to in ("request", "any"))
    return st.fixed_dictionaries(
        {
            "defect": st.sampled_from(names),
            "message": st.sampled_from(names)
            .flatmap(malformed_messages)
            .map(lambda m: (m.defect, m.original)),
        }
    ).map(lambda d: {"case": "generated", "defect": d["message"][0], "original": d["message"][1]})


async def malformed(ctx: ProbeContext, p: Params) -> Outcome:
    """8.2, 21.4, RFC 4475: a malformed or semantically wrong request gets the response the
    RFC prescribes (400, 416, 420, 415, 505 ...), or is dropped where that is allowed; it is
    never accepted. Each is sent from a socket of its own, and when the target answered
    OPTIONS before, an OPTIONS from that socket follows (:func:`_alive`): a target that
    stops answering a source after one message is found, and no other check is touched."""
    assert ctx.io is not None
    if "udp" not in ctx.target.transports:
        return skipped(
            ctx.io.exchange("malformed"),
            "malformed requests are sent over UDP (a framing defect would "
            "kill a TCP connection); the target has no UDP",
        )
    io = await ctx.io.fresh(udp_only=True)
    x = io.exchange("malformed")
    try:
        out = await _one_case(ctx, io, x, p)
        if ctx.answers_options and out.verdict != "skip":
            stopped = await _alive(ctx, io, x, p)
            if stopped is not None:
                return Outcome(
                    "fail",
                    out.expected,
                    f"{stopped}; the case itself: {out.observed}",
                    list(x.trace),
                    out.expected_trace,
                )
        return out
    finally:
        x.close()
        await io.close()


async def _alive(ctx: ProbeContext, io: ProbeIO, x: Exchange, p: Params) -> str | None:
    """The liveness re-check after one case: an OPTIONS from the case's own source (11.1),
    which the target answered before the corpus began; None when anything comes back, else
    the finding (RFC 4475 1: the torture messages test that an element survives them)."""
    local = await io.local("udp")
    call = Call(ctx.target.uri(ctx.target.user), local)
    x.watch(call.call_id)
    x.note("liveness re-check: OPTIONS from the same source")
    await send_to_target(ctx, x, call.request("OPTIONS"), "udp")
    _, back = await x.until(x.now + ctx.answer_wait, lambda m: _for(m, call.call_id))
    if back is not None:
        return None
    case = p["case"] if p["case"] != "generated" else f"a generated {p['defect']} request"
    return (
        f"peer stopped answering after {case}: no answer to an OPTIONS from the same source "
        f"within {ctx.answer_wait:g} s (it answered OPTIONS before the malformed corpus)"
    )


def _for(m: Msg, call_id: str) -> bool:
    """Whether ``m`` carries ``call_id``, parsed or not (anything back shows the target alive,
    as at first contact)."""
    return m.call_id == call_id or (m.msg is None and call_id.encode() in m.data)


async def _one_case(ctx: ProbeContext, io: ProbeIO, x: Exchange, p: Params) -> Outcome:
    """One malformed request and its verdict."""
    local = await io.local("udp")
    sent_by = f"{local.host}:{local.port}"  # what the corpus's top Via carries
    case: Case | None
    if p["case"] == "generated":
        from sipfsm.testing.strategies import DEFECTS

        case = _generated_case(p, ctx, sent_by, DEFECTS)
        if case is None:
            return skipped(x, "generated message is not a request that gets an answer")
    else:
        case = next(
            (
                c
                for c in corpus_cases(ctx.target.hostport, sent_by, user=ctx.users.answer)
                if c.name == p["case"]
            ),
            None,
        )
        if case is None:
            return skipped(x, f"corpus message {p['case']} not found")
    x.watch(*case.call_ids, case.branch)
    t = await send_to_target(ctx, x, case.data, "udp")
    wait = min(max(16 * ctx.base.t1, 1.0), 4.0)

    def final_of(m: Msg) -> bool:
        return m.status >= 200 and _answers(m, case, local.sent_by)

    _, final = await x.until(t + wait, final_of)
    odd = [m for m in x.received if m.request is None and not _answers(m, case, local.sent_by)]
    if final is None and odd:
        return Outcome(
            "fail",
            f"{case.name}: {case.expect.describe()} ({case.expect.section})",
            f"{case.name}: no response matched our transaction (17.1.3): "
            f"{len(odd)} other message(s), first {odd[0].summary()} (top Via branch "
            f"{odd[0].branch}, sent-by {odd[0].sent_by}; ours {case.branch}, {sent_by})",
            list(x.trace),
        )
    if final is not None and case.method == "INVITE" and final.response is not None:
        await _clean_up(ctx, x, local, case, final.response, final)
    ok, why = case.expect.judge(final.status if final is not None else None)
    exp = [
        Event(x.rel(t), "send", f"{case.name}"),
        Event(x.rel(t), "recv", case.expect.describe()),
    ]
    return Outcome(
        "pass" if ok else "fail",
        f"{case.name}: {case.expect.describe()} ({case.expect.section})",
        f"{case.name}: {why}",
        list(x.trace),
        exp,
    )


async def _clean_up(
    ctx: ProbeContext, x: Exchange, local: Local, case: Case, resp: Response, final: Msg
) -> None:
    """Leave the target clean after an INVITE of the corpus: ACK its non-2xx (17.1.1.3), ACK
    and BYE its 2xx (:func:`~sipfsm.probe.checks.common.finish`). The Call-ID is echoed as
    the target wrote it (it may be the defect under test, RFC 4475); a From tag or CSeq that
    breaks its ABNF leaves nothing to build the ACK from: noted, not cleaned up."""
    try:
        from_tag = (resp.from_.tag if resp.from_ else None) or ""
        cseq = resp.cseq.seq if resp.cseq else 1
    except ParseError as exc:
        x.note(f"no ACK: the {resp.status}'s From or CSeq breaks its ABNF ({exc.code})")
        return
    call = Call(
        str(ctx.target.uri("user")),
        local,
        call_id=resp.get("Call-ID") or "",
        from_tag=from_tag,
        cseq=cseq,
        branch=case.branch or "",
        # the corpus request's own offer, if it made one: the ACK of a 2xx then has no answer
        offer=case.data if sdp.MIME.encode() in case.data.lower() else b"",
    )
    if resp.status >= 300:
        await send_to_target(ctx, x, call.ack_non_2xx(resp), "udp")
    else:
        await finish(ctx, x, call, final, "udp")


def _answers(m: Msg, case: Case, ours: str) -> bool:
    """17.1.3: a response to ``case``: the top Via's branch is the one we wrote (the defect
    of ``badbranch`` included) and its sent-by ``ours`` (:attr:`Local.sent_by`). The CSeq
    method is not compared: it may be the defect under test. A case without a branch is
    matched by its Call-IDs."""
    if m.response is None:
        return False
    if case.branch is None:
        return m.call_id in case.call_ids
    return m.branch == case.branch and m.sent_by == ours


def _generated_case(
    p: Params, ctx: ProbeContext, sent_by: str, defects: dict[str, Any]
) -> Case | None:
    from sipfsm.probe.corpus import rewrite_generated

    d = defects[p["defect"]]
    return rewrite_generated(
        p["original"], p["defect"], d.apply, ctx.target.uri(ctx.users.answer), sent_by
    )
