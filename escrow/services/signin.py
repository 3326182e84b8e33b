"""Sign-in for the web UI: passwords (argon2), lock-out after repeated failures, server-side sessions with an
idle timeout and an absolute lifetime. Sessions live in the database so that every worker shares them.

The cookie carries a random id; the table keeps only its SHA-256, so a copy of the table opens no session.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from escrow.domain.principal import Principal
from escrow.services import notifications, passwords, ratelimit
from escrow.services.context import Context
from escrow.store import audit
from escrow.store.db import UnitOfWork
from escrow.store.models import Developer, User, WebSession

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MAX_FAILURES = 5  # wrong passwords in a row before the account locks
LOCK_FOR = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(minutes=30)
MAX_LIFETIME = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=60)  # sliding expiry is written at most this often


@dataclass(frozen=True)
class Refusal(Exception):
    """Why a sign-in was refused: `bad_credentials` (unknown user, wrong password, disabled account — the
    same answer for all three), `locked` (until when) or `too_many` (too many failed sign-ins from the
    client's address: retry after so many seconds)."""

    reason: str
    locked_until: datetime | None = None
    retry_after: int | None = None


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    username: str
    display_name: str
    role: str
    developer_id: int | None
    developer_name: str | None
    lang: str
    signed_in_at: datetime
    bank_id: int | None = None  # bank staff (role bank): the bank whose accounts they read
    bank_name: str | None = None
    unread: int = 0  # unread notifications: the badge in the page header

    @property
    def is_developer_staff(self) -> bool:
        return self.developer_id is not None

    def principal(self) -> Principal:
        """Bureau users act as themselves; developer staff act for their developer (as its API key does),
        with their own user id kept for the audit trail."""
        if self.developer_id is not None:
            return Principal(
                "developer",
                self.developer_id,
                self.developer_name or "",
                developer_id=self.developer_id,
                user_id=self.user_id,
            )
        if self.bank_id is not None:  # bank staff read as their bank (its API key's view), nothing more
            return Principal(
                "bank", self.bank_id, self.bank_name or "", bank_id=self.bank_id, user_id=self.user_id
            )
        return Principal("user", self.user_id, self.username, role=self.role, user_id=self.user_id)


def session_key(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def check_password(
    uow: UnitOfWork, username: str, password: str, now: datetime, hasher: PasswordHasher | None = None
) -> User:
    """The user, or Refusal. Counts failures and locks the account after MAX_FAILURES; the caller commits
    in both cases (a refusal still records the failure).

    Every path costs exactly one argon2 verification (an unknown, disabled or locked user's against a dummy
    hash: escrow.services.passwords), so that the answer's time does not tell which user names exist. A
    hash made with other parameters than the hasher's is replaced on a successful sign-in."""
    hasher = hasher or passwords.DEFAULT_HASHER
    user = uow.parties.user_by_name(username.strip())
    if user is None or not user.active or not user.password_hash:
        passwords.verify(hasher, None, password)  # same work either way
        raise Refusal("bad_credentials")
    if user.locked_until is not None and _aware(user.locked_until) > now:
        passwords.verify(hasher, None, password)
        raise Refusal("locked", user.locked_until)
    if not passwords.verify(hasher, user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCK_FOR
            user.failed_logins = 0
            uow.web_sessions.delete_for_user(user.id)
            audit.record(
                uow.session,
                actor=f"user:{user.id}",
                action="user.locked",
                subject_type="user",
                subject_id=user.username,
                after={"locked_until": user.locked_until.isoformat()},
            )
            uow.session.flush()
            raise Refusal("locked", user.locked_until)
        uow.session.flush()
        raise Refusal("bad_credentials")
    user.failed_logins = 0
    user.locked_until = None
    rehashed = passwords.upgraded(hasher, user.password_hash, password)
    if rehashed is not None:  # older or weaker parameters than the hasher's: bring the hash up to date
        user.password_hash = rehashed
    uow.session.flush()
    return user


def start_session(uow: UnitOfWork, user: User, lang: str, now: datetime) -> str:
    """A new session (a new id at every sign-in: no fixation). Returns the cookie value."""
    cookie = secrets.token_urlsafe(32)
    data = {"lang": lang, "signed_in_at": now.isoformat(), "touched_at": now.isoformat()}
    uow.session.add(
        WebSession(
            key=session_key(cookie),
            user_id=user.id,
            data=json.dumps(data).encode(),
            expires_at=now + IDLE_TIMEOUT,
        )
    )
    audit.record(
        uow.session,
        actor=f"user:{user.id}",
        action="user.signed_in",
        subject_type="user",
        subject_id=user.username,
    )
    uow.session.flush()
    return cookie


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive timestamps (stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_session(uow: UnitOfWork, cookie: str, now: datetime) -> tuple[SignedIn | None, bool]:
    """The signed-in user of a cookie and whether the session just expired (to say so on the login page).
    Slides the idle expiry; the caller commits."""
    row = uow.web_sessions.get(session_key(cookie))
    if row is None:
        return None, False
    data = json.loads(row.data)
    signed_in_at = datetime.fromisoformat(data["signed_in_at"])
    user = uow.session.get(User, row.user_id)
    expired = _aware(row.expires_at) <= now or now - signed_in_at >= MAX_LIFETIME
    if expired or user is None or not user.active or (user.locked_until and _aware(user.locked_until) > now):
        uow.web_sessions.delete(row.key)
        return None, expired
    touched_at = datetime.fromisoformat(data["touched_at"])
    if now - touched_at >= TOUCH_EVERY:
        data["touched_at"] = now.isoformat()
        row.data = json.dumps(data).encode()
        row.expires_at = now + IDLE_TIMEOUT
    developer = uow.session.get(Developer, user.developer_id) if user.developer_id else None
    bank = uow.parties.bank(user.bank_id) if user.bank_id else None
    return (
        SignedIn(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name or user.username,
            role=user.role,
            developer_id=user.developer_id,
            developer_name=developer.name if developer else None,
            lang=data.get("lang", "zh"),
            signed_in_at=signed_in_at,
            bank_id=user.bank_id,
            bank_name=bank.name if bank else None,
            unread=notifications.unread(uow, user.id),
        ),
        False,
    )


def set_language(uow: UnitOfWork, cookie: str, lang: str) -> None:
    row = uow.web_sessions.get(session_key(cookie))
    if row is not None:
        data = json.loads(row.data)
        data["lang"] = lang
        row.data = json.dumps(data).encode()


def end_session(uow: UnitOfWork, cookie: str) -> None:
    uow.web_sessions.delete(session_key(cookie))


def purge(uow: UnitOfWork, now: datetime) -> int:
    return uow.web_sessions.purge(now)


# --- the use cases the web's sign-in and session guard call ------------------------------------------------


@dataclass(frozen=True)
class Started:
    cookie: str  # the session's random id, for the cookie
    role: str


def sign_in(
    ctx: Context,
    username: str,
    password: str,
    lang: str,
    now: datetime,
    client: str | None = None,
    limit: ratelimit.Limit | None = None,
) -> Started:
    """A new session for the right password, or Refusal; a refusal still records the failed attempt.

    With a `limit`, failed sign-ins are also counted per client address (`client`, as resolved behind the
    trusted proxies) in the database, so that every worker shares the count: past `limit.failures` in the
    window, every sign-in from that address is refused as `too_many` without a password being checked,
    until the window ends. Each attempt counts as failed before its password is checked (one atomic
    statement, so concurrent attempts cannot slip through) and is taken back when it succeeds."""
    with ctx.writing() as uow:
        counted = None
        if limit is not None:
            key = ratelimit.client_key(ratelimit.SIGN_IN, client)
            counted = ratelimit.hit(uow.session.connection(), key, limit, failed=True, now=now)
        if counted is not None and counted.limited:
            uow.commit()
            refusal = Refusal("too_many", retry_after=counted.retry_after)
        else:
            try:
                user = check_password(uow, username, password, now, ctx.hasher)
            except Refusal as refused:
                uow.commit()
                refusal = refused  # raised outside: the context manager cannot annotate a frozen exception
            else:
                if counted is not None:
                    ratelimit.forgive(uow, key, counted.window_start)
                return ctx.commit(uow, Started(start_session(uow, user, lang, now), user.role))
    raise refusal


def sign_out(ctx: Context, cookie: str) -> None:
    with ctx.writing() as uow:
        end_session(uow, cookie)
        ctx.commit(uow, None)


@dataclass(frozen=True)
class Visit:
    """Who a session cookie signs in (None if nobody), and whether its session just expired."""

    user: SignedIn | None
    expired: bool


def visit(ctx: Context, cookie: str, now: datetime, lang: str | None = None) -> Visit:
    """The session of a cookie on a request: slides its idle expiry, and keeps a language switched to with
    `lang` for the rest of the session."""
    with ctx.writing() as uow:
        found, expired = load_session(uow, cookie, now)
        if found is not None and lang and lang != found.lang:
            set_language(uow, cookie, lang)
        return ctx.commit(uow, Visit(found, expired))
