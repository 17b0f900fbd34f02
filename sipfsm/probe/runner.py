"""Run the checks against a target, Hypothesis driving each check's parameters.

For every selected :class:`~sipfsm.probe.checks.Check`:

1. its explicit parameters (the RFC 4475 corpus for ``malformed``) run first, concurrently;
   so does, for a check whose rule differs by transport (``by_transport``: Timers A, E, G
   exist only over unreliable transports, 17.1.1.2, 17.1.2.2, 17.2.1), the simplest
   parameter set of each transport the target offers: every transport is judged at least
   once, whatever Hypothesis draws; these count towards ``max_examples``;
2. Hypothesis generates up to ``max_examples`` parameter sets (``@given`` run
   programmatically in a worker thread, ``database=None``, ``deadline=None``); each runs one
   live exchange on the event loop (``asyncio.run_coroutine_threadsafe``). A failing exchange
   raises inside the test, so Hypothesis shrinks it: every candidate it tries is another live
   exchange, bounded by ``max_shrinks`` and by the run's deadline (a candidate that cannot
   run in time counts as passing, which ends shrinking early). Outcomes are cached by
   parameters, so Hypothesis's final replay does not touch the network and cannot be flaky.
   The report keeps the shortest failing exchange seen (fewest messages, then least time);
3. the minimal failure is run again alone (:func:`~sipfsm.probe.example.confirm`): the check
   fails only when it fails again; otherwise it is INCONCLUSIVE (:mod:`~sipfsm.probe.verdict`).

Every exchange is one example (:mod:`~sipfsm.probe.example`), with the probe's own event-loop
lag measured while it runs (a heartbeat, :class:`~sipfsm.probe.lag.LagMeter`, and its own
waits and sends): beyond the tolerance its verdict is INCONCLUSIVE.

Checks run concurrently (each exchange has its own Call-ID; each check its own sockets and
From user, and in role server its own listener), so the 64*T1 windows of Timers B, F, H and J
overlap instead of adding up. A check marked ``last`` (the malformed corpus, which may wedge
the target) runs after all the others. Ctrl-C and ``duration`` set one stop event: every wait
ends at once and the report is partial.

With ``virtual_clock`` (no target: the embedded reference UA only) the reference UA runs in
this process, on the same :class:`~sipfsm.sim.aio_clock.VirtualClockLoop` as the probe, over
its in-memory network: every timer fires at its deadline however busy the machine, so the
verdicts are those of the timeline alone, and a 64*T1 window costs no waiting (:func:`run`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as _dt
import os
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sipfsm.errors import SipfsmError
from sipfsm.model.timers import Timers
from sipfsm.net.aio import Bounds, TargetRefused
from sipfsm.probe import sdp
from sipfsm.probe.checks import Check, Outcome, ProbeContext, Trigger, Users, by_id
from sipfsm.probe.example import confirm, run_example
from sipfsm.probe.io import ProbeIO, Target, UsageError, parse_target
from sipfsm.probe.lag import LagMeter
from sipfsm.probe.oracle import Base, Tolerance
from sipfsm.probe.progress import Plan, Progress
from sipfsm.probe.reference import ReferenceProcess, ReferenceTarget, _warm_up
from sipfsm.probe.triggers import CommandTrigger, EmbeddedTrigger
from sipfsm.probe.verdict import VERDICTS, CheckResult, conclude
from sipfsm.probe.wire import Call
from sipfsm.sim.aio_clock import VirtualClockLoop
from sipfsm.sim.aio_clock import run as run_virtual

__all__ = [
    "CheckResult",
    "ProbeConfig",
    "Report",
    "Unreachable",
    "probe",
    "run",
]


class Unreachable(SipfsmError):
    """The target answered no OPTIONS (exit 2)."""


@dataclass
class ProbeConfig:
    """Everything ``sipfsm probe`` was asked to do."""

    target: str | None = None
    role: str = "client"
    checks: list[str] | None = None
    max_examples: int = 5
    duration: float = 300.0
    t1: float | None = None
    t2: float | None = None
    t4: float | None = None
    allow_remote: bool = False
    trigger: str | None = None
    rate: float = 200.0
    #: Exchanges with the target at once (None: :meth:`in_flight`'s default).
    max_in_flight: int | None = None
    max_messages: int = 20_000
    #: The users to address (None: the target's user, or the embedded UA's own).
    users: Users | None = None
    flaws: frozenset[str] = frozenset()
    seed: int | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    #: The probe's own lag beyond which an exchange is inconclusive (None: the tolerance's
    #: absolute part, the smallest any timed check allows).
    max_lag: float | None = None
    max_shrinks: int = 8
    reach_timeout: float = 2.0
    run_dir: Path | None = None
    #: Role server: run the checks one at a time (a trigger command that cannot run twice).
    sequential: bool = False
    #: Probe the embedded reference UA on the virtual clock and an in-memory network (:func:`run`).
    virtual_clock: bool = False
    #: The progress line on stderr: None on a TTY only, True always, False never.
    progress: bool | None = None

    def in_flight(self) -> int:
        """``max_in_flight``, or its default: 4 against a live UAS (role client with a
        target), whose calls may be capped (PJSIP's pjsua takes 4 and answers the next
        statelessly); 64 otherwise."""
        if self.max_in_flight is not None:
            return self.max_in_flight
        return 4 if self.role == "client" and self.target is not None else 64

    def base(self) -> Base:
        """T1/T2/T4 for the oracle (and the reference UA): the oracle's Table 4 unless given."""
        if self.t1 is None:
            table4 = Base()
            return Base(table4.t1, self.t2 or table4.t2, self.t4 or table4.t4)
        return Base.scaled(self.t1, self.t2, self.t4)


