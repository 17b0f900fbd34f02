"""Checks of the target's INVITE server side: the INVITE server transaction (17.2.1: Timer G
retransmits a non-2xx final until Timer H or the ACK; a retransmitted INVITE is absorbed) and
the UAS core's 2xx retransmissions (13.3.1.4: until the ACK, else for 64*T1 and then a BYE)."""

from __future__ import annotations

from sipfsm.probe.checks.base import Outcome, Params, ProbeContext
from sipfsm.probe.checks.common import (
    expected_train,
    finish,
    give_up,
    is_final,
    is_response,
    judged,
    prefix_until,
    send_to_target,
    skipped,
    start_invite,
    wait_final,
)
from sipfsm.probe.io import Event, Exchange
from sipfsm.probe.oracle import doubling, judge_train
from sipfsm.probe.wire import Call, Msg


async def invite_server_final_retransmit(ctx: ProbeContext, p: Params) -> Outcome:
    """17.2.1: a non-2xx final response is retransmitted at T1, 2T1, ... (cap T2) over UDP
    until Timer H (64*T1) when no ACK comes; never over TCP."""
    assert ctx.io is not None
    transport = p["transport"]
    reliable = transport == "tcp"
    x = ctx.io.exchange("invite-server-final-retransmit")
    try:
        call = await start_invite(ctx, x, p["user"], transport)
        final = await wait_final(ctx, x, call, max(ctx.answer_wait, 4 * ctx.base.t1))
        if final is None or final.status < 300:
            return await give_up(
                ctx,
                x,
                call,
                final,
                transport,
                f"target answered {final.status if final else 'no final'} "
                "within the wait; the check needs a non-2xx final response",
            )
        offsets = [] if reliable else doubling(ctx.base.t1, ctx.base.t2, ctx.t64)
        end = final.t + ctx.t64 + ctx.tol.of(ctx.t64) + ctx.grace
        msgs = await x.sleep_until(end)
        same = [m for m in msgs if is_response(m, call) and m.status == final.status]
        other = [m for m in msgs if is_response(m, call) and m.status != final.status]
        tags = {m.to_tag for m in same} - {final.to_tag}
        verdict = judge_train(final.t, [m.t for m in same], offsets, ctx.t64, ctx.tol)
        await send_to_target(ctx, x, call.ack_non_2xx(final.response), transport)  # type: ignore[arg-type]
        expected_line = (
            f"{final.status} retransmitted {len(offsets)} times "
            f"(T1={ctx.base.t1:g}, T2={ctx.base.t2:g}) until Timer H "
            f"{ctx.t64:g} s"
            if not reliable
            else f"no retransmission over TCP (Timer G is UDP only); H {ctx.t64:g} s"
        )
        exp = [
            *prefix_until(x, final.t),
            Event(x.rel(final.t), "recv", f"{final.status} (final)"),
            *expected_train(x.rel(final.t), offsets, f"{final.status} again: Timer G"),
            Event(x.rel(final.t) + ctx.t64, "note", "Timer H: transaction ends"),
        ]
        problems = [verdict.problem] if not verdict.ok else []
        if other:
            problems.append(f"{other[0].status} after the final {final.status}")
        if tags:
            problems.append(f"retransmission with another To tag {sorted(t or '' for t in tags)}")
        return judged(x, problems, expected_line, verdict.problem, exp)
    finally:
        x.close()


