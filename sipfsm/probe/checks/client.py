"""Checks of the target's client side (role ``server``: the target sends, the probe
listens): INVITE and non-INVITE client transactions retransmit per Timers A and E until B and
F (17.1.1.2, 17.1.2.2); the ACK of a non-2xx (17.1.1.3) and of a 2xx (13.2.2.4)."""

from __future__ import annotations

from sipfsm.net.endpoint import Received
from sipfsm.probe.checks.base import Outcome, Params, ProbeContext, Trigger
from sipfsm.probe.checks.common import (
    answer_byes,
    expected_train,
    judged,
    skipped,
)
from sipfsm.probe.io import Event, Exchange, open_listener
from sipfsm.probe.oracle import doubling, judge_train
from sipfsm.probe.wire import Msg, response_to, token


class _Served:
    """A listener of one role-server exchange and the trigger that makes the target send."""

    def __init__(self, ctx: ProbeContext, label: str) -> None:
        self.ctx = ctx
        self.label = label
        self.x: Exchange | None = None
        self.trigger: Trigger | None = None

    async def __aenter__(self) -> _Served:
        ctx = self.ctx
        box: list[Exchange] = []

        def deliver(r: Received) -> None:
            if box:
                box[0].deliver(Msg.of(r.time, r.data, r.transport, r.peer))

        ep = await open_listener(ctx.listen_host, ctx.bounds, deliver, ctx.allow_remote)
        self.x = Exchange(ep, ctx.stop, self.label)
        box.append(self.x)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.trigger is not None:
            await self.trigger.stop()
        if self.x is not None:
            await self.x.ep.close()

    async def first(self, kind: str, transport: str) -> Msg | None:
        """Start the trigger; the first request it makes the target send."""
        assert self.x is not None and self.ctx.trigger_factory is not None
        self.trigger = self.ctx.trigger_factory()
        host, port = self.x.ep.udp_addr
        await self.trigger.start(kind, host, port, transport)
        _, m = await self.x.until(
            self.x.now + self.ctx.trigger_wait,
            lambda m: m.request is not None and m.method != "ACK",
        )
        return m


def _no_trigger(x: Exchange | None, ctx: ProbeContext) -> Outcome:
    trace = list(x.trace) if x is not None else []
    return Outcome(
        "skip",
        "",
        f"the target sent no request within {ctx.trigger_wait:g} s of the trigger",
        trace,
    )


async def invite_client_retransmit(ctx: ProbeContext, p: Params) -> Outcome:
    """17.1.1.2: with no response, the INVITE is retransmitted at T1, 2T1, 4T1 ... (Timer A,
    no cap) over UDP until Timer B (64*T1), then abandoned; never over TCP."""
    async with _Served(ctx, "invite-client-retransmit") as s:
        inv = await s.first("invite", p["transport"])
        x = s.x
        assert x is not None
        if inv is None or inv.method != "INVITE":
            return (
                _no_trigger(x, ctx)
                if inv is None
                else skipped(x, f"the target sent {inv.method}; the check needs an INVITE")
            )
        reliable = inv.transport == "tcp"
        offsets = [] if reliable else doubling(ctx.base.t1, None, ctx.t64)
        end = inv.t + ctx.t64 + ctx.tol.of(ctx.t64) + ctx.grace
        msgs = await x.sleep_until(end)
        again = [
            m
            for m in msgs
            if m.request is not None and m.method == "INVITE" and m.branch == inv.branch
        ]
        verdict = judge_train(inv.t, [m.t for m in again], offsets, ctx.t64, ctx.tol)
        problem = verdict.problem + _branch_changes(inv, msgs)
        exp = [
            Event(x.rel(inv.t), "recv", "INVITE"),
            *expected_train(x.rel(inv.t), offsets, "INVITE again: Timer A"),
            Event(x.rel(inv.t) + ctx.t64, "note", "Timer B: the client gives up"),
        ]
        expected_line = (
            f"INVITE retransmitted {len(offsets)} times (T1 doubling, no cap) "
            f"until Timer B {ctx.t64:g} s"
            if not reliable
            else "no INVITE retransmission over TCP"
        )
        return Outcome(
            "pass" if verdict.ok and not _branch_changes(inv, msgs) else "fail",
            expected_line,
            problem,
            list(x.trace),
            exp,
        )


