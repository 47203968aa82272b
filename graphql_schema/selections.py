"""What a request selects below the field being resolved, read from graphql-core's syntax
tree (through fragments), so that a list's resolver can fetch up front what its items'
fields will read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from graphql_schema.context import Info


def _fields(
    selection_sets: Iterable[SelectionSetNode | None],
    fragments: Mapping[str, FragmentDefinitionNode],
) -> list[FieldNode]:
    """The field nodes of these selection sets, fragments expanded (each named fragment
    once: a cycle was refused by validation)."""
    found: list[FieldNode] = []
    pending = [s for s in selection_sets if s is not None]
    seen: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:
                    seen.add(name)
                    pending.append(fragment.selection_set)
    return found


def selected_below(info: Info, *path: str) -> frozenset[str]:
    """The names of the fields selected at ``path`` below the current field (``"edges",
    "node"`` for a connection's items), whatever the aliases, directives or type conditions:
    a superset of what will be resolved there. Empty when nothing is selected there."""
    raw = info._raw_info
    fragments = raw.fragments
    nodes = _fields((node.selection_set for node in raw.field_nodes), fragments)
    for name in path:
        chosen = [node.selection_set for node in nodes if node.name.value == name]
        nodes = _fields(chosen, fragments)
    return frozenset(node.name.value for node in nodes)
