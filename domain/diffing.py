"""Line diffs between two texts: structured hunks for clients that draw them, and the
same as a unified diff for people and tools that read one.

Every diff is bounded, whatever the texts: lines that occur once on each side are matched
first (patience diff, near-linear), then each stretch between those anchors that still
differs is refined with Myers' algorithm, which finds the fewest changed lines, within a
budget of MYERS_BUDGET steps for the whole diff. A stretch that would take more is shown
as one replaced block: still a correct diff (applying it gives the new text), only
coarser. ``Diff.exact`` tells which. The same matcher serves the three-way merge of
:mod:`domain.merging`.
"""

from __future__ import annotations

import asyncio
import difflib
import threading
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from patiencediff import PatienceSequenceMatcher

from infra.lru import LRU

CONTEXT_LINES = 3

MYERS_BUDGET = 1_000_000
"""Steps of Myers' algorithm (diagonals tried plus equal lines followed) one diff may
take in all: a fifth of a second of CPU at most, however large or unusual the texts."""

ALLOWANCE_BURST = 2 * MYERS_BUDGET
"""Myers steps one caller may spend at once (see :class:`Allowance`)."""

_clock = time.monotonic

_counter_lock = threading.Lock()
computations = 0
"""Diffs computed by :func:`diff_text` in this process (for tests and benchmarks)."""


class Budget:
    """Myers steps left for one diff (or one merge), shared by all its stretches;
    ``exceeded`` once a stretch had to be left coarse."""

    __slots__ = ("exceeded", "remaining")

    def __init__(self, steps: int | None = None) -> None:
        self.remaining = MYERS_BUDGET if steps is None else steps
        self.exceeded = False


class Allowance:
    """Myers steps one caller (an HTTP request, a websocket connection) may spend on the
    diffs it asks for: up to ALLOWANCE_BURST at once, refilled at MYERS_BUDGET a second.
    A diff asked for with the allowance spent still answers, aligned by its unique lines
    alone (near-linear, coarser: ``exact`` false), so however many diffs one request
    selects, its CPU stays linear in the texts plus at most the burst."""

    __slots__ = ("_at", "_steps")

    def __init__(self) -> None:
        self._steps = float(ALLOWANCE_BURST)
        self._at = _clock()

    def take(self) -> Budget:
        """A budget of up to MYERS_BUDGET steps for one diff; give back what is left."""
        now = _clock()
        self._steps = min(ALLOWANCE_BURST, self._steps + (now - self._at) * MYERS_BUDGET)
        self._at = now
        granted = int(min(MYERS_BUDGET, self._steps))
        self._steps -= granted
        return Budget(granted)

    def give_back(self, budget: Budget) -> None:
        self._steps = min(ALLOWANCE_BURST, self._steps + budget.remaining)


def _myers(a: Sequence[int], b: Sequence[int], budget: Budget) -> list[tuple[int, int, int]] | None:
    """Matching blocks ``(i, j, size)`` of a shortest edit script of ``a`` into ``b``,
    or None when finding it would take more steps than the budget has left (which is
    then spent: a budget is a bound on the work, not a hint)."""
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return []
    offset = n + m
    v = [0] * (2 * offset + 2)
    trace: list[list[int]] = []
    steps = 0
    limit = budget.remaining
    found = -1
    for d in range(offset + 1):
        trace.append(v[offset - d : offset + d + 2])
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]):
                x = v[offset + k + 1]
            else:
                x = v[offset + k - 1] + 1
            y = x - k
            start = x
            while x < n and y < m and a[x] == b[y]:
                x += 1
                y += 1
            v[offset + k] = x
            steps += 1 + x - start
            if x >= n and y >= m:
                found = d
                break
            if steps > limit:
                budget.remaining = 0
                return None
        if found >= 0:
            break
    budget.remaining = max(0, limit - steps)
    # walk back from (n, m): each d contributes one edit and the snake after it
    blocks: list[tuple[int, int, int]] = []
    x, y = n, m
    for d in range(found, 0, -1):
        before = trace[d]  # v as it was when round d began: indexes k = -d-1 .. d+1

        def at(k: int, before: list[int] = before, d: int = d) -> int:
            return before[k + d]

        k = x - y
        down = k == -d or (k != d and at(k - 1) < at(k + 1))  # an inserted line
        prev_k = k + 1 if down else k - 1
        prev_x = at(prev_k)
        prev_y = prev_x - prev_k
        mid_x = prev_x if down else prev_x + 1
        mid_y = mid_x - k
        if x > mid_x:
            blocks.append((mid_x, mid_y, x - mid_x))
        x, y = prev_x, prev_y
    if x > 0:
        blocks.append((0, 0, x))
    blocks.reverse()
    return blocks


