"""The search index: one :class:`SearchDocument` per page, post, attachment (the latest
version of a file), request (two: its shared text, its INTERNAL notes) and library
document, written in the transaction that changes it (a library version's text: when its
extraction ends); domain/search.py reads it.

On PostgreSQL the row's ``document`` (a ``tsvector``) is made from :func:`domain.search.words`
of its title and body, the same words the SQLite tokenizer sees.
"""

from __future__ import annotations

from tortoise import connections

from domain.search import POSTGRES_DOCUMENT, attachment_text, words_off_the_loop
from models import (
    Attachment,
    LibraryDocument,
    Micropost,
    Page,
    RequestMessage,
    SearchDocument,
    SearchKind,
    ServiceRequest,
    Visibility,
)


async def index_page(page: Page) -> None:
    """The page's entry: its title and body, as readers of its visibility find it."""
    await _index(SearchKind.PAGE, page.id, page.project_id, page.visibility, page.title, page.body)


async def index_micropost(post: Micropost) -> None:
    """The post's entry: its body, as readers of its visibility find it."""
    await _index(SearchKind.MICROPOST, post.id, post.project_id, post.visibility, "", post.body)


async def index_attachment(attachment: Attachment, page: Page) -> None:
    """The file's entry, on its page's project and visibility: its name, version and the
    page's title (:func:`domain.search.attachment_text`)."""
    await _index(
        SearchKind.ATTACHMENT,
        attachment.id,
        page.project_id,
        page.visibility,
        attachment.name,
        attachment_text(attachment.name, attachment.version, page.title),
    )


async def index_request(request: ServiceRequest, answers: str) -> None:
    """The request's entries: its number, title, ``answers`` (as text, domain/forms.py's
    ``answers_text``) and SHARED conversation for whoever sees it; its INTERNAL notes in
    an entry of their own, for staff."""
    title = f"{request.reference} {request.title}"
    messages = await RequestMessage.filter(request_id=request.id).order_by("id")
    shared = [m.body for m in messages if m.visibility is Visibility.SHARED]
    notes = [m.body for m in messages if m.visibility is Visibility.INTERNAL]
    body = "\n\n".join([answers, *shared])
    await _index(SearchKind.REQUEST, request.id, 0, Visibility.SHARED, title, body)
    if notes:
        await _index(
            SearchKind.REQUEST_NOTE, request.id, 0, Visibility.INTERNAL, title, "\n\n".join(notes)
        )


async def index_library_document(document: LibraryDocument, version_text: str) -> None:
    """The library document's entry: its title; its description, tags and the text of its
    current version (``version_text``, empty until extracted) as the body. Who finds it is
    decided when searching (the documents they may read then)."""
    body = "\n\n".join([document.description, " ".join(document.tags), version_text])
    await _index(SearchKind.LIBRARY, document.id, 0, Visibility.SHARED, document.title, body)


async def rewrite(document: SearchDocument) -> None:
    """Store ``document``'s title and body as changed in place (such as by an erasure) and
    make its words again (PostgreSQL's ``tsvector``)."""
    await _index(
        document.kind,
        document.object_id,
        document.project_id,
        document.visibility,
        document.title,
        document.body,
    )


async def compact() -> None:
    """Merge SQLite's full-text index into one segment, so the words of text rewritten or
    deleted (such as an erased person's name) leave its pages too; PostgreSQL: nothing."""
    client = connections.get("default")
    if client.capabilities.dialect == "sqlite":
        await client.execute_query("INSERT INTO search_fts(search_fts) VALUES ('optimize')")


async def forget_attachments(attachment_ids: list[int]) -> None:
    """Older versions: a search finds a file once, at its latest version."""
    if attachment_ids:
        await SearchDocument.filter(
            kind=SearchKind.ATTACHMENT, object_id__in=attachment_ids
        ).delete()


async def _index(
    kind: SearchKind, object_id: int, project_id: int, visibility: str, title: str, body: str
) -> None:
    await SearchDocument.update_or_create(
        kind=kind,
        object_id=object_id,
        defaults={
            "project_id": project_id,
            "visibility": visibility,
            "title": title,
            "body": body,
        },
    )
    client = connections.get("default")
    if client.capabilities.dialect != "sqlite":
        title_words, body_words = await words_off_the_loop(title, body)
        await client.execute_query(
            f"UPDATE search_documents SET document = {POSTGRES_DOCUMENT} "  # noqa: S608
            "WHERE kind = $3 AND object_id = $4",
            [title_words, body_words, kind.value, object_id],
        )
