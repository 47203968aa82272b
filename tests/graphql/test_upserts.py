"""Sync by external ID: a CRM provisions a customer, its projects and contacts in one call
each; the same sync again changes nothing; two at once make one object."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.db import is_postgres
from infra.settings import Settings
from models import (
    AccountTeamMembership,
    Customer,
    ExternalId,
    Invitation,
    Project,
    ProjectMembership,
    User,
)
from tests.conftest import Api, gid
from tests.graphql.test_access_tokens import service_token
from tests.graphql.test_tenant_isolation import row_counts
from tests.mailed import mailed_token
from tests.world import World

UPSERT_CUSTOMER = """
mutation Customer($input: UpsertCustomerInput!) {
  upsertCustomer(input: $input) { created customer { id name slug } }
}
"""
UPSERT_PROJECT = """
mutation Project($input: UpsertProjectInput!) {
  upsertProject(input: $input) { created project { id name } }
}
"""
UPSERT_CONTACT = """
mutation Contact($input: UpsertContactInput!) {
  upsertContact(input: $input) { created invited user { id name role } }
}
"""
ACCEPT = """
mutation Accept($token: String!) {
  acceptInvitation(input: {token: $token, password: "a long and good password 42"}) {
    user { name }
  }
}
"""

CUSTOMER = {
    "source": "crm",
    "externalId": "ACC-1001",
    "name": "Initech",
    "accountTeamEmails": ["sam@provider.example"],
}
PROJECT = {
    "source": "crm",
    "externalId": "OPP-77",
    "customerExternalId": "ACC-1001",
    "name": "Initech intranet",
    "budget": "25000",
}
CONTACT = {
    "source": "crm",
    "externalId": "CON-5",
    "customerExternalId": "ACC-1001",
    "email": "peter@initech.example",
    "name": "Peter Gibbons",
    "role": "CUSTOMER_ADMIN",
    "projectExternalIds": ["OPP-77"],
}


def _error(result: Any) -> dict[str, Any]:
    assert result.errors, result.body
    return dict(result.errors[0]["extensions"])


async def _sync(api: Api, token: str) -> list[bool]:
    """One run of the CRM's sync: the customer, its project, its lead contact."""
    created = []
    for document, values, field in (
        (UPSERT_CUSTOMER, CUSTOMER, "upsertCustomer"),
        (UPSERT_PROJECT, PROJECT, "upsertProject"),
        (UPSERT_CONTACT, CONTACT, "upsertContact"),
    ):
        result = await api(document, {"input": values}, token=token)
        assert result.errors == [], result.errors
        created.append(result.data[field]["created"])
    return created


async def test_a_crm_provisions_a_customer_and_the_same_sync_again_changes_nothing(
    api: Api, world: World
) -> None:
    # given the CRM's service account (provider-wide, an administrator's role)
    token, _ = await service_token(api, world, ["customers:write", "projects:write"], role="ADMIN")
    # when it syncs a new customer
    assert await _sync(api, token) == [True, True, True]
    # then the customer has its account team, project and lead contact (invited)
    customer = await Customer.get(name="Initech")
    team = await AccountTeamMembership.filter(customer_id=customer.id)
    assert [m.user_id for m in team] == [world.sam.id]
    project = await Project.get(customer_id=customer.id)
    peter = await User.get(email="peter@initech.example")
    assert peter.password_hash is None
    assert peter.customer_id == customer.id
    assert await ProjectMembership.exists(project_id=project.id, user_id=peter.id)
    assert await Invitation.filter(user_id=peter.id).count() == 1
    # and running the same sync again changes nothing
    before = await row_counts()
    assert await _sync(api, token) == [False, False, False]
    assert await row_counts() == before


async def test_a_new_contact_chooses_a_password_with_the_invitation_mailed_once(
    api: Api, world: World
) -> None:
    token, _ = await service_token(api, world, ["customers:write"], role="ADMIN")
    await api(UPSERT_CUSTOMER, {"input": CUSTOMER}, token=token)
    contact = {k: v for k, v in CONTACT.items() if k != "projectExternalIds"}
    made = await api(UPSERT_CONTACT, {"input": contact}, token=token)
    assert made.data["upsertContact"]["invited"] is True
    again = await api(UPSERT_CONTACT, {"input": contact}, token=token)
    assert again.data["upsertContact"]["invited"] is False
    accepted = await api(ACCEPT, {"token": await mailed_token("peter@initech.example")})
    assert accepted.errors == [], accepted.errors
    assert (await User.get(email="peter@initech.example")).password_hash is not None


