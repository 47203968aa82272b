"""What contacts do with the extranet, kept with restraint for the KPIs (domain/kpis.py).

Only the least the figures need is stored, and nothing of it is shown per person:

- :class:`ContentReadCount`: how many times the contacts of a customer read a page, a
  library document or a project's timeline on a day (a counter, no reader);
- :class:`SearchCount`: how many searches the contacts of a customer made on a day with
  the same terms, and how many of them found nothing (no searcher);
- :class:`ContactActivityDay`: that a contact used the extranet on a day (one row per
  contact and day: the active contacts are counted from these);
- :class:`ReadingSession`: that a sign-in session of a contact read something, and when it
  first did (the self-service rate is computed from these and the requests submitted).

All of them are deleted after ``EXTRANET_INTERACTIONS_KEPT_DAYS`` (actions/interactions.py
``purge_interactions``); the last two are personal data of their contact and go with them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.users import User


class ContentKind(StrEnum):
    PAGE = "PAGE"
    DOCUMENT = "DOCUMENT"
    TIMELINE = "TIMELINE"


class ContentReadCount(Model):
    """Reads of one page, library document or project timeline (``object_id``) by the
    contacts of ``customer_id`` on ``day`` (UTC)."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(ContentKind, max_length=10)
    object_id = fields.IntField()
    customer_id = fields.IntField()
    day = fields.DateField()
    reads = fields.IntField(default=0)

    class Meta:
        table = "interaction_reads"
        unique_together = (("kind", "object_id", "customer_id", "day"),)
        indexes = (("customer_id", "day"),)


class SearchCount(Model):
    """Searches made by the contacts of ``customer_id`` on ``day`` (UTC) with ``terms``
    (normalised: lower case, single spaces), and how many of them found nothing."""

    id = fields.BigIntField(primary_key=True)
    customer_id = fields.IntField()
    day = fields.DateField()
    terms = fields.CharField(max_length=200)
    searches = fields.IntField(default=0)
    found_nothing = fields.IntField(default=0)

    class Meta:
        table = "interaction_searches"
        unique_together = (("customer_id", "day", "terms"),)


class ContactActivityDay(Model):
    """A contact of ``customer_id`` read or searched something on ``day`` (UTC)."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    customer_id = fields.IntField()
    day = fields.DateField()

    class Meta:
        table = "interaction_activity_days"
        unique_together = (("user", "day"),)
        indexes = (("customer_id", "day"),)


class ReadingSession(Model):
    """A sign-in session of a contact (``session_key``: a digest of its ID) in which they
    read a page, document or timeline, first at ``first_read_at``."""

    id = fields.BigIntField(primary_key=True)
    session_key = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    customer_id = fields.IntField()
    first_read_at = fields.DatetimeField()

    class Meta:
        table = "interaction_sessions"
        indexes = (("customer_id", "first_read_at"),)
