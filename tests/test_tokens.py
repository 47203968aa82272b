import base64
import hashlib
import hmac
import json
import time
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from domain.tokens import ALGORITHM, decode_access_token, issue_access_token
from infra.settings import SettingsError, key_id, load_settings

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
        "sid": "a-session",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(
    claims: dict[str, object],
    key: str = SETTINGS.secret_key,
    alg: str = ALGORITHM,
    kid: str | None = SETTINGS.signing_key_id,
) -> str:
    """A token signed like ours (our key's ``kid``), unless told otherwise."""
    headers = {"kid": kid} if kid is not None else None
    return str(jwt.encode(claims, key, algorithm=alg, headers=headers))


def _rsa_keys() -> tuple[str, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


RSA_PRIVATE, RSA_PUBLIC = _rsa_keys()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _hmac_signed(claims: dict[str, object], key: bytes) -> str:
    """HS256 by hand with any key (libraries refuse a public key as an HMAC secret: the
    classic confusion attack signs with the server's RS256 public key)."""
    header = {"alg": "HS256", "typ": "JWT", "kid": SETTINGS.signing_key_id}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def test_the_hand_made_signature_matches_the_librarys() -> None:
    # the control for the confusion case: the same construction with our key is accepted
    token = _hmac_signed(_claims(), SETTINGS.secret_key.encode())
    assert decode_access_token(SETTINGS, token) is not None


def test_a_token_signed_like_ours_is_accepted() -> None:
    # the control for the matrix below: each refused token differs from this in one way
    claims = decode_access_token(SETTINGS, _sign(_claims()))
    assert claims is not None
    assert claims.user_id == 7


def test_an_issued_token_names_its_user_and_session() -> None:
    claims = decode_access_token(SETTINGS, issue_access_token(SETTINGS, 42, "a-session"))
    assert claims is not None
    assert (claims.user_id, claims.session_id) == (42, "a-session")


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
        pytest.param(_sign(_claims(), kid=None), id="no-kid"),
        pytest.param(_sign(_claims(), kid="0123456789abcdef"), id="unknown-kid"),
        pytest.param(_sign(_claims(), key="x" * 40, kid=key_id("x" * 40)), id="foreign-kid"),
        pytest.param(_sign(_claims(), key=RSA_PRIVATE, alg="RS256"), id="rs256"),
        pytest.param(_hmac_signed(_claims(), RSA_PUBLIC.encode()), id="hs256-with-a-public-key"),
        pytest.param(_sign(_claims(sub="not-a-number")), id="bad-subject"),
        pytest.param(_sign(_claims(sid=None)), id="no-session"),
        pytest.param(_sign(_claims(sid="")), id="empty-session"),
        pytest.param(_sign(_claims(sid=7)), id="non-text-session"),
        pytest.param("", id="empty"),
        pytest.param("a.b.c", id="garbage"),
        pytest.param("x" * 5000, id="oversized"),
    ],
)
def test_an_invalid_token_is_refused(token: str) -> None:
    assert decode_access_token(SETTINGS, token) is None


def test_an_unsigned_token_is_refused() -> None:
    # given a token that claims "alg": "none"
    header = jwt.get_unverified_header(issue_access_token(SETTINGS, 1, "a-session"))
    assert header["alg"] == ALGORITHM

    def b64(data: dict[str, object]) -> str:
        return _b64(json.dumps(data).encode())

    forged = (
        f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': SETTINGS.signing_key_id})}.{b64(_claims())}."
    )
    # then
    assert decode_access_token(SETTINGS, forged) is None


def test_a_tampered_payload_is_refused() -> None:
    head, _payload, signature = issue_access_token(SETTINGS, 1, "a-session").split(".")
    other_payload = _sign(_claims(sub="2")).split(".")[1]
    assert decode_access_token(SETTINGS, f"{head}.{other_payload}.{signature}") is None


def test_a_key_is_rotated_without_signing_anyone_out() -> None:
    # given tokens signed with today's key
    old = SETTINGS
    signed_before = issue_access_token(old, 1, "a-session")
    # when a new key signs and the old one is kept for verification
    rotated = replace(old, secret_key="n" * 40, previous_secret_keys=(old.secret_key,))
    signed_after = issue_access_token(rotated, 2, "a-session")
    # then both are valid, and new tokens name the new key
    assert decode_access_token(rotated, signed_before) is not None
    assert decode_access_token(rotated, signed_after) is not None
    assert jwt.get_unverified_header(signed_after)["kid"] == key_id("n" * 40)
    assert jwt.get_unverified_header(signed_before)["kid"] == key_id(old.secret_key)
    # and once the old key is dropped, its tokens are refused
    retired = replace(rotated, previous_secret_keys=())
    assert decode_access_token(retired, signed_before) is None
    assert decode_access_token(retired, signed_after) is not None


def test_previous_keys_are_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "EXTRANET_SECRET_KEY": "n" * 40,
            "EXTRANET_PREVIOUS_SECRET_KEYS": f"{'a' * 40}, {'b' * 40}",
        }
    )
    assert set(settings.verification_keys) == {key_id(k * 40) for k in "nab"}
    with pytest.raises(SettingsError, match="EXTRANET_PREVIOUS_SECRET_KEYS"):
        load_settings({"EXTRANET_SECRET_KEY": "n" * 40, "EXTRANET_PREVIOUS_SECRET_KEYS": "short"})


def test_tokens_of_another_deployment_are_refused() -> None:
    other = replace(SETTINGS, secret_key="o" * 40)
    assert decode_access_token(SETTINGS, issue_access_token(other, 1, "a-session")) is None


def test_a_kept_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a token found valid (and so kept) that expires in a few seconds
    token = _sign(_claims(exp=int(time.time()) + 5))
    claims = decode_access_token(SETTINGS, token)
    assert claims is not None
    assert decode_access_token(SETTINGS, token) == claims
    # when its expiry has passed, it is refused without its signature being checked again
    later = time.time() + 10
    monkeypatch.setattr("domain.tokens.time.time", lambda: later)
    assert decode_access_token(SETTINGS, token) is None
