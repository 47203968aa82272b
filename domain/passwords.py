"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.errors import BadUserInput

MIN_LENGTH = 12
MAX_LENGTH = 1024
_COMMON = frozenset(
    {
        "password1234",
        "123456789012",
        "qwertyuiopas",
        "letmein12345",
        "passwordpassword",
        "welcome12345",
        "administrator",
    }
)

_hasher = PasswordHasher()
# Verified against when the account is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("an unknown account still pays for one verification")


def check_strength(password: str, *, email: str = "") -> None:
    """Raise BadUserInput with a clear reason when a password is too weak to accept."""
    if not password or not password.strip():
        raise BadUserInput("The password is empty. Choose one of at least 12 characters.")
    if len(password) < MIN_LENGTH:
        raise BadUserInput(f"The password is too short: use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise BadUserInput(f"The password is too long: use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    if lowered in _COMMON or len(set(password)) < 5:
        raise BadUserInput("The password is too easy to guess. Choose a less common one.")
    local_part = email.split("@")[0].lower()
    if local_part and len(local_part) >= 4 and local_part in lowered:
        raise BadUserInput("The password must not contain your email address.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; an account without a hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
