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

from app.files import downloader, uploader
from domain.tokens import DownloadKind

upload_pdf = uploader(DownloadKind.BUSINESS_DOCUMENT_PDF)
download_pdf = downloader(DownloadKind.BUSINESS_DOCUMENT_PDF)
