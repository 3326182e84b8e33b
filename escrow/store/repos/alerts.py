"""Alerts, as the sweep and the bureau change them. Rows about to change are read under a row lock on
PostgreSQL (and re-read, replacing stale copies in the session), so that a sweep and a person acting on the
same alert take turns; SQLite's write transaction is exclusive already."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, insert, select

from escrow.store.models import Alert
from escrow.store.reads.alerts import AlertFilter, most_urgent_first
from escrow.store.repos.base import Repo, valid_id


class Alerts(Repo):
    def locked(self, alert_id: int) -> Alert | None:
        if not valid_id(alert_id):
            return None
        return next(iter(self._locked(select(Alert).where(Alert.id == alert_id))), None)

    def many_locked(self, ids: Iterable[int]) -> list[Alert]:
        """The alerts with these ids, in id order (the ones that do not exist are simply absent)."""
        wanted = [i for i in ids if valid_id(i)]
        return self._locked(select(Alert).where(self.among(Alert.id, wanted)).order_by(Alert.id))

    def matching_locked(self, f: AlertFilter, limit: int) -> list[Alert]:
        """The first `limit` alerts matching `f`, in the list's order (most urgent, then newest)."""
        return self._locked(select(Alert).where(*f.where()).order_by(*most_urgent_first()).limit(limit))

    def count_matching(self, f: AlertFilter) -> int:
        return self.session.scalar(select(func.count(Alert.id)).where(*f.where())) or 0

    def unresolved_locked(self, rules: Iterable[str]) -> list[Alert]:
        """The alerts of these rules that are not resolved."""
        return self._locked(select(Alert).where(Alert.rule.in_(list(rules)), Alert.state != "resolved"))

    def by_dedup_keys_locked(self, keys: list[str]) -> list[Alert]:
        return self._locked(select(Alert).where(self.among(Alert.dedup_key, keys)))

    def add_many(self, alerts: list[Alert]) -> list[Alert]:
        """Insert new alerts together (one bulk INSERT without RETURNING, which SQLite would do row by row)
        and read them back by their unique dedup keys, to learn their ids."""
        if not alerts:
            return []
        columns = [c.key for c in Alert.__table__.columns if c.key != "id"]
        self.session.execute(insert(Alert), [{c: getattr(a, c) for c in columns} for a in alerts])
        keys = [a.dedup_key for a in alerts]
        found = {
            a.dedup_key: a
            for a in self.session.scalars(select(Alert).where(self.among(Alert.dedup_key, keys)))
        }
        return [found[key] for key in keys]

    def count_unresolved(self) -> int:
        return self.session.scalar(select(func.count(Alert.id)).where(Alert.state != "resolved")) or 0

    def _locked(self, stmt) -> list[Alert]:
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return list(self.session.scalars(stmt.execution_options(populate_existing=True)))
