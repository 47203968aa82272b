"""Invitations tell nothing about accounts outside the inviter's customer and never take
one: an invitation is a pending row that becomes an account only when accepted, never for
an address that has an account already; lead contacts invite addresses of their own email
domains only; a new contact's handle does not depend on other customers' handles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from actions import accounts
from actions._common import now
from domain.passwords import hash_password
from domain.tokens import hash_opaque_token
from models import AccountTeamMembership, AuditEntry, Invitation, Role, User
from tests.conftest import Api, gid
from tests.mailed import invited_token
from tests.world import PASSWORD, World

INVITE = """
mutation ($customer: ID!, $email: String!) {
  inviteContact(input: {customerId: $customer, email: $email, name: "New Person"}) {
    invitation { email name role } invitationToken
  }
}
"""
ACCEPT = """
mutation ($token: String!, $password: String!) {
  acceptInvitation(input: {token: $token, password: $password}) { user { email handle } }
}
"""
LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { user { email customer { slug } } } }"""
DOMAINS = """mutation ($customer: ID!, $domains: [String!]!) {
  setCustomerEmailDomains(input: {customerId: $customer, domains: $domains}) {
    customer { emailDomains } } }"""
NEW_PASSWORD = "another long passphrase 42"


def _shape(result: Any) -> Any:
    """The answer with the address and the token left out: what must not vary."""
    if result.errors:
        return (result.codes, result.errors[0]["message"], result.data)
    payload = dict(result.data["inviteContact"])
    assert payload.pop("invitationToken") is None  # it is mailed to the invitee
    return {**payload, "invitation": {**payload["invitation"], "email": "…"}}


async def _invite(api: Api, world: World, inviter: User, email: str, customer: Any = None) -> Any:
    variables = {"customer": gid(customer or world.acme), "email": email}
    return await api(INVITE, variables, as_user=inviter)


async def _accounts() -> list[tuple[Any, ...]]:
    return [
        tuple(row)
        for row in await User.all()
        .order_by("id")
        .values_list("id", "email", "customer_id", "password_hash", "name", "handle", "is_active")
    ]


async def test_an_address_with_an_account_elsewhere_is_invited_like_a_fresh_one(
    api: Api, world: World
) -> None:
    # given a Globex contact whose address is of Acme's domain, and a fresh address beside it
    await accounts.create_user(
        email="consultant@acme.example",
        name="Consultant",
        role=Role.CUSTOMER_MEMBER,
        password=PASSWORD,
        customer=world.globex,
    )
    before = await _accounts()
    # when Acme's lead contact invites both
    taken = await _invite(api, world, world.anna, "consultant@acme.example")
    fresh = await _invite(api, world, world.anna, "fresh@acme.example")
    # then the answers are alike, and no account was made or changed
    assert taken.errors == fresh.errors == []
    assert _shape(taken) == _shape(fresh)
    assert await _accounts() == before
    # and accepting cannot give anybody the existing account: it answers like a bad token
    used = await api(
        ACCEPT,
        {"token": await invited_token(taken), "password": NEW_PASSWORD},
    )
    unknown = await api(ACCEPT, {"token": "no-such-token", "password": NEW_PASSWORD})
    assert used.body == unknown.body
    assert used.codes == ["BAD_USER_INPUT"]
    assert await _accounts() == before
    login = await api(LOGIN, {"email": "consultant@acme.example", "password": PASSWORD})
    assert login.data["login"]["user"]["customer"] == {"slug": "globex"}
    # while the fresh address becomes an Acme contact
    joined = await api(
        ACCEPT,
        {"token": await invited_token(fresh), "password": NEW_PASSWORD},
    )
    assert joined.data["acceptInvitation"]["user"]["email"] == "fresh@acme.example"


async def test_other_customers_and_staff_addresses_answer_like_any_foreign_address(
    api: Api, world: World
) -> None:
    before = await _accounts()
    # when Acme's lead contact invites Gina of Globex, a staff member, and unused addresses
    answers = {
        email: await _invite(api, world, world.anna, email)
        for email in (
            "gina@globex.example",
            "sam@provider.example",
            "new.hire@globex.example",
            "nobody@provider.example",
        )
    }
    # then every answer is the same refusal, naming only Acme's own domains
    shapes = {email: _shape(result) for email, result in answers.items()}
    assert len({repr(shape) for shape in shapes.values()}) == 1
    codes, message, data = shapes["gina@globex.example"]
    assert codes == ["BAD_USER_INPUT"]
    assert "acme.example" in message
    assert "globex" not in message
    assert "exists" not in message
    assert data == {"inviteContact": None}
    assert await _accounts() == before
    assert await Invitation.all().count() == 0


