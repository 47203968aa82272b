from __future__ import annotations

import strawberry

from actions import pages, watches
from domain.errors import BadUserInput
from graphql_schema.accounts.types import User
from graphql_schema.context import Info
from graphql_schema.enums import Visibility, WatchLevel
from graphql_schema.pages.types import Page, PageRevision, PageWatcher
from graphql_schema.permissions import (
    CanContribute,
    CanEditPage,
    CanSeePage,
    IsAccountTeamMember,
    rule,
)
from graphql_schema.relay import node_pk


@strawberry.input
class CreatePageInput:
    project_id: strawberry.ID
    title: str
    body: str = ""
    visibility: Visibility = Visibility.SHARED
    summary: str = ""
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="Put the page under this page of the same project."
    )


@strawberry.type
class CreatePagePayload:
    page: Page


@strawberry.input
class AddPageWatcherInput:
    page_id: strawberry.ID
    user_id: strawberry.ID = strawberry.field(description="A contact of the page's customer.")
    level: WatchLevel = WatchLevel.WATCHING


@strawberry.type
class AddPageWatcherPayload:
    watcher: PageWatcher


@strawberry.input
class MovePageInput:
    page_id: strawberry.ID
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="The new parent page; null puts the page at the top."
    )
    from_parent_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Required: the parent the page was under when you chose to move it (null: at "
            "the top). If it was moved elsewhere since, the answer is CONFLICT."
        ),
    )


@strawberry.type
class MovePagePayload:
    page: Page


@strawberry.input
class UpdatePageInput:
    page_id: strawberry.ID
    base_revision: int = strawberry.field(
        description="The revision your edit started from; a stale one answers CONFLICT."
    )
    title: str | None = None
    body: str | None = None
    summary: str = ""
    allow_conflict_markers: bool = strawberry.field(
        default=False,
        description=(
            "Save a text with more conflict-marker lines (<<<<<<<, |||||||, >>>>>>>) than "
            "the page has now; without it such a text is refused as BAD_USER_INPUT."
        ),
    )


@strawberry.input
class RestorePageRevisionInput:
    page_id: strawberry.ID
    revision: int = strawberry.field(description="The revision whose text to restore.")
    base_revision: int = strawberry.field(
        description=(
            "The revision you were reading when you chose to restore: what was written "
            "since is merged with the restore, or it answers CONFLICT (as updatePage)."
        )
    )
    summary: str = ""


@strawberry.type
class PageRevisionPayload:
    page: Page
    revision: PageRevision
    merged: bool = strawberry.field(
        default=False,
        description=(
            "True when the edit was made on an older revision and merged with what was "
            "written since (the changes did not overlap)."
        ),
    )

    @classmethod
    def from_update(cls, update: pages.PageUpdate) -> PageRevisionPayload:
        return cls(
            page=Page.from_row(update.page),
            revision=PageRevision.from_row(update.revision),
            merged=update.merged,
        )


@strawberry.input
class DiscardPageDraftInput:
    page_id: strawberry.ID


@strawberry.type
class DiscardPageDraftPayload:
    discarded: bool


def _page_id(value: strawberry.ID | None) -> int | None:
    return None if value is None else node_pk(value, "Page")


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=rule(CanContribute))
    async def create_page(self, info: Info, input: CreatePageInput) -> CreatePagePayload | None:
        page = await pages.create_page(
            info.context.require_viewer(),
            info.context.bus,
            project_id=node_pk(input.project_id, "Project"),
            title=input.title,
            body=input.body,
            visibility=input.visibility,
            summary=input.summary,
            parent_id=_page_id(input.parent_id),
        )
        return CreatePagePayload(page=Page.from_row(page))

    @strawberry.mutation(
        extensions=rule(IsAccountTeamMember),
        description=(
            "Make a contact of the customer watch a page (the customer's account team and "
            "administrators); recorded in the audit trail."
        ),
    )
    async def add_page_watcher(
        self, info: Info, input: AddPageWatcherInput
    ) -> AddPageWatcherPayload | None:
        watched, contact = await watches.add_page_watcher(
            info.context.require_viewer(),
            page_id=node_pk(input.page_id, "Page"),
            user_id=node_pk(input.user_id, "User"),
            level=input.level,
        )
        return AddPageWatcherPayload(
            watcher=PageWatcher(user=User.from_row(contact), level=watched.level)
        )

    @strawberry.mutation(
        extensions=rule(CanEditPage),
        description=(
            "Move a page under another page of its project, or to the top, from where you "
            "saw it (`fromParentId`): a move made meanwhile answers CONFLICT."
        ),
    )
    async def move_page(self, info: Info, input: MovePageInput) -> MovePagePayload | None:
        if input.from_parent_id is strawberry.UNSET:
            raise BadUserInput(
                "Give fromParentId: the parent the page was under when you chose to move it "
                "(null for the top), so that a move made meanwhile is not undone.",
                field="fromParentId",
            )
        page = await pages.move_page(
            info.context.require_viewer(),
            page_id=node_pk(input.page_id, "Page"),
            parent_id=_page_id(input.parent_id),
            from_parent_id=_page_id(input.from_parent_id),
        )
        return MovePagePayload(page=Page.from_row(page))

    @strawberry.mutation(
        extensions=rule(CanEditPage),
        description=(
            "Write the next revision of a page, from the revision the edit started on. An "
            "edit of an older revision is merged with what was written since; overlapping "
            "changes answer CONFLICT with `extensions.conflicts` (both sides of each hunk) "
            "and keep the edit as your `draft` of the page, whose `proposal` is the merge to "
            "finish. An edit that changes nothing writes no revision and tells nobody."
        ),
    )
    async def update_page(self, info: Info, input: UpdatePageInput) -> PageRevisionPayload | None:
        update = await pages.update_page(
            info.context.require_viewer(),
            info.context.bus,
            page_id=node_pk(input.page_id, "Page"),
            base_revision=input.base_revision,
            title=input.title,
            body=input.body,
            summary=input.summary,
            allow_conflict_markers=input.allow_conflict_markers,
        )
        return PageRevisionPayload.from_update(update)

    @strawberry.mutation(
        extensions=rule(CanEditPage),
        description=(
            "Make an earlier revision's text current again, as a new revision, merged with "
            "what was written since `baseRevision` like any edit (or CONFLICT, keeping the "
            "restore as your draft). Restoring the text the page has writes nothing."
        ),
    )
    async def restore_page_revision(
        self, info: Info, input: RestorePageRevisionInput
    ) -> PageRevisionPayload | None:
        update = await pages.restore_page_revision(
            info.context.require_viewer(),
            info.context.bus,
            page_id=node_pk(input.page_id, "Page"),
            revision=input.revision,
            base_revision=input.base_revision,
            summary=input.summary,
        )
        return PageRevisionPayload.from_update(update)

    @strawberry.mutation(
        extensions=rule(CanSeePage),
        description="Throw away your draft of a page (an edit that did not merge).",
    )
    async def discard_page_draft(
        self, info: Info, input: DiscardPageDraftInput
    ) -> DiscardPageDraftPayload | None:
        discarded = await pages.discard_draft(
            info.context.require_viewer(), page_id=node_pk(input.page_id, "Page")
        )
        return DiscardPageDraftPayload(discarded=discarded)
