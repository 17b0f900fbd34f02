"""The probe bounds the exchanges it has open with the target at once (issue 13, defect 7):
a UAS that caps its calls (PJSIP's pjsua takes 4 and answers the 5th statelessly) must not
see more, so ``--max-in-flight`` defaults low for a live UAS target, and the bound holds for
every exchange of every check, run side by side.

The probe runs on the virtual clock against the embedded reference UA; each check's exchange
is wrapped to count how many run at once.
"""

from __future__ import annotations

import dataclasses
import io

import pytest

from sipfsm.probe import ProbeConfig
from sipfsm.probe import runner as probe_runner
from sipfsm.probe.checks import Check, Outcome, ProbeContext, by_id
from sipfsm.probe.checks.base import Params


def test_default_is_low_for_a_live_uas_only() -> None:
    assert ProbeConfig(target="sip:bob@127.0.0.1:5060").in_flight() == 4
    assert ProbeConfig(target="sip:bob@127.0.0.1:5060", role="server").in_flight() == 64
    assert ProbeConfig().in_flight() == 64  # the embedded reference UA takes any number
    assert ProbeConfig(target="sip:bob@127.0.0.1:5060", max_in_flight=9).in_flight() == 9


@pytest.mark.parametrize("bound", [1, 2])
def test_no_more_exchanges_at_once_than_the_bound(
    bound: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every check of role client (the malformed corpus included) at once would open a
    dozen exchanges; with the bound, the most open at any instant is the bound."""
    open_now = 0
    most = 0

    def counted(check: Check) -> Check:
        inner = check.exchange

        async def exchange(ctx: ProbeContext, params: Params) -> Outcome:
            nonlocal open_now, most
            open_now += 1
            most = max(most, open_now)
            try:
                return await inner(ctx, params)
            finally:
                open_now -= 1

        return dataclasses.replace(check, exchange=exchange)

    def wrapped(ids: list[str] | None = None, role: str | None = None) -> list[Check]:
        return [counted(c) for c in by_id(ids, role)]

    monkeypatch.setattr(probe_runner, "by_id", wrapped)
    cfg = ProbeConfig(max_examples=2, seed=1, max_in_flight=bound, virtual_clock=True)
    report = probe_runner.run(cfg, progress_stream=io.StringIO())
    assert report.stopped_by is None, report.stopped_by
    verdicts = {r.check.id: (r.verdict, r.observed) for r in report.results}
    assert all(v == "pass" for v, _ in verdicts.values()), verdicts
    assert most == bound, most


def test_sockets_of_each_check_share_the_runs_message_bound() -> None:
    """Each check sends from an endpoint of its own (defect 4), yet ``--max-messages`` bounds
    the run: the endpoints :meth:`ProbeIO.fresh` opens share one budget (and one rate)."""
    import asyncio

    from sipfsm.net.aio import Bounds, LimitExceeded
    from sipfsm.probe.io import ProbeIO, Target

    async def main() -> tuple[int, bool]:
        target = Target(("udp",), "127.0.0.1", 9)
        bounds = Bounds(max_messages=3, rate=1000.0, burst=100)
        root = await ProbeIO(
            target, bounds=bounds, allow_remote=False, stop=asyncio.Event()
        ).start()
        one, two = await root.fresh(), await root.fresh()
        refused = False
        try:
            for io_ in (one, one, two):
                await io_.ep.send(b"x", "udp", "127.0.0.1", 9)
            try:
                await two.ep.send(b"x", "udp", "127.0.0.1", 9)
            except LimitExceeded:
                refused = True
        finally:
            for io_ in (one, two, root):
                await io_.close()
        return root.budget.sent, refused

    sent, refused = asyncio.run(main())
    assert sent == 3 and refused  # the 4th message of the run, the 2nd of its endpoint
