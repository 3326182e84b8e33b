"""Administration of users and API keys (the admin pages; the CLI makes users and keys through the same
`parties` functions). Each use case is one transaction, audited with who did what to whom.

Passwords are never stored or audited in clear; an API key's plaintext exists only in the answer that
creates it (only its SHA-256 is kept).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from escrow.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from escrow.domain.principal import BANK_STAFF, BUREAU_ROLES, DEVELOPER_STAFF, Principal
from escrow.services import parties
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import ApiKey, User


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive timestamps (stored as UTC)."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


# --- views ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    user_id: int
    username: str
    display_name: str
    role: str
    developer: str | None  # the developer's name, for developer staff
    bank: str | None  # the bank's name, for bank staff
    active: bool
    locked_until: datetime | None  # only while it is in the future
    failed_logins: int
    last_sign_in: datetime | None  # as the audit trail recorded it


@dataclass(frozen=True)
class KeyRow:
    key_id: int
    prefix: str
    principal_kind: Literal["bank", "developer", "user"]
    owner: str  # the bank's code, the developer's name or the user's name
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class KeyChoices:
    """Whom a new key may act for."""

    banks: tuple[Choice, ...]
    developers: tuple[Choice, ...]
    users: tuple[Choice, ...]  # bureau users (developer and bank staff sign in to the web instead)


@dataclass(frozen=True)
class IssuedKey:
    prefix: str
    plaintext: str  # shown once
    principal_kind: str
    owner: str


@dataclass(frozen=True)
class PasswordReset:
    username: str
    generated: str | None  # the password made up for the admin to pass on, shown once; None if typed


@dataclass(frozen=True)
class NewUser:
    username: str
    display_name: str
    role: str
    password: str
    developer_code: str | None = None
    bank_code: str | None = None


# --- reading ----------------------------------------------------------------------------------------------


def users(ctx: Context, now: datetime) -> list[UserRow]:
    with ctx.reading() as uow:
        signed = uow.admin_reads.last_sign_ins()
        rows = []
        for user, developer, bank in uow.admin_reads.users():
            locked = _utc(user.locked_until)
            rows.append(
                UserRow(
                    user_id=user.id,
                    username=user.username,
                    display_name=user.display_name,
                    role=user.role,
                    developer=developer,
                    bank=bank,
                    active=user.active,
                    locked_until=locked if locked and locked > now else None,
                    failed_logins=user.failed_logins,
                    last_sign_in=_utc(signed.get(user.username)),
                )
            )
        return rows


def keys(ctx: Context) -> list[KeyRow]:
    with ctx.reading() as uow:
        return [
            KeyRow(
                key_id=key.id,
                prefix=key.prefix,
                principal_kind=key.principal_kind,
                owner=bank or developer or username or "",
                created_at=_utc(key.created_at),
                revoked_at=_utc(key.revoked_at),
            )
            for key, bank, developer, username in uow.admin_reads.api_keys()
        ]


def choices(ctx: Context) -> KeyChoices:
    """The banks, developers and bureau users a form may name."""
    with ctx.reading() as uow:
        return KeyChoices(
            banks=tuple(Choice(b.code, f"{b.code} · {b.name}") for b in uow.admin_reads.banks()),
            developers=tuple(
                Choice(d.credit_code, f"{d.name} · {d.credit_code}") for d in uow.admin_reads.developers()
            ),
            users=tuple(
                Choice(u.username, f"{u.display_name} ({u.username})")
                for u, _dev, _bank in uow.admin_reads.users()
                if u.role in BUREAU_ROLES and u.developer_id is None and u.bank_id is None and u.active
            ),
        )


# --- changing ---------------------------------------------------------------------------------------------


def create_user(ctx: Context, cmd: NewUser, actor: Principal) -> str:
    """A new user with the password the admin typed (the CLI's strength rule); returns the user name."""
    with ctx.writing() as uow:
        if not cmd.password:
            raise InvalidInput("a password is required", errors=[FieldError.coded("password", "required")])
        user = parties.create_user(
            uow,
            username=cmd.username,
            role=cmd.role,
            password=cmd.password,
            actor=actor,
            display_name=cmd.display_name,
            developer_code=cmd.developer_code if cmd.role == DEVELOPER_STAFF else None,
            bank_code=cmd.bank_code if cmd.role == BANK_STAFF else None,
        )
        return ctx.commit(uow, user.username)


def _user(uow: UnitOfWork, user_id: int) -> User:
    user = uow.parties.user(user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def _audit(uow: UnitOfWork, actor: Principal, action: str, user: User, **details: object) -> None:
    audit.record(
        uow.session,
        actor=actor.ref,
        action=action,
        subject_type="user",
        subject_id=user.username,
        details=dict(details) or None,
    )


def set_active(ctx: Context, user_id: int, active: bool, actor: Principal) -> str:
    """Disable (every session of the user ends at once; its keys stop working) or enable a user. An admin
    cannot disable themselves: someone must be left to undo it."""
    with ctx.writing() as uow:
        return ctx.commit(uow, _set_active(uow, _user(uow, user_id), active, actor))


def set_active_by_name(ctx: Context, username: str, active: bool, actor: Principal) -> str:
    """`set_active` for the user of that name (the command line's `escrow user disable|enable`)."""
    with ctx.writing() as uow:
        user = uow.parties.user_by_name((username or "").strip())
        if user is None:
            raise NotFound(f"no user named {username}")
        return ctx.commit(uow, _set_active(uow, user, active, actor))


def _set_active(uow: UnitOfWork, user: User, active: bool, actor: Principal) -> str:
    if not active and user.id == actor.user_id:
        raise Conflict("you cannot disable yourself", rule="admin.not_self")
    if user.active != active:
        user.active = active
        if not active:
            uow.web_sessions.delete_for_user(user.id)
        _audit(uow, actor, "user.enabled" if active else "user.disabled", user)
    return user.username


def reset_password(ctx: Context, user_id: int, password: str | None, actor: Principal) -> PasswordReset:
    """A new password: the one the admin typed (the strength rule applies) or, given None, one made up here
    and shown once. The user's sessions end: whoever knew the old password is signed out."""
    with ctx.writing() as uow:
        user = _user(uow, user_id)
        generated = None
        if password is None:
            generated = password = secrets.token_urlsafe(12)
        parties.check_password_strength(password)
        user.password_hash = parties.hash_password(password, ctx.hasher)
        uow.web_sessions.delete_for_user(user.id)
        _audit(uow, actor, "user.password_reset", user, generated=generated is not None)
        return ctx.commit(uow, PasswordReset(user.username, generated))


def unlock(ctx: Context, user_id: int, actor: Principal) -> str:
    """Clear the failed sign-ins and the lock-out they caused."""
    with ctx.writing() as uow:
        user = _user(uow, user_id)
        before = {"failed_logins": user.failed_logins, "locked_until": str(user.locked_until or "")}
        user.failed_logins = 0
        user.locked_until = None
        _audit(uow, actor, "user.unlocked", user, **before)
        return ctx.commit(uow, user.username)


def create_key(ctx: Context, kind: str, owner: str, actor: Principal) -> IssuedKey:
    """A key for a bank (its code), a developer (its credit code) or a bureau user (the user name)."""
    owner = (owner or "").strip()
    if kind not in ("bank", "developer", "user"):
        raise InvalidInput(
            "a key acts for a bank, a developer or a user",
            errors=[FieldError.one_of("kind", ("bank", "developer", "user"))],
        )
    if not owner:
        raise InvalidInput(f"name the {kind}", errors=[FieldError.coded(kind, "required")])
    with ctx.writing() as uow:
        if kind == "user":
            user = uow.parties.user_by_name(owner)
            if user is None or user.role not in BUREAU_ROLES or user.developer_id or user.bank_id:
                raise NotFound(f"no bureau user named {owner}")
        issued = parties.create_api_key(
            uow,
            bank_code=owner if kind == "bank" else None,
            developer_code=owner if kind == "developer" else None,
            username=owner if kind == "user" else None,
            actor=actor,
        )
        return ctx.commit(uow, IssuedKey(issued.prefix, issued.plaintext, issued.principal_kind, owner))


def revoke_key(ctx: Context, key_id: int, actor: Principal, now: datetime) -> str:
    """The key stops working (a deposit re-checks it in its own transaction); returns its prefix."""
    with ctx.writing() as uow:
        key = uow.parties.key(key_id)
        if key is None:
            raise NotFound(f"no API key {key_id}")
        return ctx.commit(uow, _revoke(uow, key, actor, now))


def revoke_key_named(ctx: Context, ref: str, actor: Principal, now: datetime) -> str:
    """`revoke_key` for a key named as the admin page lists it — its number or its prefix — or by the
    whole key (`esk_<prefix>_…`, as it was handed out); returns its prefix."""
    ref = (ref or "").strip()
    with ctx.writing() as uow:
        if ref.isdigit():
            key = uow.parties.key(int(ref))
        else:
            parts = ref.split("_")
            prefix = parts[1] if len(parts) >= 3 and parts[0] == parties.KEY_PREFIX else ref
            key = uow.parties.key_named(prefix.lower()) if prefix else None
        if key is None:
            raise NotFound(f"no API key {ref or '(empty)'}")
        return ctx.commit(uow, _revoke(uow, key, actor, now))


def _revoke(uow: UnitOfWork, key: ApiKey, actor: Principal, now: datetime) -> str:
    if key.revoked_at is not None:
        raise Conflict(f"key {key.prefix} is already revoked")
    key.revoked_at = now
    audit.record(
        uow.session,
        actor=actor.ref,
        action="api_key.revoked",
        subject_type="api_key",
        subject_id=key.prefix,
        details={"principal_kind": key.principal_kind},
    )
    return key.prefix
