"""Untrusted Markdown to safe HTML: markdown-it's ``js-default`` preset, raw HTML off."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
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


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = is_safe_link  # type: ignore[method-assign]
    md.add_render_rule("link_open", _render_link_open)
    return md


def render_markdown(source: str) -> str:
    return str(_parser().render(source))
