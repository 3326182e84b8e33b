"""An audit actor or a decider in words: a person by name and role ("张伟（审批人）"), a bank or developer by
its name, the system by what it was doing ("系统（定时任务）"). The names come from one batch look-up
(escrow.store.reads.actors); the reference is read by escrow.domain.actors. A reference no row answers for
is said as an unknown party of its kind, never as its code."""

from __future__ import annotations

from collections.abc import Mapping

from escrow.catalog import N_, Gettext
from escrow.catalog.words import ROLE_NAMES, named
from escrow.domain.actors import ActorRef, parse_ref

PERSON = N_("%(name)s (%(role)s)")
STAFF_OF = N_("%(name)s (%(developer)s)")
SYSTEM = N_("The system")
SYSTEM_DOING = {"scheduler": N_("The system (scheduled job)")}
OPERATOR = N_("The operator (command line)")
PUBLIC = N_("The public (without signing in)")
UNKNOWN = {
    "user": N_("A user no longer on record"),
    "bank": N_("A bank no longer on record"),
    "developer": N_("A developer no longer on record"),
    "unknown": N_("An unrecognised party"),
}


def person_words(_: Gettext, name: str, role: str | None) -> str:
    """A person by name and role word: "张伟（审批人）" / "Zhang Wei (Approver)"."""
    return _(PERSON, name=name, role=named(_, ROLE_NAMES, role)) if role else name


def actor_words(_: Gettext, ref: str | ActorRef | None, names: Mapping[tuple[str, int], object]) -> str:
    """`ref` (a stored actor reference or its parsed form) in words, from `names` (kind, id) → PartyName."""
    actor = ref if isinstance(ref, ActorRef) else parse_ref(ref)
    if actor.kind == "system":
        return _(SYSTEM_DOING[actor.detail]) if actor.detail in SYSTEM_DOING else _(SYSTEM)
    if actor.kind == "operator":
        return _(OPERATOR)
    if actor.kind == "public":
        return _(PUBLIC)
    if actor.kind == "unknown" or actor.id is None:
        return _(UNKNOWN["unknown"])
    party = names.get((actor.kind, actor.id))
    if party is None:
        return _(UNKNOWN[actor.kind])
    if actor.kind == "user":
        return person_words(_, party.name, party.role)  # type: ignore[attr-defined]
    if actor.kind == "developer" and actor.user_id is not None:
        staff = names.get(("user", actor.user_id))
        if staff is not None:
            return _(STAFF_OF, name=staff.name, developer=party.name)  # type: ignore[attr-defined]
    return party.name  # type: ignore[attr-defined]
