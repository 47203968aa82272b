"""Microposts on project timelines: posting, replying, editing with history."""

from __future__ import annotations

from actions import search_index
from actions._common import MICROPOST_MAX_LENGTH, batches, now, record_event, required_text
from actions.notifications import mentions_notified, record_notifications
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import BadUserInput, Forbidden
from domain.text import PostText, read_post
from models import (
    Micropost,
    MicropostEdit,
    MicropostMention,
    MicropostTopic,
    NotificationReason,
    Project,
    Topic,
    User,
    Visibility,
    events,
)
from realtime.bus import EventBus


async def readers_among(project: Project, visibility: Visibility, handles: list[str]) -> list[User]:
    """The users with these handles who may read content of this visibility in the project.

    A mention of anybody else stays plain text: it never reveals that such a user exists.
    """
    return [
        user
        for some in batches(handles)
        for user in await policy.readers_of(project, visibility).filter(handle__in=some)
    ]


async def _link_references(
    post: Micropost, project: Project, text: PostText
) -> tuple[set[int], set[int]]:
    """(Re)write the mention and topic links of a post from its current text (read by
    :func:`domain.text.read_post`); answers the mentioned users' and the topics' ids."""
    await MicropostMention.filter(micropost_id=post.id).delete()
    await MicropostTopic.filter(micropost_id=post.id).delete()
    mentioned: set[int] = set()
    topic_ids: set[int] = set()
    for user in await readers_among(project, post.visibility, text.mentions):
        await MicropostMention.create(micropost_id=post.id, user_id=user.id)
        mentioned.add(user.id)
    for name in text.topics:
        topic, _ = await Topic.get_or_create(name=name)
        await MicropostTopic.create(micropost_id=post.id, topic_id=topic.id)
        topic_ids.add(topic.id)
    return mentioned, topic_ids


def _posted(post: Micropost) -> events.MicropostPosted:
    return events.MicropostPosted(post.id, post.author_id, post.parent_id, post.page_id)


def _edited(post: Micropost) -> events.MicropostEdited:
    return events.MicropostEdited(post.id, post.author_id, post.parent_id, post.page_id)


async def post_micropost(
    actor: User,
    bus: EventBus,
    *,
    project_id: int,
    body: str,
    visibility: Visibility = Visibility.SHARED,
    parent_id: int | None = None,
    page_id: int | None = None,
) -> Micropost:
    """A post on the project's timeline: a reply to ``parent_id``, or a comment on the
    concept page ``page_id`` (a reply to a comment belongs to the same page)."""
    body = required_text(body, "body", MICROPOST_MAX_LENGTH)
    project = await policy.get_visible(policy.visible_projects(actor), project_id, "project")
    await policy.require_contributor(actor, project)
    if not policy.can_see_visibility(actor, visibility):
        raise Forbidden("Only staff may write internal notes.")
    involved: dict[int, NotificationReason] = {}
    if parent_id is not None:
        parent = await policy.get_visible(policy.visible_microposts(actor), parent_id, "micropost")
        involved[parent.author_id] = NotificationReason.REPLIED
        if parent.project_id != project.id:
            raise BadUserInput("A reply belongs in the project of the post it answers.")
        if parent.visibility is Visibility.INTERNAL:
            visibility = Visibility.INTERNAL
        if page_id is not None and page_id != parent.page_id:
            raise BadUserInput("A reply belongs on the page of the comment it answers.")
        page_id = parent.page_id
    elif page_id is not None:
        page = await policy.get_visible(policy.visible_pages(actor), page_id, "page")
        if page.project_id != project.id:
            raise BadUserInput("A comment belongs in the project of its page.", field="pageId")
        if page.visibility is Visibility.INTERNAL:
            visibility = Visibility.INTERNAL
    text = read_post(body)
    async with unit_of_work(bus) as work:
        post = await Micropost.create(
            project_id=project.id,
            author_id=actor.id,
            parent_id=parent_id,
            page_id=page_id,
            body=body,
            body_html=text.html,
            visibility=visibility,
        )
        mentioned, topic_ids = await _link_references(post, project, text)
        await search_index.index_micropost(post)
        event = await record_event(
            _posted(post), project, actor, visibility=visibility, micropost_id=post.id
        )
        involved.update(dict.fromkeys(mentioned, NotificationReason.MENTIONED))
        notified = await record_notifications(
            event, project, page_id=page_id, topic_ids=topic_ids, involved=involved
        )
        work.publish(event, notified=notified)
    return post


async def edit_micropost(actor: User, bus: EventBus, *, micropost_id: int, body: str) -> Micropost:
    body = required_text(body, "body", MICROPOST_MAX_LENGTH)
    post = await policy.get_visible(policy.visible_microposts(actor), micropost_id, "micropost")
    if not policy.is_author(actor, post):
        raise Forbidden("Only the author may edit a post.")
    project = await Project.get(id=post.project_id)
    await policy.require_contributor(actor, project)
    text = read_post(body)
    async with unit_of_work(bus) as work:
        locked = await Micropost.filter(id=post.id).select_for_update().get()
        if locked.body == body:
            return locked
        await MicropostEdit.create(
            micropost_id=locked.id, previous_body=locked.body, editor_id=actor.id
        )
        locked.body = body
        locked.body_html = text.html
        locked.edited_at = now()
        await locked.save(update_fields=["body", "body_html", "edited_at"])
        await search_index.index_micropost(locked)
        linked = set(
            await MicropostMention.filter(micropost_id=locked.id).values_list("user_id", flat=True)
        )
        mentioned, topic_ids = await _link_references(locked, project, text)
        already = linked | await mentions_notified(locked.id, mentioned - linked)
        event = await record_event(
            _edited(locked), project, actor, visibility=locked.visibility, micropost_id=locked.id
        )
        newly = dict.fromkeys(mentioned - already, NotificationReason.MENTIONED)
        notified = await record_notifications(
            event, project, page_id=locked.page_id, topic_ids=topic_ids, involved=newly
        )
        work.publish(event, notified=notified)
    return locked
