"""Three-way merges of page text: an edit made on an older revision is combined with what
was written since, line by line (merge3, the diff3 algorithm); where both sides changed
the same lines, or neighbouring ones, nothing is guessed: the conflict is reported with
both sides so that the editor can resolve it.

Lines are aligned with :class:`domain.diffing.BoundedMatcher`, so a merge takes linear time
plus a fixed budget of work. Texts that cannot be aligned within it are not merged on a
coarser alignment (that could report a whole page as one conflict, or worse): the merge is
refused with :class:`TooDifferent`, and the edit is kept for its author to redo."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from merge3 import Merge3

from domain.diffing import BoundedMatcher, Budget


class TooDifferent(Exception):
    """The three texts differ too much, in too many places, to be aligned line by line
    within the work a merge may take (``domain.diffing.MYERS_BUDGET``)."""


@dataclass(frozen=True, slots=True)
class ConflictHunk:
    """Lines that both sides changed, from ``base_start`` (1-based) in the base text."""

    field: str
    base_start: int
    base: str
    current: str
    yours: str

    def as_extension(self) -> dict[str, object]:
        return {
            "field": self.field,
            "baseStartLine": self.base_start,
            "base": self.base,
            "current": self.current,
            "yours": self.yours,
        }


@dataclass(frozen=True, slots=True)
class Merged:
    """The merged text, or the hunks that kept it from merging (then ``text`` is None).

    ``parts`` is the merge as far as it goes, in text order: runs of lines that merged
    (strings) and, between them, the conflicting hunks; empty when ``text`` is given."""

    text: str | None
    conflicts: tuple[ConflictHunk, ...] = ()
    parts: tuple[str | ConflictHunk, ...] = ()


def merge_text(field: str, base: str, current: str, yours: str) -> Merged:
    """Combine ``current`` (written since ``base``) with ``yours`` (made on ``base``).
    Linear time plus at most MYERS_BUDGET steps; raises :class:`TooDifferent` when the
    texts cannot be aligned within that."""
    if yours in (base, current):
        return Merged(current)
    if current == base:
        return Merged(yours)
    base_lines = base.splitlines(keepends=True)
    current_lines = current.splitlines(keepends=True)
    your_lines = yours.splitlines(keepends=True)
    merged: list[str] = []
    conflicts: list[ConflictHunk] = []
    budget = Budget()

    def matcher(isjunk: None, a: Sequence[str], b: Sequence[str]) -> BoundedMatcher:
        return BoundedMatcher(isjunk, a, b, budget=budget)

    merge = Merge3(base_lines, current_lines, your_lines, sequence_matcher=matcher)  # type: ignore[arg-type]
    regions = list(merge.merge_regions())
    if budget.exceeded:
        raise TooDifferent(field)
    parts: list[str | ConflictHunk] = []
    for region in regions:
        kind = region[0]
        if kind == "unchanged":
            merged.extend(base_lines[region[1] : region[2]])
        elif kind in ("a", "same"):
            merged.extend(current_lines[region[1] : region[2]])
        elif kind == "b":
            merged.extend(your_lines[region[1] : region[2]])
        else:  # conflict: base, current and yours ranges
            _, z0, z1, a0, a1, b0, b1 = cast("tuple[str, int, int, int, int, int, int]", region)
            hunk = ConflictHunk(
                field=field,
                base_start=z0 + 1,
                base="".join(base_lines[z0:z1]),
                current="".join(current_lines[a0:a1]),
                yours="".join(your_lines[b0:b1]),
            )
            conflicts.append(hunk)
            parts += ["".join(merged), hunk]
            merged.clear()
    if conflicts:
        parts.append("".join(merged))
        return Merged(None, tuple(conflicts), tuple(part for part in parts if part != ""))
    return Merged("".join(merged))


def merge_title(base: str, current: str, yours: str) -> Merged:
    """A title is one line: it merges when only one side changed it."""
    if yours in (base, current):
        return Merged(current)
    if current == base:
        return Merged(yours)
    hunk = ConflictHunk("title", 1, base, current, yours)
    return Merged(None, (hunk,), (hunk,))
