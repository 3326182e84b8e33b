"""Read queries of the administration pages (escrow.web.admin): users with the party they act for and their
last sign-in, API keys with whose they are, and the choices the forms offer. Nothing writes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from escrow.store.models import ApiKey, AuditEvent, Bank, Developer, User
from escrow.store.repos.base import Reads


class AdminReads(Reads):
    def users(self) -> list[tuple[User, str | None, str | None]]:
        """Every user with its developer's and bank's name (None for bureau users), by user name."""
        rows = self.session.execute(
            select(User, Developer.name, Bank.name)
            .outerjoin(Developer, Developer.id == User.developer_id)
            .outerjoin(Bank, Bank.id == User.bank_id)
            .order_by(User.username)
        ).all()
        return [(user, developer, bank) for user, developer, bank in rows]

    def last_sign_ins(self) -> dict[str, datetime]:
        """The latest recorded sign-in of each user name (the audit trail records each one)."""
        rows = self.session.execute(
            select(AuditEvent.subject_id, func.max(AuditEvent.occurred_at))
            .where(AuditEvent.subject_type == "user", AuditEvent.action == "user.signed_in")
            .group_by(AuditEvent.subject_id)
        ).all()
        return {username: moment for username, moment in rows}

    def api_keys(self) -> list[tuple[ApiKey, str | None, str | None, str | None]]:
        """Every API key, newest first, with the bank code, developer name or user name it acts as."""
        rows = self.session.execute(
            select(ApiKey, Bank.code, Developer.name, User.username)
            .outerjoin(Bank, Bank.id == ApiKey.bank_id)
            .outerjoin(Developer, Developer.id == ApiKey.developer_id)
            .outerjoin(User, User.id == ApiKey.user_id)
            .order_by(ApiKey.id.desc())
        ).all()
        return [(key, bank, developer, user) for key, bank, developer, user in rows]

    def banks(self) -> list[Bank]:
        return self.all_of(Bank, order_by=Bank.code)

    def developers(self) -> list[Developer]:
        return self.all_of(Developer, order_by=Developer.name)
