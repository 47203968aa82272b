"""Drafts of a page (edits that did not merge) and the merge proposal to finish them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from actions import pages
from domain.merging import ConflictHunk
from models import PageDraft as DraftRow


@strawberry.type(
    description=(
        "Lines that both sides changed: `base` as the draft's base revision had them, "
        "`current` as the page has them now, `yours` as the draft has them. Texts end "
        "with their line breaks."
    )
)
class PageConflictHunk:
    field: str = strawberry.field(description='"title" or "body".')
    base_start_line: int = strawberry.field(
        description="Where the hunk begins in the base revision's text (1-based)."
    )
    base: str
    current: str
    yours: str

    @classmethod
    def from_hunk(cls, hunk: ConflictHunk) -> PageConflictHunk:
        return cls(
            field=hunk.field,
            base_start_line=hunk.base_start,
            base=hunk.base,
            current=hunk.current,
            yours=hunk.yours,
        )


@strawberry.type(description="Lines that merged: unchanged, or changed by one side only.")
class MergedLines:
    text: str


PageMergePart = Annotated[
    MergedLines | PageConflictHunk,
    strawberry.union("PageMergePart", description="A run of merged lines, or a conflict."),
]


@strawberry.type(
    description=(
        "Your draft merged with the page as it is now (three-way, from the draft's base "
        "revision): every change of either side that does not overlap is applied, and each "
        "conflicting hunk is left for you to choose. Save the result with updatePage from "
        "`currentRevision`; a text still holding conflict markers is refused."
    )
)
class PageMergeProposal:
    base_revision: int = strawberry.field(description="The revision your draft began on.")
    current_revision: int = strawberry.field(
        description="The page's revision now: the baseRevision to save the result with."
    )
    title: str | None = strawberry.field(
        description="The merged title; null when both changed it (see `titleConflict`)."
    )
    title_conflict: PageConflictHunk | None
    body: list[PageMergePart] = strawberry.field(
        description="The body in order: merged lines and, between them, the conflicts."
    )
    conflict_count: int = strawberry.field(description="Conflicts of the title and body.")

    @classmethod
    def from_proposal(cls, proposal: pages.MergeProposal) -> PageMergeProposal:
        return cls(
            base_revision=proposal.base_revision,
            current_revision=proposal.current_revision,
            title=proposal.title,
            title_conflict=(
                PageConflictHunk.from_hunk(proposal.title_conflict)
                if proposal.title_conflict
                else None
            ),
            body=[
                PageConflictHunk.from_hunk(part)
                if isinstance(part, ConflictHunk)
                else MergedLines(text=part)
                for part in proposal.body
            ],
            conflict_count=len(proposal.conflicts),
        )


@strawberry.type(
    description=(
        "Your edit of a page that could not be merged with what others wrote since "
        "`baseRevision`: finish its `proposal` and submit it again from the current revision."
    )
)
class PageDraft:
    base_revision: int
    title: str | None = strawberry.field(description="Null when the edit kept the title.")
    body: str | None = strawberry.field(description="Null when the edit kept the body.")
    updated_at: datetime
    row: strawberry.Private[DraftRow]

    @classmethod
    def from_row(cls, row: DraftRow) -> PageDraft:
        return cls(
            base_revision=row.base_revision,
            title=row.title,
            body=row.body,
            updated_at=row.updated_at,
            row=row,
        )

    @strawberry.field(
        description=(
            "Your draft merged with the current revision: start here to edit again, never "
            "from `body` alone (that would undo what others wrote since `baseRevision`)."
        )
    )
    async def proposal(self) -> PageMergeProposal:
        return PageMergeProposal.from_proposal(await pages.merge_proposal(self.row))
