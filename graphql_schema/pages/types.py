from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from tortoise.functions import Length

from actions.attachments import display_name
from actions.notifications import watchers_of_page
from domain import policy
from domain.diffing import MYERS_BUDGET, Budget, diff_text, off_the_loop
from domain.errors import NotFound
from domain.tokens import DownloadKind
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.downloads import download_link
from graphql_schema.enums import Visibility, WatchLevel
from graphql_schema.pages.drafts import PageDraft
from graphql_schema.permissions import IsStaff, rule
from graphql_schema.projects.types import Project, load_project
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, global_id, paginate
from graphql_schema.rows import FromRow
from graphql_schema.varies import BY_AUDIENCE, SAME_FOR_EVERY_READER
from models import Attachment as AttachmentRow
from models import Page as PageRow

if TYPE_CHECKING:
    from graphql_schema.microposts.types import Micropost
from models import PageDraft as DraftRow
from models import PageRevision as RevisionRow


@strawberry.type(description="One append-only revision of a concept page.")
class PageRevision(FromRow, relay.Node):
    id: relay.NodeID[int]
    number: int
    summary: str
    title: str
    body: str
    created_at: datetime
    row: strawberry.Private[RevisionRow]

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def author(self, info: Info) -> User:
        return await load_user(info, self.row.author_id)


@strawberry.enum(description="How a line of a diff relates the two revisions.")
class DiffLineKind(Enum):
    CONTEXT = "context"
    ADDED = "added"
    REMOVED = "removed"


@strawberry.type
class DiffLine:
    kind: DiffLineKind
    text: str


@strawberry.type(description="A run of changed lines with up to three lines of context.")
class DiffHunk:
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    lines: list[DiffLine]


@strawberry.type(description="What changed between two revisions of a page.")
class PageDiff:
    from_revision: int
    to_revision: int
    title_changed: bool
    exact: bool = strawberry.field(
        description=(
            "False when a stretch of the texts differs too much to be aligned line by "
            "line within the work a diff may take: that stretch is then one replaced block "
            "(still correct, only coarser)."
        )
    )
    hunks: list[DiffHunk] = strawberry.field(
        description=(
            "The changed lines with their context, up to 2,000 lines in all: a longer diff "
            "is cut there (a hunk may end early; its counts stay whole) and `truncated` is "
            "true. `unified` always has all of it."
        )
    )
    truncated: bool = strawberry.field(description="True when `hunks` stops short.")
    unified: str = strawberry.field(description="The same, as a unified diff: all of it.")


@strawberry.type(description="A file attached to a concept page, in one of its versions.")
class Attachment(FromRow, relay.Node):
    id: relay.NodeID[int]
    name: str
    version: int = strawberry.field(description="Uploading the same name again adds one.")
    content_type: str = strawberry.field(description="Told from the content itself.")
    size: int = strawberry.field(description="In bytes.")
    created_at: datetime
    row: strawberry.Private[AttachmentRow]

    @classmethod
    def from_row(cls, row: AttachmentRow, **values: object) -> Attachment:
        """The name as shown (stored names are cleaned as new ones are)."""
        return super().from_row(row, **{"name": display_name(row.name), **values})

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def uploaded_by(self, info: Info) -> User:
        return await load_user(info, self.row.uploaded_by_id)

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def page(self, info: Info) -> Page:
        row = await info.context.loaders.page.load(self.row.page_id)
        assert row is not None
        return Page.from_row(row)

    @strawberry.field(description="Every version of this file, newest first.")
    async def versions(self) -> list[Attachment]:
        rows = await AttachmentRow.filter(page_id=self.row.page_id, name=self.row.name).order_by(
            "-version"
        )
        return [Attachment.from_row(row) for row in rows]

    @strawberry.field(
        description=(
            "Where to fetch the content (relative to this API's origin): a bearer link to "
            "this version, valid for five minutes, that acts as you. Whoever holds it can "
            "fetch the file in that time, but only while your account and session are active "
            "and you may still read the page (checked at download time); do not share it."
        )
    )
    def download_url(self, info: Info) -> str:
        path = f"/attachments/{global_id('Attachment', self.row.id)}"
        return download_link(info, path, DownloadKind.ATTACHMENT, self.row.id)


@strawberry.type(description="Someone who is told of a page's updates, and at what level.")
class PageWatcher:
    user: User
    level: WatchLevel


DIFF_LINES_SHOWN = 2_000
"""The most lines ``PageDiff.hunks`` gives, all hunks together; ``unified`` has them all."""


def _page_diff(old: RevisionRow, new: RevisionRow, budget: Budget) -> PageDiff:
    names = f"revision {old.number}", f"revision {new.number}"
    diff = diff_text(old.body, new.body, *names, budget=budget)
    hunks: list[DiffHunk] = []
    room = DIFF_LINES_SHOWN
    for h in diff.hunks:
        if room <= 0:
            break
        lines = [DiffLine(kind=DiffLineKind(kind), text=text) for kind, text in h.lines[:room]]
        room -= len(lines)
        hunks.append(
            DiffHunk(
                old_start=h.old_start,
                old_lines=h.old_lines,
                new_start=h.new_start,
                new_lines=h.new_lines,
                lines=lines,
            )
        )
    shown = sum(len(h.lines) for h in hunks)
    return PageDiff(
        from_revision=old.number,
        to_revision=new.number,
        title_changed=old.title != new.title,
        exact=diff.exact,
        truncated=shown < sum(len(h.lines) for h in diff.hunks),
        unified=diff.unified,
        hunks=hunks,
    )


