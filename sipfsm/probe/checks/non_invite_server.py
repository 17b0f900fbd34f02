"""Checks of the target's non-INVITE server side: the non-INVITE server transaction absorbs a
retransmitted request during Timer J (17.2.2)."""

from __future__ import annotations

from sipfsm.probe.checks.base import Outcome, Params, ProbeContext
from sipfsm.probe.checks.common import (
    is_final,
    judged,
    prefix_until,
    send_to_target,
    skipped,
    unmatched,
    wait_final,
)
from sipfsm.probe.io import Event
from sipfsm.probe.wire import Call


async def non_invite_server_absorbs_retransmit(ctx: ProbeContext, p: Params) -> Outcome:
    """17.2.2: in Completed (Timer J, 64*T1 over UDP) a retransmitted non-INVITE request is
    answered with the same final response: same status, same To tag."""
    assert ctx.io is not None
    x = ctx.io.exchange("non-invite-server-absorbs-retransmit")
    if "udp" not in ctx.target.transports:
        return skipped(x, "target has no UDP: Timer J is 0 on reliable transports")
    try:
        local = await ctx.io.local("udp")
        call = Call(ctx.target.uri(ctx.target.user), local)
        x.watch(call.call_id)
        request = call.request(p["method"])
        await send_to_target(ctx, x, request, "udp")
        first = await wait_final(ctx, x, call, ctx.answer_wait, p["method"])
        if first is None:
            odd = unmatched(x, call, "", f"a final response to {p['method']}")
            return odd or skipped(
                x, f"no final response to {p['method']} within {ctx.answer_wait} s"
            )
        window = ctx.t64 * 0.9
        times = sorted({first.t + window * d / 10 for d in p["at"]})
        wait = max(0.2, 4 * ctx.tol.absolute)
        problems: list[str] = []
        exp = [*prefix_until(x, first.t), Event(x.rel(first.t), "recv", f"{first.status} (final)")]
        for t in times:
            await x.sleep_until(t)
            sent = await send_to_target(ctx, x, request, "udp")
            exp += [
                Event(x.rel(sent), "send", f"{p['method']} again (same branch)"),
                Event(x.rel(sent), "recv", f"{first.status} again, same To tag (17.2.2)"),
            ]
            _, answer = await x.until(sent + wait, lambda m: is_final(m, call, p["method"]))
            if answer is None:
                problems.append(
                    f"no answer within {wait:.2f} s to the retransmission at +{x.rel(sent):.3f} s"
                )
                break
            if answer.status != first.status or answer.to_tag != first.to_tag:
                problems.append(
                    f"retransmission answered {answer.status} tag={answer.to_tag}"
                    f" (first: {first.status} tag={first.to_tag}): a new "
                    "transaction"
                )
                break
        expected_line = (
            f"each of {len(times)} retransmission(s) within Timer J "
            f"({ctx.t64:g} s) answered {first.status} with the same To tag"
        )
        return judged(x, problems, expected_line, f"{len(times)} retransmission(s) absorbed", exp)
    finally:
        x.close()