async def invite_server_ack_stops_retransmit(ctx: ProbeContext, p: Params) -> Outcome:
    """17.2.1: the ACK of a non-2xx moves the INVITE server transaction to Confirmed; Timer G
    stops: no retransmission of the final response after it."""
    assert ctx.io is not None
    transport = p["transport"]
    reliable = transport == "tcp"
    k = 0 if reliable else p["acks_after"]
    x = ctx.io.exchange("invite-server-ack-stops-retransmit")
    try:
        call = await start_invite(ctx, x, p["user"], transport)
        final = await wait_final(ctx, x, call, max(ctx.answer_wait, 4 * ctx.base.t1))
        if final is None or final.status < 300:
            return await give_up(
                ctx,
                x,
                call,
                final,
                transport,
                f"target answered {final.status if final else 'no final'}; "
                "the check needs a non-2xx final response",
            )
        offsets = doubling(ctx.base.t1, ctx.base.t2, ctx.t64)
        seen = 0
        if k:
            due = final.t + offsets[min(k, len(offsets)) - 1] + ctx.tol.of(ctx.base.t2) + 0.05

            def count(m: Msg) -> bool:
                nonlocal seen
                if is_response(m, call) and m.status == final.status:
                    seen += 1
                return seen >= k

            await x.until(due, count)
        t_ack = await send_to_target(ctx, x, call.ack_non_2xx(final.response), transport)  # type: ignore[arg-type]
        nxt = [o for o in offsets if final.t + o > t_ack]
        watch = (nxt[1] if len(nxt) > 1 else nxt[0] if nxt else 0.0) + ctx.tol.of(ctx.base.t2)
        watch = max(final.t + watch, t_ack + 4 * ctx.base.t1)
        msgs = await x.sleep_until(watch)
        late = [m for m in msgs if is_response(m, call) and m.t > t_ack + ctx.grace]
        exp = [
            *prefix_until(x, final.t),
            Event(x.rel(final.t), "recv", f"{final.status} (final)"),
            *expected_train(
                x.rel(final.t),
                [o for o in offsets if final.t + o < t_ack],
                f"{final.status} again: Timer G",
            ),
            Event(x.rel(t_ack), "send", "ACK"),
            Event(x.rel(t_ack), "note", "Confirmed: Timer G stopped, nothing more"),
        ]
        expected_line = f"no {final.status} after our ACK (sent after {seen} retransmissions)"
        if late:
            return Outcome(
                "fail",
                expected_line,
                f"{len(late)} response(s) after the ACK, first "
                f"+{late[0].t - t_ack:.3f} s after it: {late[0].summary()}",
                list(x.trace),
                exp,
            )
        return Outcome(
            "pass",
            expected_line,
            f"silent for {watch - t_ack:.3f} s after the ACK",
            list(x.trace),
            exp,
        )
    finally:
        x.close()


# --------------------------------------------------------------------------- 13.3.1.4 2xx


async def _answered_call(
    ctx: ProbeContext, x: Exchange, transport: str
) -> Outcome | tuple[Call, Msg]:
    """INVITE the answering user and wait for its final response: (call, 2xx), or a skip
    when no user answers 2xx (13.3.1.4 needs one)."""
    if ctx.users.answer is None:
        return skipped(x, "no user known to answer 2xx (--user-answer)")
    call = await start_invite(ctx, x, ctx.users.answer, transport)
    final = await wait_final(ctx, x, call, max(ctx.answer_wait, 8 * ctx.base.t1))
    if final is None or final.status >= 300:
        return await give_up(
            ctx,
            x,
            call,
            final,
            transport,
            f"target answered {final.status if final else 'no final'}; "
            "the check needs a 2xx (an answering user)",
        )
    return call, final


async def uas_2xx_retransmit(ctx: ProbeContext, p: Params) -> Outcome:
    """13.3.1.4: the UAS core retransmits the 2xx at T1, 2T1, ... (cap T2), on every
    transport, until the ACK; then stops."""
    assert ctx.io is not None
    transport, k = p["transport"], int(p["k"])
    x = ctx.io.exchange("uas-2xx-retransmit")
    try:
        answered = await _answered_call(ctx, x, transport)
        if isinstance(answered, Outcome):
            return answered
        call, final = answered
        offsets = doubling(ctx.base.t1, ctx.base.t2, ctx.t64)
        k = min(k, len(offsets))
        due = final.t + offsets[k - 1] + ctx.tol.of(ctx.base.t2) + ctx.grace
        seen: list[Msg] = []

        def count(m: Msg) -> bool:
            if is_response(m, call) and 200 <= m.status < 300:
                seen.append(m)
            return len(seen) >= k

        await x.until(due, count)
        watched = x.now
        verdict = judge_train(
            final.t, [m.t for m in seen], offsets, ctx.t64, ctx.tol, watched_until=watched
        )
        resp = final.response
        assert resp is not None
        t_ack = await send_to_target(ctx, x, call.ack_2xx(resp), transport)
        nxt = [o for o in offsets if final.t + o > t_ack]
        watch = max(
            final.t
            + (nxt[1] if len(nxt) > 1 else nxt[0] if nxt else 0.0)
            + ctx.tol.of(ctx.base.t2),
            t_ack + 4 * ctx.base.t1,
        )
        after = await x.sleep_until(watch)
        late = [
            m
            for m in after
            if is_response(m, call) and 200 <= m.status < 300 and m.t > t_ack + ctx.grace
        ]
        exp = [
            *prefix_until(x, final.t),
            Event(x.rel(final.t), "recv", f"{final.status} (2xx)"),
            *expected_train(x.rel(final.t), offsets[:k], f"{final.status} again (13.3.1.4)"),
            Event(x.rel(t_ack), "send", "ACK (new branch, 13.2.2.4)"),
            Event(x.rel(t_ack), "note", "retransmission stops"),
        ]
        await send_to_target(ctx, x, call.in_dialog("BYE"), transport)
        await x.until(x.now + ctx.answer_wait, lambda m: is_final(m, call, "BYE"))
        expected_line = (
            f"{k} retransmission(s) of the 2xx on schedule before our ACK, none after it"
        )
        problems = []
        if not verdict.ok:
            problems.append(verdict.problem)
        if late:
            problems.append(f"2xx retransmitted +{late[0].t - t_ack:.3f} s after the ACK")
        return judged(
            x,
            problems,
            expected_line,
            f"{len(seen)} retransmission(s) on schedule; silent after the ACK",
            exp,
        )
    finally:
        x.close()


