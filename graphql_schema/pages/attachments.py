"""Mutations on page attachments (uploads go over HTTP: app/files.py)."""

from __future__ import annotations

import strawberry

from actions import attachments
from graphql_schema.context import Info
from graphql_schema.pages.types import Page
from graphql_schema.permissions import CanDeleteAttachment, rule
from graphql_schema.relay import global_id, node_pk
from infra.storage import BlobStorage


@strawberry.input
class DeleteAttachmentInput:
    attachment_id: strawberry.ID = strawberry.field(
        description="The version to delete; the file's other versions stay."
    )


@strawberry.type
class DeleteAttachmentPayload:
    deleted_attachment_id: strawberry.ID
    page: Page = strawberry.field(description="The page it was on, without it.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(CanDeleteAttachment),
        description=(
            "Delete one version of an attached file, with its content: whoever uploaded it "
            "may, and so may staff who may write on the page (others: FORBIDDEN). Recorded "
            "in the audit trail; counts with uploads against the per-minute limit "
            "(RATE_LIMITED with `retryAfter`). Links to it answer 404 afterwards."
        ),
    )
    async def delete_attachment(
        self, info: Info, input: DeleteAttachmentInput
    ) -> DeleteAttachmentPayload | None:
        attachment_id = node_pk(input.attachment_id, "Attachment")
        storage: BlobStorage = info.context.request.app.state.storage
        page = await attachments.delete_attachment(
            info.context.require_viewer(),
            storage,
            attachment_id,
            attachments.UploadLimits.from_settings(info.context.settings),
        )
        return DeleteAttachmentPayload(
            deleted_attachment_id=strawberry.ID(global_id("Attachment", attachment_id)),
            page=Page.from_row(page),
        )