async def test_staff_inviting_an_existing_account_changes_nothing_of_it(
    api: Api, world: World
) -> None:
    before = await _accounts()
    # when Acme's account team invites Gina's address for Acme, and someone accepts it
    invited = await _invite(api, world, world.sam, "gina@globex.example")
    assert invited.errors == []
    accepted = await api(
        ACCEPT,
        {"token": await invited_token(invited), "password": NEW_PASSWORD},
    )
    # then Gina's account is still hers, with her password, at Globex
    assert accepted.codes == ["BAD_USER_INPUT"]
    assert await _accounts() == before
    login = await api(LOGIN, {"email": "gina@globex.example", "password": PASSWORD})
    assert login.data["login"]["user"] == {
        "email": "gina@globex.example",
        "customer": {"slug": "globex"},
    }


async def test_a_pending_invitation_never_keeps_the_address_from_its_owner(
    api: Api, world: World
) -> None:
    # given Acme's account team invited new.hire@globex.example to Acme first
    first = await _invite(api, world, world.sam, "new.hire@globex.example")
    first_token = await invited_token(first)
    # when Globex invites the same address, and its owner accepts that invitation
    second = await _invite(api, world, world.gina, "new.hire@globex.example", world.globex)
    joined = await api(
        ACCEPT,
        {"token": await invited_token(second), "password": NEW_PASSWORD},
    )
    # then the account is Globex's, and the earlier invitation can no longer take it
    assert joined.errors == []
    late = await api(
        ACCEPT,
        {"token": first_token, "password": NEW_PASSWORD},
    )
    assert late.codes == ["BAD_USER_INPUT"]
    user = await User.get(email="new.hire@globex.example")
    assert user.customer_id == world.globex.id


async def test_a_lead_contact_cannot_claim_another_organisations_address(
    api: Api, world: World
) -> None:
    # when Acme's lead contact invites an address of Globex's domain before Globex does
    squat = await _invite(api, world, world.anna, "new.hire@globex.example")
    # then nothing is made that anybody could accept
    assert squat.codes == ["BAD_USER_INPUT"]
    assert squat.errors[0]["extensions"]["field"] == "email"
    assert not await Invitation.filter(email="new.hire@globex.example").exists()
    # while Globex's own lead contact may
    own = await _invite(api, world, world.gina, "new.hire@globex.example", world.globex)
    assert own.errors == []


async def test_inviting_looks_at_no_account(api: Api, world: World) -> None:
    # the audit trail of an invitation names the invitation, never an account
    await _invite(api, world, world.sam, "gina@globex.example")
    await _invite(api, world, world.sam, "fresh@globex.example")
    entries = await AuditEntry.filter(action="contact.invited").order_by("id")
    assert [e.target.split(":")[0] for e in entries] == ["invitation", "invitation"]
    assert entries[0].details == entries[1].details


async def test_a_handle_taken_only_at_another_customer_is_given_all_the_same(
    api: Api, world: World
) -> None:
    # given gina is a Globex handle, and sam a staff handle that everybody sees
    handles = {}
    for email in ("gina@acme.example", "sam@acme.example"):
        invited = await _invite(api, world, world.anna, email)
        joined = await api(
            ACCEPT,
            {"token": await invited_token(invited), "password": NEW_PASSWORD},
        )
        handles[email] = joined.data["acceptInvitation"]["user"]["handle"]
    # then Acme's new gina is "gina": nothing tells that the name is taken elsewhere
    assert handles == {"gina@acme.example": "gina", "sam@acme.example": "sam2"}
    # and a new staff member, whom every customer sees, gets a handle nobody has
    staff = await accounts.create_user(
        email="gina@provider.example", name="Gina Staff", role=Role.STAFF, password=None
    )
    assert staff.handle == "gina2"