@dataclass
class Report:
    """The whole run."""

    target: str
    role: str
    started: str
    duration: float
    results: list[CheckResult]
    base: Base
    tolerance: Tolerance
    interrupted: bool = False
    stopped_by: str | None = None
    seed: int | None = None

    @property
    def failed(self) -> bool:
        """Whether any check failed."""
        return any(r.verdict == "fail" for r in self.results)

    @property
    def errored(self) -> bool:
        """Whether any check ended in ``error`` (the probe's own bug)."""
        return any(r.verdict == "error" for r in self.results)

    def to_json(self) -> dict[str, Any]:
        """``{target, role, started, duration, checks: [...]}`` and the run's settings."""
        return {
            "target": self.target,
            "role": self.role,
            "started": self.started,
            "duration": round(self.duration, 3),
            "checks": [r.to_json() for r in self.results],
            "interrupted": self.interrupted,
            "stopped_by": self.stopped_by,
            "t1": self.base.t1,
            "t2": self.base.t2,
            "t4": self.base.t4,
            "tolerance": self.tolerance.describe(),
            "seed": self.seed,
            "summary": {v: sum(r.verdict == v for r in self.results) for v in VERDICTS},
        }


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


# --------------------------------------------------------------------------- running


def _from_thread(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Outcome]) -> Outcome:
    """Run an exchange on the loop from Hypothesis's worker thread and wait for it (on the
    virtual clock, the clock may move only while the thread waits)."""
    if isinstance(loop, VirtualClockLoop):
        return loop.run_from_thread(coro)
    return asyncio.run_coroutine_threadsafe(coro, loop).result()


def _per_transport(
    strategy: Any, transports: tuple[str, ...], seed: int | None
) -> list[dict[str, Any]]:
    """The simplest parameter set of ``strategy`` with each transport (Hypothesis's
    :func:`~hypothesis.find`, shrunk: the first user, the least delay), one per transport
    of ``transports`` that it can draw."""
    import random

    from hypothesis import HealthCheck, Verbosity, find, settings
    from hypothesis.errors import NoSuchExample

    conf = settings(
        database=None,
        deadline=None,
        max_examples=200,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )

    def over(transport: str) -> Callable[[dict[str, Any]], bool]:
        return lambda params: params.get("transport") == transport

    found = []
    for transport in transports:
        with contextlib.suppress(NoSuchExample):
            found.append(
                find(strategy, over(transport), settings=conf, random=random.Random(seed or 0))
            )
    return found


