"""Requests through the API: submitting a form, numbering, the lifecycle and who may move
it, the moves a request makes by itself, expected documents, reopening and the SLA."""

from __future__ import annotations

from datetime import timedelta

from actions import requests
from actions._common import now
from graphql_schema.relay import global_id
from models import Event, RequestStatus, ServiceRequest
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.world import TICKET_ANSWERS, World

SUBMIT = """
mutation ($input: SubmitRequestInput!) {
  submitRequest(input: $input) {
    request {
      id number title status nextStep answers
      requester { handle } assignee { handle } customer { slug }
      history { fromStatus toStatus }
      sla { paused firstResponse { targetMinutes breached } resolution { targetMinutes } }
    }
  }
}
"""

CHANGE = """
mutation ($input: ChangeRequestStatusInput!) {
  changeRequestStatus(input: $input) {
    request { status nextStep allowedTransitions expectedDocuments { id name received } }
  }
}
"""

REPLY = """
mutation ($input: ReplyToRequestInput!) {
  replyToRequest(input: $input) {
    request { status firstResponseAt expectedDocuments { name received attachments { name } } }
    message { body visibility author { handle } attachments { name } }
  }
}
"""

REQUEST = """
query ($id: ID!) {
  request(id: $id) {
    number status closed allowedTransitions
    messages { body visibility }
    history { fromStatus toStatus reason actor { handle } }
    sla { paused resolution { elapsedMinutes remainingMinutes paused breached } }
  }
}
"""

REOPEN = """
mutation ($input: RequestReasonInput!) {
  reopenRequest(input: $input) { request { status closed } }
}
"""


def _ticket(world: World, **answers: object) -> dict[str, object]:
    return {
        "typeId": gid(world.support_type),
        "title": "Reports are empty",
        "answers": {**TICKET_ANSWERS, **answers},
    }


async def test_an_incomplete_form_answers_every_problem_at_once_and_saves_nothing(
    api: Api, world: World
) -> None:
    # given
    requests_before, events_before = await ServiceRequest.all().count(), await Event.all().count()
    answers = {"severity": "critical", "system": "Other", "description": "short"}
    # when
    result = await api(
        SUBMIT,
        {"input": {"typeId": gid(world.support_type), "title": "Down", "answers": answers}},
        as_user=world.max,
    )
    # then: one error per field, each naming it
    assert result.data == {"submitRequest": None}
    assert set(result.codes) == {"BAD_USER_INPUT"}
    fields = [e["extensions"]["field"] for e in result.errors]
    assert sorted(fields) == ["description", "impactedUsers", "otherSystem"]
    assert await ServiceRequest.all().count() == requests_before
    assert await Event.all().count() == events_before


async def test_a_request_is_numbered_per_customer_and_routed_to_the_default_assignee(
    api: Api, world: World
) -> None:
    # when Acme's and Globex's contacts submit
    acme = await api(SUBMIT, {"input": _ticket(world)}, as_user=world.anna)
    globex = await api(SUBMIT, {"input": _ticket(world)}, as_user=world.gina)
    # then each customer counts on from its own last number
    assert acme.errors == []
    assert globex.errors == []
    made = acme.data["submitRequest"]["request"]
    assert made["number"] == "ACME-2"
    assert globex.data["submitRequest"]["request"]["number"] == "GLOBEX-2"
    assert made["status"] == "RECEIVED"
    assert made["requester"] == {"handle": "anna"}
    assert made["assignee"] == {"handle": "sam"}
    assert made["history"] == [{"fromStatus": None, "toStatus": "RECEIVED"}]
    assert made["answers"] == TICKET_ANSWERS
    assert made["sla"] == {
        "paused": False,
        "firstResponse": {"targetMinutes": 240, "breached": False},
        "resolution": {"targetMinutes": 2400},
    }


async def test_a_type_not_offered_to_the_customer_is_not_found(api: Api, world: World) -> None:
    result = await api(
        SUBMIT,
        {"input": {**_ticket(world), "typeId": gid(world.globex_type)}},
        as_user=world.max,
    )
    assert result.codes == ["NOT_FOUND"]


