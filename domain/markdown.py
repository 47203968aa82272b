"""Untrusted Markdown to safe HTML: markdown-it's ``js-default`` preset, raw HTML off."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

_SAFE_SCHEME = re.compile(r"^(https?:|mailto:|#|/(?!/)|\./|\.\./|[^:/?#]*(?:[/?#]|$))", re.I)
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def is_safe_link(url: str) -> bool:
    """Allow web, mail and relative links only: no javascript:, vbscript:, data: or file:."""
    cleaned = _CONTROL.sub("", url)
    return bool(_SAFE_SCHEME.match(cleaned))


def _render_link_open(
    self: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer ugc")
    return self.renderToken(tokens, idx, options, env)


_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.\-]*:|//)", re.I)


def _render_image(
    self: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    """An image from this server stays an image; one from elsewhere becomes a link to it
    (its alt text, or its address, as the text), so that reading a page tells no other
    server who read it and when (the web client's CSP allows only its own images)."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if not _REMOTE.match(_CONTROL.sub("", src)):
        return self.image(tokens, idx, options, env)
    text = self.renderInlineAsText(token.children, options, env) or src
    depth = sum({"link_open": 1, "link_close": -1}.get(t.type, 0) for t in tokens[:idx])
    if depth > 0:  # already within a link: its text alone
        return escapeHtml(text)
    return (
        f'<a href="{escapeHtml(src)}" rel="nofollow noopener noreferrer ugc">{escapeHtml(text)}</a>'
    )


# Inline parsing is quadratic in some inputs (thousands of unclosed `[`, `[a](`, `*a`…):
# 100 KB of `[` took seven seconds. In a run of inline text (a paragraph, a heading, a
# list item) that is dense with one kind of markup character, that character stands
# aside during inline parsing (as a private-use character) and comes back as plain text:
# it shows as itself, and parsing stays linear. Ordinary prose and code are untouched.
DENSE = {"[": 64, "]": 64, "(": 64, "*": 128, "_": 128, "<": 64, "&": 64, "`": 64, "!": 64}
_ASIDE = {char: chr(0xE000 + n) for n, char in enumerate(DENSE)}
_BACK = str.maketrans({aside: char for char, aside in _ASIDE.items()})


MAX_BRACKET_DEPTH = 2


def _unmatched_brackets_aside(content: str) -> str:
    """An unclosed `[` makes the parser look for its `]` across the rest of the text, from
    every bracket on (cubic in a paragraph of them); so does nesting without end. Brackets
    with no partner, or nested more than MAX_BRACKET_DEPTH deep, are set aside."""
    if "[" not in content and "]" not in content:
        return content
    chars = list(content)
    opened: list[int] = []
    for index, char in enumerate(chars):
        if char == "\\":
            continue
        if char == "[" and (index == 0 or chars[index - 1] != "\\"):
            opened.append(index)
        elif char == "]" and (index == 0 or chars[index - 1] != "\\"):
            if opened:
                start = opened.pop()
                if len(opened) >= MAX_BRACKET_DEPTH:
                    chars[start], chars[index] = _ASIDE["["], _ASIDE["]"]
            else:
                chars[index] = _ASIDE["]"]
    for index in opened:
        chars[index] = _ASIDE["["]
    return "".join(chars)


def _set_aside(state: StateCore) -> None:
    for token in state.tokens:
        if token.type != "inline":
            continue
        content = token.content.translate({ord(a): None for a in _ASIDE.values()})
        content = _unmatched_brackets_aside(content)
        for char, most in DENSE.items():
            if content.count(char) > most:
                content = content.replace(char, _ASIDE[char])
        token.content = content


def _bring_back(state: StateCore) -> None:
    for token in state.tokens:
        for child in token.children or ():
            if child.content:
                child.content = child.content.translate(_BACK)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = is_safe_link  # type: ignore[method-assign]
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("image", _render_image)
    md.core.ruler.before("inline", "set_dense_markup_aside", _set_aside)
    md.core.ruler.after("inline", "bring_dense_markup_back", _bring_back)
    return md


def render_markdown(source: str) -> str:
    return str(_parser().render(source))


def parse_markdown(source: str) -> list[Token]:
    """The token stream of ``source`` (block tokens; inline ones carry ``children``), parsed
    as :func:`render_markdown` parses it: give it to :func:`render_tokens` for the HTML."""
    return _parser().parse(source, {})


def render_tokens(tokens: Sequence[Token]) -> str:
    """The safe HTML of tokens from :func:`parse_markdown` (what :func:`render_markdown`
    gives for the same source)."""
    md = _parser()
    return str(md.renderer.render(tokens, md.options, {}))


OFF_THE_LOOP = 10_000
"""Sources longer than this (in characters) are rendered in a worker thread."""


async def render_markdown_off_loop(source: str) -> str:
    """:func:`render_markdown`, in a worker thread for sources longer than OFF_THE_LOOP:
    rendering is linear in the source (about 10 µs a line; a 200,000-character page of
    short list items takes a second or two), and the event loop keeps serving meanwhile."""
    if len(source) > OFF_THE_LOOP:
        return await asyncio.to_thread(render_markdown, source)
    return render_markdown(source)
