"""What a post's text refers to: ``@handle`` mentions and ``#topic`` hashtags.

Both come from the Markdown parse that renders the post (:func:`read_post`): only prose
counts, that is the text of paragraphs, headings, lists, tables and link texts. Code (spans,
fenced and indented blocks), link and image addresses, autolinks and image descriptions
never mention anyone or name a topic.

A topic is one whole word in any script after ``#``: it starts with a letter and goes on
with letters, combining marks, digits, connector punctuation (``_``) and hyphens. Its name
is normalised (NFC, then case-folded, then NFC again), so every spelling of a word,
composed or decomposed, upper or lower case, is the same topic.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from markdown_it.token import Token

from domain.markdown import parse_markdown, render_tokens

HANDLE_PATTERN = r"[a-z0-9](?:[a-z0-9._-]{0,38}[a-z0-9])?"
TOPIC_MAX_LENGTH = 64
"""Characters of a normalised topic name; a longer word is not a topic."""

_MENTION = re.compile(rf"(?<![\w@/])@({HANDLE_PATTERN})(?![\w-]|\.\w)", re.I)
_NOT_BEFORE_TOPIC = frozenset("#&/")


@dataclass(frozen=True, slots=True)
class PostText:
    """A post's source read once: its safe HTML, and the distinct handles it mentions and
    topic names it uses (normalised, in order of first appearance)."""

    html: str
    mentions: list[str]
    topics: list[str]


def read_post(source: str) -> PostText:
    """Parse ``source`` once as Markdown: its HTML (as :func:`domain.markdown.render_markdown`
    gives it) and the mentions and topics of its prose."""
    tokens = parse_markdown(source)
    mentions: dict[str, None] = {}
    topics: dict[str, None] = {}
    for run in _prose(tokens):
        for match in _MENTION.finditer(run):
            mentions.setdefault(match.group(1).lower(), None)
        for name in _topics_in(run):
            topics.setdefault(name, None)
    return PostText(html=render_tokens(tokens), mentions=list(mentions), topics=list(topics))


def extract_mentions(source: str) -> list[str]:
    """Distinct lower-case handles mentioned in the prose of ``source``, in order."""
    return read_post(source).mentions


def extract_topics(source: str) -> list[str]:
    """Distinct normalised topic names used in the prose of ``source``, in order."""
    return read_post(source).topics


def normalise_topic(name: str) -> str | None:
    """The stored form of a topic name given with or without ``#``; None if it is not one
    whole topic word."""
    candidate = name.strip().removeprefix("#").rstrip("-")
    end = _word_end(candidate, 0)
    if end is None or end != len(candidate):
        return None
    return _normal(candidate)


def _prose(tokens: Sequence[Token]) -> Iterator[str]:
    """Runs of prose: the text of each inline token, cut at code spans, images and
    autolinks (line breaks inside a run stay line breaks)."""
    for block in tokens:
        if block.type != "inline":
            continue  # fenced and indented code blocks have no inline content
        run: list[str] = []
        skipping = False
        for child in block.children or ():
            if skipping:
                skipping = child.type != "link_close"
                continue
            if child.type == "text":
                run.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                run.append("\n")
            elif child.type in ("code_inline", "image") or (
                child.type == "link_open" and child.markup == "autolink"
            ):
                yield "".join(run)
                run = []
                skipping = child.type == "link_open"
        yield "".join(run)


def _is_word_char(char: str) -> bool:
    """A letter, combining mark, digit or connector punctuation, in any script."""
    category = unicodedata.category(char)
    return category[0] in "LMN" or category == "Pc"


def _word_end(text: str, start: int) -> int | None:
    """Where the topic word starting at ``start`` ends (trailing hyphens left out), or None
    if no topic word starts there."""
    if start >= len(text) or not unicodedata.category(text[start]).startswith("L"):
        return None
    end = start + 1
    while end < len(text) and (text[end] == "-" or _is_word_char(text[end])):
        end += 1
    while text[end - 1] == "-":
        end -= 1
    return end


def _normal(word: str) -> str | None:
    name = unicodedata.normalize("NFC", unicodedata.normalize("NFC", word).casefold())
    return name if len(name) <= TOPIC_MAX_LENGTH else None


def _topics_in(run: str) -> Iterator[str]:
    position = run.find("#")
    while position != -1:
        before = run[position - 1] if position else " "
        end = None
        if not _is_word_char(before) and before not in _NOT_BEFORE_TOPIC:
            end = _word_end(run, position + 1)
        if end is not None:
            name = _normal(run[position + 1 : end])
            if name is not None:
                yield name
            position = run.find("#", end)
        else:
            position = run.find("#", position + 1)
