"""Safety bounds of an endpoint: transactions in flight, messages, duration and send rate.

Every bound fails closed: a limit reached raises :class:`LimitExceeded` rather than sending.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipfsm.errors import SipfsmError

__all__ = ["Bounds", "Budget", "LimitExceeded", "TokenBucket"]


class LimitExceeded(SipfsmError):
    """A safety bound of :class:`Bounds` was reached: nothing was sent."""

    def __init__(self, limit: str, detail: str) -> None:
        self.limit = limit
        super().__init__(f"limit {limit} reached: {detail}")


@dataclass(frozen=True, slots=True)
class Bounds:
    """Safety bounds of one :class:`SipEndpoint`; every one is enforced before a send.

    The defaults suit probing a peer on the same machine: a few hundred messages a second at
    most, a minute in all.
    """

    #: Transactions (slots from :meth:`SipEndpoint.slot`) open at once.
    max_in_flight: int = 64
    #: Messages sent in the endpoint's lifetime (retransmissions included).
    max_messages: int = 10_000
    #: Seconds from :meth:`SipEndpoint.start` after which nothing more is sent and it closes.
    max_duration: float = 60.0
    #: Sustained send rate, messages per second (token bucket refill).
    rate: float = 500.0
    #: Token bucket depth: messages that may go out back to back.
    burst: int = 100
    #: Largest message accepted on a stream (header section plus body), bytes.
    max_message_size: int = 65_535
    #: Received messages held for :meth:`SipEndpoint.recv` before new ones are dropped.
    max_queue: int = 10_000

    def __post_init__(self) -> None:
        for name in ("max_in_flight", "max_messages", "burst", "max_message_size", "max_queue"):
            if getattr(self, name) < 1:
                raise ValueError(f"Bounds.{name} must be >= 1")
        if not (self.max_duration > 0 and self.rate > 0):
            raise ValueError("Bounds.max_duration and Bounds.rate must be > 0")


class TokenBucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` stored, one per message."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._stamp = now

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def try_take(self, now: float) -> bool:
        """Take one token if there is one."""
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is)."""
        self._refill(now)
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate


class Budget:
    """What several endpoints share of one :class:`Bounds`: its rate (one token bucket) and
    its message count, so that endpoints opened for one run (the probe's, one per check)
    together stay within ``rate`` and ``max_messages``."""

    def __init__(self, bounds: Bounds) -> None:
        self.bucket = TokenBucket(bounds.rate, bounds.burst, 0.0)
        #: Messages sent by every endpoint sharing it.
        self.sent = 0