async def page_diff(info: Info, page_id: int, from_revision: int, to_revision: int) -> PageDiff:
    """The diff of two revisions of a page the reader may see, computed once per process
    for any number of readers (``context.process.diffs``, a
    :class:`domain.diffing.DiffCache`), within the caller's allowance of work
    (:class:`domain.diffing.Allowance`). NOT_FOUND when either revision does not exist."""
    found = {
        number: (row_id, created_at, size)
        for row_id, number, created_at, size in await RevisionRow.filter(
            page_id=page_id, number__in=[from_revision, to_revision]
        )
        .annotate(size=Length("body"))
        .values_list("id", "number", "created_at", "size")
    }
    if from_revision not in found or to_revision not in found:
        raise NotFound("page revision")
    old_id, new_id = found[from_revision][0], found[to_revision][0]

    async def compute() -> tuple[PageDiff, bool]:
        rows = {r.id: r for r in await RevisionRow.filter(id__in=[old_id, new_id])}
        allowance = info.context.diff_allowance
        budget = allowance.take()
        full = budget.remaining == MYERS_BUDGET
        try:
            diff = await off_the_loop(size, lambda: _page_diff(rows[old_id], rows[new_id], budget))
        finally:
            allowance.give_back(budget)
        return diff, diff.exact or full  # a diff cut short by the allowance is not kept

    size = int(found[from_revision][2]) + int(found[to_revision][2])
    key = (page_id, found[from_revision], found[to_revision])
    # shared by every reader, alias and subscriber of this process
    diff: PageDiff = await info.context.process.diffs.get(key, size, compute)
    return diff


@strawberry.type(description="A concept page that the account team and the customer co-edit.")
class Page(FromRow, relay.Node):
    id: relay.NodeID[int]
    title: str
    body: str = strawberry.field(description="Markdown source of the current revision.")
    body_html: str = strawberry.field(description="Safe HTML rendered from the body.")
    visibility: Visibility
    revision: int = strawberry.field(description="The current revision number; edit from it.")
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[PageRow]

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def project(self, info: Info) -> Project:
        return await load_project(info, self.row.project_id)

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def created_by(self, info: Info) -> User:
        return await load_user(info, self.row.created_by_id)

    @strawberry.field(description="Every revision, newest first.")
    async def revisions(
        self, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[PageRevision]:
        revisions = RevisionRow.filter(page_id=self.row.id)
        return await paginate(
            revisions, first=first, after=after, to_node=PageRevision.from_row, newest_first=True
        )

    @strawberry.field(metadata=BY_AUDIENCE, description="The page this one sits under.")
    async def parent(self, info: Info) -> Page | None:
        if self.row.parent_id is None:
            return None
        info.context.require_viewer()
        row = await info.context.loaders.visible_page.load(self.row.parent_id)
        return Page.from_row(row) if row else None

    @strawberry.field(metadata=BY_AUDIENCE, description="Pages under this one that you may see.")
    async def children(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Page]:
        scope = policy.visible_pages(info.context.require_viewer())
        children = scope.filter(parent_id=self.row.id)
        return await paginate(children, first=first, after=after, to_node=Page.from_row)

    @strawberry.field(
        metadata=BY_AUDIENCE,
        description="The discussion of this page: comments you may see, oldest first.",
    )
    async def comments(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Annotated[Micropost, strawberry.lazy("graphql_schema.microposts.types")]]:
        from graphql_schema.microposts.types import Micropost

        scope = policy.visible_microposts(info.context.require_viewer())
        comments = scope.filter(page_id=self.row.id, parent_id=None)
        return await paginate(comments, first=first, after=after, to_node=Micropost.from_row)

    @strawberry.field(
        extensions=rule(IsStaff),
        description=(
            "Who is told of this page's updates: their own watch on it or one inherited from "
            "the project or customer, unless muted; staff only."
        ),
    )
    async def watchers(self, info: Info) -> list[PageWatcher] | None:
        return [
            PageWatcher(user=await load_user(info, user_id), level=level)
            for user_id, level in await watchers_of_page(self.row)
        ]

    @strawberry.field(description="The latest version of each attached file, by name.")
    async def attachments(self) -> list[Attachment]:
        rows = await AttachmentRow.filter(page_id=self.row.id).order_by("name", "-version")
        latest: dict[str, AttachmentRow] = {}
        for row in rows:
            latest.setdefault(row.name, row)
        return [Attachment.from_row(row) for row in latest.values()]

    @strawberry.field(description="Your draft of this page: an edit that did not merge.")
    async def draft(self, info: Info) -> PageDraft | None:
        viewer = info.context.require_viewer()
        row = await DraftRow.get_or_none(page_id=self.row.id, author_id=viewer.id)
        if row is None:
            return None
        return PageDraft.from_row(row)

    @strawberry.field(description="One revision of this page by its number.")
    async def revision_by_number(self, number: int) -> PageRevision | None:
        row = await RevisionRow.get_or_none(page_id=self.row.id, number=number)
        if row is None:
            raise NotFound("page revision")
        return PageRevision.from_row(row)

    @strawberry.field(
        metadata=SAME_FOR_EVERY_READER,
        description="What changed from one revision to another (any two).",
    )
    async def diff(self, info: Info, from_revision: int, to_revision: int) -> PageDiff:
        return await page_diff(info, self.row.id, from_revision, to_revision)

    @strawberry.field(description="The watch level that applies to you here, inherited or own.")
    async def viewer_watch_level(self, info: Info) -> WatchLevel | None:
        project = await info.context.loaders.project.load(self.row.project_id)
        assert project is not None
        info.context.require_viewer()
        return await info.context.loaders.effective_watch_level(
            customer_id=project.customer_id,
            project_id=project.id,
            page_id=self.row.id,
        )