class BoundedMatcher(difflib.SequenceMatcher[str]):
    """``difflib.SequenceMatcher``'s interface (matching blocks, opcodes, grouped
    opcodes) over patience anchors refined by budgeted Myers, as described above. It
    takes ``isjunk, a, b`` like difflib's so that merge3 can use it; ``isjunk`` is not
    supported (junk lines would make a diff depend on heuristics)."""

    def __init__(
        self,
        isjunk: None = None,
        a: Sequence[str] = (),
        b: Sequence[str] = (),
        budget: Budget | None = None,
    ) -> None:
        self.isjunk = None
        self.a = a
        self.b = b
        self.matching_blocks: list[difflib.Match] | None = None
        self.opcodes = None
        self.fullbcount = None
        self.budget = budget if budget is not None else Budget()

    def get_matching_blocks(self) -> list[difflib.Match]:
        if self.matching_blocks is not None:
            return self.matching_blocks
        a, b = self.a, self.b
        ids: dict[str, int] = {}
        a_ids = [ids.setdefault(line, len(ids)) for line in a]
        b_ids = [ids.setdefault(line, len(ids)) for line in b]
        anchors = PatienceSequenceMatcher(None, a_ids, b_ids).get_matching_blocks()
        blocks: list[tuple[int, int, int]] = []
        i = j = 0
        for ai, bj, size in anchors:  # the last one is the (len(a), len(b), 0) sentinel
            if ai > i and bj > j:
                refined = (
                    _myers(a_ids[i:ai], b_ids[j:bj], self.budget) if self.budget.remaining else None
                )
                if refined is None:
                    self.budget.exceeded = True
                else:
                    blocks.extend((i + x, j + y, s) for x, y, s in refined)
            if size:
                blocks.append((ai, bj, size))
            i, j = ai + size, bj + size
        merged: list[difflib.Match] = []
        for ai, bj, size in blocks:  # adjacent blocks become one, as difflib's are
            if (
                merged
                and merged[-1].a + merged[-1].size == ai
                and merged[-1].b + merged[-1].size == bj
            ):
                last = merged[-1]
                merged[-1] = difflib.Match(last.a, last.b, last.size + size)
            elif size:
                merged.append(difflib.Match(ai, bj, size))
        merged.append(difflib.Match(len(a), len(b), 0))
        self.matching_blocks = merged
        return merged


@dataclass(frozen=True, slots=True)
class Hunk:
    """Lines are ``(kind, text)`` with kind ``context``, ``added`` or ``removed``;
    starts are 1-based line numbers (0 when a side has no lines)."""

    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    lines: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Diff:
    """``exact`` is False when a stretch was left as one replaced block (see above)."""

    hunks: list[Hunk]
    unified: str
    exact: bool = True


def _start(first: int, count: int) -> int:
    return first + 1 if count else first


def _range(start: int, count: int) -> str:
    return f"{start}" if count == 1 else f"{start},{count}"


