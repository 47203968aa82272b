"""The documents of clients/operations as clients send them.

A client sends an operation's file, then the file of each fragment it spreads and does not
define (``<Fragment>.graphql`` beside it; spreads of spreads included), in the order of the
fragments' names, one blank line between them. The server knows the documents by this text
(app/persisted.py), and the web client's build assembles them alike (clients/web/operations.mjs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import FragmentDefinitionNode, FragmentSpreadNode, parse


def _needed(text: str) -> set[str]:
    """The fragments ``text`` spreads and does not define."""
    definitions = parse(text, no_location=True).definitions
    names: set[str] = set()
    stack: list[Any] = list(definitions)
    while stack:
        node = stack.pop()
        if isinstance(node, FragmentSpreadNode):
            names.add(node.name.value)
        selections = getattr(node, "selection_set", None)
        stack.extend(selections.selections if selections else ())
    return names - {d.name.value for d in definitions if isinstance(d, FragmentDefinitionNode)}


def operation_document(path: Path) -> str:
    """The document a client sends for the operation file ``path``; raises OSError for a
    fragment without its file."""
    texts = {path.stem: path.read_text()}
    pending = _needed(texts[path.stem])
    while pending:
        name = pending.pop()
        if name not in texts:
            texts[name] = (path.parent / f"{name}.graphql").read_text()
            pending |= _needed(texts[name])
    fragments = sorted(name for name in texts if name != path.stem)
    return "\n".join(texts[name].rstrip("\n") + "\n" for name in [path.stem, *fragments])
