from __future__ import annotations

import strawberry

from actions.mail_notifications import KEEP, Keep, set_mail_settings
from domain.errors import BadUserInput
from domain.mail_schedule import DEFAULTS, Preference
from domain.mail_schedule import QuietHours as QuietHoursValue
from graphql_schema.context import Info
from graphql_schema.mail.types import MailPreferences
from graphql_schema.permissions import IsAuthenticated, rule
from models import MailCategory, MailDelivery


@strawberry.input(description="How one category reaches you; left-out values keep defaults.")
class MailCategoryPreferenceInput:
    category: MailCategory
    delivery: MailDelivery
    window_minutes: int | None = strawberry.field(
        default=None, description="IMMEDIATE: 2 to 60 minutes (default 10)."
    )
    digest_hour: int | None = strawberry.field(
        default=None, description="DAILY, WEEKLY: the local hour, 0 to 23 (default 8)."
    )
    digest_weekday: int | None = strawberry.field(
        default=None, description="WEEKLY: 0 (Monday) to 6 (Sunday) (default 0)."
    )


@strawberry.input
class QuietHoursInput:
    start_hour: int
    end_hour: int


@strawberry.input
class SetMailPreferencesInput:
    categories: list[MailCategoryPreferenceInput] = strawberry.field(
        default_factory=list, description="The categories to change; the others stay."
    )
    quiet_hours: QuietHoursInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="Your quiet hours; null for none; leave out to keep them.",
    )


@strawberry.type
class SetMailPreferencesPayload:
    preferences: MailPreferences


def _preferences(inputs: list[MailCategoryPreferenceInput]) -> dict[MailCategory, Preference]:
    chosen: dict[MailCategory, Preference] = {}
    for given in inputs:
        if given.category in chosen:
            raise BadUserInput(
                f"{given.category.value} is given twice: name each category once.",
                field="categories",
            )
        default = DEFAULTS[given.category]
        chosen[given.category] = Preference(
            given.delivery,
            default.window_minutes if given.window_minutes is None else given.window_minutes,
            default.digest_hour if given.digest_hour is None else given.digest_hour,
            default.digest_weekday if given.digest_weekday is None else given.digest_weekday,
        )
    return chosen


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(IsAuthenticated),
        description=(
            "Choose which of your notifications reach you by mail and when. BAD_USER_INPUT "
            "naming the field (windowMinutes, digestHour, digestWeekday, quietHours) for a "
            "value out of range; nothing changes then."
        ),
    )
    async def set_mail_preferences(
        self, info: Info, input: SetMailPreferencesInput
    ) -> SetMailPreferencesPayload | None:
        viewer = info.context.require_viewer()
        quiet: QuietHoursValue | Keep | None = KEEP
        if input.quiet_hours is None:
            quiet = None
        elif input.quiet_hours is not strawberry.UNSET:
            quiet = QuietHoursValue(input.quiet_hours.start_hour, input.quiet_hours.end_hour)
        chosen = await set_mail_settings(
            viewer, info.context.settings, _preferences(input.categories), quiet
        )
        return SetMailPreferencesPayload(preferences=MailPreferences.of(chosen))