async def uas_2xx_no_ack_bye(ctx: ProbeContext, p: Params) -> Outcome:
    """13.3.1.4: without an ACK the 2xx is retransmitted for 64*T1; then the session SHOULD
    be ended with a BYE."""
    assert ctx.io is not None
    transport = p["transport"]
    x = ctx.io.exchange("uas-2xx-no-ack-bye")
    try:
        answered = await _answered_call(ctx, x, transport)
        if isinstance(answered, Outcome):
            return answered
        call, final = answered
        offsets = doubling(ctx.base.t1, ctx.base.t2, ctx.t64)
        end = final.t + ctx.t64 + ctx.tol.of(ctx.t64) + ctx.grace
        bye: Msg | None = None
        msgs: list[Msg] = []
        while True:
            got, m = await x.until(end, lambda m: m.request is not None and m.method == "BYE")
            msgs += got
            if m is None:
                break
            if bye is None:  # answered by ProbeIO as it arrived (15.1.2)
                bye = m
        train = [
            m
            for m in msgs
            if is_response(m, call)
            and 200 <= m.status < 300
            and (bye is None or m.t <= bye.t + ctx.grace)
        ]
        verdict = judge_train(final.t, [m.t for m in train], offsets, ctx.t64, ctx.tol)
        exp = [
            *prefix_until(x, final.t),
            Event(x.rel(final.t), "recv", f"{final.status} (2xx)"),
            *expected_train(x.rel(final.t), offsets, f"{final.status} again (13.3.1.4)"),
            Event(x.rel(final.t) + ctx.t64, "recv", "BYE (64*T1 without ACK)"),
        ]
        expected_line = (
            f"{len(offsets)} retransmissions of the 2xx, then BYE at "
            f"+{ctx.t64:g} s +/- {ctx.tol.of(ctx.t64):.2f}"
        )
        problems = [] if verdict.ok else [verdict.problem]
        if bye is None:
            problems.append(f"no BYE within {ctx.t64 + ctx.tol.of(ctx.t64):.2f} s (SHOULD)")
        elif abs(bye.t - final.t - ctx.t64) > ctx.tol.of(ctx.t64):
            problems.append(f"BYE at +{bye.t - final.t:.3f} s, expected +{ctx.t64:g} s")
        return judged(
            x,
            problems,
            expected_line,
            f"{len(train)} retransmissions, BYE at +{bye.t - final.t:.3f} s" if bye else "",
            exp,
        )
    finally:
        x.close()


async def invite_server_absorbs_retransmit(ctx: ProbeContext, p: Params) -> Outcome:
    """17.2.1: a retransmitted INVITE is absorbed by its server transaction: in Proceeding
    the last provisional is resent, in Completed the final (same status and To tag); never
    a new transaction (no second 100/180 train, no new To tag). ACK retransmissions during
    Timer I get no answer."""
    assert ctx.io is not None
    if "udp" not in ctx.target.transports:
        x0 = ctx.io.exchange("invite-server-absorbs-retransmit")
        return skipped(x0, "target has no UDP: retransmissions happen over UDP only")
    user = p["user"]
    x = ctx.io.exchange("invite-server-absorbs-retransmit")
    try:
        call = await start_invite(ctx, x, user, "udp")
        ringing = user == ctx.users.ring
        if ringing:
            _, first = await x.until(
                x.now + ctx.answer_wait, lambda m: is_response(m, call) and m.status > 100
            )
            if first is None or first.status >= 200:
                return await give_up(
                    ctx,
                    x,
                    call,
                    first,
                    "udp",
                    f"user {user} answered "
                    f"{first.status if first else 'nothing but 100'}; "
                    "the check needs a provisional response",
                )
        else:
            first = await wait_final(ctx, x, call, max(ctx.answer_wait, 4 * ctx.base.t1))
            if first is None or first.status < 300:
                return await give_up(
                    ctx,
                    x,
                    call,
                    first,
                    "udp",
                    f"target answered {first.status if first else 'no final'}; "
                    "the check needs a non-2xx final (Completed) or a ringing user",
                )
        window = ctx.t64 * 0.9
        times = sorted({first.t + window * d / 10 for d in p["at"]})
        exp = [
            *prefix_until(x, first.t),
            Event(x.rel(first.t), "recv", f"{first.status} (last response)"),
        ]
        last, problems = await _retransmit_invite(ctx, x, call, first, times, exp)
        problems += _new_transaction_signs(x, call, ringing, len(times))
        if last.status < 200:
            await finish(ctx, x, call, None, "udp")
        elif last.status < 300:
            await finish(ctx, x, call, last, "udp")
        else:
            problems += await _acks_absorbed(ctx, x, call, last, exp)
        expected_line = (
            f"each of {len(times)} retransmitted INVITE(s) answered with the last response "
            f"({_statuses(first, last)}), same To tag, no new transaction"
        )
        return judged(x, problems, expected_line, f"{len(times)} retransmission(s) absorbed", exp)
    finally:
        x.close()