async def test_an_update_by_external_id_changes_the_object(api: Api, world: World) -> None:
    token, _ = await service_token(api, world, ["customers:write"], role="ADMIN")
    first = await api(UPSERT_CUSTOMER, {"input": CUSTOMER}, token=token)
    renamed = await api(
        UPSERT_CUSTOMER, {"input": {**CUSTOMER, "name": "Initech Corp"}}, token=token
    )
    assert renamed.data["upsertCustomer"]["created"] is False
    assert (
        renamed.data["upsertCustomer"]["customer"]["id"]
        == first.data["upsertCustomer"]["customer"]["id"]
    )
    assert await Customer.filter(name="Initech Corp").count() == 1


async def test_people_and_tokens_without_the_right_cannot_sync(api: Api, world: World) -> None:
    # a person who is not an administrator (even on the account team)
    by_sam = await api(
        UPSERT_PROJECT,
        {"input": {**PROJECT, "customerId": gid(world.acme), "customerExternalId": None}},
        as_user=world.sam,
    )
    assert _error(by_sam)["code"] == "FORBIDDEN"
    # a token without the write scope
    reader, _ = await service_token(api, world, ["customers:read"], role="ADMIN")
    refused = await api(UPSERT_CUSTOMER, {"input": CUSTOMER}, token=reader)
    assert _error(refused) == {
        **_error(refused),
        "code": "FORBIDDEN",
        "missingScope": "customers:write",
    }
    # a staff-role service account may not add customers (as staff may not)
    staff, _ = await service_token(api, world, ["customers:write"], role="STAFF")
    assert _error(await api(UPSERT_CUSTOMER, {"input": CUSTOMER}, token=staff))["code"] == (
        "FORBIDDEN"
    )
    assert await Customer.filter(name="Initech").count() == 0


async def test_a_customer_confined_service_account_syncs_contacts_of_its_customer_only(
    api: Api, world: World
) -> None:
    token, _ = await service_token(
        api, world, ["customers:write"], role="CUSTOMER_ADMIN", customer=world.acme
    )
    contact = {
        "source": "hr",
        "externalId": "E-1",
        "email": "nina@acme.example",
        "name": "Nina",
    }
    own = await api(
        UPSERT_CONTACT, {"input": {**contact, "customerId": gid(world.acme)}}, token=token
    )
    assert own.errors == []
    assert own.data["upsertContact"]["created"] is True
    other = await api(
        UPSERT_CONTACT,
        {"input": {**contact, "externalId": "E-2", "customerId": gid(world.globex)}},
        token=token,
    )
    assert other.data is None or other.data["upsertContact"] is None
    assert _error(other)["code"] == "NOT_FOUND"
    # nor may it create or change customers or projects
    customer = await api(UPSERT_CUSTOMER, {"input": CUSTOMER}, token=token)
    assert _error(customer)["code"] == "FORBIDDEN"


async def test_bad_input_is_refused_with_nothing_written(api: Api, world: World) -> None:
    before = await row_counts()
    for values in (
        {**CUSTOMER, "source": "has space"},
        {**CUSTOMER, "externalId": " "},
        {**CUSTOMER, "accountTeamEmails": ["nobody@provider.example"]},
    ):
        result = await api(UPSERT_CUSTOMER, {"input": values}, as_user=world.admin)
        assert _error(result)["code"] == "BAD_USER_INPUT"
    project = await api(
        UPSERT_PROJECT, {"input": {**PROJECT, "customerExternalId": "NOPE"}}, as_user=world.admin
    )
    assert _error(project)["code"] == "NOT_FOUND"
    assert await row_counts() == before


async def test_two_upserts_of_the_same_external_id_at_once_make_one_object(
    api: Api, world: World, settings: Settings
) -> None:
    if not is_postgres(settings.database_url):
        pytest.skip("SQLite runs one writer at a time: the race is PostgreSQL's")
    # when two syncs send the same new customer at the same moment
    results = await asyncio.gather(
        *(api(UPSERT_CUSTOMER, {"input": CUSTOMER}, as_user=world.admin) for _ in range(2))
    )
    # then one created it, the other found it
    assert [r.errors for r in results] == [[], []]
    assert sorted(r.data["upsertCustomer"]["created"] for r in results) == [False, True]
    assert await Customer.filter(name="Initech").count() == 1
    assert await ExternalId.filter(external_id="ACC-1001").count() == 1
