"""Passwords (escrow.services.passwords): one argon2 verification whatever the stored hash, never an
exception; a hash is upgraded only when its parameters are not the hasher's."""

from __future__ import annotations

from argon2 import PasswordHasher

from escrow.services import passwords

FAST = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


class Counting(PasswordHasher):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.verified = 0

    def verify(self, hash, password):
        self.verified += 1
        return super().verify(hash, password)


def test_every_stored_value_costs_one_verification_and_none_raises():
    hasher = Counting(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    right = hasher.hash("correct-horse")
    cases = [(right, "correct-horse", True), (right, "wrong", False), (None, "x", False), ("", "x", False)]
    cases.append(("not-an-argon2-hash", "x", False))
    for stored, password, expected in cases:
        before = hasher.verified
        assert passwords.verify(hasher, stored, password) is expected
        assert hasher.verified - before == 1, stored


def test_the_dummy_hash_has_the_hashers_parameters():
    assert not FAST.check_needs_rehash(passwords.dummy_hash(FAST))
    assert passwords.dummy_hash(FAST) == passwords.dummy_hash(FAST)  # made once


def test_only_a_hash_with_other_parameters_is_upgraded():
    current = PasswordHasher(time_cost=2, memory_cost=16 * 1024, parallelism=1)
    assert passwords.upgraded(current, current.hash("pw-12345678"), "pw-12345678") is None
    new = passwords.upgraded(current, FAST.hash("pw-12345678"), "pw-12345678")
    assert new is not None and not current.check_needs_rehash(new) and current.verify(new, "pw-12345678")
