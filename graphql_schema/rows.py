"""Strawberry types made from model rows, with one ``from_row`` for all of them."""

from __future__ import annotations

from typing import Any, Self


class FromRow:
    """Mixed into a strawberry type that keeps its model row in ``row:
    strawberry.Private[...]`` and whose plain fields (the ones without a resolver) are
    the row's attributes of the same names, ``id`` included.

    ``Type.from_row(row)`` copies those attributes and keeps the row; ``values`` give the
    fields that are not copied as they are (``name=display_name(row.name)``). A missing
    attribute is an ``AttributeError`` when the type is first made from a row.
    """

    @classmethod
    def from_row(cls, row: Any, **values: Any) -> Self:
        copied = {name: getattr(row, name) for name in _copied(cls) if name not in values}
        made: Self = cls(**copied, **values, row=row)  # type: ignore[call-arg]
        return made


_FIELDS: dict[type, tuple[str, ...]] = {}  # by type: what its class says, never changes


def _copied(kind: type) -> tuple[str, ...]:
    """The names of the plain fields of a strawberry type."""
    names = _FIELDS.get(kind)
    if names is None:
        definition = kind.__strawberry_definition__  # type: ignore[attr-defined]
        fields = definition.fields
        plain = (f.python_name for f in fields if f.base_resolver is None)
        names = _FIELDS[kind] = tuple(name for name in plain if name != "row")
    return names
