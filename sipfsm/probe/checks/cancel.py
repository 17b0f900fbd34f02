"""Checks of CANCEL at the target (9.2): a CANCEL of a pending INVITE gets 200 and the INVITE
487; a CANCEL matching no transaction gets 481."""

from __future__ import annotations

from sipfsm.probe.checks.base import Outcome, Params, ProbeContext
from sipfsm.probe.checks.common import (
    finish,
    give_up,
    is_final,
    is_response,
    judged,
    prefix_until,
    send_to_target,
    skipped,
    start_invite,
    unmatched,
    wait_final,
)
from sipfsm.probe.io import Event
from sipfsm.probe.wire import Call


async def cancel(ctx: ProbeContext, p: Params) -> Outcome:
    """9.2: a CANCEL matching a pending INVITE gets 200, and the INVITE 487."""
    assert ctx.io is not None
    transport = p["transport"]
    x = ctx.io.exchange("cancel")
    user = ctx.users.ring or ctx.users.answer
    try:
        call = await start_invite(ctx, x, user, transport)
        _, prov = await x.until(x.now + ctx.answer_wait, lambda m: is_response(m, call))
        if prov is None or prov.status >= 200:
            return await give_up(
                ctx,
                x,
                call,
                prov,
                transport,
                f"user {user} answered {prov.status if prov else 'nothing'} "
                "before a CANCEL could be sent; the check needs a ringing user",
            )
        await x.sleep_until(x.now + p["delay"] * ctx.base.t1 / 2)
        if any(is_final(m, call) for m in x.received):
            final = next(m for m in x.received if is_final(m, call))
            await finish(ctx, x, call, final, transport)
            return skipped(x, f"INVITE answered {final.status} before the CANCEL")
        t_c = await send_to_target(ctx, x, call.cancel(), transport)
        end = t_c + max(ctx.answer_wait, 8 * ctx.base.t1)
        _got, _ = await x.until(
            end,
            lambda m: (
                any(is_final(r, call, "CANCEL") for r in x.received)
                and any(is_final(r, call) for r in x.received)
            ),
        )
        c200 = next((m for m in x.received if is_final(m, call, "CANCEL")), None)
        inv = next((m for m in x.received if is_final(m, call)), None)
        exp = [
            *prefix_until(x, prov.t),
            Event(x.rel(prov.t), "recv", f"{prov.status} (provisional)"),
            Event(x.rel(t_c), "send", "CANCEL"),
            Event(x.rel(t_c), "recv", "200 (CANCEL)"),
            Event(x.rel(t_c), "recv", "487 (INVITE)"),
            Event(x.rel(t_c), "send", "ACK"),
        ]
        if inv is not None and 200 <= inv.status < 300:
            await finish(ctx, x, call, inv, transport)
            return skipped(x, "the INVITE was answered 2xx: it raced the CANCEL (9.2 allows)")
        if inv is not None:
            await send_to_target(ctx, x, call.ack_non_2xx(inv.response), transport)  # type: ignore[arg-type]
        problems = []
        if c200 is None or c200.status != 200:
            problems.append(f"CANCEL answered {c200.status if c200 else 'nothing'}, not 200")
        if inv is None or inv.status != 487:
            problems.append(f"INVITE answered {inv.status if inv else 'nothing'}, not 487")
        return judged(
            x, problems, "CANCEL -> 200, INVITE -> 487", "200 to CANCEL, 487 to INVITE", exp
        )
    finally:
        x.close()


async def cancel_unknown(ctx: ProbeContext, p: Params) -> Outcome:
    """9.2: a CANCEL that matches no transaction gets 481 from a UAS (a proxy forwards it
    statelessly, 16.10, so any final answer is noted)."""
    assert ctx.io is not None
    transport = p["transport"]
    x = ctx.io.exchange("cancel-unknown")
    try:
        local = await ctx.io.local(transport)
        call = Call(ctx.target.uri(ctx.users.answer), local)
        x.watch(call.call_id)
        t = await send_to_target(ctx, x, call.cancel(), transport)
        final = await wait_final(ctx, x, call, ctx.answer_wait, "CANCEL")
        exp = [
            Event(x.rel(t), "send", "CANCEL (no such INVITE)"),
            Event(x.rel(t), "recv", "481 (CANCEL)"),
        ]
        if final is None:
            odd = unmatched(x, call, "481 Call/Transaction Does Not Exist", "the 481")
            if odd is not None:
                return odd
            return Outcome(
                "fail",
                "481 Call/Transaction Does Not Exist",
                f"no answer within {ctx.answer_wait} s",
                list(x.trace),
                exp,
            )
        ok = final.status == 481
        return Outcome(
            "pass" if ok else "fail",
            "481 Call/Transaction Does Not Exist",
            f"answered {final.status}",
            list(x.trace),
            exp,
        )
    finally:
        x.close()