async def non_invite_client_retransmit(ctx: ProbeContext, p: Params) -> Outcome:
    """17.1.2.2: with no response, a non-INVITE request is retransmitted at T1, 2T1, ...
    capped at T2 (Timer E) over UDP until Timer F (64*T1). If the target starts with an
    INVITE, the probe answers 200 and waits for its next non-INVITE (the BYE)."""
    async with _Served(ctx, "non-invite-client-retransmit") as s:
        req = await s.first("options", p["transport"])
        x = s.x
        assert x is not None
        if req is None:
            return _no_trigger(x, ctx)
        if req.method == "INVITE":
            assert req.request is not None
            await x.reply(
                response_to(
                    req.request,
                    200,
                    to_tag=token(4),
                    contact=f"sip:probe@{x.ep.udp_addr[0]}:{x.ep.udp_addr[1]}",
                ),
                req,
            )
            _, nxt = await x.until(
                x.now + ctx.trigger_wait,
                lambda m: m.request is not None and m.method not in ("ACK", "INVITE"),
            )
            if nxt is None:
                return skipped(x, "after the INVITE the target sent no non-INVITE request")
            req = nxt
        reliable = req.transport == "tcp"
        offsets = [] if reliable else doubling(ctx.base.t1, ctx.base.t2, ctx.t64)
        end = req.t + ctx.t64 + ctx.tol.of(ctx.t64) + ctx.grace
        msgs = await x.sleep_until(end)
        again = [
            m
            for m in msgs
            if m.request is not None and m.method == req.method and m.branch == req.branch
        ]
        verdict = judge_train(req.t, [m.t for m in again], offsets, ctx.t64, ctx.tol)
        problem = verdict.problem + _branch_changes(req, msgs)
        exp = [
            Event(x.rel(req.t), "recv", req.method),
            *expected_train(x.rel(req.t), offsets, f"{req.method} again: Timer E"),
            Event(x.rel(req.t) + ctx.t64, "note", "Timer F: the client gives up"),
        ]
        expected_line = (
            f"{req.method} retransmitted {len(offsets)} times (T1 doubling, cap "
            f"T2={ctx.base.t2:g}) until Timer F {ctx.t64:g} s"
            if not reliable
            else f"no {req.method} retransmission over TCP"
        )
        return Outcome("pass" if verdict.ok else "fail", expected_line, problem, list(x.trace), exp)


def _branch_changes(first: Msg, msgs: list[Msg]) -> str:
    """A note on copies of ``first`` (same method, Call-ID, CSeq) with another branch: a
    retransmission must be the same request (17.1.1.2, 17.1.2.2), branch included."""
    cseq = first.msg.get("CSeq") if first.msg is not None else None
    odd = [
        m
        for m in msgs
        if m.request is not None
        and m.method == first.method
        and m.call_id == first.call_id
        and m.msg is not None
        and m.msg.get("CSeq") == cseq
        and m.branch != first.branch
    ]
    if not odd:
        return ""
    return (
        f"; {len(odd)} copy(ies) with another branch ({odd[0].branch} at "
        f"+{odd[0].t - first.t:.3f} s instead of {first.branch}): not a retransmission"
    )


async def ack_for_non_2xx(ctx: ProbeContext, p: Params) -> Outcome:
    """17.1.1.3: the ACK of a non-2xx: same Request-URI, Call-ID, From, CSeq number, top Via
    (same branch) and Route as the INVITE; To of the response (our tag)."""
    async with _Served(ctx, "ack-for-non-2xx") as s:
        inv = await s.first("invite", p["transport"])
        x = s.x
        assert x is not None
        if inv is None or inv.method != "INVITE" or inv.request is None:
            return (
                _no_trigger(x, ctx)
                if inv is None
                else skipped(x, f"the target sent {inv.method}; the check needs an INVITE")
            )
        await x.sleep_until(x.now + p["delay"] * ctx.base.t1 / 2)
        tag = token(4)
        t = await x.reply(response_to(inv.request, p["status"], to_tag=tag), inv)
        _, ack = await x.until(
            t + max(ctx.answer_wait, 4 * ctx.base.t1),
            lambda m: m.request is not None and m.method == "ACK",
        )
        exp = [
            Event(x.rel(inv.t), "recv", "INVITE"),
            Event(x.rel(t), "send", f"{p['status']} (tag={tag})"),
            Event(x.rel(t), "recv", "ACK: same branch, To tag ours, CSeq n ACK"),
        ]
        want = f"ACK with branch {inv.branch}, To tag {tag}, CSeq {inv.msg.cseq.seq if inv.msg and inv.msg.cseq else '?'} ACK, INVITE's Request-URI/Call-ID/From/Route"  # noqa: E501
        if ack is None or ack.request is None:
            return Outcome("fail", want, "no ACK", list(x.trace), exp)
        problems = _ack_problems(inv, ack, tag, same_branch=True)
        return judged(x, problems, want, "ACK as 17.1.1.3 says", exp)


