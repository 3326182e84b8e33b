"""Who is acting: a bank, a developer, a bureau user, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass

BUREAU_ROLES = ("reviewer", "approver", "director", "inspector", "auditor", "admin")
DEVELOPER_STAFF = "developer"  # users bound to a developer: they act for it
BANK_STAFF = "bank"  # users bound to a supervising bank: they read its accounts (the bank portal)
USER_ROLES = (*BUREAU_ROLES, DEVELOPER_STAFF, BANK_STAFF)


@dataclass(frozen=True)
class Principal:
    kind: str  # bank | developer | user | system
    id: int
    name: str
    role: str | None = None  # for users
    bank_id: int | None = None
    developer_id: int | None = None
    user_id: int | None = None
    key_id: int | None = None  # the API key authenticated by, if any: a deposit re-checks it is unrevoked

    @property
    def ref(self) -> str:
        """A stable name for idempotency records and the audit trail. A developer's staff member signed in
        to the web UI acts for the developer and is named too; so is a bank's staff member."""
        if self.kind in ("developer", "bank") and self.user_id is not None:
            return f"{self.kind}:{self.id}/user:{self.user_id}"
        return f"{self.kind}:{self.id}"

    @property
    def is_bureau(self) -> bool:
        return self.kind == "user" and self.role in BUREAU_ROLES and self.developer_id is None

    def has_role(self, *roles: str) -> bool:
        return self.is_bureau and self.role in roles


SYSTEM = Principal(kind="system", id=0, name="system")
