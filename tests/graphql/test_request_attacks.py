"""Requests attacked from outside: removed contacts, partial document uploads, answers
naming uploads that were never sent, and repeated timers."""

from __future__ import annotations

from actions import accounts, requests
from graphql_schema.relay import global_id
from models import ExpectedDocument, RequestStatus, ServiceRequest
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.world import World

ADD_PARTICIPANT = """
mutation ($input: AddRequestParticipantInput!) {
  addRequestParticipant(input: $input) { request { participants { handle } } }
}
"""

REPLY = """
mutation ($input: ReplyToRequestInput!) {
  replyToRequest(input: $input) { request { status expectedDocuments { name received } } }
}
"""


async def test_a_removed_contact_is_not_added_as_a_participant(
    api: Api, world: World, bus: EventBus
) -> None:
    await accounts.remove_contact(world.anna, bus, user_id=world.mia.id)
    result = await api(
        ADD_PARTICIPANT,
        {"input": {"requestId": gid(world.acme_request), "userId": gid(world.mia)}},
        as_user=world.max,
    )
    assert result.codes == ["NOT_FOUND"]
    assert result.errors[0]["extensions"]["field"] == "userId"


async def _upload(world: World, name: str) -> str:
    upload = await requests.record_upload(
        world.max,
        customer_id=world.acme.id,
        name=name,
        content_type="application/pdf",
        size=10,
        content_key="1" * 64,
    )
    return global_id("RequestAttachment", upload.id)


async def test_one_of_two_expected_documents_leaves_the_request_waiting(
    api: Api, world: World, bus: EventBus
) -> None:
    # given sam asks for two documents
    await requests.change_request_status(
        world.sam,
        bus,
        request_id=world.acme_request.id,
        status=RequestStatus.NEEDS_INFO,
        expected_documents=["Signed order", "Site plan"],
    )
    request = await ServiceRequest.get(id=world.acme_request.id)
    order, plan = await ExpectedDocument.filter(request_id=request.id).order_by("id")
    # when max sends the first one
    first = await api(
        REPLY,
        {
            "input": {
                "requestId": gid(world.acme_request),
                "attachmentIds": [await _upload(world, "order.pdf")],
                "expectedDocumentId": global_id("ExpectedDocument", order.id),
            }
        },
        as_user=world.max,
    )
    # then it still waits for the other
    assert first.errors == []
    assert first.data["replyToRequest"]["request"]["status"] == "NEEDS_INFO"
    # and the last one moves it on
    last = await api(
        REPLY,
        {
            "input": {
                "requestId": gid(world.acme_request),
                "attachmentIds": [await _upload(world, "plan.pdf")],
                "expectedDocumentId": global_id("ExpectedDocument", plan.id),
            }
        },
        as_user=world.max,
    )
    assert last.data["replyToRequest"]["request"]["status"] == "IN_PROGRESS"
