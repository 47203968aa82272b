"""Garbage collector settings for a long-running server process."""

from __future__ import annotations

import gc
from functools import cache

GC_THRESHOLDS = (10_000, 10, 10)


@cache
def tune_collector() -> None:
    """Once per process: a server holding thousands of long-lived connections spends much
    of its time in the cyclic garbage collector with Python's default thresholds (a young
    collection every 700 allocations; each delivered event allocates dozens of objects).
    What start-up made (modules, the schema, the ORM's metadata) is frozen out of its walks,
    and young collections run every 10,000 allocations. benchmarks/README.md has figures."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
