"""Line diffs between two texts: structured hunks for clients that draw them, and the
same as a unified diff for people and tools that read one."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

CONTEXT_LINES = 3


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
    hunks: list[Hunk]
    unified: str


def _start(first: int, count: int) -> int:
    return first + 1 if count else first


def diff_text(old: str, new: str, old_name: str = "old", new_name: str = "new") -> Diff:
    old_lines = old.splitlines()
    new_lines = new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    hunks = []
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
        hunks.append(
            Hunk(
                old_start=_start(i1, i2 - i1),
                old_lines=i2 - i1,
                new_start=_start(j1, j2 - j1),
                new_lines=j2 - j1,
                lines=lines,
            )
        )
    unified = "\n".join(
        difflib.unified_diff(old_lines, new_lines, old_name, new_name, n=CONTEXT_LINES, lineterm="")
    )
    return Diff(hunks=hunks, unified=unified + "\n" if unified else "")
