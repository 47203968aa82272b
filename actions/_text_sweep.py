"""Every text column of every table, swept for a person's name, address and ``@handle``.

Erasure (actions/erasure.py) rewrites the text it knows first (posts, pages, replies, the
search index, mail, events); :func:`sweep` then finds what else others wrote about the
person anywhere (request titles and answers, status reasons, drafts, library notes and
extracted text, customers' notes, alerts, webhook receivers' answers, stored idempotent
answers, job payloads...) by one text match per table, and rewrites it, or deletes the
rows of :data:`DELETED_WHEN_NAMING` (counts keyed by the text itself).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tortoise import Tortoise, connections
from tortoise.fields import CharField, Field, JSONField, TextField
from tortoise.fields.data import CharEnumFieldInstance
from tortoise.models import Model

from actions import search_index
from models import SearchDocument

SKIPPED_TABLES = frozenset({"users", "audit_entries", "persisted_documents"})
"""The user row becomes the tombstone; audit entries hold only pseudonymous, hashed
content (their client addresses are blanked by erasure); persisted queries are code that
their hashes name."""

SKIPPED_COLUMNS = frozenset({("customers", "name"), ("customers", "slug")})
"""A customer named like a person keeps its name: it is the tenant, not the person."""

DELETED_WHEN_NAMING = frozenset({"interaction_searches"})
"""Tables whose rows naming the person go (search terms are the row's key)."""


def _text_fields(model: type[Model]) -> list[tuple[str, Field[Any]]]:
    table = model._meta.db_table
    return [
        (name, field)
        for name, field in model._meta.fields_map.items()
        if isinstance(field, CharField | TextField | JSONField)
        and not isinstance(field, CharEnumFieldInstance)
        and not field.pk
        and (table, field.source_field or name) not in SKIPPED_COLUMNS
    ]


async def _holders(model: type[Model], columns: Sequence[str], needles: Sequence[str]) -> list[Any]:
    """Primary keys of the rows of ``model`` where a ``columns`` holds a ``needles`` (as text,
    case-insensitive; on SQLite for other than ASCII letters as written, in lower or upper
    case or capitalised)."""
    client = connections.get("default")
    sqlite = str(client.capabilities.dialect) == "sqlite"
    pk = model._meta.db_pk_column
    if sqlite:  # its LIKE folds the case of ASCII letters only: "JÜRGEN" is no "Jürgen"
        needles = sorted({v for n in needles for v in (n, n.lower(), n.upper(), n.title())})
    tests, values = [], []
    for column in columns:
        for needle in needles:
            values.append(f"%{needle}%")
            if sqlite:
                tests.append(f'"{column}" LIKE ?')
            else:
                tests.append(f'"{column}"::text ILIKE ${len(values)}')
    _, rows = await client.execute_query(
        f'SELECT "{pk}" AS pk FROM "{model._meta.db_table}" WHERE {" OR ".join(tests)}',  # noqa: S608 (our names)
        values,
    )
    return [row["pk"] for row in rows]


def replaced_json(value: object, replace: Callable[[str], str]) -> object:
    """``value`` (a JSON value) with ``replace`` applied to each of its texts (object keys
    kept)."""
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, list):
        return [replaced_json(v, replace) for v in value]
    if isinstance(value, dict):
        return {k: replaced_json(v, replace) for k, v in value.items()}
    return value


async def sweep(needles: Sequence[str], replace: Callable[[str], str]) -> int:
    """Rewrite with ``replace`` every text and JSON value holding one of ``needles`` in every
    table but :data:`SKIPPED_TABLES` (CharFields cut to their length), deleting the rows of
    :data:`DELETED_WHEN_NAMING` instead; answers how many rows changed. Runs in the
    caller's transaction."""
    changed = 0
    for model in Tortoise.apps["models"].values():
        table = model._meta.db_table
        fields = _text_fields(model)
        if table in SKIPPED_TABLES or not fields:
            continue
        columns = [field.source_field or name for name, field in fields]
        keys = await _holders(model, columns, needles)
        if not keys:
            continue
        rows = model.filter(pk__in=keys)
        if table in DELETED_WHEN_NAMING:
            changed += await rows.delete()
            continue
        for row in await rows:
            updated = []
            for name, field in fields:
                before = getattr(row, name)
                after = replaced_json(before, replace)
                if isinstance(after, str) and isinstance(field, CharField) and field.max_length:
                    after = after[: field.max_length]
                if after != before:
                    setattr(row, name, after)
                    updated.append(name)
            if isinstance(row, SearchDocument):
                await search_index.rewrite(row)  # its words too
            elif updated:
                await row.save(update_fields=updated)
            changed += bool(updated)
    return changed