async def test_the_lifecycle_says_who_may_make_each_transition(api: Api, world: World) -> None:
    request_id = gid(world.acme_request)
    # the requester may not start the work, and is told what they may do
    refused = await api(
        CHANGE, {"input": {"requestId": request_id, "status": "IN_PROGRESS"}}, as_user=world.max
    )
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["allowedStatuses"] == ["WITHDRAWN"]
    assert "withdrawn" in refused.errors[0]["message"]
    # staff who handle it may, and set the next step the customer sees
    started = await api(
        CHANGE,
        {"input": {"requestId": request_id, "status": "IN_PROGRESS", "nextStep": "We test it"}},
        as_user=world.sam,
    )
    assert started.errors == []
    request = started.data["changeRequestStatus"]["request"]
    assert (request["status"], request["nextStep"]) == ("IN_PROGRESS", "We test it")
    assert "RESOLVED" in request["allowedTransitions"]
    # staff who do not handle it (on no account team, not assigned) may not
    stan = await api(
        CHANGE, {"input": {"requestId": request_id, "status": "RESOLVED"}}, as_user=world.stan
    )
    assert stan.codes == ["FORBIDDEN"]
    # the lead contact may withdraw it
    withdrawn = await api(
        CHANGE, {"input": {"requestId": request_id, "status": "WITHDRAWN"}}, as_user=world.anna
    )
    assert withdrawn.data["changeRequestStatus"]["request"]["status"] == "WITHDRAWN"
    seen = await api(REQUEST, {"id": request_id}, as_user=world.max)
    assert seen.data["request"]["closed"] is True
    assert seen.data["request"]["allowedTransitions"] == []


async def test_a_customer_reply_to_needs_info_moves_the_request_back_to_in_progress(
    api: Api, world: World
) -> None:
    request_id = gid(world.acme_request)
    asked = await api(
        CHANGE,
        {"input": {"requestId": request_id, "status": "NEEDS_INFO", "reason": "Which site?"}},
        as_user=world.sam,
    )
    assert asked.errors == []
    paused = await api(REQUEST, {"id": request_id}, as_user=world.max)
    assert paused.data["request"]["sla"]["paused"] is True
    assert paused.data["request"]["sla"]["resolution"]["paused"] is True
    # when the requester answers
    replied = await api(
        REPLY, {"input": {"requestId": request_id, "body": "Hamburg"}}, as_user=world.max
    )
    # then
    assert replied.errors == []
    assert replied.data["replyToRequest"]["request"]["status"] == "IN_PROGRESS"
    history = (await api(REQUEST, {"id": request_id}, as_user=world.max)).data["request"]
    assert [h["toStatus"] for h in history["history"]] == ["RECEIVED", "NEEDS_INFO", "IN_PROGRESS"]
    assert history["history"][-1]["actor"] == {"handle": "max"}
    assert history["sla"]["paused"] is False


async def test_the_last_expected_document_moves_the_request_on_by_itself(
    api: Api, world: World
) -> None:
    request_id = gid(world.acme_request)
    asked = await api(
        CHANGE,
        {
            "input": {
                "requestId": request_id,
                "status": "NEEDS_INFO",
                "expectedDocuments": ["Signed order"],
            }
        },
        as_user=world.sam,
    )
    [document] = asked.data["changeRequestStatus"]["request"]["expectedDocuments"]
    assert document["received"] is False
    upload = await requests.record_upload(
        world.max,
        customer_id=world.acme.id,
        name="order.pdf",
        content_type="application/pdf",
        size=10,
        content_key="1" * 64,
    )
    # when max sends the file for it
    sent = await api(
        REPLY,
        {
            "input": {
                "requestId": request_id,
                "attachmentIds": [global_id("RequestAttachment", upload.id)],
                "expectedDocumentId": document["id"],
            }
        },
        as_user=world.max,
    )
    # then
    assert sent.errors == []
    request = sent.data["replyToRequest"]["request"]
    assert request["status"] == "IN_PROGRESS"
    assert request["expectedDocuments"] == [
        {"name": "Signed order", "received": True, "attachments": [{"name": "order.pdf"}]}
    ]


