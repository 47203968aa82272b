from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from actions.watches import target_key
from domain import policy
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.enums import Visibility, WatchLevel
from graphql_schema.loaders import now_or_later
from graphql_schema.projects.types import Project, load_project
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, paginate
from graphql_schema.rows import FromRow
from graphql_schema.selections import selected_below
from graphql_schema.varies import BY_AUDIENCE, SAME_FOR_EVERY_READER
from models import Micropost as MicropostRow
from models import MicropostEdit as EditRow
from models import Topic as TopicRow
from models import User as UserRow
from models import WatchTargetKind

if TYPE_CHECKING:
    from graphql_schema.pages.types import Page


@strawberry.type(description="A #hashtag shared across projects. Its ID is made of its name alone.")
class Topic(relay.Node):
    id: relay.NodeID[str]  # the name: a sequential key would show who used a name first
    name: str
    row: strawberry.Private[TopicRow]

    @classmethod
    def from_row(cls, row: TopicRow) -> Topic:
        return cls(id=row.name, name=row.name, row=row)

    @strawberry.field(
        metadata=BY_AUDIENCE, description="Posts with this topic that you may see, newest first."
    )
    async def microposts(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Micropost]:
        viewer = info.context.require_viewer()
        posts = policy.visible_microposts(viewer).filter(topic_links__topic_id=self.row.id)
        page = await paginate(
            posts, first=first, after=after, to_node=Micropost.from_row, newest_first=True
        )
        await prefetch(info, [edge.node for edge in page.edges])
        return page

    @strawberry.field(description="Your watch level on this topic, if you set one.")
    async def viewer_watch_level(self, info: Info) -> WatchLevel | None:
        info.context.require_viewer()
        key = target_key(WatchTargetKind.TOPIC, self.row.id)
        return await info.context.loaders.watch_level.load(key)


@strawberry.type(description="The text a post had before one of its edits.")
class MicropostEdit:
    previous_body: str
    created_at: datetime
    row: strawberry.Private[EditRow]

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def editor(self, info: Info) -> User:
        return await load_user(info, self.row.editor_id)


@strawberry.type(description="A short Markdown post on a project timeline, or a reply.")
class Micropost(FromRow, relay.Node):
    id: relay.NodeID[int]
    body: str = strawberry.field(description="Markdown source.")
    body_html: str = strawberry.field(description="Safe HTML rendered from the body.")
    visibility: Visibility
    created_at: datetime
    edited_at: datetime | None
    row: strawberry.Private[MicropostRow]

    # Fields without `async` answer at once from what the page fetched up front
    # (`prefetch`), and otherwise through the request's loaders (`now_or_later`).
    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    def author(self, info: Info) -> User:
        return now_or_later(info.context.loaders.user, self.row.author_id, self._author)

    def _author(self, row: UserRow | None) -> User:
        if row is None:
            raise LookupError(f"user {self.row.author_id} is referenced but missing")
        return User.from_row(row)

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def project(self, info: Info) -> Project:
        return await load_project(info, self.row.project_id)

    @strawberry.field(metadata=SAME_FOR_EVERY_READER, description="The post this one replies to.")
    async def parent(self, info: Info) -> Micropost | None:
        if self.row.parent_id is None:
            return None
        row = await info.context.loaders.micropost.load(self.row.parent_id)
        return Micropost.from_row(row) if row else None

    @strawberry.field(
        metadata=BY_AUDIENCE, description="The concept page this comment discusses, if any."
    )
    async def page(
        self, info: Info
    ) -> Annotated[Page, strawberry.lazy("graphql_schema.pages.types")] | None:
        from graphql_schema.pages.types import Page

        if self.row.page_id is None:
            return None
        info.context.require_viewer()
        row = await info.context.loaders.visible_page.load(self.row.page_id)
        return Page.from_row(row) if row else None

    @strawberry.field(metadata=BY_AUDIENCE, description="Replies you may see, oldest first.")
    async def replies(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Micropost]:
        viewer = info.context.require_viewer()
        posts = policy.visible_microposts(viewer).filter(parent_id=self.row.id)
        page = await paginate(posts, first=first, after=after, to_node=Micropost.from_row)
        await prefetch(info, [edge.node for edge in page.edges])
        return page

    @strawberry.field(metadata=BY_AUDIENCE, description="How many replies you may see.")
    def reply_count(self, info: Info) -> int:
        return now_or_later(info.context.loaders.reply_count, self.row.id, int)

    @strawberry.field(
        metadata=SAME_FOR_EVERY_READER,
        description="Users mentioned with @handle who may read this post.",
    )
    def mentions(self, info: Info) -> list[User]:
        loader = info.context.loaders.mentions_of_micropost
        return now_or_later(loader, self.row.id, _users)

    @strawberry.field(metadata=SAME_FOR_EVERY_READER, description="The #topics in this post.")
    def topics(self, info: Info) -> list[Topic]:
        return now_or_later(info.context.loaders.topics_of_micropost, self.row.id, _topics)

    @strawberry.field(description="Earlier texts of this post, oldest first.")
    async def edits(self) -> list[MicropostEdit]:
        rows = await EditRow.filter(micropost_id=self.row.id).order_by("id")
        return [
            MicropostEdit(previous_body=r.previous_body, created_at=r.created_at, row=r)
            for r in rows
        ]


def _users(rows: list[UserRow]) -> list[User]:
    return [User.from_row(row) for row in rows]


def _topics(rows: list[TopicRow]) -> list[Topic]:
    return [Topic.from_row(row) for row in rows]


async def prefetch(info: Info, posts: Sequence[Micropost]) -> None:
    """Fetch what the fields selected on a page of ``posts`` (``edges { node { … } }`` below
    the current field) read through the request's loaders: the authors, topics, reply
    counts and mentions of all of them, one query each whatever the page's size, so that
    those fields then answer without awaiting. A failed fetch is not raised here: each
    field that reads it answers its error, as when it fetches itself."""
    if not posts:
        return
    names = selected_below(info, "edges", "node")
    loaders = info.context.loaders
    ids = [post.row.id for post in posts]
    loads: list[Awaitable[object]] = []
    if "author" in names:
        loads.append(loaders.user.load_many({post.row.author_id for post in posts}))
    if "topics" in names:
        loads.append(loaders.topics_of_micropost.load_many(ids))
    if "replyCount" in names:
        loads.append(loaders.reply_count.load_many(ids))
    if "mentions" in names:
        loads.append(loaders.mentions_of_micropost.load_many(ids))
    if loads:
        await asyncio.gather(*loads, return_exceptions=True)
