"""HTTP endpoints for attachment contents; GraphQL carries everything else about them.

Upload: ``POST /pages/{pageId}/attachments?name=quote.pdf`` with the file as the request
body and ``Authorization: Bearer <access token>``. Credentials travel only in that header
(never in cookies), so another site cannot make a browser upload on someone's behalf.

Download: the ``downloadUrl`` of an ``Attachment`` in GraphQL, ``GET /attachments/{id}?
token=…``: a bearer link to that one version, valid for five minutes. It acts as the user
it was made for: at download time that user's account and session must still be active and
they must still be allowed to read the page, or the answer is 404.

Every upload is bounded (actions/attachments.py): 413 for a file over the size limit
or a quota, 429 with ``Retry-After`` for too many uploads in a minute.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from actions import access_tokens, attachments, library, requests
from domain.auth import authenticate, session_user
from domain.errors import AppError, NotFound
from domain.scopes import require_scope
from domain.tokens import decode_download_token, decode_request_file_token
from graphql_schema.errors import error_body
from graphql_schema.relay import global_id, node_pk
from infra.settings import Settings
from infra.storage import BlobStorage

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


async def upload(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    storage: BlobStorage = request.app.state.storage
    try:
        authentication = await authenticate(settings, request.headers.get("authorization"))
        signed_in = authentication.require()
        require_scope(signed_in.scopes, "pages:write")  # an access token's
        if signed_in.token is not None:
            client = request.client
            await access_tokens.record_use(signed_in.token, client.host if client else "")
        viewer = signed_in.user
        page_id = node_pk(request.path_params["page"], "Page")
        declared = request.headers.get("content-length", "")
        limits = attachments.UploadLimits.from_settings(settings)
        if declared.isdigit() and int(declared) > limits.max_bytes:
            raise attachments.too_large(limits.max_bytes)  # refused before reading it
        attachment = await attachments.attach(
            viewer,
            storage,
            page_id=page_id,
            name=request.query_params.get("name", ""),
            chunks=request.stream(),
            limits=limits,
            declared_size=int(declared) if declared.isdigit() else None,
        )
    except AppError as error:
        return _upload_error(error)
    body = {
        "data": {
            "attachment": {
                "id": global_id("Attachment", attachment.id),
                "name": attachment.name,
                "version": attachment.version,
                "contentType": attachment.content_type,
                "size": attachment.size,
            }
        }
    }
    return JSONResponse(body, status_code=201)


async def upload_for_requests(request: Request) -> Response:
    """``POST /requests/attachments?name=order.pdf`` (staff add ``&customerId=…``): a file
    for a request of the caller's customer, answered like a page's upload (201, the
    ``RequestAttachment``'s ``id``); its ID then goes into ``submitRequest`` or
    ``replyToRequest`` as one of their ``attachmentIds``."""
    settings: Settings = request.app.state.settings
    storage: BlobStorage = request.app.state.storage
    try:
        authentication = await authenticate(settings, request.headers.get("authorization"))
        signed_in = authentication.require()
        require_scope(signed_in.scopes, "requests:write")  # an access token's
        viewer = signed_in.user
        customer = request.query_params.get("customerId")
        declared = request.headers.get("content-length", "")
        limits = attachments.UploadLimits.from_settings(settings)
        if declared.isdigit() and int(declared) > limits.max_bytes:
            raise attachments.too_large(limits.max_bytes)  # refused before reading it
        upload = await requests.upload_for_requests(
            viewer,
            storage,
            name=request.query_params.get("name", ""),
            chunks=request.stream(),
            limits=limits,
            customer_id=node_pk(customer, "Customer") if customer else None,
            declared_size=int(declared) if declared.isdigit() else None,
        )
    except AppError as error:
        return _upload_error(error)
    body = {
        "data": {
            "attachment": {
                "id": global_id("RequestAttachment", upload.id),
                "name": upload.name,
                "contentType": upload.content_type,
                "size": upload.size,
            }
        }
    }
    return JSONResponse(body, status_code=201)


async def upload_library_version(request: Request) -> Response:
    """``POST /library/documents/{documentId}/versions?name=cert.pdf&label=2026&note=…``:
    the file (the request body) as the document's next version, answered 201 with the
    ``DocumentVersion``'s ``id`` and ``number``; refused as a page's upload is."""
    settings: Settings = request.app.state.settings
    storage: BlobStorage = request.app.state.storage
    try:
        authentication = await authenticate(settings, request.headers.get("authorization"))
        signed_in = authentication.require()
        require_scope(signed_in.scopes, "documents:write")
        document_id = node_pk(request.path_params["document"], "LibraryDocument")
        declared = request.headers.get("content-length", "")
        max_bytes = settings.attachment_max_bytes
        if declared.isdigit() and int(declared) > max_bytes:
            raise attachments.too_large(max_bytes)  # refused before reading it
        version = await library.add_version(
            signed_in.user,
            storage,
            document_id=document_id,
            name=request.query_params.get("name", ""),
            chunks=request.stream(),
            max_bytes=max_bytes,
            label=request.query_params.get("label", ""),
            note=request.query_params.get("note", ""),
        )
    except AppError as error:
        return _upload_error(error)
    body = {
        "data": {
            "version": {
                "id": global_id("DocumentVersion", version.id),
                "number": version.number,
                "name": version.name,
                "contentType": version.content_type,
                "size": version.size,
            }
        }
    }
    return JSONResponse(body, status_code=201)


async def download_library_version(request: Request) -> Response:
    """``GET /library/versions/{versionId}?token=…`` (a version's ``downloadUrl``): its
    file, logged as a download of that version by the link's user; 404 as an
    attachment's."""
    settings: Settings = request.app.state.settings
    storage: BlobStorage = request.app.state.storage
    try:
        version_id = node_pk(request.path_params["version"], "DocumentVersion")
        claims = decode_download_token(settings, request.query_params.get("token", ""))
        if claims is None or claims.attachment_id != version_id:
            raise NotFound("version")
        viewer = await session_user(claims.user_id, claims.session_id)
        if viewer is None:
            raise NotFound("version")
        version = await library.for_download(viewer, version_id)
    except AppError as error:
        return _error(error)
    headers = {
        "Content-Disposition": content_disposition(version.name),
        "Content-Length": str(version.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
    return StreamingResponse(
        storage.read(version.content_key), media_type=version.content_type, headers=headers
    )


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


async def download(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    storage: BlobStorage = request.app.state.storage
    try:
        attachment_id = node_pk(request.path_params["attachment"], "Attachment")
        claims = decode_download_token(settings, request.query_params.get("token", ""))
        if claims is None or claims.attachment_id != attachment_id:
            raise NotFound("attachment")  # an expired or foreign link looks like no file
        # the link ends with its user's session (logout, removal), not only after 5 minutes
        viewer = await session_user(claims.user_id, claims.session_id)
        if viewer is None:
            raise NotFound("attachment")
        attachment = await attachments.for_download(viewer, attachment_id)
    except AppError as error:
        return _error(error)
    headers = {
        "Content-Disposition": content_disposition(attachment.name),
        "Content-Length": str(attachment.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
    return StreamingResponse(
        storage.read(attachment.content_key), media_type=attachment.content_type, headers=headers
    )


async def download_request_file(request: Request) -> Response:
    """``GET /request-attachments/{id}?token=…``: a request's file, by the ``downloadUrl``
    of a ``RequestAttachment`` (five minutes, its user's session, their rights now)."""
    settings: Settings = request.app.state.settings
    storage: BlobStorage = request.app.state.storage
    try:
        file_id = node_pk(request.path_params["attachment"], "RequestAttachment")
        claims = decode_request_file_token(settings, request.query_params.get("token", ""))
        if claims is None or claims.attachment_id != file_id:
            raise NotFound("attachment")
        viewer = await session_user(claims.user_id, claims.session_id)
        if viewer is None:
            raise NotFound("attachment")
        upload = await requests.file_for_download(viewer, file_id)
    except AppError as error:
        return _error(error)
    headers = {
        "Content-Disposition": content_disposition(upload.name),
        "Content-Length": str(upload.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
    return StreamingResponse(
        storage.read(upload.content_key), media_type=upload.content_type, headers=headers
    )


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
