"""Concept pages: creation, revisions with an optimistic base, and restores."""

from __future__ import annotations

import re
from dataclasses import dataclass

from actions import search_index
from actions._common import (
    PAGE_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    audit,
    limited_text,
    name_text,
    record_event,
)
from actions.notifications import record_notifications
from actions.unit_of_work import UnitOfWork, unit_of_work
from domain import policy
from domain.diffing import DiffCache, off_the_loop
from domain.errors import BadUserInput, Conflict, Forbidden, NotFound
from domain.markdown import render_markdown_off_loop
from domain.merging import ConflictHunk, TooDifferent, merge_text, merge_title
from models import (
    NotificationReason,
    Page,
    PageDraft,
    PageRevision,
    Project,
    User,
    Visibility,
)
from models.events import PageCreated, PageUpdated
from realtime.bus import EventBus

SUMMARY_MAX_LENGTH = 500


async def create_page(
    actor: User,
    bus: EventBus,
    *,
    project_id: int,
    title: str,
    body: str = "",
    visibility: Visibility = Visibility.SHARED,
    summary: str = "",
    parent_id: int | None = None,
) -> Page:
    title = name_text(title, "title", TITLE_MAX_LENGTH)
    body = limited_text(body, "body", PAGE_MAX_LENGTH)
    summary = limited_text(summary.strip(), "summary", SUMMARY_MAX_LENGTH)
    project = await policy.get_visible(policy.visible_projects(actor), project_id, "project")
    await policy.require_contributor(actor, project)
    if not policy.can_see_visibility(actor, visibility):
        raise Forbidden("Only staff may create internal pages.")
    if parent_id is not None:
        await _parent_for(actor, project, visibility, parent_id)
    body_html = await render_markdown_off_loop(body)
    async with unit_of_work(bus) as work:
        page = await Page.create(
            project_id=project.id,
            parent_id=parent_id,
            title=title,
            body=body,
            body_html=body_html,
            visibility=visibility,
            revision=1,
            created_by_id=actor.id,
        )
        await search_index.index_page(page)
        await PageRevision.create(
            page_id=page.id,
            number=1,
            author_id=actor.id,
            summary=summary or "Created the page",
            title=title,
            body=body,
        )
        event = await record_event(
            PageCreated(page.id, title), project, actor, visibility=visibility, page_id=page.id
        )
        notified = await record_notifications(event, project)
        work.publish(event, notified=notified)
    return page


async def _parent_for(
    actor: User, project: Project, visibility: Visibility, parent_id: int
) -> Page:
    """A page that may hold a child page of this visibility in this project."""
    parent = await policy.get_visible(policy.visible_pages(actor), parent_id, "parent page")
    if parent.project_id != project.id:
        raise BadUserInput("A page's parent must be a page of the same project.", field="parentId")
    if parent.visibility is Visibility.INTERNAL and visibility is Visibility.SHARED:
        raise BadUserInput(
            "A shared page cannot sit under an internal one: the customer could not reach it.",
            field="parentId",
        )
    return parent


async def move_page(
    actor: User, *, page_id: int, parent_id: int | None, from_parent_id: int | None
) -> Page:
    """Put a page under another page of its project, or at the top (``parent_id`` None),
    from where the mover saw it (``from_parent_id``, None: at the top). When it was moved
    elsewhere since, the answer is CONFLICT and nothing changes; a move to where the page is
    already changes nothing."""
    page, project = await writable_page(actor, page_id)
    if from_parent_id is not None:  # another customer's page answers like a missing one
        await policy.get_visible(policy.visible_pages(actor), from_parent_id, "page")
    async with unit_of_work():
        locked = await Page.filter(id=page.id).select_for_update().get()
        if parent_id is not None:
            await _parent_for(actor, project, locked.visibility, parent_id)
            ancestor: int | None = parent_id
            while ancestor is not None:  # the new parent must not be the page or below it
                if ancestor == locked.id:
                    raise BadUserInput(
                        "A page cannot be moved under itself or one of its own subpages.",
                        field="parentId",
                    )
                ancestor = (await Page.get(id=ancestor)).parent_id
        if locked.parent_id == parent_id:
            return locked
        if locked.parent_id != from_parent_id:
            raise Conflict(
                "The page was moved by someone else since you saw where it was: look at "
                "where it is now, and move it again if you still want to.",
                field="fromParentId",
            )
        locked.parent_id = parent_id
        await locked.save(update_fields=["parent_id", "updated_at"])
    return locked


