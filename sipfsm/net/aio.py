"""asyncio adapter: the sans-IO core on real UDP and TCP sockets and the wall clock.

The public face of :mod:`sipfsm.net`, one import for its users; each concept lives in its own
module:

* :mod:`sipfsm.net.endpoint`: :class:`SipEndpoint`, UDP and TCP on loopback (RFC 3261
  sections 18.1.1, 18.2.2), every message delivered as a :class:`Received`;
* :mod:`sipfsm.net.framing`: TCP byte streams cut into messages (section 18.3);
* :mod:`sipfsm.net.driver`: :class:`Driver`, any ``get_timer()`` / ``handle_timer(now)`` object
  on the event loop's clock, with timer accuracy measured (:func:`timing_stats`);
* :mod:`sipfsm.net.guard`: :func:`check_target`, loopback only unless remote targets were
  allowed explicitly;
* :mod:`sipfsm.net.bounds`: :class:`Bounds`, what an endpoint may do (in-flight transactions,
  messages, duration, send rate), with safe defaults; a limit reached raises
  :class:`LimitExceeded` rather than sending;
* :mod:`sipfsm.net.server`: :class:`~sipfsm.net.server.Server`, any sans-IO element bound to
  sockets.
"""

from __future__ import annotations

from sipfsm.net.bounds import Bounds, Budget, LimitExceeded, TokenBucket
from sipfsm.net.driver import Driver, Firing, TimerDriven, TimingStats, timing_stats
from sipfsm.net.endpoint import Received, SipEndpoint, Transport
from sipfsm.net.framing import Framer, FramingError, SipStreamFramer
from sipfsm.net.guard import TargetRefused, check_target

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
