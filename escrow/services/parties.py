"""Banks, developers, bureau users and their API keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from escrow.domain import credit_code
from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.principal import BANK_STAFF, DEVELOPER_STAFF, USER_ROLES, Principal
from escrow.services import passwords
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import ApiKey, Bank, Developer, User

if TYPE_CHECKING:
    from argon2 import PasswordHasher

KEY_PREFIX = "esk"

# one address of the form name@host.domain, at most 254 characters (where notifications are e-mailed)
EMAIL = re.compile(r"(?=.{3,254}$)[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+")


def _require(value: str, field: str, *, max_len: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{field} is required", errors=[FieldError.coded(field, "required")])
    if len(value) > max_len:
        raise InvalidInput(f"{field} is too long", errors=[FieldError.at_most_chars(field, max_len)])
    return value


def _employer_id(
    role: str,
    code: str | None,
    *,
    staff_role: str,
    find: Callable[[str], Developer | Bank | None],
    unknown: str,
) -> int | None:
    """The id of the party (developer or bank, named by `code`) whose staff a new user of `role` is; None when
    the user is not that party's staff. The party's name doubles as the staff role and the form field."""
    if not code and role != staff_role:
        return None
    if role != staff_role:
        raise InvalidInput(
            f"{staff_role} staff have the role {staff_role}",
            errors=[FieldError.coded("role", "must_be", value=staff_role)],
        )
    party = find(code or "")
    if party is None:
        if not code:
            raise InvalidInput(
                f"{staff_role} staff name their {staff_role}",
                errors=[FieldError.coded(staff_role, "required")],
            )
        raise NotFound(unknown, errors=[FieldError.coded(staff_role, f"no_such_{staff_role}")])
    return party.id


def create_bank(uow: UnitOfWork, *, code: str, name: str, actor: Principal) -> Bank:
    code = _require(code, "code", max_len=32)
    name = _require(name, "name", max_len=200)
    if uow.parties.bank_by_code(code):
        raise Conflict(f"a bank with code {code} already exists")
    bank = uow.parties.add(Bank(code=code, name=name))
    audit.record(
        uow.session,
        actor=actor.ref,
        action="bank.created",
        subject_type="bank",
        subject_id=code,
        after={"code": code, "name": name},
    )
    return bank


def create_developer(
    uow: UnitOfWork, *, credit_code_value: str, name: str, actor: Principal, credit_grade: str = "B"
) -> Developer:
    code = (credit_code_value or "").strip().upper()
    problem = credit_code.problem(code)
    if problem:
        raise InvalidInput(
            f"credit code {code or '(empty)'} {problem}", errors=[FieldError("credit_code", problem)]
        )
    name = _require(name, "name", max_len=200)
    if uow.parties.developer_by_code(code):
        raise Conflict(f"a developer with credit code {code} already exists")
    developer = uow.parties.add(Developer(credit_code=code, name=name, credit_grade=credit_grade))
    audit.record(
        uow.session,
        actor=actor.ref,
        action="developer.created",
        subject_type="developer",
        subject_id=code,
        after={"credit_code": code, "name": name},
    )
    return developer


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    return passwords.hash_password(hasher or passwords.DEFAULT_HASHER, password)


def password_matches(password_hash: str | None, password: str, hasher: PasswordHasher | None = None) -> bool:
    """One argon2 verification whatever the outcome (escrow.services.passwords.verify)."""
    return passwords.verify(hasher or passwords.DEFAULT_HASHER, password_hash, password)


PASSWORD_MIN_CHARS = 10


def check_password_strength(password: str) -> None:
    """The one rule for a password a person chooses (the CLI's, the admin pages'): at least 10 characters."""
    if len(password) < PASSWORD_MIN_CHARS:
        raise InvalidInput(
            f"the password must have at least {PASSWORD_MIN_CHARS} characters",
            errors=[FieldError.coded("password", "at_least_chars", count=PASSWORD_MIN_CHARS)],
        )


def create_user(
    uow: UnitOfWork,
    *,
    username: str,
    role: str,
    password: str | None,
    actor: Principal,
    display_name: str = "",
    developer_code: str | None = None,
    bank_code: str | None = None,
    email: str | None = None,
) -> User:
    """A bureau user, a developer's staff member (`developer_code`, role developer) or a bank's staff member
    (`bank_code`, role bank)."""
    username = _require(username, "username", max_len=64)
    display_name = (display_name or "").strip()
    if len(display_name) > 200:
        raise InvalidInput("display name is too long", errors=[FieldError.at_most_chars("display_name", 200)])
    if role not in USER_ROLES:
        raise InvalidInput(
            f"role {role!r} is not one of {', '.join(USER_ROLES)}",
            errors=[FieldError.one_of("role", USER_ROLES)],
        )
    email = (email or "").strip() or None
    if email is not None and not EMAIL.fullmatch(email):
        raise InvalidInput(
            f"{email!r} is not an e-mail address",
            errors=[FieldError.coded("email", "must_be", value="name@example.cn")],
        )
    developer_id = _employer_id(
        role,
        developer_code,
        staff_role=DEVELOPER_STAFF,
        find=uow.parties.developer_by_code,
        unknown=f"no developer with credit code {developer_code}",
    )
    bank_id = _employer_id(
        role,
        bank_code,
        staff_role=BANK_STAFF,
        find=uow.parties.bank_by_code,
        unknown=f"no bank with code {bank_code}",
    )
    if password is not None:
        check_password_strength(password)
    if uow.parties.user_by_name(username):
        raise Conflict(f"user {username} already exists", errors=[FieldError.coded("username", "in_use")])
    user = uow.parties.add(
        User(
            username=username,
            role=role,
            display_name=display_name or username,
            developer_id=developer_id,
            bank_id=bank_id,
            password_hash=hash_password(password) if password else None,
            email=email,
        )
    )
    after: dict[str, object] = {"username": username, "role": role}
    if bank_code:
        after["bank"] = bank_code
    if email:
        after["email"] = email
    audit.record(
        uow.session,
        actor=actor.ref,
        action="user.created",
        subject_type="user",
        subject_id=username,
        after=after,
    )
    return user


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class IssuedKey:
    plaintext: str
    principal_kind: str
    prefix: str = ""


def create_api_key(
    uow: UnitOfWork,
    *,
    bank_code: str | None = None,
    developer_code: str | None = None,
    username: str | None = None,
    actor: Principal,
) -> IssuedKey:
    if sum(x is not None for x in (bank_code, developer_code, username)) != 1:
        raise InvalidInput("a key acts for exactly one bank, developer or user")
    row = ApiKey(prefix="", key_hash="", principal_kind="")
    if bank_code is not None:
        bank = uow.parties.bank_by_code(bank_code)
        if bank is None:
            raise NotFound(f"no bank with code {bank_code}")
        row.principal_kind, row.bank_id = "bank", bank.id
    elif developer_code is not None:
        developer = uow.parties.developer_by_code(developer_code)
        if developer is None:
            raise NotFound(f"no developer with credit code {developer_code}")
        row.principal_kind, row.developer_id = "developer", developer.id
    else:
        user = uow.parties.user_by_name(username or "")
        if user is None:
            raise NotFound(f"no user named {username}")
        row.principal_kind, row.user_id = "user", user.id
    prefix = base64.b32encode(secrets.token_bytes(5)).decode().lower()
    plaintext = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row.prefix, row.key_hash = prefix, _key_hash(plaintext)
    uow.parties.add(row)
    audit.record(
        uow.session,
        actor=actor.ref,
        action="api_key.created",
        subject_type="api_key",
        subject_id=prefix,
        details={"principal_kind": row.principal_kind},
    )
    return IssuedKey(plaintext, row.principal_kind, prefix)


def bank_principal(ctx: Context, code: str) -> Principal | None:
    """The bank with this code acting as itself (the command line's statement import), or None."""
    with ctx.reading() as uow:
        bank = uow.parties.bank_by_code(code)
        return Principal(kind="bank", id=bank.id, name=bank.name, bank_id=bank.id) if bank else None


def principal_of_key(ctx: Context, presented: str, *, cached: bool = False) -> Principal | None:
    """The principal a presented API key acts as, or None: how the API authenticates a request. With
    `cached`, kept per process for `settings.key_cache_seconds` by the key's hash (a valid key only): a
    revoked key may then pass for those seconds, so only a use case that re-checks its key in its own
    transaction asks for it (posting a deposit: escrow.store.repos.deposits `target`, which never books
    money on a revoked key). Every other request reads the key afresh."""
    digest = _key_hash(presented)
    if cached and (known := ctx.principals.get(digest)) is not None:
        return known
    with ctx.reading() as uow:
        principal = principal_for_key(uow, presented)
    if principal is not None:
        ctx.principals.put(digest, principal)
    return principal


def principal_for_key(uow: UnitOfWork, presented: str) -> Principal | None:
    """The principal a presented key acts as, or None. Compares hashes in constant time."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = uow.parties.key_by_prefix(parts[1])
    if key is None or not hmac.compare_digest(key.key_hash, _key_hash(presented)):
        return None
    session = uow.session
    if key.principal_kind == "bank":
        bank = session.get(Bank, key.bank_id)
        return Principal("bank", bank.id, bank.name, bank_id=bank.id, key_id=key.id) if bank else None
    if key.principal_kind == "developer":
        dev = session.get(Developer, key.developer_id)
        return Principal("developer", dev.id, dev.name, developer_id=dev.id, key_id=key.id) if dev else None
    user = session.get(User, key.user_id)
    if user is None or not user.active:
        return None
    return Principal(
        "user",
        user.id,
        user.username,
        role=user.role,
        user_id=user.id,
        developer_id=user.developer_id,
        key_id=key.id,
    )