async def writable_page(actor: User, page_id: int) -> tuple[Page, Project]:
    """The page and its project, if the actor may write on the page."""
    page = await policy.get_visible(policy.visible_pages(actor), page_id, "page")
    project = await Project.get(id=page.project_id)
    if not await policy.can_edit_page(actor, page, project):
        raise Forbidden(
            "You can read this project but not write in it. Ask its account team to add you."
        )
    return page, project


async def _append_revision(
    work: UnitOfWork,
    actor: User,
    page: Page,
    project: Project,
    *,
    title: str,
    body: str,
    summary: str,
) -> PageRevision:
    """Write revision n+1 and its event, published by ``work`` (whose transaction holds
    the page locked)."""
    number = page.revision + 1
    revision = await PageRevision.create(
        page_id=page.id, number=number, author_id=actor.id, summary=summary, title=title, body=body
    )
    page.title = title
    page.body = body
    page.body_html = await render_markdown_off_loop(body)
    page.revision = number
    await page.save(update_fields=["title", "body", "body_html", "revision", "updated_at"])
    await search_index.index_page(page)
    updated = PageUpdated(page.id, number, title, summary)
    event = await record_event(updated, project, actor, visibility=page.visibility, page_id=page.id)
    authors = await PageRevision.filter(page_id=page.id).values_list("author_id", flat=True)
    involved = dict.fromkeys((int(a) for a in authors), NotificationReason.PARTICIPATING)  # type: ignore[call-overload]
    notified = await record_notifications(event, project, page_id=page.id, involved=involved)
    work.publish(event, notified=notified)
    return revision


@dataclass(frozen=True, slots=True)
class PageUpdate:
    """The page after a write, and its revision: the new one, or the current one when the
    write changed nothing (``written`` False)."""

    page: Page
    revision: PageRevision
    merged: bool = False
    written: bool = True


MARKER_LINE = re.compile(r"^(<{7}|>{7}|\|{7})(?: |$)", re.MULTILINE)
"""The start of a line that opens, divides or closes a conflict hunk in a merge proposal
written out as text (``<<<<<<< yours`` ... ``>>>>>>> revision 5``), the way ``git`` does."""


def marker_lines(text: str) -> int:
    """How many lines of ``text`` are conflict markers (see :data:`MARKER_LINE`)."""
    return len(MARKER_LINE.findall(text))


async def _merge_stale_edit(
    page: Page, base_revision: int, title: str | None, body: str | None
) -> tuple[str, str, tuple[ConflictHunk, ...]]:
    """The title and body an edit made on an older revision gives, merged with what was
    written since, or the conflicting hunks."""
    base = await PageRevision.get(page_id=page.id, number=base_revision)
    titled = merge_title(base.title, page.title, title) if title is not None else None
    bodied = None
    if body is not None:
        size = len(base.body) + len(page.body) + len(body)
        bodied = await off_the_loop(
            size, lambda: merge_text("body", base.body, page.body, body or "")
        )
    conflicts = (titled.conflicts if titled else ()) + (bodied.conflicts if bodied else ())
    new_title = titled.text if titled and titled.text is not None else page.title
    new_body = bodied.text if bodied and bodied.text is not None else page.body
    return new_title, new_body, conflicts


async def update_page(
    actor: User,
    bus: EventBus,
    *,
    page_id: int,
    base_revision: int,
    title: str | None = None,
    body: str | None = None,
    summary: str = "",
    allow_conflict_markers: bool = False,
) -> PageUpdate:
    """Write the next revision. An edit made on an older revision is merged with what was
    written since; where both changed the same lines, the answer is CONFLICT with both
    sides of each hunk, and the edit is kept as the author's draft of the page (whose
    :func:`merge_proposal` is the merge to finish). A text with more conflict-marker lines
    than the page has now is BAD_USER_INPUT unless ``allow_conflict_markers``. An edit that
    changes nothing writes nothing and tells nobody."""
    if title is not None:
        title = name_text(title, "title", TITLE_MAX_LENGTH)
    if body is not None:
        body = limited_text(body, "body", PAGE_MAX_LENGTH)
    summary = limited_text(summary.strip(), "summary", SUMMARY_MAX_LENGTH)
    if title is None and body is None:
        raise BadUserInput("Nothing to change: give a new title, a new body or both.")
    page, project = await writable_page(actor, page_id)
    if not allow_conflict_markers:
        for name, text, now in (("title", title, page.title), ("body", body, page.body)):
            if text is not None and marker_lines(text) > marker_lines(now):
                raise BadUserInput(
                    f"The {name} still has conflict markers (lines beginning with "
                    "<<<<<<<, ||||||| or >>>>>>>): choose between the sides of each "
                    "conflicting hunk and remove the markers before saving, or save with "
                    "allowConflictMarkers if the page is meant to show them.",
                    field=name,
                )
    edit = _Edit(base_revision, title, body, summary)
    return await _write(actor, bus, page, project, edit)


