"""One effect per idempotency key: the guard a write use case runs inside its own transaction.

The key is claimed by inserting its record in the use case's transaction, and the answer is stored in the
same transaction before the commit: two concurrent requests with one key produce one effect (the loser meets
the unique index, starts again and replays the winner's answer). A refusal raises before the commit, so
nothing is stored: it changed nothing, and a retry is judged afresh.

The answer is opaque here: the edge that made the guard says how a view is answered (`answer`), and gets back
exactly those bytes when the key is used again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from escrow.domain.errors import DomainError
from escrow.store.db import UnitOfWork


class KeyReused(DomainError):
    status = 422
    kind = "idempotency-key-reused"
    title = "Idempotency-Key reused"


class Replay(Exception):
    """The key was used before with the same request: here is what was answered then."""

    def __init__(self, code: int, body: bytes):
        super().__init__(code)
        self.code = code
        self.body = body


class ClaimLost(Exception):
    """A concurrent request claimed the key first; run again to replay its answer."""


@dataclass
class IdempotencyGuard:
    principal_ref: str
    key: str
    request_hash: str
    answer: Callable[[object], tuple[int, bytes]]  # a view → (the edge's answer code, its body)
    answered: tuple[int, bytes] | None = None
    _record_id: int | None = None

    def claim(self, uow: UnitOfWork) -> None:
        # the record inserted first, in one statement; looked at only when the key already has one
        self._record_id = uow.idempotency.insert_unless_held(self.principal_ref, self.key, self.request_hash)
        if self._record_id is not None:
            return
        existing = uow.idempotency.get(self.principal_ref, self.key)
        if existing is None:  # gone between the two statements (pruned): start again
            raise ClaimLost
        if existing.request_hash != self.request_hash:
            raise KeyReused("this Idempotency-Key was used with a different request body")
        raise Replay(existing.status_code, existing.response_body.encode())

    def keep(self, uow: UnitOfWork, view: object) -> None:
        assert self._record_id is not None, "keep() without claim()"
        code, body = self.answer(view)
        uow.idempotency.answer(self._record_id, code, body.decode())
        self.answered = (code, body)
