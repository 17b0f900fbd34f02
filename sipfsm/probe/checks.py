"""The checks of ``sipfsm probe``, as data: one :class:`Check` record per RFC 3261 rule.

Each record names the rule (``id``, ``section``), who is judged (``role``: ``client`` = the
probe sends requests and judges the target's server side; ``server`` = the target sends and
the probe judges its client side), what the probe sends, what the oracle
(:mod:`sipfsm.probe.oracle`) expects, the timing tolerance, the Hypothesis strategy of its
parameters (transport, which final status to ask for, delays, how many retransmissions), and
the coroutine that runs one exchange and returns an :class:`Outcome`.

The registry is :data:`CHECKS` (ordered). A check that cannot apply to a target (it answered
404 where the check needs a 2xx, it has no UDP ...) returns ``skip`` with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sipfsm.net.aio import Bounds, Received
from sipfsm.probe.corpus import Case, corpus_available, corpus_cases
from sipfsm.probe.io import Event, Exchange, ProbeIO, Target, open_listener
from sipfsm.probe.oracle import Base, Tolerance, doubling, judge_train
from sipfsm.probe.wire import Call, Msg, response_to, token

if TYPE_CHECKING:
    from hypothesis import strategies as st
else:

    class _LazyStrategies:
        """``hypothesis.strategies``, imported on first use: ``sipfsm --help`` and the other
        subcommands do not need Hypothesis installed."""

        def __getattr__(self, name: str) -> Any:
            from hypothesis import strategies

            return getattr(strategies, name)

    st = _LazyStrategies()

__all__ = ["CHECKS", "Check", "Outcome", "ProbeContext", "Trigger", "Users", "by_id"]

Params = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Users:
    """The users the probe addresses: one that answers 2xx, those that reject (non-2xx
    final), one that rings without answering (None: unknown for this target)."""

    answer: str | None = "bob"
    reject: tuple[str, ...] = ("sipfsm-nobody",)
    ring: str | None = None


class Trigger(Protocol):
    """Makes the target send a request to the probe (role server)."""

    async def start(self, kind: str, host: str, port: int, transport: str) -> None:
        """Start it: ``kind`` is ``invite`` or ``options`` (a hint; commands may ignore it)."""
        ...

    async def stop(self) -> None:
        """Stop whatever was started."""
        ...


@dataclass
class ProbeContext:
    """What every exchange needs."""

    target: Target
    base: Base
    tol: Tolerance
    users: Users
    stop: asyncio.Event
    bounds: Bounds
    io: ProbeIO | None = None
    trigger_factory: Callable[[], Trigger] | None = None
    listen_host: str = "127.0.0.1"
    allow_remote: bool = False
    #: Seconds to wait for a response that should come at once.
    answer_wait: float = 2.0
    #: Seconds to wait for the trigger's first request (role server).
    trigger_wait: float = 10.0

    @property
    def t64(self) -> float:
        """64*T1: Timers B, F, H, J on UDP and the 2xx retransmission limit."""
        return 64 * self.base.t1

    @property
    def grace(self) -> float:
        """How long a message may still arrive after it should have stopped (in flight)."""
        return self.tol.absolute


@dataclass
class Outcome:
    """The result of one exchange."""

    verdict: str  # pass | fail | skip
    expected: str
    observed: str
    trace: list[Event] = field(default_factory=list)
    expected_trace: list[Event] = field(default_factory=list)
    params: Params = field(default_factory=dict)


Exchanger = Callable[[ProbeContext, Params], Awaitable[Outcome]]
Strategy = Callable[[ProbeContext], st.SearchStrategy[Params]]


@dataclass(frozen=True)
class Check:
    """One RFC rule the probe can test (the registry's record)."""

    id: str
    section: str
    role: str  # client | server
    title: str
    sends: str
    expects: str
    tolerance: str
    params: Strategy
    exchange: Exchanger
    #: Whether one exchange lasts a 64*T1 window (run concurrently with the others).
    long: bool = False
    #: Parameters run before Hypothesis generates any (all of them, concurrently).
    explicit: Callable[[ProbeContext], list[Params]] | None = None


# --------------------------------------------------------------------------- helpers


def _final(m: Msg, call: Call, method: str = "INVITE") -> bool:
    return m.status >= 200 and m.call_id == call.call_id and m.method == method


def _resp(m: Msg, call: Call, method: str = "INVITE") -> bool:
    return m.status > 0 and m.call_id == call.call_id and m.method == method


def _train(start_rel: float, offsets: list[float], label: str) -> list[Event]:
    return [Event(start_rel + o, "recv", f"{label} (+{o:.3f} s)") for o in offsets]


def _udp(ctx: ProbeContext) -> st.SearchStrategy[str]:
    return st.sampled_from([t for t in ctx.target.transports if t == "udp"] or ["udp"])


def _transports(ctx: ProbeContext) -> st.SearchStrategy[str]:
    return st.sampled_from(list(ctx.target.transports))


async def _start_invite(
    ctx: ProbeContext,
    x: Exchange,
    user: str | None,
    transport: str,
) -> Call:
    assert ctx.io is not None
    local = await ctx.io.local(transport)
    call = Call(ctx.target.uri(user), local)
    x.watch(call.call_id)
    await _send(ctx, x, call.request("INVITE"), transport)
    return call


async def _send(ctx: ProbeContext, x: Exchange, data: bytes, transport: str) -> float:
    return await x.send(data, transport, ctx.target.host, ctx.target.port)


async def _wait_final(
    ctx: ProbeContext, x: Exchange, call: Call, wait: float, method: str = "INVITE"
) -> Msg | None:
    _, final = await x.until(x.now + wait, lambda m: _final(m, call, method))
    return final


async def _finish(
    ctx: ProbeContext, x: Exchange, call: Call, final: Msg | None, transport: str
) -> None:
    """Leave the target clean: ACK a non-2xx (17.1.1.3), ACK and BYE a 2xx (13.2.2.4, 15.1.1),
    CANCEL a call still ringing (9.1); answer a BYE from the target (15.1.2)."""
    try:
        if final is None:
            await _send(ctx, x, call.cancel(), transport)
            final = await _wait_final(ctx, x, call, ctx.answer_wait)
            if final is None:
                return
        resp = final.response
        assert resp is not None
        if resp.status >= 300:
            await _send(ctx, x, call.ack_non_2xx(resp), transport)
            return
        call.dialog_from(resp)
        await _send(ctx, x, call.in_dialog("ACK", cseq=call.cseq), transport)
        await _send(ctx, x, call.in_dialog("BYE"), transport)
        end = x.now + ctx.answer_wait
        while True:
            _got, m = await x.until(
                end,
                lambda m: _final(m, call, "BYE") or (m.request is not None and m.method == "BYE"),
            )
            if m is None or m.request is None:
                return
            req = m.request
            await x.reply(response_to(req, 200), m)
    except Exception:
        return


async def _answer_byes(x: Exchange, msgs: list[Msg]) -> None:
    for m in msgs:
        if m.request is not None and m.method == "BYE":
            await x.reply(response_to(m.request, 200), m)


def _prefix(x: Exchange, until: float) -> list[Event]:
    """What happened before ``until``: the expected timeline starts the same way."""
    return [e for e in x.trace if e.t < x.rel(until) - 1e-9]


def _skip(x: Exchange, why: str, expected: str = "") -> Outcome:
    return Outcome("skip", expected, why, list(x.trace))


def _judged(
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


# --------------------------------------------------------------------------- 17.2.1 Timer G


async def invite_server_final_retransmit(ctx: ProbeContext, p: Params) -> Outcome:
    """17.2.1: a non-2xx final response is retransmitted at T1, 2T1, ... (cap T2) over UDP
    until Timer H (64*T1) when no ACK comes; never over TCP."""
    assert ctx.io is not None
    transport = p["transport"]
    reliable = transport == "tcp"
    x = ctx.io.exchange("invite-server-final-retransmit")
    try:
        call = await _start_invite(ctx, x, p["user"], transport)
        final = await _wait_final(ctx, x, call, max(ctx.answer_wait, 4 * ctx.base.t1))
        if final is None or final.status < 300:
            await _finish(ctx, x, call, final, transport)
            return _skip(
                x,
                f"target answered {final.status if final else 'no final'} "
                "within the wait; the check needs a non-2xx final response",
            )
        offsets = [] if reliable else doubling(ctx.base.t1, ctx.base.t2, ctx.t64)
        end = final.t + ctx.t64 + ctx.tol.of(ctx.t64) + ctx.grace
        msgs = await x.sleep_until(end)
        await _answer_byes(x, msgs)
        same = [m for m in msgs if _resp(m, call) and m.status == final.status]
        other = [m for m in msgs if _resp(m, call) and m.status != final.status]
        tags = {m.to_tag for m in same} - {final.to_tag}
        verdict = judge_train(final.t, [m.t for m in same], offsets, ctx.t64, ctx.tol)
        await _send(ctx, x, call.ack_non_2xx(final.response), transport)  # type: ignore[arg-type]
        expected_line = (
            f"{final.status} retransmitted {len(offsets)} times "
            f"(T1={ctx.base.t1:g}, T2={ctx.base.t2:g}) until Timer H "
            f"{ctx.t64:g} s"
            if not reliable
            else f"no retransmission over TCP (Timer G is UDP only); H {ctx.t64:g} s"
        )
        exp = [
            *_prefix(x, final.t),
            Event(x.rel(final.t), "recv", f"{final.status} (final)"),
            *_train(x.rel(final.t), offsets, f"{final.status} again: Timer G"),
            Event(x.rel(final.t) + ctx.t64, "note", "Timer H: transaction ends"),
        ]
        problems = [verdict.problem] if not verdict.ok else []
        if other:
            problems.append(f"{other[0].status} after the final {final.status}")
        if tags:
            problems.append(f"retransmission with another To tag {sorted(t or '' for t in tags)}")
        return _judged(x, problems, expected_line, verdict.problem, exp)
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
        call = await _start_invite(ctx, x, p["user"], transport)
        final = await _wait_final(ctx, x, call, max(ctx.answer_wait, 4 * ctx.base.t1))
        if final is None or final.status < 300:
            await _finish(ctx, x, call, final, transport)
            return _skip(
                x,
                f"target answered {final.status if final else 'no final'}; "
                "the check needs a non-2xx final response",
            )
        offsets = doubling(ctx.base.t1, ctx.base.t2, ctx.t64)
        seen = 0
        if k:
            due = final.t + offsets[min(k, len(offsets)) - 1] + ctx.tol.of(ctx.base.t2) + 0.05

            def count(m: Msg) -> bool:
                nonlocal seen
                if _resp(m, call) and m.status == final.status:
                    seen += 1
                return seen >= k

            await x.until(due, count)
        t_ack = await _send(ctx, x, call.ack_non_2xx(final.response), transport)  # type: ignore[arg-type]
        nxt = [o for o in offsets if final.t + o > t_ack]
        watch = (nxt[1] if len(nxt) > 1 else nxt[0] if nxt else 0.0) + ctx.tol.of(ctx.base.t2)
        watch = max(final.t + watch, t_ack + 4 * ctx.base.t1)
        msgs = await x.sleep_until(watch)
        late = [m for m in msgs if _resp(m, call) and m.t > t_ack + ctx.grace]
        exp = [
            *_prefix(x, final.t),
            Event(x.rel(final.t), "recv", f"{final.status} (final)"),
            *_train(
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
        return _skip(x, "no user known to answer 2xx (--user-answer)")
    call = await _start_invite(ctx, x, ctx.users.answer, transport)
    final = await _wait_final(ctx, x, call, max(ctx.answer_wait, 8 * ctx.base.t1))
    if final is None or final.status >= 300:
        await _finish(ctx, x, call, final, transport)
        return _skip(
            x,
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
            if _resp(m, call) and 200 <= m.status < 300:
                seen.append(m)
            return len(seen) >= k

        msgs, _ = await x.until(due, count)
        await _answer_byes(x, msgs)
        watched = x.now
        verdict = judge_train(
            final.t, [m.t for m in seen], offsets, ctx.t64, ctx.tol, watched_until=watched
        )
        resp = final.response
        assert resp is not None
        call.dialog_from(resp)
        t_ack = await _send(ctx, x, call.in_dialog("ACK", cseq=call.cseq), transport)
        nxt = [o for o in offsets if final.t + o > t_ack]
        watch = max(
            final.t
            + (nxt[1] if len(nxt) > 1 else nxt[0] if nxt else 0.0)
            + ctx.tol.of(ctx.base.t2),
            t_ack + 4 * ctx.base.t1,
        )
        after = await x.sleep_until(watch)
        await _answer_byes(x, after)
        late = [
            m for m in after if _resp(m, call) and 200 <= m.status < 300 and m.t > t_ack + ctx.grace
        ]
        exp = [
            *_prefix(x, final.t),
            Event(x.rel(final.t), "recv", f"{final.status} (2xx)"),
            *_train(x.rel(final.t), offsets[:k], f"{final.status} again (13.3.1.4)"),
            Event(x.rel(t_ack), "send", "ACK (new branch, 13.2.2.4)"),
            Event(x.rel(t_ack), "note", "retransmission stops"),
        ]
        await _send(ctx, x, call.in_dialog("BYE"), transport)
        await x.until(x.now + ctx.answer_wait, lambda m: _final(m, call, "BYE"))
        expected_line = (
            f"{k} retransmission(s) of the 2xx on schedule before our ACK, none after it"
        )
        problems = []
        if not verdict.ok:
            problems.append(verdict.problem)
        if late:
            problems.append(f"2xx retransmitted +{late[0].t - t_ack:.3f} s after the ACK")
        return _judged(
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
            if bye is None:
                bye = m
            await x.reply(response_to(m.request, 200), m)  # type: ignore[arg-type]
        train = [
            m
            for m in msgs
            if _resp(m, call)
            and 200 <= m.status < 300
            and (bye is None or m.t <= bye.t + ctx.grace)
        ]
        verdict = judge_train(final.t, [m.t for m in train], offsets, ctx.t64, ctx.tol)
        exp = [
            *_prefix(x, final.t),
            Event(x.rel(final.t), "recv", f"{final.status} (2xx)"),
            *_train(x.rel(final.t), offsets, f"{final.status} again (13.3.1.4)"),
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
        return _judged(
            x,
            problems,
            expected_line,
            f"{len(train)} retransmissions, BYE at +{bye.t - final.t:.3f} s" if bye else "",
            exp,
        )
    finally:
        x.close()


# --------------------------------------------------------------------------- absorption


async def invite_server_absorbs_retransmit(ctx: ProbeContext, p: Params) -> Outcome:
    """17.2.1: a retransmitted INVITE is absorbed by its server transaction: in Proceeding
    the last provisional is resent, in Completed the final (same status and To tag); never
    a new transaction (no second 100/180 train, no new To tag). ACK retransmissions during
    Timer I get no answer."""
    assert ctx.io is not None
    if "udp" not in ctx.target.transports:
        x0 = ctx.io.exchange("invite-server-absorbs-retransmit")
        return _skip(x0, "target has no UDP: retransmissions happen over UDP only")
    user = p["user"]
    x = ctx.io.exchange("invite-server-absorbs-retransmit")
    try:
        call = await _start_invite(ctx, x, user, "udp")
        invite = call.request("INVITE", new_branch=False)
        ringing = user == ctx.users.ring
        if ringing:
            _, first = await x.until(
                x.now + ctx.answer_wait, lambda m: _resp(m, call) and m.status > 100
            )
            if first is None or first.status >= 200:
                await _finish(ctx, x, call, first if first and first.status >= 200 else None, "udp")
                return _skip(
                    x,
                    f"user {user} answered "
                    f"{first.status if first else 'nothing but 100'}; "
                    "the check needs a provisional response",
                )
        else:
            first = await _wait_final(ctx, x, call, max(ctx.answer_wait, 4 * ctx.base.t1))
            if first is None or first.status < 300:
                await _finish(ctx, x, call, first, "udp")
                return _skip(
                    x,
                    f"target answered {first.status if first else 'no final'}; "
                    "the check needs a non-2xx final (Completed) or a ringing user",
                )
        window = ctx.t64 * 0.9
        times = sorted({first.t + window * d / 10 for d in p["at"]})
        problems: list[str] = []
        exp = [
            *_prefix(x, first.t),
            Event(x.rel(first.t), "recv", f"{first.status} (last response)"),
        ]
        wait = max(0.2, 4 * ctx.tol.absolute)
        for t in times:
            await x.sleep_until(t)
            sent = await _send(ctx, x, invite, "udp")
            exp += [
                Event(x.rel(sent), "send", "INVITE again (same branch)"),
                Event(x.rel(sent), "recv", f"{first.status} again (17.2.1)"),
            ]
            _got, answer = await x.until(
                sent + wait, lambda m: _resp(m, call) and m.status == first.status
            )
            if answer is None:
                problems.append(
                    f"no {first.status} within {wait:.2f} s of the retransmitted "
                    f"INVITE at +{x.rel(sent):.3f} s"
                )
                break
        tail = await x.sleep_until(x.now + wait)
        mine = [m for m in x.received if _resp(m, call)]
        tags = {m.to_tag for m in mine if m.to_tag}
        if len(tags) > 1:
            problems.append(f"several To tags {sorted(tags)}: a new transaction")
        if not ringing:
            after = [m for m in mine if m.t > first.t and m.status < 200]
            if after:
                problems.append(f"{after[0].status} after the final: a new transaction")
        trying = [m for m in mine if m.status == 100]
        if len(trying) > 1 + len(times) and not ringing:
            problems.append(f"{len(trying)} x 100 Trying: a second 100 train")
        if ringing:
            await _finish(ctx, x, call, None, "udp")
        else:
            await _send(ctx, x, call.ack_non_2xx(first.response), "udp")  # type: ignore[arg-type]
            t_ack2 = await _send(ctx, x, call.ack_non_2xx(first.response), "udp")  # type: ignore[arg-type]
            exp.append(Event(x.rel(t_ack2), "send", "ACK, ACK again: absorbed (Timer I)"))
            extra = await x.sleep_until(t_ack2 + wait)
            answered = [
                m
                for m in extra
                if m.request is None and m.t > t_ack2 + ctx.grace and _resp(m, call)
            ]
            if answered:
                problems.append(f"answered the retransmitted ACK: {answered[0].summary()}")
        del tail
        expected_line = (
            f"each of {len(times)} retransmitted INVITE(s) answered with the "
            f"last response ({first.status}), same To tag, no new transaction"
        )
        return _judged(x, problems, expected_line, f"{len(times)} retransmission(s) absorbed", exp)
    finally:
        x.close()


async def non_invite_server_absorbs_retransmit(ctx: ProbeContext, p: Params) -> Outcome:
    """17.2.2: in Completed (Timer J, 64*T1 over UDP) a retransmitted non-INVITE request is
    answered with the same final response: same status, same To tag."""
    assert ctx.io is not None
    x = ctx.io.exchange("non-invite-server-absorbs-retransmit")
    if "udp" not in ctx.target.transports:
        return _skip(x, "target has no UDP: Timer J is 0 on reliable transports")
    try:
        local = await ctx.io.local("udp")
        call = Call(ctx.target.uri(ctx.target.user), local)
        x.watch(call.call_id)
        request = call.request(p["method"])
        await _send(ctx, x, request, "udp")
        first = await _wait_final(ctx, x, call, ctx.answer_wait, p["method"])
        if first is None:
            return _skip(x, f"no final response to {p['method']} within {ctx.answer_wait} s")
        window = ctx.t64 * 0.9
        times = sorted({first.t + window * d / 10 for d in p["at"]})
        wait = max(0.2, 4 * ctx.tol.absolute)
        problems: list[str] = []
        exp = [*_prefix(x, first.t), Event(x.rel(first.t), "recv", f"{first.status} (final)")]
        for t in times:
            await x.sleep_until(t)
            sent = await _send(ctx, x, request, "udp")
            exp += [
                Event(x.rel(sent), "send", f"{p['method']} again (same branch)"),
                Event(x.rel(sent), "recv", f"{first.status} again, same To tag (17.2.2)"),
            ]
            _, answer = await x.until(sent + wait, lambda m: _final(m, call, p["method"]))
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
        return _judged(x, problems, expected_line, f"{len(times)} retransmission(s) absorbed", exp)
    finally:
        x.close()


# --------------------------------------------------------------------------- CANCEL


async def cancel(ctx: ProbeContext, p: Params) -> Outcome:
    """9.2: a CANCEL matching a pending INVITE gets 200, and the INVITE 487."""
    assert ctx.io is not None
    transport = p["transport"]
    x = ctx.io.exchange("cancel")
    user = ctx.users.ring or ctx.users.answer
    try:
        call = await _start_invite(ctx, x, user, transport)
        _, prov = await x.until(x.now + ctx.answer_wait, lambda m: _resp(m, call))
        if prov is None or prov.status >= 200:
            await _finish(ctx, x, call, prov, transport)
            return _skip(
                x,
                f"user {user} answered {prov.status if prov else 'nothing'} "
                "before a CANCEL could be sent; the check needs a ringing user",
            )
        await x.sleep_until(x.now + p["delay"] * ctx.base.t1 / 2)
        if any(_final(m, call) for m in x.received):
            final = next(m for m in x.received if _final(m, call))
            await _finish(ctx, x, call, final, transport)
            return _skip(x, f"INVITE answered {final.status} before the CANCEL")
        t_c = await _send(ctx, x, call.cancel(), transport)
        end = t_c + max(ctx.answer_wait, 8 * ctx.base.t1)
        _got, _ = await x.until(
            end,
            lambda m: (
                any(_final(r, call, "CANCEL") for r in x.received)
                and any(_final(r, call) for r in x.received)
            ),
        )
        c200 = next((m for m in x.received if _final(m, call, "CANCEL")), None)
        inv = next((m for m in x.received if _final(m, call)), None)
        exp = [
            *_prefix(x, prov.t),
            Event(x.rel(prov.t), "recv", f"{prov.status} (provisional)"),
            Event(x.rel(t_c), "send", "CANCEL"),
            Event(x.rel(t_c), "recv", "200 (CANCEL)"),
            Event(x.rel(t_c), "recv", "487 (INVITE)"),
            Event(x.rel(t_c), "send", "ACK"),
        ]
        if inv is not None and 200 <= inv.status < 300:
            await _finish(ctx, x, call, inv, transport)
            return _skip(x, "the INVITE was answered 2xx: it raced the CANCEL (9.2 allows)")
        if inv is not None:
            await _send(ctx, x, call.ack_non_2xx(inv.response), transport)  # type: ignore[arg-type]
        problems = []
        if c200 is None or c200.status != 200:
            problems.append(f"CANCEL answered {c200.status if c200 else 'nothing'}, not 200")
        if inv is None or inv.status != 487:
            problems.append(f"INVITE answered {inv.status if inv else 'nothing'}, not 487")
        return _judged(
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
        t = await _send(ctx, x, call.cancel(), transport)
        final = await _wait_final(ctx, x, call, ctx.answer_wait, "CANCEL")
        exp = [
            Event(x.rel(t), "send", "CANCEL (no such INVITE)"),
            Event(x.rel(t), "recv", "481 (CANCEL)"),
        ]
        if final is None:
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


# --------------------------------------------------------------------------- malformed


def _malformed_explicit(ctx: ProbeContext) -> list[Params]:
    if not corpus_available():
        return []
    return [{"case": c.name} for c in corpus_cases(ctx.target.hostport, "127.0.0.1:1")]


def _malformed_params(ctx: ProbeContext) -> st.SearchStrategy[Params]:
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
    never accepted."""
    assert ctx.io is not None
    x = ctx.io.exchange("malformed")
    if "udp" not in ctx.target.transports:
        return _skip(
            x,
            "malformed requests are sent over UDP (a framing defect would "
            "kill a TCP connection); the target has no UDP",
        )
    try:
        local = await ctx.io.local("udp")
        sent_by = f"{local.host}:{local.port}"
        case: Case | None
        if p["case"] == "generated":
            from sipfsm.testing.strategies import DEFECTS

            case = _generated_case(p, ctx, sent_by, DEFECTS)
            if case is None:
                return _skip(x, "generated message is not a request that gets an answer")
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
                return _skip(x, f"corpus message {p['case']} not found")
        x.watch(*case.call_ids, case.branch)
        t = await _send(ctx, x, case.data, "udp")
        wait = min(max(16 * ctx.base.t1, 1.0), 4.0)

        def final_of(m: Msg) -> bool:
            return m.status >= 200 and (m.branch == case.branch or m.call_id in case.call_ids)

        _, final = await x.until(t + wait, final_of)
        if final is not None and case.method == "INVITE" and final.response is not None:
            resp = final.response
            if resp.status >= 300:
                call = Call(
                    str(ctx.target.uri("user")),
                    local,
                    call_id=resp.call_id or "",
                    from_tag=(resp.from_.tag if resp.from_ else None) or "",
                    cseq=resp.cseq.seq if resp.cseq else 1,
                    branch=case.branch or "",
                )
                await _send(ctx, x, call.ack_non_2xx(resp), "udp")
            else:
                call = Call(
                    str(ctx.target.uri("user")),
                    local,
                    call_id=resp.call_id or "",
                    from_tag=(resp.from_.tag if resp.from_ else None) or "",
                    cseq=resp.cseq.seq if resp.cseq else 1,
                )
                await _finish(ctx, x, call, final, "udp")
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
    finally:
        x.close()


def _generated_case(
    p: Params, ctx: ProbeContext, sent_by: str, defects: dict[str, Any]
) -> Case | None:
    from sipfsm.probe.corpus import rewrite_generated

    d = defects[p["defect"]]
    return rewrite_generated(
        p["original"], p["defect"], d.apply, ctx.target.uri(ctx.users.answer), sent_by
    )


# --------------------------------------------------------------------------- role server


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
                else _skip(x, f"the target sent {inv.method}; the check needs an INVITE")
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
            *_train(x.rel(inv.t), offsets, "INVITE again: Timer A"),
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
                return _skip(x, "after the INVITE the target sent no non-INVITE request")
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
            *_train(x.rel(req.t), offsets, f"{req.method} again: Timer E"),
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
                else _skip(x, f"the target sent {inv.method}; the check needs an INVITE")
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
        return _judged(x, problems, want, "ACK as 17.1.1.3 says", exp)


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
                else _skip(x, f"the target sent {inv.method}; the check needs an INVITE")
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
        await _answer_byes(x, got)
        return _judged(x, problems, want, "ACK as 13.2.2.4 says", exp)


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


# --------------------------------------------------------------------------- the registry


def _fixed(**kw: st.SearchStrategy[Any]) -> st.SearchStrategy[Params]:
    return st.fixed_dictionaries(kw)


def _reject_users(ctx: ProbeContext) -> st.SearchStrategy[str]:
    return st.sampled_from(list(ctx.users.reject))


CHECKS: tuple[Check, ...] = (
    Check(
        "invite-server-final-retransmit",
        "17.2.1",
        "client",
        "INVITE server transaction retransmits a non-2xx final per Timer G until Timer H",
        "INVITE to a rejecting user; the ACK is withheld",
        "final response at T1, 3T1, 7T1 ... (interval doubling, cap T2) until 64*T1; none over TCP",
        "each interval within max(50 ms, 10% of interval)",
        lambda c: _fixed(transport=_transports(c), user=_reject_users(c)),
        invite_server_final_retransmit,
        long=True,
    ),
    Check(
        "invite-server-ack-stops-retransmit",
        "17.2.1",
        "client",
        "the ACK of a non-2xx stops Timer G",
        "INVITE to a rejecting user; ACK after k retransmissions",
        "no retransmission of the final response after the ACK",
        "messages in flight: 50 ms",
        lambda c: _fixed(
            transport=_transports(c), user=_reject_users(c), acks_after=st.integers(0, 3)
        ),
        invite_server_ack_stops_retransmit,
    ),
    Check(
        "uas-2xx-retransmit",
        "13.3.1.4",
        "client",
        "the UAS core retransmits its 2xx until the ACK",
        "INVITE to an answering user; ACK after k 2xx retransmissions",
        "2xx at T1, 3T1, 7T1 ... (doubling, cap T2) on any transport; none after the ACK",
        "each interval within max(50 ms, 10% of interval)",
        lambda c: _fixed(
            transport=_transports(c), k=st.integers(1, len(doubling(c.base.t1, c.base.t2, c.t64)))
        ),
        uas_2xx_retransmit,
        long=True,
    ),
    Check(
        "uas-2xx-no-ack-bye",
        "13.3.1.4",
        "client",
        "without an ACK the 2xx is retransmitted for 64*T1, then the UAS sends BYE",
        "INVITE to an answering user; no ACK ever",
        "2xx retransmissions until 64*T1, then BYE (SHOULD)",
        "intervals max(50 ms, 10%); BYE within 10% of 64*T1",
        lambda c: _fixed(transport=_transports(c)),
        uas_2xx_no_ack_bye,
        long=True,
    ),
    Check(
        "invite-server-absorbs-retransmit",
        "17.2.1",
        "client",
        "a retransmitted INVITE is absorbed by its server transaction",
        "INVITE, then the same INVITE again at drawn instants within Timer H; ACK twice",
        "each retransmission answered with the last response (same status and To tag); "
        "no new transaction; retransmitted ACK not answered",
        "an answer within max(200 ms, 4 x 50 ms)",
        lambda c: _fixed(
            user=st.sampled_from([*c.users.reject, *([c.users.ring] if c.users.ring else [])]),
            at=st.lists(st.integers(0, 9), min_size=1, max_size=3),
        ),
        invite_server_absorbs_retransmit,
        long=True,
    ),
    Check(
        "non-invite-server-absorbs-retransmit",
        "17.2.2",
        "client",
        "a retransmitted non-INVITE request is absorbed during Timer J",
        "OPTIONS, then the same OPTIONS again at drawn instants within Timer J",
        "the same final response (status, To tag) to each retransmission",
        "an answer within max(200 ms, 4 x 50 ms)",
        lambda c: _fixed(
            method=st.sampled_from(["OPTIONS"]),
            at=st.lists(st.integers(0, 9), min_size=1, max_size=3),
        ),
        non_invite_server_absorbs_retransmit,
        long=True,
    ),
    Check(
        "malformed",
        "8.2; 21.4; RFC 4475",
        "client",
        "malformed and semantically wrong requests get the response the RFC prescribes",
        "RFC 4475 invalid/semantic requests (all) and generated one-defect requests",
        "400/416/420/415/505/...; dropped only where allowed; never accepted",
        "an answer within min(max(16*T1, 1 s), 4 s)",
        _malformed_params,
        malformed,
        explicit=_malformed_explicit,
    ),
    Check(
        "cancel",
        "9.2",
        "client",
        "CANCEL of a ringing INVITE: 200 to the CANCEL, 487 to the INVITE",
        "INVITE to a ringing user, CANCEL after a drawn delay",
        "200 (CANCEL) and 487 (INVITE)",
        "answers within max(2 s, 8*T1)",
        lambda c: _fixed(transport=_transports(c), delay=st.integers(0, 4)),
        cancel,
    ),
    Check(
        "cancel-unknown",
        "9.2",
        "client",
        "CANCEL matching no transaction gets 481",
        "CANCEL with a fresh branch and Call-ID",
        "481",
        "an answer within 2 s",
        lambda c: _fixed(transport=_transports(c)),
        cancel_unknown,
    ),
    Check(
        "invite-client-retransmit",
        "17.1.1.2",
        "server",
        "INVITE client transaction retransmits per Timer A until Timer B",
        "nothing: the probe stays silent",
        "INVITE at T1, 3T1, 7T1 ... (doubling, no cap) until 64*T1; none over TCP",
        "each interval within max(50 ms, 10% of interval)",
        lambda c: _fixed(transport=_transports(c)),
        invite_client_retransmit,
        long=True,
    ),
    Check(
        "non-invite-client-retransmit",
        "17.1.2.2",
        "server",
        "non-INVITE client transaction retransmits per Timer E until Timer F",
        "nothing to the non-INVITE request (an INVITE first gets 200)",
        "request at T1, 3T1, 7T1 ... (doubling, cap T2) until 64*T1; none over TCP",
        "each interval within max(50 ms, 10% of interval)",
        lambda c: _fixed(transport=_transports(c)),
        non_invite_client_retransmit,
        long=True,
    ),
    Check(
        "ack-for-non-2xx",
        "17.1.1.3",
        "server",
        "the ACK of a non-2xx final response",
        "a non-2xx final (drawn status) to the target's INVITE",
        "ACK on the INVITE's branch, To tag ours, CSeq n ACK, same Request-URI and Route",
        "an ACK within max(2 s, 4*T1)",
        lambda c: _fixed(
            transport=_transports(c),
            status=st.sampled_from([486, 404, 480, 603]),
            delay=st.integers(0, 3),
        ),
        ack_for_non_2xx,
    ),
    Check(
        "ack-for-2xx",
        "13.2.2.4",
        "server",
        "the ACK of a 2xx is a new transaction",
        "200 with a Contact to the target's INVITE",
        "ACK with a new branch, Request-URI = our Contact, CSeq n ACK, To tag ours",
        "an ACK within max(2 s, 8*T1)",
        lambda c: _fixed(transport=_transports(c), delay=st.integers(0, 3)),
        ack_for_2xx,
    ),
)


def by_id(ids: list[str] | None = None, role: str | None = None) -> list[Check]:
    """The checks with these ids (all when None), of ``role`` when given, in registry
    order. Unknown ids raise ValueError."""
    known = {c.id for c in CHECKS}
    if ids:
        bad = [i for i in ids if i not in known]
        if bad:
            raise ValueError(
                f"unknown check(s) {', '.join(bad)}; known: {', '.join(sorted(known))}"
            )
    return [c for c in CHECKS if (not ids or c.id in ids) and (role is None or c.role == role)]
