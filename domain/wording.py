"""How values read inside messages: enum values as words, waits as minutes and hours.

Messages are for people; the machine-readable value always travels beside them in the
error's extensions (``allowedStatuses``, ``retryAfter`` in seconds, ...).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import Enum

_VOWEL_SOUNDS = ("a", "e", "i", "o", "u")


def words(value: Enum | str) -> str:
    """An enum value as words in a sentence: ``ON_HOLD`` -> ``on-hold``, ``ACTIVE`` ->
    ``active`` (lower case, inner underscores as hyphens)."""
    raw = value.value if isinstance(value, Enum) else value
    return str(raw).lower().replace("_", "-")


def with_article(phrase: str) -> str:
    """``phrase`` after "a" or "an" by its first letter: ``an on-hold``, ``a completed``."""
    article = "an" if phrase[:1].lower() in _VOWEL_SOUNDS else "a"
    return f"{article} {phrase}"


def either(phrases: Iterable[str], conjunction: str = "or") -> str:
    """``a``, ``a or b``, ``a, b or c``; empty for none."""
    items = list(phrases)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


_BINARY_UNITS = ("KiB", "MiB", "GiB", "TiB")


def size(count: int) -> str:
    """A number of bytes as a person reads it: ``512 bytes``, ``25 MiB``, ``1.5 GiB``
    (binary units, at most one decimal)."""
    if abs(count) < 1024:
        return _count(count, "byte")
    value, power = float(count), 0
    while abs(value) >= 1024 and power < len(_BINARY_UNITS):
        value /= 1024
        power += 1
    return f"{value:.1f}".removesuffix(".0") + f" {_BINARY_UNITS[power - 1]}"


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def duration(seconds: float) -> str:
    """A wait of ``seconds`` as a person says it, never shorter than the wait: under a minute
    in seconds (``45 seconds``), under an hour in whole minutes rounded up (900 ->
    ``15 minutes``, 61 -> ``2 minutes``), then hours and minutes (``1 hour 30 minutes``)."""
    whole = max(0, math.ceil(seconds))
    if whole < 60:
        return _count(whole, "second")
    minutes = math.ceil(whole / 60)
    if minutes < 60:
        return _count(minutes, "minute")
    hours, rest = divmod(minutes, 60)
    return _count(hours, "hour") + (f" {_count(rest, 'minute')}" if rest else "")
