from __future__ import annotations

import strawberry

from actions.mail_notifications import MailSettings
from models import MailCategory, MailDelivery

strawberry.enum(
    MailCategory,
    description=(
        "What a notification mail is about: MENTIONS_AND_REPLIES (you were mentioned or "
        "replied to), WATCHED (what you watch), REQUESTS (requests you take part in), "
        "ACCOUNT (notices about your account)."
    ),
)
strawberry.enum(
    MailDelivery,
    description=(
        "IMMEDIATE: one mail at the end of a batching window (windowMinutes) after the first "
        "thing you did not see. DAILY, WEEKLY: a digest at digestHour (and digestWeekday) "
        "in your time zone. OFF: no mail."
    ),
)


@strawberry.type(description="How one category of notifications reaches you by mail.")
class MailCategoryPreference:
    category: MailCategory
    delivery: MailDelivery
    window_minutes: int = strawberry.field(description="IMMEDIATE: 2 to 60 minutes.")
    digest_hour: int = strawberry.field(description="DAILY, WEEKLY: the local hour, 0 to 23.")
    digest_weekday: int = strawberry.field(
        description="WEEKLY: the local weekday, 0 (Monday) to 6 (Sunday)."
    )


@strawberry.type(description="Local hours without notification mail: from start to end.")
class QuietHours:
    start_hour: int = strawberry.field(description="The first quiet hour, 0 to 23.")
    end_hour: int = strawberry.field(
        description="The hour mail may go again, 0 to 23 (before startHour: across midnight)."
    )


@strawberry.type(description="Which notifications reach you by mail, and when.")
class MailPreferences:
    categories: list[MailCategoryPreference]
    quiet_hours: QuietHours | None
    time_zone: str = strawberry.field(
        description="The IANA time zone digests and quiet hours are read in (your profile's)."
    )

    @classmethod
    def of(cls, chosen: MailSettings) -> MailPreferences:
        return cls(
            categories=[
                MailCategoryPreference(
                    category=category,
                    delivery=p.delivery,
                    window_minutes=p.window_minutes,
                    digest_hour=p.digest_hour,
                    digest_weekday=p.digest_weekday,
                )
                for category, p in chosen.preferences.items()
            ],
            quiet_hours=None
            if chosen.quiet_hours is None
            else QuietHours(
                start_hour=chosen.quiet_hours.start_hour, end_hour=chosen.quiet_hours.end_hour
            ),
            time_zone=chosen.time_zone,
        )
