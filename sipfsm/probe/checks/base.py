"""The records of ``sipfsm probe``'s checks: :class:`Check` (one RFC 3261 rule), the
:class:`ProbeContext` every exchange gets, and the :class:`Outcome` it returns.

Each record names the rule (``id``, ``section``), who is judged (``role``: ``client`` = the
probe sends requests and judges the target's server side; ``server`` = the target sends and
the probe judges its client side), what the probe sends, what the oracle
(:mod:`sipfsm.probe.oracle`) expects, the timing tolerance, the Hypothesis strategy of its
parameters (transport, which final status to ask for, delays, how many retransmissions), and
the coroutine that runs one exchange and returns an :class:`Outcome`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sipfsm.net.bounds import Bounds
from sipfsm.probe.io import Event, ProbeIO, Target
from sipfsm.probe.lag import LagMeter
from sipfsm.probe.oracle import Base, Tolerance

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

__all__ = [
    "Check",
    "Exchanger",
    "Outcome",
    "Params",
    "ProbeContext",
    "Strategy",
    "Trigger",
    "Users",
    "st",
]

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
    #: Exchanges with the target at once (``--max-in-flight``; None: unbounded).
    in_flight: asyncio.Semaphore | None = None
    #: The probe's own lag (seconds) beyond which an exchange is not observed cleanly: its
    #: verdict is then ``inconclusive`` (:mod:`sipfsm.probe.lag`).
    max_lag: float = 0.05
    #: The heartbeat measuring the loop's lag (None: only the exchanges' own waits count).
    meter: LagMeter | None = None
    #: Whether the target answered OPTIONS when it was first reached: the liveness re-checks
    #: of the malformed corpus ask it again (a target that only takes calls is not asked).
    answers_options: bool = False

    @property
    def t64(self) -> float:
        """64*T1: Timers B, F, H, J on UDP and the 2xx retransmission limit."""
        return 64 * self.base.t1

    def lag_limit(self, check: Check) -> float:
        """The probe's own lag beyond which an exchange of ``check`` is not observed cleanly."""
        return self.max_lag if check.timed else max(self.max_lag, self.answer_wait / 4)

    @property
    def grace(self) -> float:
        """How long a message may still arrive after it should have stopped (in flight)."""
        return self.tol.absolute


@dataclass
class Outcome:
    """The result of one exchange."""

    #: pass | fail | skip | inconclusive (the probe could not observe the exchange cleanly:
    #: its own lag, a refusal unrelated to the rule; ``observed`` says why) | error (the
    #: check itself raised: a bug of the probe, never of the target; ``traceback`` says where).
    verdict: str
    expected: str
    observed: str
    trace: list[Event] = field(default_factory=list)
    expected_trace: list[Event] = field(default_factory=list)
    params: Params = field(default_factory=dict)
    #: The probe's own worst lag during the exchange, in seconds (:mod:`sipfsm.probe.lag`).
    lag: float = 0.0
    #: Of an ``inconclusive`` exchange: the verdict it would have had when observed cleanly
    #: ("" when it had none: a refusal).
    masked: str = ""
    #: Of an ``error`` exchange: the traceback of what the check raised.
    traceback: str = ""


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
    #: Whether the rule differs by transport (retransmissions, Timers A, E and G, exist only
    #: over unreliable transports: 17.1.1.2, 17.1.2.2, 17.2.1): the runner first runs the
    #: simplest parameters of each transport the target offers, then Hypothesis draws.
    by_transport: bool = False
    #: Whether it runs after every other check, each exchange from sockets of its own and
    #: followed by a liveness re-check: what it sends may wedge the target (issue 13, defect 4).
    last: bool = False
    #: Whether its verdict rests on instants within the timing tolerance (retransmission
    #: trains, silence after an ACK): the probe's own lag then counts from ``max_lag``; a
    #: check that only waits seconds for an answer tolerates lag up to a quarter of that wait
    #: (:meth:`ProbeContext.lag_limit`).
    timed: bool = True
