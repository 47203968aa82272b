"""A download link opens exactly the file it was made for: a link of one kind of file (a
page's attachment, a request's file, a library version, a business document's PDF, a
personal data export) is
refused on every other kind's route, even for the same numeric ID, like a missing file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from actions import business_documents
from app.files import DOWNLOADS
from domain.tokens import DownloadKind, issue_download_token
from graphql_schema.relay import global_id, node_pk
from infra.storage import DirectoryStorage
from models import BusinessDocumentKind, ExportStatus, PersonalDataExport, User
from realtime.bus import EventBus
from tests.conftest import TEST_SESSION, Api, gid
from tests.graphql.test_business_documents import PDF, _fields
from tests.graphql.test_library import certificate, upload
from tests.world import World


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _stored(
    kind: DownloadKind, api: Api, world: World, bus: EventBus
) -> tuple[User, str, str]:
    """A file of ``kind`` that its reader may download: the reader, the file's download
    path (without a token) and its global ID."""

    def bearer(user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {api.token_for(user)}"}

    if kind is DownloadKind.ATTACHMENT:
        response = await api.client.post(
            f"/pages/{gid(world.portal_page)}/attachments?name=a.pdf",
            content=PDF,
            headers=bearer(world.sam),
        )
        file_id = response.json()["data"]["attachment"]["id"]
        return world.sam, f"/attachments/{file_id}", file_id
    if kind is DownloadKind.REQUEST_FILE:
        response = await api.client.post(
            "/requests/attachments?name=r.pdf", content=PDF, headers=bearer(world.max)
        )
        file_id = response.json()["data"]["attachment"]["id"]
        return world.max, f"/request-attachments/{file_id}", file_id
    if kind is DownloadKind.LIBRARY_VERSION:
        document_id = await certificate(api, world)
        response = await upload(api, world.sam, document_id, PDF)
        file_id = response.json()["data"]["version"]["id"]
        return world.sam, f"/library/versions/{file_id}", file_id
    if kind is DownloadKind.PERSONAL_DATA_EXPORT:
        blob = await DirectoryStorage(api.settings.attachments_dir).put(_once(PDF), len(PDF))
        export = await PersonalDataExport.create(
            user_id=world.max.id,
            requested_by_id=world.max.id,
            status=ExportStatus.READY,
            content_key=blob.key,
            size=blob.size,
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        file_id = global_id("PersonalDataExport", export.id)
        return world.max, f"/personal-data/exports/{file_id}", file_id
    bill = await business_documents.create_business_document(
        world.sam,
        bus,
        customer_id=world.acme.id,
        fields=_fields(BusinessDocumentKind.INVOICE, "2026-0900", project_id=world.portal.id),
    )
    path = f"/business-documents/{gid(bill)}/pdf"
    response = await api.client.post(f"{path}?name=b.pdf", content=PDF, headers=bearer(world.sam))
    assert response.status_code == 201, response.text
    return world.sam, path, gid(bill)


@pytest.mark.parametrize("route_kind", list(DownloadKind), ids=lambda kind: kind.value)
async def test_a_link_of_another_kind_of_file_is_refused_like_a_missing_file(
    route_kind: DownloadKind, api: Api, world: World, bus: EventBus, client: httpx.AsyncClient
) -> None:
    reader, path, file_gid = await _stored(route_kind, api, world, bus)
    file_id = node_pk(file_gid, DOWNLOADS[route_kind].type_name)
    settings = api.settings
    for link_kind in DownloadKind:
        token = issue_download_token(settings, reader.id, TEST_SESSION, file_id, kind=link_kind)
        response = await client.get(path, params={"token": token})
        if link_kind is route_kind:
            assert response.status_code == 200, response.text
            assert response.content == PDF
        else:
            assert response.status_code == 404, link_kind
            assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
