"""Server-side sessions of the web UI."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from escrow.store.models import WebSession
from escrow.store.repos.base import Repo


class WebSessions(Repo):
    """Server-side sessions of the web UI, keyed by the SHA-256 of the cookie's random id."""

    def get(self, key: str) -> WebSession | None:
        return self.session.get(WebSession, key)

    def delete(self, key: str) -> None:
        self.session.execute(delete(WebSession).where(WebSession.key == key))

    def delete_for_user(self, user_id: int) -> None:
        """Every session of one user (sign-out everywhere when an account is locked or disabled)."""
        self.session.execute(delete(WebSession).where(WebSession.user_id == user_id))

    def purge(self, before: datetime) -> int:
        return self.session.execute(delete(WebSession).where(WebSession.expires_at < before)).rowcount
