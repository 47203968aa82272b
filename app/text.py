"""What a post's text refers to: ``@handle`` mentions and ``#topic`` hashtags."""

from __future__ import annotations

import re

HANDLE_PATTERN = r"[a-z0-9](?:[a-z0-9._-]{0,38}[a-z0-9])?"
TOPIC_PATTERN = r"[^\W\d_][\w-]{0,62}"

_MENTION = re.compile(rf"(?<![\w@/]){'@'}({HANDLE_PATTERN})", re.I)
_TOPIC = re.compile(rf"(?<![\w#&/]){'#'}({TOPIC_PATTERN})")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def _without_code(text: str) -> str:
    return _CODE.sub(" ", text)


def extract_mentions(text: str) -> list[str]:
    """Distinct lower-case handles in order of first appearance, ignoring code spans."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(_without_code(text)):
        seen.setdefault(match.group(1).lower().rstrip("."), None)
    return list(seen)


def extract_topics(text: str) -> list[str]:
    """Distinct lower-case topic names in order of first appearance, ignoring code spans."""
    seen: dict[str, None] = {}
    for match in _TOPIC.finditer(_without_code(text)):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def normalise_topic(name: str) -> str | None:
    candidate = name.strip().removeprefix("#").lower()
    return candidate if re.fullmatch(TOPIC_PATTERN, candidate) else None
