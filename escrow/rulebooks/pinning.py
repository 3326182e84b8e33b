"""The rule book versions found under a directory: pinning a project to the version in force on its permit
date, and checking that no published version was edited since its hash was recorded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from escrow.domain.rulebook import RuleBook, version_key


class RuleBooks:
    """Every rule book version found under a directory."""

    def __init__(self, books: list[RuleBook], root: Path):
        self.root = root
        self._by_id = {b.id: b for b in books}

    def __iter__(self):
        return iter(
            sorted(
                self._by_id.values(), key=lambda b: (b.jurisdiction, b.effective_from, version_key(b.version))
            )
        )

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, book_id: str) -> RuleBook | None:
        return self._by_id.get(book_id)

    def jurisdictions(self) -> set[str]:
        return {b.jurisdiction for b in self._by_id.values()}

    def in_force(self, jurisdiction: str, on: date) -> RuleBook | None:
        """The version a project with permit date `on` is pinned to: the latest that took effect by then."""
        candidates = [
            b for b in self._by_id.values() if b.jurisdiction == jurisdiction and b.effective_from <= on
        ]
        return max(candidates, key=lambda b: (b.effective_from, version_key(b.version)), default=None)

    def changed_since_published(self, recorded: dict[str, str]) -> list[str]:
        """Published versions (id → recorded hash) whose file changed or disappeared, as sentences."""
        problems = []
        for book_id, digest in sorted(recorded.items()):
            book = self._by_id.get(book_id)
            if book is None:
                problems.append(f"{book_id}: published version is missing from {self.root}")
            elif book.sha256 != digest:
                problems.append(
                    f"{book.path}: published version {book_id} was edited (sha256 {book.sha256[:12]}…, "
                    f"recorded {digest[:12]}…); issue a new version instead"
                )
        return problems
