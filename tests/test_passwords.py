"""Passwords are kept as argon2id hashes of production's cost (the other tests hash at the
least cost, see tests/conftest.py)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from domain import passwords
from domain.passwords import hash_password, verify_password

PASSWORD = "correct horse battery staple"


@pytest.mark.usefixtures("production_password_cost")
def test_a_password_is_kept_as_an_argon2id_hash_of_production_cost() -> None:
    # when
    kept = hash_password(PASSWORD)
    # then: argon2-cffi's recommended parameters (RFC 9106's second choice), not less
    parameters = extract_parameters(kept)
    recommended = PasswordHasher()
    assert parameters.type is Type.ID
    assert parameters.time_cost >= recommended.time_cost
    assert parameters.memory_cost >= recommended.memory_cost
    assert parameters.parallelism >= 1
    assert PASSWORD not in kept
    assert verify_password(kept, PASSWORD)
    assert not verify_password(kept, PASSWORD + "!")


@pytest.mark.usefixtures("production_password_cost")
def test_an_unknown_account_costs_a_verification_of_production_cost() -> None:
    # then: signing in to an account that does not exist takes as long as a wrong password
    assert extract_parameters(passwords._DUMMY_HASH) == extract_parameters(hash_password("x"))
    assert not verify_password(None, PASSWORD)
