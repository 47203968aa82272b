"""How much a field's value depends on who reads it.

Subscribers of one event whose selections read nothing that differs between them share one
execution and one serialised frame (see :mod:`graphql_schema.sharing`). Whether they may
share it depends on every field the selection reads:

* ``NOT``: the value is a function of the object alone (a plain attribute, a resolver
  that does not look at the reader, a row reached through an authorised reference);
* ``BY_AUDIENCE``: it depends on the reader's audience (:func:`domain.policy.audience`: role,
  customer, and for a customer member their project memberships), as every ``visible_*``
  scope and the role-based permission classes do;
* ``BY_VIEWER``: it depends on who the reader is (their own watch level, their email).

A resolver that takes ``info`` is assumed to vary by viewer unless it declares otherwise
with ``metadata=``; a permission class declares its own ``varies``. A field added without
thinking about it is therefore never shared between two people.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

KEY = "varies"


class Varies(IntEnum):
    NOT = 0
    BY_AUDIENCE = 1
    BY_VIEWER = 2


SAME_FOR_EVERY_READER: dict[str, Any] = {KEY: Varies.NOT}
"""``metadata=`` for a resolver that takes ``info`` only for loaders of authorised rows."""

BY_AUDIENCE: dict[str, Any] = {KEY: Varies.BY_AUDIENCE}
"""``metadata=`` for a resolver whose result is scoped by the reader's audience."""
