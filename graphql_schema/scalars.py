"""Scalars whose reading differs from strawberry's own.

``DateTime`` arguments are read as the same moment in UTC: a client may write any offset
(``2026-11-23T09:00:00+01:00``), and every database then stores and compares moments
alike (SQLite compares the stored text, so an offset kept as written would order wrongly).
A value without an offset, or one that is out of range in UTC, is left as written:
:mod:`graphql_schema.inputs` refuses it with its reason (``BAD_USER_INPUT``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

_read_as_written: Callable[[object], object] = DateTimeDefinition.parse_value  # type: ignore[assignment]


def utc_datetime(value: object) -> object:
    """A ``DateTime`` argument (ISO 8601 text, read as strawberry reads it, with its errors)
    as an aware ``datetime`` in UTC when it has an offset."""
    moment = _read_as_written(value)
    if not isinstance(moment, dt.datetime) or moment.utcoffset() is None:
        return moment
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # the year 1 or 9999 crossed in UTC
        return moment


UTC_DATETIME: ScalarDefinition = dataclasses.replace(DateTimeDefinition, parse_value=utc_datetime)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {dt.datetime: UTC_DATETIME}
