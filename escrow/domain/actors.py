"""Who an audit event names as its actor, read back from the stored reference (`Principal.ref`, or the
scheduler's and the command line's own): the kind of party and its ids, so that the edges can say it in words
(escrow.catalog.actors) after one batch look-up of the names (escrow.store.reads.actors)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = re.compile(r"^([a-z_]+):([A-Za-z0-9_]+)$")


@dataclass(frozen=True)
class ActorRef:
    """kind: user | bank | developer | system | operator | public | unknown. `id` is the party's row id (for
    a developer's staff member signed in to the portal, the developer's; `user_id` names the person)."""

    kind: str
    id: int | None = None
    user_id: int | None = None
    detail: str = ""  # what names a system actor (`scheduler`), or the unreadable reference itself


def parse_ref(ref: str | None) -> ActorRef:
    """ "user:5" → user 5; "developer:3/user:7" → developer 3's staff member 7; "system:scheduler" → the
    scheduler; "public" → the public. Anything else is `unknown` (never an error: it is only read)."""
    text = (ref or "").strip()
    if text == "public" or text.startswith("public:"):
        return ActorRef("public")
    parts = [_PART.match(p) for p in text.split("/")]
    if not text or not all(parts):
        return ActorRef("unknown", detail=text)
    kind, key = parts[0].group(1), parts[0].group(2)  # type: ignore[union-attr]
    if kind in ("system", "operator"):
        return ActorRef(kind, detail="" if key == "0" else key)
    if kind not in ("user", "bank", "developer") or not key.isdigit():
        return ActorRef("unknown", detail=text)
    user_id = None
    if len(parts) == 2 and parts[1].group(1) == "user" and parts[1].group(2).isdigit():  # type: ignore[union-attr]
        user_id = int(parts[1].group(2))  # type: ignore[union-attr]
    elif len(parts) > 1:
        return ActorRef("unknown", detail=text)
    return ActorRef(kind, int(key), user_id)
