"""The networks each account signs in from, and the "new sign-in" mail.

Only a keyed hash of the network is kept (HMAC-SHA256 with the secret key over the address
as the sign-in limits count it: an IPv6 address as its /64), never the address. An
account's first sign-in ever records its network without a mail (there is nothing to
compare it with: a contact who just accepted an invitation); every later sign-in from a
network not seen before mails the account's owner, who can set a new password if it was
not them. Rotating the secret key makes every network new once.
"""

from __future__ import annotations

import hashlib
import hmac
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError

from actions import security_alerts
from actions._common import now
from actions.mail import queue_mail
from actions.unit_of_work import unit_of_work
from domain.mail import OutgoingMessage
from domain.throttle import client_key
from infra.settings import Settings
from models import KnownSignInAddress, User

NEW_SIGN_IN_TEMPLATE = "new_sign_in"


def address_hash(settings: Settings, client_address: str) -> str:
    """The keyed hash that stands for the network of ``client_address`` (64 hex digits)."""
    key = hmac.new(settings.secret_key.encode(), b"sign-in-address", hashlib.sha256).digest()
    return hmac.new(key, client_key(client_address).encode(), hashlib.sha256).hexdigest()


def _local_time(user: User) -> str:
    try:
        zone = ZoneInfo(user.time_zone)
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    return now().astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


async def note_sign_in(settings: Settings, user: User, client_address: str) -> bool:
    """Record that ``user`` signed in from ``client_address``; queue the "new sign-in" mail
    when the network is new and not the account's first. True when a mail was queued."""
    await security_alerts.signed_in(user, client_address)
    digest = address_hash(settings, client_address)
    try:
        async with unit_of_work():
            seen = await KnownSignInAddress.filter(user_id=user.id, address_hash=digest).update(
                last_seen_at=now()
            )
            if seen:
                return False
            first = not await KnownSignInAddress.exists(user_id=user.id)
            await KnownSignInAddress.create(
                user_id=user.id, address_hash=digest, last_seen_at=now()
            )
            if first:
                return False
            await queue_mail(
                OutgoingMessage(
                    to_address=user.email,
                    to_user_id=user.id,
                    template=NEW_SIGN_IN_TEMPLATE,
                    subject="A sign-in to your account from a new network",
                    context={
                        "name": user.name,
                        "email": user.email,
                        "when": _local_time(user),
                        "address": client_key(client_address),
                    },
                )
            )
    except IntegrityError:  # a sign-in beside this one recorded the network first
        return False
    return True