def diff_text(
    old: str,
    new: str,
    old_name: str = "old",
    new_name: str = "new",
    budget: Budget | None = None,
) -> Diff:
    """Hunks with CONTEXT_LINES lines of context, and the unified diff of the same.
    Time and memory are linear in the texts' length plus at most MYERS_BUDGET steps (or
    those of ``budget``); call it through ``asyncio.to_thread`` for large texts."""
    global computations
    with _counter_lock:
        computations += 1
    old_lines = old.splitlines()
    new_lines = new.splitlines()
    matcher = BoundedMatcher(None, old_lines, new_lines, budget=budget)
    hunks = []
    unified: list[str] = []
    for group in matcher.get_grouped_opcodes(CONTEXT_LINES):
        i1, i2 = group[0][1], group[-1][2]
        j1, j2 = group[0][3], group[-1][4]
        lines: list[tuple[str, str]] = []
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                lines.extend(("context", text) for text in old_lines[a1:a2])
                continue
            lines.extend(("removed", text) for text in old_lines[a1:a2])
            lines.extend(("added", text) for text in new_lines[b1:b2])
        hunk = Hunk(
            old_start=_start(i1, i2 - i1),
            old_lines=i2 - i1,
            new_start=_start(j1, j2 - j1),
            new_lines=j2 - j1,
            lines=lines,
        )
        hunks.append(hunk)
        if not unified:
            unified += [f"--- {old_name}", f"+++ {new_name}"]
        unified.append(
            f"@@ -{_range(hunk.old_start, hunk.old_lines)} "
            f"+{_range(hunk.new_start, hunk.new_lines)} @@"
        )
        marks = {"context": " ", "removed": "-", "added": "+"}
        unified.extend(marks[kind] + text for kind, text in lines)
    text = "\n".join(unified)
    return Diff(hunks=hunks, unified=text + "\n" if text else "", exact=not matcher.budget.exceeded)


LARGE = 20_000
"""Texts longer than this (in characters, both sides together) are diffed in a worker
thread, so that the event loop keeps serving other requests meanwhile."""

CACHE_WEIGHT = 16_000_000
"""What the process keeps of recent diffs, in characters of diffed text."""

T = TypeVar("T")


async def off_the_loop(size: int, compute: Callable[[], T]) -> T:
    """``compute()``, in a worker thread when ``size`` (characters) exceeds LARGE."""
    if size > LARGE:
        return await asyncio.to_thread(compute)
    return compute()


class _Entry(Generic[T]):
    __slots__ = ("loop", "task")

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Future[T]) -> None:
        self.loop = loop
        self.task = task


def _retrieved(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # seen: a failure nobody waited for is not logged as lost


class DiffCache(Generic[T]):
    """Results of diffs by key (e.g. the two revisions' row IDs), computed once however
    many readers, aliases or subscribers ask at the same time, and kept for later ones:
    least recently used first out once they weigh more than ``weight`` characters."""

    def __init__(self, weight: int = CACHE_WEIGHT) -> None:
        # an entry weighs nothing while it is computed, its characters once it is kept
        self._entries: LRU[Hashable, _Entry[T]] = LRU(weight)

    def clear(self) -> None:
        self._entries.clear()

    async def get(
        self, key: Hashable, weight: int, compute: Callable[[], Awaitable[tuple[T, bool]]]
    ) -> T:
        """The value of ``await compute()`` (which says whether to keep it), once for
        ``key`` among concurrent callers; ``weight``: the characters it diffs. The
        computation is a task of its own: a reader who leaves does not cancel it for the
        others. A failed computation is not kept."""
        loop = asyncio.get_running_loop()
        entry = self._entries.get(key)
        if entry is None or entry.loop is not loop:  # (an entry of a closed loop is dropped)
            task = loop.create_task(self._compute(key, weight, compute))
            task.add_done_callback(_retrieved)
            entry = self._entries.put(key, _Entry(loop, task), weight=0)
        return await asyncio.shield(entry.task)

    async def _compute(
        self, key: Hashable, weight: int, compute: Callable[[], Awaitable[tuple[T, bool]]]
    ) -> T:
        try:
            value, keep = await compute()
        except BaseException:
            keep = False
            raise
        finally:
            entry = self._entries.peek(key)
            mine = entry is not None and entry.task is asyncio.current_task()
            if mine and not keep:
                self._entries.pop(key)
        if mine and keep and entry is not None:
            self._entries.put(key, entry, weight)  # beyond the weight, the oldest go
        return value
