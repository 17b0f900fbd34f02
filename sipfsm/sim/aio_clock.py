"""asyncio on the virtual clock: :class:`VirtualClockLoop` and :func:`run`.

Code written for asyncio and sockets (``loop.time()``, ``call_at``, ``asyncio.sleep``,
``wait_for``, :class:`sipfsm.net.endpoint.SipEndpoint`, :class:`sipfsm.net.driver.Driver`)
runs unchanged on this loop, with two differences:

* **time is virtual.** ``loop.time()`` moves only when nothing can run: no callback is ready,
  no file descriptor is readable, and no worker thread is computing. Then the clock jumps to
  the next timer. A timer therefore fires exactly at its deadline, however slow the machine,
  and a 32 s Timer H window costs no waiting. CPU time spent in callbacks takes no virtual time.
* **the network is in memory** (:class:`~sipfsm.sim.aio_network.MemoryNetwork`):
  ``create_datagram_endpoint``, ``create_server`` and ``create_connection`` bind and connect
  there, never to a socket, so nothing is ever in flight in a kernel when the clock jumps.

Worker threads are counted: a job started with ``run_in_executor`` (``asyncio.to_thread``)
holds the clock still while it runs, except while it waits for the loop in
:meth:`VirtualClockLoop.run_from_thread` (the one way such a thread may wait for a coroutine:
``asyncio.run_coroutine_threadsafe(...).result()`` would hold the clock still forever).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import selectors
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sipfsm.sim.aio_network import MemoryNetwork

__all__ = ["VirtualClockLoop", "run"]

T = TypeVar("T")

#: Where the virtual clock starts: not 0, so that no instant is ever falsy.
START = 1000.0
#: Real seconds the loop waits, at most, before it looks again at a thread that computes.
_REAL_WAIT = 0.1


class _Clock:
    """The virtual time and the count of worker threads that compute (thread-safe)."""

    def __init__(self, start: float) -> None:
        self.now = start
        self._busy = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        """A worker thread computes: the clock stands still."""
        with self._lock:
            self._busy += 1

    def leave(self) -> None:
        """A worker thread finished or waits for the loop."""
        with self._lock:
            self._busy -= 1

    def busy(self) -> bool:
        """Whether a worker thread computes."""
        with self._lock:
            return self._busy > 0


class _Selector(selectors.DefaultSelector):
    """The real selector (the loop's self-pipe, signals), polled without waiting; when
    nothing is ready and no thread computes, the wait becomes a jump of the virtual clock."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        busy = self._clock.busy()  # read before polling: a thread that stops computing
        events = super().select(0)  # has already woken the loop's self-pipe
        if events or (timeout is not None and timeout <= 0):
            return events
        if busy:
            return super().select(_REAL_WAIT if timeout is None else min(timeout, _REAL_WAIT))
        if timeout is None:  # nothing scheduled: only a signal or another thread can wake it
            return super().select(None)
        self._clock.now += timeout
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on the virtual clock with an in-memory network (module docstring)."""

    def __init__(self, start: float = START) -> None:
        self._clock = _Clock(start)
        super().__init__(_Selector(self._clock))
        self.network = MemoryNetwork(self)
        # enough workers that no job waits for one: a queued job would hold the clock still
        self.set_default_executor(
            concurrent.futures.ThreadPoolExecutor(64, thread_name_prefix="sipfsm-virtual")
        )

    def time(self) -> float:
        """The virtual clock."""
        return self._clock.now

    # -- threads

    def run_in_executor(  # type: ignore[override]
        self, executor: concurrent.futures.Executor | None, func: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        """As asyncio's, and the clock stands still until the job is done."""
        self._clock.enter()
        try:
            fut = super().run_in_executor(executor, func, *args)
        except BaseException:
            self._clock.leave()
            raise
        fut.add_done_callback(lambda _f: self._clock.leave())
        return fut

    def run_from_thread(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop from a worker thread and wait for its result; the clock
        may move while the thread waits (it computes nothing)."""
        back = threading.Event()

        async def counted() -> T:
            try:
                return await coro
            finally:  # counted again before the thread can see the result
                self._clock.enter()
                back.set()

        fut = asyncio.run_coroutine_threadsafe(counted(), self)
        self._clock.leave()
        try:
            return fut.result()
        finally:
            if not back.is_set():  # never ran (the loop closed): count the thread again
                self._clock.enter()

    # -- the network

    async def create_datagram_endpoint(  # type: ignore[override]
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        local_addr: tuple[str, int] | None = None,
        remote_addr: tuple[str, int] | None = None,
        **kwargs: Any,
    ) -> tuple[asyncio.DatagramTransport, asyncio.BaseProtocol]:
        """A datagram transport of :attr:`network`."""
        if remote_addr is not None:
            raise NotImplementedError("connected datagram endpoints are not simulated")
        return self.network.datagram_endpoint(protocol_factory, local_addr)

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: str | None = None,
        port: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """A listener of :attr:`network` (``asyncio.start_server`` comes here)."""
        return self.network.listen(protocol_factory, host or "127.0.0.1", port or 0)

    async def create_connection(  # type: ignore[override]
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: str | None = None,
        port: int | None = None,
        *,
        local_addr: tuple[str, int] | None = None,
        **kwargs: Any,
    ) -> tuple[asyncio.Transport, asyncio.BaseProtocol]:
        """A connection of :attr:`network` (``asyncio.open_connection`` comes here)."""
        if host is None or port is None:
            raise ValueError("host and port are needed")
        return self.network.connect(protocol_factory, host, port, local_addr)


def run(main: Coroutine[Any, Any, T], *, start: float = START) -> T:
    """``asyncio.run(main)`` on a new :class:`VirtualClockLoop`."""
    with asyncio.Runner(loop_factory=lambda: VirtualClockLoop(start)) as runner:
        return runner.run(main)
