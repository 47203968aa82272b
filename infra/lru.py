"""A bounded map that forgets what was used least recently.

One helper for every cache of the process (parsed documents, persisted documents, decoded
events, shared payloads, page diffs): each entry weighs 1 unless told otherwise, and once
the entries weigh more than ``capacity`` the least recently used go first, but for the
one used last, which stays even when it alone weighs more.

It is ours rather than cachetools' ``LRUCache``, which would serve as well: a few dozen
typed lines, where that is a dependency and its separate type stubs for the same.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar, overload

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")


class LRU(Generic[K, V]):
    """At most ``capacity`` (in entries, or in the weights given to :meth:`put`)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("an LRU holds at least one entry")
        self.capacity = capacity
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._weight = 0

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: D) -> V | D: ...

    def get(self, key: K, default: object = None) -> object:
        """The value of ``key`` (now the most recently used), or ``default``."""
        found = self._entries.get(key)
        if found is None:
            return default
        self._entries.move_to_end(key)
        return found[0]

    def peek(self, key: K) -> V | None:
        """The value of ``key`` without counting it as used."""
        found = self._entries.get(key)
        return None if found is None else found[0]

    def put(self, key: K, value: V, weight: int = 1) -> V:
        """Keep ``value`` as the most recently used, weighing ``weight``; forget the least
        recently used beyond the capacity. Returns ``value``."""
        old = self._entries.pop(key, None)
        if old is not None:
            self._weight -= old[1]
        self._entries[key] = (value, weight)
        self._weight += weight
        while self._weight > self.capacity and len(self._entries) > 1:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._weight -= dropped
        return value

    def pop(self, key: K) -> V | None:
        """Forget ``key``; its value, or None."""
        found = self._entries.pop(key, None)
        if found is None:
            return None
        self._weight -= found[1]
        return found[0]

    def clear(self) -> None:
        self._entries.clear()
        self._weight = 0

    @property
    def weight(self) -> int:
        """What the entries weigh together (their number when each weighs 1)."""
        return self._weight

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[K]:
        """Keys from the least to the most recently used."""
        return iter(self._entries)
