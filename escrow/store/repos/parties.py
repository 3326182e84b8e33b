"""Banks, developers, users and API keys."""

from __future__ import annotations

from escrow.store.models import ApiKey, Bank, Developer, User
from escrow.store.repos.base import Repo


class Parties(Repo):
    def bank(self, bank_id: int) -> Bank | None:
        return self.session.get(Bank, bank_id)

    def bank_by_code(self, code: str) -> Bank | None:
        return self.one_of(Bank, Bank.code == code)

    def developer_by_code(self, credit_code: str) -> Developer | None:
        return self.one_of(Developer, Developer.credit_code == credit_code)

    def user(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def user_by_name(self, username: str) -> User | None:
        return self.one_of(User, User.username == username)

    def key_by_prefix(self, prefix: str) -> ApiKey | None:
        return self.one_of(ApiKey, ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))

    def key_named(self, prefix: str) -> ApiKey | None:
        """A key by its prefix, revoked or not (revoking it from the command line)."""
        return self.one_of(ApiKey, ApiKey.prefix == prefix)

    def key(self, key_id: int) -> ApiKey | None:
        """A key by its id, revoked or not (revoking it)."""
        return self.session.get(ApiKey, key_id)
