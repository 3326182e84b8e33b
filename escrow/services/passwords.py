"""Passwords: argon2id hashes (argon2-cffi's `PasswordHasher`, whose defaults are RFC 9106's second
recommended profile), one verification per sign-in whatever the outcome, and hashes brought up to the current
parameters when their owner next signs in.

The hasher is part of the use cases' `Context` (`ctx.hasher`), so that a deployment (or a test) can give its
own: `create_app(hasher=…)`.

- `verify(hasher, stored, password)`: True or False, never an exception. With no stored hash (an unknown
  user, a disabled one, one without a password) it verifies against a dummy hash made with the same
  hasher, so that every sign-in costs one argon2 verification and the answer's time does not tell whether
  the user name exists (OWASP Authentication Cheat Sheet, "Authentication Responses").
- `upgraded(hasher, stored, password)`: a new hash when `check_needs_rehash` says the stored one was made
  with other parameters (call it only after the password verified), else None.
"""

from __future__ import annotations

import contextlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

DEFAULT_HASHER = PasswordHasher()

_dummies: dict[tuple, str] = {}  # one per set of parameters: a handful at most


def dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of a random password with the hasher's own parameters (so verifying it costs the same as
    verifying a real one), made once per set of parameters."""
    params = (
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
        hasher.hash_len,
        hasher.salt_len,
        hasher.type,
    )
    found = _dummies.get(params)
    if found is None:
        found = _dummies[params] = hasher.hash(secrets.token_urlsafe(16))
    return found


def hash_password(hasher: PasswordHasher, password: str) -> str:
    return hasher.hash(password)


def verify(hasher: PasswordHasher, stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored`; exactly one argon2 verification either way."""
    if not stored:
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(dummy_hash(hasher), password)
        return False
    try:
        return hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def upgraded(hasher: PasswordHasher, stored: str, password: str) -> str | None:
    """A new hash of the (verified) password when the stored one's parameters are not the hasher's."""
    try:
        stale = hasher.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        stale = True
    return hasher.hash(password) if stale else None