async def test_the_first_shared_staff_reply_is_the_first_response(api: Api, world: World) -> None:
    request_id = gid(world.acme_request)
    note = await api(
        REPLY,
        {"input": {"requestId": request_id, "body": "Check logs", "visibility": "INTERNAL"}},
        as_user=world.sam,
    )
    assert note.data["replyToRequest"]["request"]["firstResponseAt"] is None
    answer = await api(
        REPLY, {"input": {"requestId": request_id, "body": "Looking"}}, as_user=world.sam
    )
    assert answer.data["replyToRequest"]["request"]["firstResponseAt"] is not None
    contact_note = await api(
        REPLY,
        {"input": {"requestId": request_id, "body": "Psst", "visibility": "INTERNAL"}},
        as_user=world.max,
    )
    assert contact_note.codes == ["FORBIDDEN"]


async def test_a_resolved_request_reopens_within_its_window_then_is_closed_for_good(
    api: Api, world: World, bus: EventBus
) -> None:
    for status in (RequestStatus.IN_PROGRESS, RequestStatus.RESOLVED):
        await requests.change_request_status(
            world.sam, bus, request_id=world.acme_request.id, status=status
        )
    request_id = gid(world.acme_request)
    # the lead contact is not its requester
    assert (await api(REOPEN, {"input": {"requestId": request_id}}, as_user=world.anna)).codes == [
        "FORBIDDEN"
    ]
    reopened = await api(REOPEN, {"input": {"requestId": request_id}}, as_user=world.max)
    assert reopened.data["reopenRequest"]["request"] == {"status": "IN_PROGRESS", "closed": False}
    # resolved again, longer ago than the type's 14 days
    await requests.change_request_status(
        world.sam, bus, request_id=world.acme_request.id, status=RequestStatus.RESOLVED
    )
    await ServiceRequest.filter(id=world.acme_request.id).update(
        resolved_at=now() - timedelta(days=15)
    )
    late = await api(REOPEN, {"input": {"requestId": request_id}}, as_user=world.max)
    assert late.codes == ["BAD_USER_INPUT"]
    assert "closed for good" in late.errors[0]["message"]
    seen = await api(REQUEST, {"id": request_id}, as_user=world.max)
    assert seen.data["request"]["closed"] is True


async def test_a_contact_uploads_a_file_and_sends_it_with_a_reply(api: Api, world: World) -> None:
    # given max uploads a file for a request
    response = await api.client.post(
        "/requests/attachments?name=plan.pdf",
        content=b"%PDF-1.4 the plan",
        headers={"Authorization": f"Bearer {api.token_for(world.max)}"},
    )
    assert response.status_code == 201
    attachment = response.json()["data"]["attachment"]
    assert (attachment["name"], attachment["contentType"]) == ("plan.pdf", "application/pdf")
    # another customer's contact cannot send it
    foreign = await api(
        REPLY,
        {"input": {"requestId": gid(world.globex_request), "attachmentIds": [attachment["id"]]}},
        as_user=world.gina,
    )
    assert foreign.codes == ["NOT_FOUND"]
    # when max sends it
    sent = await api(
        REPLY,
        {"input": {"requestId": gid(world.acme_request), "attachmentIds": [attachment["id"]]}},
        as_user=world.max,
    )
    # then
    assert sent.data["replyToRequest"]["message"]["attachments"] == [{"name": "plan.pdf"}]
    # and whoever sees the request downloads it
    link = await api(
        "query ($id: ID!) { request(id: $id) { messages { attachments { downloadUrl } } } }",
        {"id": gid(world.acme_request)},
        as_user=world.anna,
    )
    [message] = link.data["request"]["messages"]
    url = message["attachments"][0]["downloadUrl"]
    downloaded = await api.client.get(url)
    assert (downloaded.status_code, downloaded.content) == (200, b"%PDF-1.4 the plan")
    # a link made for one file opens no other, and no page attachment
    forged = url.replace(attachment["id"], global_id("RequestAttachment", 999999))
    assert (await api.client.get(forged)).status_code == 404
    assert (
        await api.client.get(url.replace("/request-attachments/", "/attachments/"))
    ).status_code == 404
