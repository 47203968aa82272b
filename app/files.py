"""HTTP endpoints for file contents; GraphQL carries everything else about the files.

Four kinds of file go through here, each a row of :data:`DOWNLOADS` and :data:`UPLOADS`:
a page's attachment, a request's file, a library document's version and a business
document's PDF (app/document_files.py). They share one download path and one upload path.

Upload: ``POST /pages/{pageId}/attachments?name=quote.pdf`` with the file as the request
body and ``Authorization: Bearer <access token>``. Credentials travel only in that header
(never in cookies), so another site cannot make a browser upload on someone's behalf.

Download: the ``downloadUrl`` of an ``Attachment`` in GraphQL, ``GET /attachments/{id}?
token=…``: a bearer link to that one version, valid for five minutes. It acts as the user
it was made for: at download time that user's account and session must still be active and
they must still be allowed to read the page, or the answer is 404. A link names the kind of
file it opens: on another kind's route (even for the same numeric ID) it is a 404 too.

Every upload is bounded (actions/attachments.py): 413 for a file over the size limit
or a quota, 429 with ``Retry-After`` for too many uploads in a minute.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from actions import (
    access_tokens,
    attachments,
    business_documents,
    library,
    personal_data,
    requests,
    security_alerts,
)
from domain.auth import authenticate, session_user
from domain.errors import AppError, NotFound
from domain.scopes import require_scope
from domain.tokens import DownloadKind, decode_download_token
from graphql_schema.errors import error_body
from graphql_schema.relay import global_id, node_pk
from infra.settings import Settings
from infra.storage import BlobStorage
from models import SecurityRule, User

_NOT_QUOTABLE = re.compile(r'[^\x20-\x7e]|["\\%]')

STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "BAD_USER_INPUT": 400,
    "CONFLICT": 409,
    "RATE_LIMITED": 429,
}


def _error(error: AppError, status: int | None = None) -> JSONResponse:
    """``error`` as a GraphQL error body, with the status of its code (or ``status``)."""
    return JSONResponse(error_body(error), status_code=status or STATUS.get(error.code, 500))


Endpoint = Callable[[Request], Awaitable[Response]]
R = TypeVar("R")


class StoredFile(Protocol):
    """What a download streams: the file's name, size in bytes, media type and storage key."""

    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def content_type(self) -> str: ...
    @property
    def content_key(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Pdf:
    name: str
    size: int
    content_key: str
    content_type: str = "application/pdf"


async def _business_document_pdf(viewer: User, document_id: int) -> StoredFile:
    document = await business_documents.for_download(viewer, document_id)
    assert document.pdf_key is not None  # for_download: NOT_FOUND without a PDF
    return _Pdf(
        document.pdf_name or f"{document.number}.pdf", document.pdf_size or 0, document.pdf_key
    )


@dataclass(frozen=True, slots=True)
class DownloadRoute:
    """A kind of file served by ``GET …/{path_param}?token=…``: the path's ID is a global ID
    of ``type_name``, the link a download token of ``token_kind``; ``load`` gives the file
    when the link's user may read it now (NOT_FOUND otherwise); a refused link is a 404
    naming ``noun``."""

    type_name: str
    token_kind: DownloadKind
    path_param: str
    noun: str
    load: Callable[[User, int], Awaitable[StoredFile]]


DOWNLOADS: dict[DownloadKind, DownloadRoute] = {
    route.token_kind: route
    for route in (
        DownloadRoute(
            "Attachment",
            DownloadKind.ATTACHMENT,
            "attachment",
            "attachment",
            attachments.for_download,
        ),
        DownloadRoute(
            "RequestAttachment",
            DownloadKind.REQUEST_FILE,
            "attachment",
            "attachment",
            requests.file_for_download,
        ),
        DownloadRoute(
            "DocumentVersion",
            DownloadKind.LIBRARY_VERSION,
            "version",
            "version",
            library.for_download,
        ),
        DownloadRoute(
            "BusinessDocument",
            DownloadKind.BUSINESS_DOCUMENT_PDF,
            "document",
            "business document",
            _business_document_pdf,
        ),
        DownloadRoute(
            "PersonalDataExport",
            DownloadKind.PERSONAL_DATA_EXPORT,
            "export",
            "export",
            personal_data.for_download,
        ),
    )
}


async def serve_download(request: Request, route: DownloadRoute) -> Response:
    """The file the link in ``?token=`` opens, for the ID in the path: streamed with headers
    that keep a browser from running or sniffing it; 404 (NOT_FOUND) for an expired or
    malformed link, one made for another file or another kind of file, an ended session,
    or a file its user may no longer read."""
    settings: Settings = request.app.state.settings
    storage: BlobStorage = request.app.state.storage
    try:
        file_id = node_pk(request.path_params[route.path_param], route.type_name)
        token = request.query_params.get("token", "")
        claims = decode_download_token(settings, token, route.token_kind)
        if claims is None or claims.file_id != file_id:
            raise NotFound(route.noun)  # an expired or foreign link looks like no file
        # the link ends with its user's session (logout, removal), not only after 5 minutes
        viewer = await session_user(claims.user_id, claims.session_id)
        if viewer is None:
            raise NotFound(route.noun)
        file = await route.load(viewer, file_id)
    except AppError as error:
        return _error(error)
    throttle = getattr(getattr(request.app.state, "graphql", None), "throttle", None)
    await security_alerts.count(
        getattr(throttle, "store", None),
        settings,
        SecurityRule.DOWNLOAD_BURST,
        f"user:{viewer.id}",
        user_id=viewer.id,
        address=request.client.host if request.client else "",
    )
    headers = {
        "Content-Disposition": content_disposition(file.name),
        "Content-Length": str(file.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
    return StreamingResponse(
        storage.read(file.content_key), media_type=file.content_type, headers=headers
    )


def downloader(kind: DownloadKind) -> Endpoint:
    """The endpoint serving the files of ``kind`` (:func:`serve_download`)."""
    return _endpoint(f"download_{kind.name.lower()}", serve_download, DOWNLOADS[kind])


def _endpoint(
    name: str, handler: Callable[[Request, R], Awaitable[Response]], route: R
) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await handler(request, route)

    endpoint.__name__ = name
    return endpoint


@dataclass(frozen=True, slots=True)
class Upload:
    """An authorised upload: who sends it, the ID of the row it goes to (the path's, when
    the route has one), the file (``chunks``), its declared size in bytes when the request
    gives one, and the request's query parameters."""

    user: User
    target_id: int
    storage: BlobStorage
    settings: Settings
    request: Request
    declared_size: int | None

    @property
    def chunks(self) -> AsyncIterator[bytes]:
        return self.request.stream()

    def param(self, name: str) -> str:
        return self.request.query_params.get(name, "")


@dataclass(frozen=True, slots=True)
class UploadRoute:
    """A kind of upload: the access-token ``scope`` it needs; the path parameter holding
    the global ID of the row the file goes to and its type (``target``, if any); whether a
    declared size over
    ``EXTRANET_ATTACHMENT_MAX_BYTES`` is refused before anything else (otherwise the action
    bounds the size after checking rights); ``store`` keeps the file and gives the ``data``
    of the 201 answer."""

    scope: str
    target: tuple[str, str] | None
    refuses_declared_size_first: bool
    store: Callable[[Upload], Awaitable[dict[str, object]]]


def _described(type_name: str, row_id: int, file: StoredFile, **extra: object) -> dict[str, object]:
    """An uploaded file as the 201 answer gives it: its global ID, ``extra`` fields, name,
    media type and size in bytes."""
    return {
        "id": global_id(type_name, row_id),
        **extra,
        "name": file.name,
        "contentType": file.content_type,
        "size": file.size,
    }


async def _store_page_attachment(upload: Upload) -> dict[str, object]:
    attachment = await attachments.attach(
        upload.user,
        upload.storage,
        page_id=upload.target_id,
        name=upload.param("name"),
        chunks=upload.chunks,
        limits=attachments.UploadLimits.from_settings(upload.settings),
        declared_size=upload.declared_size,
    )
    return {
        "attachment": _described(
            "Attachment", attachment.id, attachment, version=attachment.version
        )
    }


async def _store_request_file(upload: Upload) -> dict[str, object]:
    customer = upload.param("customerId")
    file = await requests.upload_for_requests(
        upload.user,
        upload.storage,
        name=upload.param("name"),
        chunks=upload.chunks,
        limits=attachments.UploadLimits.from_settings(upload.settings),
        customer_id=node_pk(customer, "Customer") if customer else None,
        declared_size=upload.declared_size,
    )
    return {"attachment": _described("RequestAttachment", file.id, file)}


async def _store_library_version(upload: Upload) -> dict[str, object]:
    version = await library.add_version(
        upload.user,
        upload.storage,
        document_id=upload.target_id,
        name=upload.param("name"),
        chunks=upload.chunks,
        max_bytes=upload.settings.attachment_max_bytes,
        label=upload.param("label"),
        note=upload.param("note"),
        bus=upload.request.app.state.bus,
    )
    return {"version": _described("DocumentVersion", version.id, version, number=version.number)}


async def _store_business_document_pdf(upload: Upload) -> dict[str, object]:
    document = await business_documents.attach_pdf(
        upload.user,
        upload.storage,
        upload.target_id,
        name=upload.param("name"),
        chunks=upload.chunks,
        declared_size=upload.declared_size,
    )
    return {
        "businessDocument": {
            "id": global_id("BusinessDocument", document.id),
            "pdfName": document.pdf_name,
            "pdfSize": document.pdf_size,
        }
    }


UPLOADS: dict[DownloadKind, UploadRoute] = {
    DownloadKind.ATTACHMENT: UploadRoute(
        "pages:write", ("page", "Page"), True, _store_page_attachment
    ),
    DownloadKind.REQUEST_FILE: UploadRoute("requests:write", None, True, _store_request_file),
    DownloadKind.LIBRARY_VERSION: UploadRoute(
        "documents:write", ("document", "LibraryDocument"), True, _store_library_version
    ),
    # the PDF's own limit (actions/business_documents.py), checked after the caller's rights
    DownloadKind.BUSINESS_DOCUMENT_PDF: UploadRoute(
        "business_documents:write",
        ("document", "BusinessDocument"),
        False,
        _store_business_document_pdf,
    ),
}


async def receive_upload(request: Request, route: UploadRoute) -> Response:
    """The request body stored as a file by ``route``: 201 with the new row; 401 without a
    valid bearer token, 403 for an access token without ``route.scope``, 413 for a file
    over the size limit or a quota, 429 with ``Retry-After`` for too many uploads, otherwise
    the status of the error's code (:func:`_upload_error`)."""
    settings: Settings = request.app.state.settings
    storage: BlobStorage = request.app.state.storage
    try:
        authentication = await authenticate(settings, request.headers.get("authorization"))
        signed_in = authentication.require()
        require_scope(signed_in.scopes, route.scope)  # an access token's
        if signed_in.token is not None:
            client = request.client
            await access_tokens.record_use(signed_in.token, client.host if client else "")
        target_id = (
            node_pk(request.path_params[route.target[0]], route.target[1]) if route.target else 0
        )
        declared = request.headers.get("content-length", "")
        declared_size = int(declared) if declared.isdigit() else None
        max_bytes = settings.attachment_max_bytes
        if route.refuses_declared_size_first and (declared_size or 0) > max_bytes:
            raise attachments.too_large(max_bytes)  # refused before reading it
        upload = Upload(signed_in.user, target_id, storage, settings, request, declared_size)
        data = await route.store(upload)
    except AppError as error:
        return _upload_error(error)
    return JSONResponse({"data": data}, status_code=201)


def uploader(kind: DownloadKind) -> Endpoint:
    """The endpoint storing uploads of ``kind`` (:func:`receive_upload`)."""
    return _endpoint(f"upload_{kind.name.lower()}", receive_upload, UPLOADS[kind])


def _upload_error(error: AppError) -> JSONResponse:
    """413 for a file over the size limit or a quota, 429 with Retry-After for too many
    uploads; otherwise the status of the error's code."""
    extensions = error.extensions
    if "maxBytes" in extensions or "quotaBytes" in extensions:
        return _error(error, 413)
    response = _error(error)
    if isinstance(retry_after := extensions.get("retryAfter"), int):
        response.headers["Retry-After"] = str(retry_after)
    return response


upload = uploader(DownloadKind.ATTACHMENT)
download = downloader(DownloadKind.ATTACHMENT)
upload_for_requests = uploader(DownloadKind.REQUEST_FILE)
download_request_file = downloader(DownloadKind.REQUEST_FILE)
upload_library_version = uploader(DownloadKind.LIBRARY_VERSION)
download_library_version = downloader(DownloadKind.LIBRARY_VERSION)
download_personal_data = downloader(DownloadKind.PERSONAL_DATA_EXPORT)


def content_disposition(name: str) -> str:
    """``attachment`` with the file's name (RFC 6266): an ASCII ``filename`` for old
    clients and the exact UTF-8 name in ``filename*`` (RFC 5987), both cleaned of control
    and bidirectional-control characters."""
    shown = attachments.display_name(name)
    ascii_name = unicodedata.normalize("NFKD", shown).encode("ascii", "ignore").decode()
    fallback = _NOT_QUOTABLE.sub("_", ascii_name).strip()
    stem, dot, extension = fallback.rpartition(".")
    if not (stem if dot else extension).strip("._ "):  # no ASCII name: keep the extension
        fallback = attachments.FALLBACK_NAME + dot + (extension if dot else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(shown, safe='')}"