async def test_administrators_set_the_domains_a_customer_may_invite(api: Api, world: World) -> None:
    # when an administrator gives Acme a second domain
    set_ = await api(
        DOMAINS,
        {"customer": gid(world.acme), "domains": ["ACME.example", "@acme-eu.example"]},
        as_user=world.admin,
    )
    assert set_.data == {
        "setCustomerEmailDomains": {
            "customer": {"emailDomains": ["acme-eu.example", "acme.example"]}
        }
    }
    # then Acme's lead contact may invite addresses of it
    assert (await _invite(api, world, world.anna, "eva@acme-eu.example")).errors == []
    # but not a domain of another customer, nor something that is not a domain
    taken = await api(
        DOMAINS, {"customer": gid(world.acme), "domains": ["globex.example"]}, as_user=world.admin
    )
    assert taken.codes == ["CONFLICT"]
    bad = await api(
        DOMAINS, {"customer": gid(world.acme), "domains": ["not a domain"]}, as_user=world.admin
    )
    assert bad.codes == ["BAD_USER_INPUT"]
    refused = await api(
        DOMAINS, {"customer": gid(world.acme), "domains": ["evil.example"]}, as_user=world.anna
    )
    assert refused.codes == ["FORBIDDEN"]


async def test_an_invitation_made_before_invitations_were_pending_still_works(
    api: Api, world: World
) -> None:
    # given an account made at invitation time, without a password, as invitations once did
    user = await User.create(
        email="old@acme.example",
        handle="old",
        name="Old Invite",
        role=Role.CUSTOMER_MEMBER,
        customer_id=world.acme.id,
    )
    await Invitation.create(
        user_id=user.id,
        customer_id=world.acme.id,
        email=user.email,
        name=user.name,
        role=user.role,
        invited_by_id=world.anna.id,
        token_hash=hash_opaque_token("legacy-token"),
        expires_at=now() + timedelta(days=1),
    )
    joined = await api(ACCEPT, {"token": "legacy-token", "password": NEW_PASSWORD})
    assert joined.data["acceptInvitation"]["user"] == {"email": "old@acme.example", "handle": "old"}
    # but such an invitation cannot reset the password of an account that has one
    user.password_hash = hash_password(PASSWORD)
    await user.save(update_fields=["password_hash"])
    await Invitation.filter(user_id=user.id).update(accepted_at=None)
    again = await api(ACCEPT, {"token": "legacy-token", "password": NEW_PASSWORD})
    assert again.codes == ["BAD_USER_INPUT"]


REMOVE = "mutation ($user: ID!) { removeContact(input: {userId: $user}) { contact { id } } }"


async def test_invitations_end_when_their_inviter_is_removed(api: Api, world: World) -> None:
    # given Acme's lead contact invited two addresses of Acme's domain, and the account team one
    own = await _invite(api, world, world.anna, "alias.of.anna@acme.example")
    other = await _invite(api, world, world.anna, "colleague@acme.example")
    teams = await _invite(api, world, world.sam, "by.the.team@acme.example")
    # when the account team removes that lead contact
    removed = await api(REMOVE, {"user": gid(world.anna)}, as_user=world.sam)
    assert removed.errors == []
    # then none of the removed lead contact's invitations makes an account any more
    for invited in (own, other):
        token = await invited_token(invited)
        late = await api(ACCEPT, {"token": token, "password": NEW_PASSWORD})
        assert late.codes == ["BAD_USER_INPUT"]
        assert "unknown, used or expired" in late.errors[0]["message"]
    assert not await User.filter(
        email__in=["alias.of.anna@acme.example", "colleague@acme.example"]
    ).exists()
    # while the account team's invitation is accepted as before
    token = await invited_token(teams)
    joined = await api(ACCEPT, {"token": token, "password": NEW_PASSWORD})
    assert joined.errors == []
    assert joined.data["acceptInvitation"]["user"]["email"] == "by.the.team@acme.example"


async def test_invitations_end_when_their_inviter_leaves_the_account_team(
    api: Api, world: World
) -> None:
    # given staff on Acme's account team invited someone, then left the team
    invited = await _invite(api, world, world.sam, "joins.later@acme.example")
    await AccountTeamMembership.filter(user_id=world.sam.id, customer_id=world.acme.id).delete()
    # then the invitation no longer makes an account
    token = await invited_token(invited)
    late = await api(ACCEPT, {"token": token, "password": NEW_PASSWORD})
    assert late.codes == ["BAD_USER_INPUT"]
    assert not await User.filter(email="joins.later@acme.example").exists()