@dataclass(frozen=True, slots=True)
class _Edit:
    """A title and body (None: unchanged) made on revision ``base``; ``restored`` names the
    revision whose text it is, for a restore."""

    base: int
    title: str | None
    body: str | None
    summary: str
    restored: int | None = None


async def _write(
    actor: User, bus: EventBus, page: Page, project: Project, edit: _Edit
) -> PageUpdate:
    try:
        return await _update_page(actor, bus, page, project, edit)
    except TooDifferent:
        await _keep_draft(actor, page, edit)
        raise Conflict(
            f"The page changed since revision {edit.base} in too many places to merge "
            "your edit with it line by line. Your text is kept as your draft of this page: "
            "make your edit again on the current revision.",
            currentRevision=(await Page.get(id=page.id)).revision,
            conflicts=[],
            draftSaved=True,
        ) from None


async def _update_page(
    actor: User, bus: EventBus, page: Page, project: Project, edit: _Edit
) -> PageUpdate:
    conflicts: tuple[ConflictHunk, ...] = ()
    base_revision = edit.base
    async with unit_of_work(bus) as work:
        locked = await Page.filter(id=page.id).select_for_update().get()
        if base_revision < 1 or base_revision > locked.revision:
            raise BadUserInput(
                f"Revision {base_revision} of this page does not exist; "
                f"the current revision is {locked.revision}.",
                field="baseRevision",
                currentRevision=locked.revision,
            )
        merged = base_revision != locked.revision
        if merged:
            new_title, new_body, conflicts = await _merge_stale_edit(
                locked, base_revision, edit.title, edit.body
            )
        else:
            new_title = edit.title if edit.title is not None else locked.title
            new_body = edit.body if edit.body is not None else locked.body
        if not conflicts:
            await PageDraft.filter(page_id=locked.id, author_id=actor.id).delete()
            if len(new_body) > PAGE_MAX_LENGTH:
                raise BadUserInput(
                    f"Merged with the changes since revision {base_revision}, the page would "
                    f"be longer than {PAGE_MAX_LENGTH} characters.",
                    field="body",
                )
            if (new_title, new_body) == (locked.title, locked.body):
                current = await PageRevision.get(page_id=locked.id, number=locked.revision)
                return PageUpdate(locked, current, written=False)  # no revision, no event
            revision = await _append_revision(
                work, actor, locked, project, title=new_title, body=new_body, summary=edit.summary
            )
            if edit.restored is not None:
                await audit(
                    "page.restored",
                    actor=actor,
                    target=f"page:{locked.id}",
                    restored=edit.restored,
                    revision=revision.number,
                )
    if conflicts:
        await _keep_draft(actor, locked, edit)
        raise Conflict(
            f"The page changed since revision {base_revision} (it is now at revision "
            f"{locked.revision}) in the same places as your edit. Your text is kept as your "
            "draft of this page: choose between the sides of each conflicting hunk in its "
            "merge proposal and submit again from the current revision.",
            currentRevision=locked.revision,
            conflicts=[hunk.as_extension() for hunk in conflicts],
            draftSaved=True,
        )
    return PageUpdate(locked, revision, merged=merged)


async def _keep_draft(actor: User, page: Page, edit: _Edit) -> None:
    await PageDraft.update_or_create(
        page_id=page.id,
        author_id=actor.id,
        defaults={"base_revision": edit.base, "title": edit.title, "body": edit.body},
    )


async def discard_draft(actor: User, *, page_id: int) -> bool:
    page = await policy.get_visible(policy.visible_pages(actor), page_id, "page")
    return bool(await PageDraft.filter(page_id=page.id, author_id=actor.id).delete())


