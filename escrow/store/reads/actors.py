"""The names behind audit actors and deciders: every user, bank and developer a page names, in one query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, literal, null, select, union_all

from escrow.domain.actors import ActorRef
from escrow.store.models import Bank, Developer, User
from escrow.store.repos.base import Reads


@dataclass(frozen=True)
class PartyName:
    """A party as people know it: a person's display name (their login name if none) and role, or a bank's
    or developer's registered name (role None)."""

    name: str
    role: str | None = None
    login: str | None = None  # a person's username


Names = dict[tuple[str, int], PartyName]  # ("user" | "bank" | "developer", id) → name


class Actors(Reads):
    def names(self, refs: Iterable[ActorRef]) -> Names:
        """The names of every party the references name, in ONE statement (whatever their number)."""
        wanted: dict[str, set[int]] = {"user": set(), "bank": set(), "developer": set()}
        for ref in refs:
            if ref.kind in wanted and ref.id is not None:
                wanted[ref.kind].add(ref.id)
            if ref.user_id is not None:
                wanted["user"].add(ref.user_id)
        parts = []
        if wanted["user"]:
            person = func.coalesce(func.nullif(User.display_name, ""), User.username)
            parts.append(
                select(
                    literal("user").label("kind"), User.id, person.label("name"), User.role, User.username
                ).where(self.among(User.id, wanted["user"]))
            )
        for kind, model in (("bank", Bank), ("developer", Developer)):
            if wanted[kind]:
                parts.append(
                    select(
                        literal(kind).label("kind"), model.id, model.name, null().label("role"), null()
                    ).where(self.among(model.id, wanted[kind]))
                )
        if not parts:
            return {}
        query = parts[0] if len(parts) == 1 else union_all(*parts)
        rows = self.session.execute(query)
        return {(kind, id_): PartyName(name, role, login) for kind, id_, name, role, login in rows}