def _statuses(first: Msg, last: Msg) -> str:
    return f"{first.status}" if last is first else f"{first.status}, then {last.status}"


def _latest(last: Msg, msgs: list[Msg], call: Call) -> Msg:
    """The last response of our INVITE transaction after ``msgs`` (17.2.1: a final ends the
    provisionals; the transaction then resends the final)."""
    for m in msgs:
        if is_response(m, call) and (m.status >= 200 or last.status < 200):
            last = m
    return last


async def _retransmit_invite(
    ctx: ProbeContext, x: Exchange, call: Call, first: Msg, times: list[float], exp: list[Event]
) -> tuple[Msg, list[str]]:
    """17.2.1: send the INVITE again at ``times``; each must be answered with the last
    response sent so far (the latest provisional in Proceeding, the final once it came).
    Returns the last response seen and the problems."""
    invite = call.request("INVITE", new_branch=False)
    wait = max(0.2, 4 * ctx.tol.absolute)
    last = first
    for t in times:
        last = _latest(last, await x.sleep_until(t), call)
        sent = await send_to_target(ctx, x, invite, "udp")
        want = last.status
        exp += [
            Event(x.rel(sent), "send", "INVITE again (same branch)"),
            Event(x.rel(sent), "recv", f"{want} again (17.2.1)"),
        ]

        def answers(m: Msg, want: int = want) -> bool:
            # a final may cross our retransmission: it is then the last response
            return is_response(m, call) and (m.status == want or (want < 200 <= m.status))

        _got, answer = await x.until(sent + wait, answers)
        if answer is None:
            return last, [
                f"no {want} within {wait:.2f} s of the retransmitted INVITE at +{x.rel(sent):.3f} s"
            ]
        last = _latest(last, [answer], call)
    return _latest(last, await x.sleep_until(x.now + wait), call), []


def _new_transaction_signs(x: Exchange, call: Call, ringing: bool, sent: int) -> list[str]:
    """What only a new server transaction would send: another To tag, a provisional after
    the final, a second 100 train (17.2.1 absorbs a retransmission)."""
    mine = [m for m in x.received if is_response(m, call)]
    problems = []
    tags = {m.to_tag for m in mine if m.to_tag}
    if len(tags) > 1:
        problems.append(f"several To tags {sorted(tags)}: a new transaction")
    final = next((m for m in mine if m.status >= 200), None)
    after = [m for m in mine if final is not None and m.t > final.t and m.status < 200]
    if after:
        problems.append(f"{after[0].status} after the final: a new transaction")
    trying = [m for m in mine if m.status == 100]
    if len(trying) > 1 + sent and not ringing:
        problems.append(f"{len(trying)} x 100 Trying: a second 100 train")
    return problems


async def _acks_absorbed(
    ctx: ProbeContext, x: Exchange, call: Call, final: Msg, exp: list[Event]
) -> list[str]:
    """17.2.1: ACK the non-2xx final twice; the second is absorbed in Confirmed (Timer I)."""
    resp = final.response
    assert resp is not None
    wait = max(0.2, 4 * ctx.tol.absolute)
    await send_to_target(ctx, x, call.ack_non_2xx(resp), "udp")
    t_ack2 = await send_to_target(ctx, x, call.ack_non_2xx(resp), "udp")
    exp.append(Event(x.rel(t_ack2), "send", "ACK, ACK again: absorbed (Timer I)"))
    extra = await x.sleep_until(t_ack2 + wait)
    answered = [m for m in extra if m.t > t_ack2 + ctx.grace and is_response(m, call)]
    return [f"answered the retransmitted ACK: {answered[0].summary()}"] if answered else []
