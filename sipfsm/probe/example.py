"""One example of a check: one live exchange with the target (:func:`run_example`), in one
of the ``--max-in-flight`` slots, with the probe's own lag measured while it runs
(:mod:`sipfsm.probe.lag`) and its verdict made honest (issue 13):

* beyond the check's lag limit (:meth:`~sipfsm.probe.checks.ProbeContext.lag_limit`) a pass
  or fail is ``inconclusive``, with the measured lag and what it would have been;
* a verdict reached while the run was being stopped is not reported (a wait of the exchange
  may have been cut short);
* the probe's own troubles outside its code (a transport error, a safety bound, the run
  stopped) are skips, never fails;
* anything else a check raises is a bug of the probe, never of the target: the exchange's
  verdict is ``error``, with the exception's type and message and its traceback (never a
  skip, which a passing example beside it would hide, and never a pass).

:func:`confirm` runs the minimal failure again alone before it is reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import traceback
from typing import Any

from sipfsm.net.aio import LimitExceeded
from sipfsm.probe.checks import Check, Outcome, ProbeContext
from sipfsm.probe.io import Stopped
from sipfsm.probe.lag import Lag
from sipfsm.probe.lag import current as lag_of_exchange
from sipfsm.probe.verdict import minimal

__all__ = ["confirm", "run_example"]


async def run_example(
    check: Check, ctx: ProbeContext, params: dict[str, Any], latest: float | None = None
) -> Outcome:
    """One exchange, in one of ``--max-in-flight`` slots; skipped when the stop event or
    ``latest`` (the last instant it can start and end within the run) passed while it
    waited for the slot. The probe's own lag is measured while it runs (:mod:`~sipfsm.probe.
    lag`): beyond ``ctx.max_lag`` its pass or fail becomes ``inconclusive``."""
    lag = Lag()
    token = lag_of_exchange.set(lag)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    try:
        async with ctx.in_flight or contextlib.nullcontext():
            t0 = loop.time()
            if ctx.stop.is_set() or (latest is not None and loop.time() > latest):
                out = Outcome("skip", "", "not run: no time left within --duration")
            else:
                out = await check.exchange(ctx, params)
                if ctx.stop.is_set() and out.verdict in ("pass", "fail"):
                    out = _cut_short(out)
    except Stopped:
        out = Outcome("skip", "", "stopped before the exchange ended")
    except LimitExceeded as exc:
        out = Outcome("skip", "", f"safety bound reached: {exc}")
    except (OSError, TimeoutError) as exc:
        out = Outcome("skip", "", f"transport error: {type(exc).__name__}: {exc}")
    except Exception as exc:
        if os.environ.get("SIPFSM_PROBE_DEBUG"):
            traceback.print_exc()
        out = _error(exc)
    finally:
        lag_of_exchange.reset(token)
    if ctx.meter is not None:
        lag.note(ctx.meter.worst(t0, loop.time()), "the event loop (heartbeat)")
    out.lag = lag.worst
    limit = ctx.lag_limit(check)
    if lag.worst > limit and out.verdict in ("pass", "fail"):
        out = _not_clean(out, lag, limit)
    out.params = params
    return out


def _error(exc: Exception) -> Outcome:
    """What a check raised that is none of the probe's expected troubles: its own verdict,
    ``error``, with the exception and where it was raised."""
    return Outcome(
        "error",
        "",
        f"probe error (a bug of the probe, not of the target): {type(exc).__name__}: {exc}",
        traceback="".join(traceback.format_exception(exc)),
    )


def _cut_short(out: Outcome) -> Outcome:
    """``out`` reached while the run was being stopped: a wait of the exchange may have been
    cut short (a cleanup that swallowed the stop, a wait ended early), so its verdict is not
    reported."""
    return Outcome(
        "skip",
        out.expected,
        f"stopped before the exchange ended (it would have been {out.verdict.upper()}: "
        f"{out.observed})",
        out.trace,
        out.expected_trace,
    )


def _not_clean(out: Outcome, lag: Lag, limit: float) -> Outcome:
    """``out`` observed while the probe itself ran ``lag`` late: inconclusive, with the
    measured lag and what the verdict would have been."""
    return Outcome(
        "inconclusive",
        out.expected,
        f"the probe's own lag reached {lag.worst * 1e3:.0f} ms ({lag.what}), over the "
        f"{limit * 1e3:.0f} ms tolerance: not observed cleanly (it would have been "
        f"{out.verdict.upper()}: {out.observed})",
        out.trace,
        out.expected_trace,
        lag=lag.worst,
        masked=out.verdict,
    )


async def confirm(
    check: Check, ctx: ProbeContext, fails: list[Outcome], deadline: float, est: float
) -> Outcome | None:
    """Run the minimal failing exchange again, alone (none other of this check in flight),
    before its failure is reported (issue 13: a FAIL reproduces); None when nothing failed
    or no time is left."""
    if not fails or ctx.stop.is_set():
        return None
    loop = asyncio.get_running_loop()
    if loop.time() + est > deadline:
        return None
    return await run_example(check, ctx, minimal(fails).params, deadline - est)
