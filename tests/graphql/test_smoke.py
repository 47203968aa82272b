from tests.conftest import Api
from tests.world import World

ME = "{ me { name email role customer { name } } }"


async def test_me_answers_for_the_signed_in_user(api: Api, world: World) -> None:
    # when
    result = await api(ME, as_user=world.max)
    # then
    assert result.errors == []
    assert result.data["me"] == {
        "name": "Max",
        "email": "max@acme.example",
        "role": "CUSTOMER_MEMBER",
        "customer": {"name": "Acme Logistics"},
    }


async def test_me_without_a_token_is_unauthenticated(api: Api, world: World) -> None:
    result = await api(ME)
    assert result.data == {"me": None}
    assert result.codes == ["UNAUTHENTICATED"]
