from typing import Any

from models import AuditEntry, RefreshToken, User
from tests.conftest import Api, gid
from tests.mailed import mailed_token
from tests.world import PASSWORD, World

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    accessToken accessTokenExpiresIn refreshToken user { email role }
  }
}
"""
REFRESH = """
mutation Refresh($token: String!) {
  refreshSession(input: {refreshToken: $token}) { accessToken refreshToken user { email } }
}
"""
LOGOUT = "mutation Logout($token: String!) { logout(input: {refreshToken: $token}) { ended } }"
ME = "{ me { email } }"
INVITE = """
mutation Invite($customer: ID!, $projects: [ID!]!) {
  inviteContact(input: {customerId: $customer, email: "nina@acme.example", name: "Nina",
                        role: CUSTOMER_MEMBER, projectIds: $projects}) {
    invitation { email name role } invitationToken
  }
}
"""
ACCEPT = """
mutation Accept($token: String!, $password: String!) {
  acceptInvitation(input: {token: $token, password: $password}) { accessToken user { email } }
}
"""
MY_PROJECTS = "{ projects { edges { node { name } } } }"


async def _login(api: Api, email: str, password: str = PASSWORD) -> dict[str, Any]:
    result = await api(LOGIN, {"email": email, "password": password})
    assert result.errors == [], result.errors
    return dict(result.data["login"])


async def test_login_returns_a_working_access_token(api: Api, world: World) -> None:
    # when
    session = await _login(api, "Max@Acme.example ")
    # then
    assert session["user"] == {"email": "max@acme.example", "role": "CUSTOMER_MEMBER"}
    assert session["accessTokenExpiresIn"] == 900
    me = await api(ME, token=session["accessToken"])
    assert me.data == {"me": {"email": "max@acme.example"}}
    assert await AuditEntry.filter(action="login", actor_id=world.max.id).count() == 1


async def test_wrong_password_and_unknown_email_answer_alike(api: Api, world: World) -> None:
    # when
    wrong = await api(LOGIN, {"email": "max@acme.example", "password": "not the password!"})
    unknown = await api(LOGIN, {"email": "nobody@acme.example", "password": "whatever-it-is"})
    # then
    assert wrong.data == unknown.data == {"login": None}
    assert wrong.errors[0]["message"] == unknown.errors[0]["message"]
    assert wrong.codes == unknown.codes == ["UNAUTHENTICATED"]
    failed = await AuditEntry.filter(action="login.failed")
    assert [entry.client_address for entry in failed] == ["203.0.113.7", "203.0.113.7"]


async def test_a_deactivated_user_cannot_sign_in_or_use_a_token(api: Api, world: World) -> None:
    # given
    session = await _login(api, "max@acme.example")
    await User.filter(id=world.max.id).update(is_active=False)
    # when
    login = await api(LOGIN, {"email": "max@acme.example", "password": PASSWORD})
    me = await api(ME, token=session["accessToken"])
    # then
    assert login.codes == ["UNAUTHENTICATED"]
    assert me.codes == ["UNAUTHENTICATED"]


async def test_refresh_rotates_and_the_old_token_is_spent(api: Api, world: World) -> None:
    # given
    first = await _login(api, "anna@acme.example")
    # when
    rotated = await api(REFRESH, {"token": first["refreshToken"]})
    # then
    pair = rotated.data["refreshSession"]
    assert pair["user"] == {"email": "anna@acme.example"}
    assert pair["refreshToken"] != first["refreshToken"]
    assert (await api(ME, token=pair["accessToken"])).data == {"me": {"email": "anna@acme.example"}}
    stored = [token.token_hash for token in await RefreshToken.all()]
    assert first["refreshToken"] not in stored
    assert pair["refreshToken"] not in stored


async def test_reusing_a_spent_refresh_token_ends_the_whole_session(api: Api, world: World) -> None:
    # given a stolen, already used refresh token
    first = await _login(api, "anna@acme.example")
    second = (await api(REFRESH, {"token": first["refreshToken"]})).data["refreshSession"]
    # when it is replayed
    replay = await api(REFRESH, {"token": first["refreshToken"]})
    # then it is refused and the legitimate newer token is revoked too
    assert replay.codes == ["UNAUTHENTICATED"]
    assert (await api(REFRESH, {"token": second["refreshToken"]})).codes == ["UNAUTHENTICATED"]


async def test_logout_revokes_the_refresh_token(api: Api, world: World) -> None:
    session = await _login(api, "sam@provider.example")
    # when
    ended = await api(LOGOUT, {"token": session["refreshToken"]})
    # then
    assert ended.data == {"logout": {"ended": True}}
    assert (await api(REFRESH, {"token": session["refreshToken"]})).codes == ["UNAUTHENTICATED"]
    assert (await api(LOGOUT, {"token": "unknown"})).data == {"logout": {"ended": False}}


async def test_an_invited_contact_joins_and_sees_their_projects(api: Api, world: World) -> None:
    # given anna invites a contact to the portal project
    invited = await api(
        INVITE, {"customer": gid(world.acme), "projects": [gid(world.portal)]}, as_user=world.anna
    )
    assert invited.errors == []
    payload = invited.data["inviteContact"]
    assert payload["invitation"] == {
        "email": "nina@acme.example",
        "name": "Nina",
        "role": "CUSTOMER_MEMBER",
    }
    assert payload["invitationToken"] is None  # mailed to the contact instead
    token = await mailed_token("nina@acme.example")
    # when the contact accepts with a weak, then a good password
    weak = await api(ACCEPT, {"token": token, "password": "short"})
    joined = await api(ACCEPT, {"token": token, "password": PASSWORD})
    # then
    assert weak.codes == ["BAD_USER_INPUT"]
    assert joined.data["acceptInvitation"]["user"] == {"email": "nina@acme.example"}
    access = joined.data["acceptInvitation"]["accessToken"]
    projects = await api(MY_PROJECTS, token=access)
    assert projects.data == {"projects": {"edges": [{"node": {"name": "Acme warehouse portal"}}]}}
    again = await api(ACCEPT, {"token": token, "password": PASSWORD})
    assert again.codes == ["BAD_USER_INPUT"]


REMOVE = "mutation ($user: ID!) { removeContact(input: {userId: $user}) { contact { name } } }"


async def test_a_lead_contact_removes_a_colleague_who_loses_access_at_once(
    api: Api, world: World
) -> None:
    # given max is signed in
    session = await _login(api, "max@acme.example")
    # when anna removes him
    removed = await api(REMOVE, {"user": gid(world.max)}, as_user=world.anna)
    # then
    assert removed.errors == []
    assert (await api(ME, token=session["accessToken"])).codes == ["UNAUTHENTICATED"]
    assert (await api(REFRESH, {"token": session["refreshToken"]})).codes == ["UNAUTHENTICATED"]
    assert await AuditEntry.filter(action="contact.removed", actor_id=world.anna.id).count() == 1


async def test_contacts_cannot_be_removed_by_members_or_other_customers(
    api: Api, world: World
) -> None:
    by_member = await api(REMOVE, {"user": gid(world.mia)}, as_user=world.max)
    by_other_customer = await api(REMOVE, {"user": gid(world.mia)}, as_user=world.gina)
    staff_target = await api(REMOVE, {"user": gid(world.sam)}, as_user=world.anna)
    assert by_member.codes == ["FORBIDDEN"]
    assert by_other_customer.codes == ["NOT_FOUND"]
    assert staff_target.codes == ["BAD_USER_INPUT"]
    assert await User.filter(is_active=False).count() == 0
