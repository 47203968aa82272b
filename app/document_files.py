"""HTTP endpoints for a business document's PDF; GraphQL carries everything else.

Upload: ``POST /business-documents/{documentId}/pdf?name=2026-0042.pdf`` with the PDF as
the request body and ``Authorization: Bearer <token>`` (an access token with
``business_documents:write``: the customer's account team, administrators and the ERP's
service account). 201 with the document's ``id``, ``pdfName`` and ``pdfSize``; 413 over
the size limit; 400 for a file that is not a PDF. The PDF is a file, not a GraphQL
argument: an operation is limited to a few kilobytes, and the body is streamed to the
content-addressed storage, counted as it arrives.

Download: the ``pdfUrl`` of a ``BusinessDocument``, ``GET /business-documents/{id}/pdf?
token=…``: a link for one reader, valid five minutes, while their session lasts and they
may still see the document (checked at download time); otherwise 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from actions import access_tokens, business_documents
from app.files import _error, _upload_error, content_disposition
from domain.auth import authenticate, session_user
from domain.errors import AppError, NotFound
from domain.scopes import require_scope
from domain.tokens import decode_download_token
from graphql_schema.relay import global_id, node_pk
from infra.settings import Settings
from infra.storage import BlobStorage


async def upload_pdf(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    storage: BlobStorage = request.app.state.storage
    try:
        authentication = await authenticate(settings, request.headers.get("authorization"))
        signed_in = authentication.require()
        require_scope(signed_in.scopes, "business_documents:write")
        if signed_in.token is not None:
            client = request.client
            await access_tokens.record_use(signed_in.token, client.host if client else "")
        declared = request.headers.get("content-length", "")
        document = await business_documents.attach_pdf(
            signed_in.user,
            storage,
            node_pk(request.path_params["document"], "BusinessDocument"),
            name=request.query_params.get("name", ""),
            chunks=request.stream(),
            declared_size=int(declared) if declared.isdigit() else None,
        )
    except AppError as error:
        return _upload_error(error)
    body = {
        "data": {
            "businessDocument": {
                "id": global_id("BusinessDocument", document.id),
                "pdfName": document.pdf_name,
                "pdfSize": document.pdf_size,
            }
        }
    }
    return JSONResponse(body, status_code=201)


async def download_pdf(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    storage: BlobStorage = request.app.state.storage
    try:
        document_id = node_pk(request.path_params["document"], "BusinessDocument")
        claims = decode_download_token(settings, request.query_params.get("token", ""))
        if claims is None or claims.attachment_id != document_id:
            raise NotFound("business document")  # an expired or foreign link: no file
        viewer = await session_user(claims.user_id, claims.session_id)
        if viewer is None:
            raise NotFound("business document")
        document = await business_documents.for_download(viewer, document_id)
    except AppError as error:
        return _error(error)
    assert document.pdf_key is not None
    headers = {
        "Content-Disposition": content_disposition(document.pdf_name or f"{document.number}.pdf"),
        "Content-Length": str(document.pdf_size or 0),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
    return StreamingResponse(
        storage.read(document.pdf_key), media_type="application/pdf", headers=headers
    )
