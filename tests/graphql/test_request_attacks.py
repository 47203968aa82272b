"""Requests attacked from outside: removed contacts, partial document uploads, answers
naming uploads that were never sent, and repeated timers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from actions import accounts, request_types, requests
from actions._common import now
from domain.request_forms import SUPPORT_TICKET
from graphql_schema.relay import global_id
from models import Event, ExpectedDocument, RequestStatus, ServiceRequest
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.graphql.test_dataloaders import count_queries
from tests.world import TICKET_ANSWERS, World

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


QUEUE = """
query ($first: Int!) {
  requests(first: $first, filter: {overdue: false}) {
    edges { node {
      number status nextStep closed allowedTransitions answers
      type { name } customer { slug } requester { handle } assignee { handle }
      participants { handle } expectedDocuments { name received attachments { name } }
      messages { body attachments { name } } history { fromStatus toStatus actor { handle } }
      sla { paused firstResponse { remainingMinutes breached } resolution { breachesAt } }
    } }
  }
}
"""


async def _queue_queries(api: Api, world: World, first: int) -> int:
    with count_queries() as counter:
        result = await api(QUEUE, {"first": first}, as_user=world.olivia)
    assert result.errors == []
    assert len(result.data["requests"]["edges"]) == first
    return len(counter.statements)


async def test_the_queue_costs_as_many_queries_for_five_requests_as_for_one(
    api: Api, world: World, bus: EventBus
) -> None:
    # given five more requests of both customers, with replies and a participant
    for n in range(5):
        user = (world.max, world.gus)[n % 2]
        made = await requests.submit_request(
            user,
            bus,
            type_id=world.support_type.id,
            title=f"Ticket {n}",
            answers=TICKET_ANSWERS,
        )
        await requests.reply_to_request(user, bus, request_id=made.id, body="More detail")
    # when staff of another account team list one, then five
    for_one = await _queue_queries(api, world, 1)
    for_five = await _queue_queries(api, world, 5)
    # then
    assert for_five == for_one


SUBMIT = """
mutation ($input: SubmitRequestInput!) {
  submitRequest(input: $input) { request { number answers } }
}
"""


async def test_an_answer_naming_a_file_never_uploaded_is_refused_and_uses_no_number(
    api: Api, world: World
) -> None:
    # given max's one upload
    real = await _upload(world, "screen.png")
    counts = (await ServiceRequest.all().count(), await Event.all().count())
    ticket = {"typeId": gid(world.support_type), "title": "Reports are empty"}
    # when the answer also names a file that is not one of his uploads
    forged = global_id("RequestAttachment", 999999)
    result = await api(
        SUBMIT,
        {
            "input": {
                **ticket,
                "answers": {**TICKET_ANSWERS, "screenshots": [real, forged], "severity": "x"},
                "attachmentIds": [real],
            }
        },
        as_user=world.max,
    )
    # then both problems are told at once, and nothing is written
    assert set(result.codes) == {"BAD_USER_INPUT"}
    assert sorted(e["extensions"]["field"] for e in result.errors) == ["screenshots", "severity"]
    assert (await ServiceRequest.all().count(), await Event.all().count()) == counts
    # and the next submission takes the next number
    made = await api(
        SUBMIT,
        {
            "input": {
                **ticket,
                "answers": {**TICKET_ANSWERS, "screenshots": [real]},
                "attachmentIds": [real],
            }
        },
        as_user=world.max,
    )
    assert made.errors == []
    assert made.data["submitRequest"]["request"]["number"] == "ACME-2"


CHANGE = """
mutation ($input: ChangeRequestStatusInput!) {
  changeRequestStatus(input: $input) { request { status } }
}
"""


async def test_a_lifecycle_leaving_resolved_does_not_open_a_request_closed_for_good(
    api: Api, world: World, bus: EventBus
) -> None:
    # given a type whose lifecycle lets its requester take a resolved request up again
    lifecycle = [
        {"from": "RECEIVED", "to": "RESOLVED", "by": ["STAFF"]},
        {"from": "RESOLVED", "to": "IN_PROGRESS", "by": ["STAFF", "REQUESTER"]},
    ]
    kind = await request_types.create_request_type(
        world.admin, name="Callback", form=SUPPORT_TICKET, lifecycle=lifecycle, reopen_days=3
    )
    made = await requests.submit_request(
        world.max, bus, type_id=kind.id, title="Call me", answers=TICKET_ANSWERS
    )
    await requests.change_request_status(
        world.admin, bus, request_id=made.id, status=RequestStatus.RESOLVED
    )
    # resolved longer ago than its three days
    await ServiceRequest.filter(id=made.id).update(resolved_at=now() - timedelta(days=4))
    query = "query ($id: ID!) { request(id: $id) { closed allowedTransitions } }"
    seen = await api(query, {"id": gid(made)}, as_user=world.max)
    assert seen.data["request"] == {"closed": True, "allowedTransitions": []}
    # when its requester, or staff, move it on
    for user in (world.max, world.admin):
        moved = await api(
            CHANGE, {"input": {"requestId": gid(made), "status": "IN_PROGRESS"}}, as_user=user
        )
        # then it is closed for good
        assert moved.codes == ["BAD_USER_INPUT"]
        assert moved.errors[0]["extensions"]["allowedStatuses"] == []
    assert (await ServiceRequest.get(id=made.id)).status is RequestStatus.RESOLVED


async def test_concurrent_submissions_take_distinct_numbers_without_gaps(
    world: World, bus: EventBus
) -> None:
    async def submit(n: int) -> str:
        made = await requests.submit_request(
            (world.max, world.anna)[n % 2],
            bus,
            type_id=world.support_type.id,
            title=f"Ticket {n}",
            answers=TICKET_ANSWERS,
        )
        return made.reference

    made = await asyncio.gather(*(submit(n) for n in range(5)))
    assert sorted(made) == [f"ACME-{n}" for n in range(2, 7)]
