from __future__ import annotations

import strawberry

from actions import microposts
from graphql_schema.context import Info
from graphql_schema.enums import Visibility
from graphql_schema.microposts.types import Micropost
from graphql_schema.permissions import CanContribute, IsAuthor, rule
from graphql_schema.relay import node_pk


@strawberry.input
class PostMicropostInput:
    project_id: strawberry.ID
    body: str = strawberry.field(description="Markdown, at most 5,000 characters.")
    visibility: Visibility = Visibility.SHARED
    in_reply_to_id: strawberry.ID | None = None
    page_id: strawberry.ID | None = strawberry.field(
        default=None, description="Comment on this concept page of the project."
    )


@strawberry.input
class EditMicropostInput:
    micropost_id: strawberry.ID
    body: str


@strawberry.type
class MicropostPayload:
    micropost: Micropost


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(CanContribute),
        description="Post on a project's timeline, or reply to a post.",
    )
    async def post_micropost(
        self, info: Info, input: PostMicropostInput
    ) -> MicropostPayload | None:
        parent_id = None
        if input.in_reply_to_id is not None:
            parent_id = node_pk(input.in_reply_to_id, "Micropost")
        post = await microposts.post_micropost(
            info.context.require_viewer(),
            info.context.bus,
            project_id=node_pk(input.project_id, "Project"),
            body=input.body,
            visibility=input.visibility,
            parent_id=parent_id,
            page_id=None if input.page_id is None else node_pk(input.page_id, "Page"),
        )
        return MicropostPayload(micropost=Micropost.from_row(post))

    @strawberry.mutation(
        extensions=rule(IsAuthor, CanContribute),
        description="Change your own post; its earlier text is kept in `edits`.",
    )
    async def edit_micropost(
        self, info: Info, input: EditMicropostInput
    ) -> MicropostPayload | None:
        post = await microposts.edit_micropost(
            info.context.require_viewer(),
            info.context.bus,
            micropost_id=node_pk(input.micropost_id, "Micropost"),
            body=input.body,
        )
        return MicropostPayload(micropost=Micropost.from_row(post))