@dataclass(frozen=True, slots=True)
class MergeProposal:
    """A draft merged with the page as it is now, for its author to finish and save with
    ``baseRevision = current_revision``: every change of either side that does not overlap
    is applied; ``title`` is None when the titles conflict (``title_conflict``); ``body``
    is the text in order, runs of merged lines (strings) and the conflicting hunks."""

    base_revision: int
    current_revision: int
    title: str | None
    title_conflict: ConflictHunk | None
    body: tuple[str | ConflictHunk, ...]

    @property
    def conflicts(self) -> tuple[ConflictHunk, ...]:
        body = tuple(part for part in self.body if isinstance(part, ConflictHunk))
        return ((self.title_conflict,) if self.title_conflict else ()) + body


merge_proposals: DiffCache[MergeProposal] = DiffCache()
"""Merge proposals by draft and page version: computed once however many aliases ask."""


async def merge_proposal(draft: PageDraft) -> MergeProposal:
    """The three-way merge of a draft (yours) with the page now (current), from the
    revision the draft began on (base). Texts too different to align line by line give
    one hunk of the whole body, so that nothing is chosen for the author. Linear time plus
    at most ``domain.diffing.MYERS_BUDGET`` steps, once per draft and page version."""
    page = await Page.get(id=draft.page_id)
    key = (draft.id, draft.updated_at, page.id, page.revision, page.updated_at)
    weight = 2 * len(page.body) + len(draft.body or "")

    async def compute() -> tuple[MergeProposal, bool]:
        return await _propose(draft, page), True

    return await merge_proposals.get(key, weight, compute)


async def _propose(draft: PageDraft, page: Page) -> MergeProposal:
    base = await PageRevision.get(page_id=page.id, number=draft.base_revision)
    title: str | None = page.title
    title_conflict = None
    if draft.title is not None:
        titled = merge_title(base.title, page.title, draft.title)
        title = titled.text
        title_conflict = titled.conflicts[0] if titled.conflicts else None
    body: tuple[str | ConflictHunk, ...] = (page.body,)
    if draft.body is not None:
        yours = draft.body
        size = len(base.body) + len(page.body) + len(yours)
        try:
            bodied = await off_the_loop(
                size, lambda: merge_text("body", base.body, page.body, yours)
            )
            body = bodied.parts if bodied.text is None else (bodied.text,)
        except TooDifferent:
            body = (ConflictHunk("body", 1, base.body, page.body, yours),)
    body = tuple(part for part in body if part != "")
    return MergeProposal(draft.base_revision, page.revision, title, title_conflict, body)


async def restore_page_revision(
    actor: User,
    bus: EventBus,
    *,
    page_id: int,
    revision: int,
    base_revision: int,
    summary: str = "",
) -> PageUpdate:
    """Make an earlier revision's text current again, as an edit made on ``base_revision``
    (the revision the restore was decided on): what was written since is merged as for
    :func:`update_page`, or the answer is CONFLICT and the restore is kept as the actor's
    draft. Restoring the text the page has writes nothing and tells nobody. NOT_FOUND for
    an unknown ``revision``; BAD_USER_INPUT for an unknown ``base_revision``."""
    summary = limited_text(summary.strip(), "summary", SUMMARY_MAX_LENGTH)
    page, project = await writable_page(actor, page_id)
    old = await PageRevision.get_or_none(page_id=page.id, number=revision)
    if old is None:
        raise NotFound("page revision")
    base = await PageRevision.get_or_none(page_id=page.id, number=base_revision)
    if base is None:
        raise BadUserInput(
            f"Revision {base_revision} of this page does not exist; the current revision "
            f"is {page.revision}. Give as baseRevision the revision you were reading when "
            "you chose to restore.",
            field="baseRevision",
            currentRevision=page.revision,
        )
    edit = _Edit(
        base_revision,
        title=old.title if old.title != base.title else None,
        body=old.body if old.body != base.body else None,
        summary=summary or f"Restored revision {revision}",
        restored=revision,
    )
    if edit.title is None and edit.body is None:  # the base is the restored text already
        current = await PageRevision.get(page_id=page.id, number=page.revision)
        return PageUpdate(page, current, written=False)
    return await _write(actor, bus, page, project, edit)