async def ack_for_2xx(ctx: ProbeContext, p: Params) -> Outcome:
    """13.2.2.4: the ACK of a 2xx is a new transaction (new branch), CSeq number of the
    INVITE, Request-URI the 2xx's Contact, To tag the 2xx's."""
    async with _Served(ctx, "ack-for-2xx") as s:
        inv = await s.first("invite", p["transport"])
        x = s.x
        assert x is not None
        if inv is None or inv.method != "INVITE" or inv.request is None:
            return (
                _no_trigger(x, ctx)
                if inv is None
                else skipped(x, f"the target sent {inv.method}; the check needs an INVITE")
            )
        await x.sleep_until(x.now + p["delay"] * ctx.base.t1 / 2)
        tag = token(4)
        host, port = x.ep.udp_addr
        contact = f"sip:probe-contact@{host}:{port}" + (
            ";transport=tcp" if inv.transport == "tcp" else ""
        )
        resp = response_to(inv.request, 200, to_tag=tag, contact=contact)
        t = await x.reply(resp, inv)
        end = t + max(ctx.answer_wait, 8 * ctx.base.t1)
        interval, nxt = ctx.base.t1, t + ctx.base.t1
        ack: Msg | None = None
        while ack is None and x.now < end:
            _, ack = await x.until(
                min(nxt, end), lambda m: m.request is not None and m.method == "ACK"
            )
            if ack is None and x.now < end:  # 13.3.1.4: we retransmit our 2xx too
                await x.reply(resp, inv)
                interval = min(2 * interval, ctx.base.t2)
                nxt = x.now + interval
        exp = [
            Event(x.rel(inv.t), "recv", "INVITE"),
            Event(x.rel(t), "send", f"200 (tag={tag}, Contact {contact})"),
            Event(x.rel(t), "recv", "ACK: new branch, Request-URI = Contact"),
        ]
        want = f"ACK with a new branch, Request-URI {contact}, To tag {tag}, INVITE's CSeq number"
        if ack is None or ack.request is None:
            return Outcome("fail", want, "no ACK", list(x.trace), exp)
        problems = _ack_problems(inv, ack, tag, same_branch=False, contact=contact)
        # answer a BYE if one comes at once (15.1.2), so the target ends cleanly
        got = await x.sleep_until(x.now + min(0.5, 4 * ctx.base.t1))
        await answer_byes(x, got)
        return judged(x, problems, want, "ACK as 13.2.2.4 says", exp)


def _ack_problems(
    inv: Msg, ack: Msg, tag: str, *, same_branch: bool, contact: str | None = None
) -> list[str]:
    a, i = ack.request, inv.request
    assert a is not None and i is not None
    out: list[str] = []
    if same_branch and ack.branch != inv.branch:
        out.append(f"branch {ack.branch} is not the INVITE's {inv.branch} (17.1.1.3)")
    if not same_branch and ack.branch == inv.branch:
        out.append("same branch as the INVITE: the ACK of a 2xx is a new transaction (13.2.2.4)")
    if ack.to_tag != tag:
        out.append(f"To tag {ack.to_tag}, not the response's {tag}")
    if a.call_id != i.call_id:
        out.append("Call-ID differs from the INVITE's")
    if (a.from_.tag if a.from_ else None) != (i.from_.tag if i.from_ else None):
        out.append("From tag differs from the INVITE's")
    if a.cseq is None or i.cseq is None or a.cseq.seq != i.cseq.seq or a.cseq.method != "ACK":
        out.append(f"CSeq {a.get('CSeq')!r}, expected '{i.cseq.seq if i.cseq else '?'} ACK'")
    if same_branch:
        if str(a.uri) != str(i.uri):
            out.append(f"Request-URI {a.uri} is not the INVITE's {i.uri}")
        if a.get_all("Route") != i.get_all("Route"):
            out.append("Route differs from the INVITE's")
    elif contact is not None and str(a.uri) != contact:
        out.append(f"Request-URI {a.uri} is not the 2xx's Contact {contact}")
    return out
