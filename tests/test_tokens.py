import time
from dataclasses import replace

import pytest
from jose import jwt

from app.settings import load_settings
from app.tokens import ALGORITHM, decode_access_token, issue_access_token

SETTINGS = load_settings({"EXTRANET_SECRET_KEY": "k" * 40})


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": "7",
        "iss": SETTINGS.token_issuer,
        "aud": SETTINGS.token_audience,
        "iat": now,
        "nbf": now,
        "exp": now + 60,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, object], key: str = SETTINGS.secret_key, alg: str = ALGORITHM) -> str:
    return str(jwt.encode(claims, key, algorithm=alg))


def test_an_issued_token_names_its_user() -> None:
    claims = decode_access_token(SETTINGS, issue_access_token(SETTINGS, 42))
    assert claims is not None
    assert claims.user_id == 42


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_sign(_claims(exp=int(time.time()) - 5)), id="expired"),
        pytest.param(_sign(_claims(exp=None)), id="no-exp"),
        pytest.param(_sign(_claims(aud="another-api")), id="wrong-audience"),
        pytest.param(_sign(_claims(aud=None)), id="no-audience"),
        pytest.param(_sign(_claims(iss="someone-else")), id="wrong-issuer"),
        pytest.param(_sign(_claims(iss=None)), id="no-issuer"),
        pytest.param(_sign(_claims(nbf=int(time.time()) + 600)), id="not-yet-valid"),
        pytest.param(_sign(_claims(), key="x" * 40), id="other-key"),
        pytest.param(_sign(_claims(), alg="HS512"), id="other-algorithm"),
        pytest.param(_sign(_claims(sub="not-a-number")), id="bad-subject"),
        pytest.param("", id="empty"),
        pytest.param("a.b.c", id="garbage"),
        pytest.param("x" * 5000, id="oversized"),
    ],
)
def test_an_invalid_token_is_refused(token: str) -> None:
    assert decode_access_token(SETTINGS, token) is None


def test_an_unsigned_token_is_refused() -> None:
    # given a token that claims "alg": "none"
    header = jwt.get_unverified_header(issue_access_token(SETTINGS, 1))
    assert header["alg"] == ALGORITHM
    import base64
    import json

    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    forged = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(_claims())}."
    # then
    assert decode_access_token(SETTINGS, forged) is None


def test_a_tampered_payload_is_refused() -> None:
    head, _payload, signature = issue_access_token(SETTINGS, 1).split(".")
    other_payload = _sign(_claims(sub="2")).split(".")[1]
    assert decode_access_token(SETTINGS, f"{head}.{other_payload}.{signature}") is None


def test_tokens_of_another_deployment_are_refused() -> None:
    other = replace(SETTINGS, secret_key="o" * 40)
    assert decode_access_token(SETTINGS, issue_access_token(other, 1)) is None
