"""Download links: the ``downloadUrl`` and ``pdfUrl`` fields of the files served over HTTP
(app/files.py)."""

from __future__ import annotations

from domain.tokens import DownloadKind, issue_download_token
from graphql_schema.context import Info


def download_link(info: Info, path: str, kind: DownloadKind, file_id: int) -> str:
    """``path?token=…``: a link for the viewer to the file ``file_id`` of ``kind`` (its route
    is ``path``), valid for five minutes while their session lasts."""
    viewer = info.context.require_viewer()
    session_id = info.context.session_id or ""
    token = issue_download_token(info.context.settings, viewer.id, session_id, file_id, kind=kind)
    return f"{path}?token={token}"
