"""``exportMyData`` (a ZIP of everything about a person, made in the background),
``myDataExports`` (the caller's exports and their download links) and ``eraseUser``."""

from __future__ import annotations

from datetime import datetime

import strawberry

from actions import erasure, personal_data
from domain import policy
from domain.tokens import DownloadKind
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.downloads import download_link
from graphql_schema.permissions import IsAuthenticated, ObjectRule, rule
from graphql_schema.relay import global_id, node_pk
from models import ExportStatus
from models import PersonalDataExport as ExportRow


class CanEraseUser(ObjectRule):
    """Administrators (anybody but themselves), and a customer's lead contacts for their
    own customer's contacts."""

    predicate = policy.can_erase_user


ExportState = strawberry.enum(ExportStatus, name="PersonalDataExportStatus")


@strawberry.type(description="A ZIP of everything about one person, made in the background.")
class PersonalDataExport:
    row: strawberry.Private[ExportRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id("PersonalDataExport", self.row.id))

    @strawberry.field(description="PENDING while it is made, then READY (or FAILED).")
    def status(self) -> ExportState:  # type: ignore[valid-type]
        return self.row.status

    @strawberry.field(description="Whom it is about.")
    async def user(self, info: Info) -> User | None:
        return await load_user(info, self.row.user_id)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="When it is deleted (24 hours after it is ready).")
    def expires_at(self) -> datetime | None:
        return self.row.expires_at

    @strawberry.field(description="Its size in bytes, once ready.")
    def size(self) -> int | None:
        return int(self.row.size) if self.row.status is ExportStatus.READY else None

    @strawberry.field(
        description="GET this path for the ZIP: a link for you alone, valid five minutes "
        "while your session lasts (ask again for a new one); null until it is ready."
    )
    def download_url(self, info: Info) -> str | None:
        if self.row.status is not ExportStatus.READY:
            return None
        path = f"/personal-data/exports/{global_id('PersonalDataExport', self.row.id)}"
        return download_link(info, path, DownloadKind.PERSONAL_DATA_EXPORT, self.row.id)


@strawberry.input
class ExportMyDataInput:
    user_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Administrators: export this person's data instead of your own.",
    )


@strawberry.type
class ExportMyDataPayload:
    export: PersonalDataExport


@strawberry.input
class EraseUserInput:
    user_id: strawberry.ID


@strawberry.type
class EraseUserPayload:
    user: User = strawberry.field(description="The tombstone left in the person's place.")


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(IsAuthenticated),
        description="Your data exports not expired yet (about you or asked by you), newest first.",
    )
    async def my_data_exports(self, info: Info) -> list[PersonalDataExport] | None:
        rows = await personal_data.exports_of(info.context.require_viewer())
        return [PersonalDataExport(row=row) for row in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(IsAuthenticated),
        description="Ask for a ZIP of everything about you (profile, posts, page revisions, "
        "requests and replies, notifications, watches, access tokens, audit entries about "
        "you, the files you uploaded), made in the background: `myDataExports` gives its "
        "download link once READY. Administrators may name another person (`userId`).",
    )
    async def export_my_data(
        self, info: Info, input: ExportMyDataInput | None = None
    ) -> ExportMyDataPayload | None:
        user_id = None
        if input is not None and input.user_id is not None:
            user_id = node_pk(input.user_id, "User")
        row = await personal_data.request_export(info.context.require_viewer(), user_id=user_id)
        return ExportMyDataPayload(export=PersonalDataExport(row=row))

    @strawberry.mutation(
        extensions=rule(CanEraseUser),
        description="Erase a person's personal data everywhere (name, e-mail address, "
        "profile, sessions, tokens, two-factor secrets, mail, inbox, activity): a unique "
        "tombstone ('Former contact 17 of Acme') stays as the author of what they wrote, "
        "and the account can never sign in again. Cannot be undone.",
    )
    async def erase_user(self, info: Info, input: EraseUserInput) -> EraseUserPayload | None:
        ctx = info.context
        user = await erasure.erase_user(
            ctx.require_viewer(),
            ctx.bus,
            user_id=node_pk(input.user_id, "User"),
            storage=ctx.request.app.state.storage,
            client_address=ctx.client_address,
        )
        return EraseUserPayload(user=User.from_row(user))
