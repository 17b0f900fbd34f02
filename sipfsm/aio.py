"""sipfsm on real sockets and the wall clock, with asyncio: the public face of the adapter.

:class:`SipEndpoint` sends and receives SIP over UDP and TCP (RFC 3261 sections 18.1.1, 18.2.2,
18.3), delivering each message as a :class:`Received`; :class:`Driver` runs any sans-IO object
(``get_timer()`` / ``handle_timer(now)``) on the event loop's clock; :func:`check_target` and
:class:`Bounds` keep traffic on loopback and within limits unless told otherwise (they fail
closed: :class:`LimitExceeded`, :class:`TargetRefused`). The sans-IO core itself is
:mod:`sipfsm`.
"""

from sipfsm.net.aio import (
    Bounds,
    Budget,
    Driver,
    Firing,
    Framer,
    FramingError,
    LimitExceeded,
    Received,
    SipEndpoint,
    SipStreamFramer,
    TargetRefused,
    TimerDriven,
    TimingStats,
    TokenBucket,
    Transport,
    check_target,
    timing_stats,
)

__all__ = [
    "Bounds",
    "Budget",
    "Driver",
    "Firing",
    "Framer",
    "FramingError",
    "LimitExceeded",
    "Received",
    "SipEndpoint",
    "SipStreamFramer",
    "TargetRefused",
    "TimerDriven",
    "TimingStats",
    "TokenBucket",
    "Transport",
    "check_target",
    "timing_stats",
]