class _Failed(Exception):
    """Raised inside the Hypothesis test when an exchange failed (makes it shrink)."""


def _estimate(check: Check, ctx: ProbeContext) -> float:
    """Seconds one exchange of ``check`` may take (for the deadline)."""
    if check.long:
        return ctx.t64 * 1.1 + ctx.tol.of(ctx.t64) + 3 * ctx.answer_wait
    return 4 * ctx.answer_wait + 8 * ctx.base.t1


async def _run_check(
    ctx: ProbeContext,
    res: CheckResult,
    cfg: ProbeConfig,
    deadline: float,
    progress: Progress | None,
    gate: asyncio.Semaphore,
) -> None:
    """Run one check in its turn (``gate``), on sockets of its own."""
    async with gate:
        if ctx.io is None:
            await _judge(ctx, res, cfg, deadline, progress)
            return
        # sockets and a From user of its own (issue 13, defect 4)
        io = await ctx.io.fresh(user=f"probe-{res.check.id}")
        try:
            await _judge(dataclasses.replace(ctx, io=io), res, cfg, deadline, progress)
        finally:
            await io.close()


async def _judge(
    ctx: ProbeContext,
    res: CheckResult,
    cfg: ProbeConfig,
    deadline: float,
    progress: Progress | None,
) -> None:
    """Run ``res``'s check: explicit and per-transport examples, then Hypothesis; confirm
    the minimal failure; conclude."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

    check = res.check
    loop = asyncio.get_running_loop()
    recorded: list[Outcome] = []
    explicit_fail: list[Outcome] = []
    res.state = "running"
    if progress is not None:
        progress.show()
    est = _estimate(check, ctx)
    if check.explicit is not None and not ctx.stop.is_set():
        sem = asyncio.Semaphore(4)

        async def one(p: dict[str, Any]) -> Outcome:
            async with sem:
                return await run_example(check, ctx, p, deadline - est)

        outs = await asyncio.gather(*(one(p) for p in check.explicit(ctx)))
        res.examples += len(outs)
        recorded += outs
        explicit_fail = [o for o in outs if o.verdict == "fail"]
    cache: dict[Any, Outcome] = {}
    hyp_fail: list[Outcome] = []
    shrinks = 0
    strategy = check.params(ctx)
    firsts: list[dict[str, Any]] = []
    if check.by_transport and not ctx.stop.is_set() and loop.time() + est <= deadline:
        firsts = await asyncio.to_thread(_per_transport, strategy, ctx.target.transports, cfg.seed)
        outs = await asyncio.gather(*(run_example(check, ctx, p, deadline - est) for p in firsts))
        cache.update((_freeze(p), o) for p, o in zip(firsts, outs, strict=True))
        res.examples += len(outs)
        recorded += outs
        explicit_fail += [o for o in outs if o.verdict == "fail"]
        res.failures = len(explicit_fail)

    drawn = cfg.max_examples - len(firsts)  # new examples left after the first pass
    fresh = 0

    def body(params: dict[str, Any]) -> None:
        nonlocal shrinks, fresh
        key = _freeze(params)
        out = cache.get(key)
        if out is None:
            # once something failed, keep the time to run the minimal failure again
            room = 2 * est if hyp_fail or explicit_fail else est
            if ctx.stop.is_set() or loop.time() + room > deadline:
                return
            if hyp_fail:
                if shrinks >= cfg.max_shrinks:
                    return
                shrinks += 1
            elif fresh >= drawn:
                return
            else:
                fresh += 1
            out = _from_thread(loop, run_example(check, ctx, params, deadline - est))
            cache[key] = out
            res.examples += 1
            recorded.append(out)
            if out.verdict == "fail":
                hyp_fail.append(out)
                res.failures = len(hyp_fail) + len(explicit_fail)
        if out.verdict == "fail":
            raise _Failed()

    test = settings(
        max_examples=max(1, cfg.max_examples),
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )(given(strategy)(body))
    if cfg.seed is not None:
        test = seed(cfg.seed)(test)
    if drawn > 0 and not ctx.stop.is_set():
        with contextlib.suppress(Exception):
            await asyncio.to_thread(test)
    fails = explicit_fail + hyp_fail
    rerun = await confirm(check, ctx, fails, deadline, est)
    conclude(res, recorded, fails, ctx, rerun)
    res.state = "done"
    if progress is not None:
        progress.show()


async def _reachable(ctx: ProbeContext) -> None:
    """Send OPTIONS over each transport; when nothing answers, an INVITE to the answering
    user (a target that only takes calls, like SIPp's UAS), cleaned up after. Raise
    :class:`Unreachable` when nothing comes back."""
    from sipfsm.probe.checks.common import finish

    io, target = ctx.io, ctx.target
    assert io is not None
    reasons = []
    for transport in target.transports:
        for method in ("OPTIONS", "INVITE"):
            x = io.exchange("reachability")
            try:
                local = await io.local(transport)
                user = target.user if method == "OPTIONS" else ctx.users.answer
                offer = sdp.offer(local.host) if method == "INVITE" else b""
                call = Call(target.uri(user), local, offer=offer)
                x.watch(call.call_id)
                await x.send(call.request(method), transport, target.host, target.port)
                # anything sent back for our call shows the target alive, even a message
                # that does not parse or matches no transaction: the checks judge those
                _, m = await x.until(x.now + ctx.answer_wait / 2, lambda m: m.request is None)
                if m is not None:
                    ctx.answers_options = method == "OPTIONS"
                    if method == "INVITE":
                        _, final = await x.until(x.now + ctx.answer_wait, lambda m: m.status >= 200)
                        await finish(ctx, x, call, final, transport)
                    return
                reasons.append(
                    f"no answer to {method} over {transport.upper()} within "
                    f"{ctx.answer_wait / 2:g} s"
                )
            except (OSError, TimeoutError) as exc:
                reasons.append(f"{transport.upper()}: {exc}")
                break
            finally:
                x.close()
    raise Unreachable(f"{target.text or target.hostport} unreachable: {'; '.join(reasons)}")


async def probe(
    cfg: ProbeConfig,
    *,
    progress_stream: TextIO | None = None,
    on_ready: Callable[[Report], None] | None = None,
) -> Report:
    """Run ``cfg``'s checks; return the report (partial when stopped).

    Raises :class:`UsageError` / :class:`~sipfsm.net.aio.TargetRefused` for bad arguments and
    :class:`Unreachable` when the target answers nothing.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    t_start = loop.time()
    deadline = t_start + cfg.duration
    base = cfg.base()
    role = cfg.role
    if role not in ("client", "server"):
        raise UsageError(f"--role must be client or server, not {role!r}")
    try:
        checks = by_id(cfg.checks, role)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not checks:
        raise UsageError(f"no check of role {role} among {', '.join(cfg.checks or [])}")
    bounds = Bounds(
        max_in_flight=cfg.in_flight(),
        max_messages=cfg.max_messages,
        max_duration=cfg.duration + 30.0,
        rate=cfg.rate,
        burst=max(1, min(100, int(cfg.rate))),
    )
    if cfg.virtual_clock and (cfg.target is not None or not isinstance(loop, VirtualClockLoop)):
        raise UsageError(
            "the virtual clock probes the embedded reference UA only (a live target keeps "
            "its own time), on a VirtualClockLoop (sipfsm.probe.runner.run)"
        )
    ref: ReferenceProcess | ReferenceTarget | None = None
    io: ProbeIO | None = None
    interrupted = False
    stopped_by: str | None = None

    def on_sigint() -> None:
        nonlocal interrupted, stopped_by
        interrupted = True
        stopped_by = "SIGINT"
        stop.set()

    def on_deadline() -> None:
        nonlocal stopped_by
        stopped_by = stopped_by or "duration"
        stop.set()

    installed = False
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        installed = True
    timer = loop.call_at(deadline, on_deadline)
    results = [CheckResult(c) for c in checks]
    report = Report("", role, started, 0.0, results, base, cfg.tolerance, seed=cfg.seed)
    plan = Plan(cfg.max_examples, base.t1, cfg.duration, loop.time, t_start)
    progress = Progress(results, progress_stream, plan=plan, enabled=cfg.progress)
    progress_task: asyncio.Task[None] | None = None
    meter = LagMeter(loop, min(0.01, cfg.tolerance.absolute / 5)).start()
    try:
        _warm_up()
        if cfg.target is None:
            timers = Timers(t1=base.t1, t2=base.t2, t4=base.t4)
            if cfg.virtual_clock:  # in this process, on this loop's clock and network
                ref = await ReferenceTarget(timers, flaws=cfg.flaws).start()
            else:
                ref = await ReferenceProcess(timers, flaws=cfg.flaws).start()
            where = "on the virtual clock, " if cfg.virtual_clock else ""
            target = Target(
                ("udp", "tcp"),
                ref.host,
                ref.port,
                None,
                f"embedded reference UA ({where}udp+tcp:{ref.host}:{ref.port})",
            )
            users = cfg.users or Users("answer", ("busy", "status-404", "status-603"), "ring")
        else:
            target = parse_target(cfg.target, cfg.allow_remote)
            users = cfg.users or Users(target.user or "bob", ("sipfsm-nobody",), None)
        report.target = target.text
        trigger_factory: Callable[[], Trigger] | None = None
        run_dir = cfg.run_dir or Path(os.environ.get("TMPDIR", "/tmp")) / "sipfsm-probe"
        if role == "server":
            if cfg.trigger:
                command = cfg.trigger
                lifetime = 64 * base.t1 + 30.0

                def make_cmd() -> Trigger:
                    return CommandTrigger(command, run_dir, lifetime)

                trigger_factory = make_cmd
            elif ref is not None:
                reference = ref

                def make_ref() -> Trigger:
                    return EmbeddedTrigger(reference)

                trigger_factory = make_ref
            else:
                raise UsageError(
                    "--role server needs --trigger COMMAND (what makes the "
                    "target send requests), or no TARGET (the reference UA)"
                )
        else:
            io = await ProbeIO(
                target, bounds=bounds, allow_remote=cfg.allow_remote, stop=stop
            ).start()
        ctx = ProbeContext(
            target,
            base,
            cfg.tolerance,
            users,
            stop,
            bounds,
            io,
            trigger_factory,
            allow_remote=cfg.allow_remote,
            answer_wait=max(cfg.reach_timeout, 4 * base.t1),
            in_flight=asyncio.Semaphore(cfg.in_flight()),
            max_lag=cfg.tolerance.absolute if cfg.max_lag is None else cfg.max_lag,
            meter=meter,
        )
        if io is not None:
            await _reachable(ctx)
        if on_ready is not None:
            on_ready(report)
        gate = asyncio.Semaphore(1 if cfg.sequential else len(results))
        progress_task = asyncio.ensure_future(progress.run(stop))
        # the checks that may wedge the target run last (issue 13, defect 4)
        for last in (False, True):
            await asyncio.gather(
                *(
                    _run_check(ctx, r, cfg, deadline, progress, gate)
                    for r in results
                    if r.check.last is last
                )
            )
    finally:
        timer.cancel()
        meter.stop()
        stop.set()
        if progress_task is not None:
            with contextlib.suppress(BaseException):
                await progress_task
            progress.show(final=True)
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
        if io is not None:
            await io.close()
        if ref is not None:
            await ref.close()
        report.duration = loop.time() - t_start
        report.interrupted = interrupted
        report.stopped_by = (
            stopped_by
            if stopped_by != "duration"
            or any(r.observed.startswith("not run") or "stopped" in r.observed for r in results)
            else None
        )
    return report


def run(
    cfg: ProbeConfig,
    *,
    progress_stream: TextIO | None = None,
    on_ready: Callable[[Report], None] | None = None,
) -> Report:
    """:func:`probe` on a new event loop: the wall clock's, or with ``cfg.virtual_clock`` a
    :class:`~sipfsm.sim.aio_clock.VirtualClockLoop`."""
    main = probe(cfg, progress_stream=progress_stream, on_ready=on_ready)
    return run_virtual(main) if cfg.virtual_clock else asyncio.run(main)


__all__ += ["CommandTrigger", "EmbeddedTrigger", "Progress", "TargetRefused"]
