"""Garbage collector settings for a long-running server process."""

from __future__ import annotations

import asyncio
import gc
from functools import cache

GC_THRESHOLDS = (10_000, 10, 10)
BURST_SOCKETS = 50
"""Websockets opened within :data:`BURST_WINDOW` seconds that make a burst."""
BURST_WINDOW = 1.0
BURST_QUIET = 2.0
"""Seconds without a websocket opened that end a burst."""
BURST_MOST = 60.0
"""Seconds a burst may defer full collections at most (a flood of sockets that never
stops still has its garbage collected)."""
DEFERRED = 1 << 30  # a gen2 threshold never reached


@cache
def tune_collector() -> None:
    """Once per process: a server holding thousands of long-lived connections spends much
    of its time in the cyclic garbage collector with Python's default thresholds (a young
    collection every 700 allocations; each delivered event allocates dozens of objects).
    What start-up made (modules, the schema, the ORM's metadata) is frozen out of its walks,
    and young collections run every 10,000 allocations. benchmarks/README.md has figures."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class Bursts:
    """Full collections wait for the end of a burst of websockets (a reconnect storm).

    A full collection walks every object of the process: with thousands of connections,
    a second or more of CPU, and a storm of reconnections triggers several (each new
    connection's objects count towards the next). While at least :data:`BURST_SOCKETS`
    websockets open within :data:`BURST_WINDOW` seconds, only young collections run; once
    none opened for :data:`BURST_QUIET` seconds (or after :data:`BURST_MOST` seconds of
    burst), one full collection runs, over everything, and what survives it (the
    connections now open) is frozen out of later full collections. Memory stays bounded:
    a frozen connection's garbage is collected at the end of the next burst, so the heap
    is never larger than at its peak plus what the next burst allocates."""

    def __init__(self) -> None:
        self._window_start = 0.0
        self._opened = 0
        self._burst_start: float | None = None
        self._last_open = 0.0
        self.bursts = 0
        """Bursts ended so far (each with one full collection)."""

    @property
    def in_burst(self) -> bool:
        return self._burst_start is not None

    def opened(self) -> None:
        """A websocket was opened (before it is authenticated: a flood counts too)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._last_open = now
        if now - self._window_start > BURST_WINDOW:
            self._window_start, self._opened = now, 0
        self._opened += 1
        if self._burst_start is None and self._opened >= BURST_SOCKETS:
            self._burst_start = now
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, DEFERRED)
            loop.call_later(BURST_QUIET, self._check)

    def _check(self) -> None:
        if self._burst_start is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        quiet = now - self._last_open
        if quiet < BURST_QUIET and now - self._burst_start < BURST_MOST:
            loop.call_later(BURST_QUIET - quiet, self._check)
            return
        self.end()

    def end(self) -> None:
        """End the burst now: one full collection, then freeze what survived."""
        if self._burst_start is None:
            return
        self._burst_start = None
        self._opened = 0
        self.bursts += 1
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, GC_THRESHOLDS[2])


@cache
def bursts() -> Bursts:
    """The process's :class:`Bursts` (the collector is the process's)."""
    return Bursts()
