"""What if the live projects of a jurisdiction were under another version of their rule book?

Read-only: the same cap inputs (books, freezes, pending instructions, guarantees) are run through the pure
domain (`caps.node_release_figures`, the figures of `caps.release_cap` without its words) twice, once with
the retention rule of the project's pinned version and once with the chosen version's. Nothing is pinned,
recorded or written. The inputs of every account are read in a fixed number of queries (`uow.cap_figures`,
the same read the project's own cap makes for one account), not a few per project.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from escrow.domain import caps
from escrow.domain.errors import FieldError, InvalidInput
from escrow.domain.money import ZERO, from_fen
from escrow.domain.rulebook import SupervisedAmountRule
from escrow.rulebooks import RuleBook, version_key
from escrow.services.context import Context
from escrow.store.db import UnitOfWork
from escrow.store.reads.caps import LiveProject


@dataclass(frozen=True)
class Row:
    project_id: int
    name: str
    developer_name: str
    pinned: str  # rule book id the project is pinned to
    node_code: str | None  # highest confirmed node (None before the first)
    supervised_now: Decimal  # the project's key supervised amount
    supervised_then: Decimal  # what the chosen version's formula gives (= now where the formula is the same)
    retention_now: Decimal
    retention_then: Decimal
    releasable_now: Decimal
    releasable_then: Decimal

    @property
    def supervised_delta(self) -> Decimal:
        return self.supervised_then - self.supervised_now

    @property
    def retention_delta(self) -> Decimal:
        return self.retention_then - self.retention_now

    @property
    def releasable_delta(self) -> Decimal:
        return self.releasable_then - self.releasable_now


@dataclass(frozen=True)
class Difference:
    """One parameter that differs between two versions; `subject` names the node, finish or step."""

    kind: str  # node_retention | node_added | node_removed | surcharge | surcharge_until | guarantee_share
    #            | guarantee_full_amount | approval_chain | supervised_amount | credit_grade_factor
    subject: str = ""
    before: object = None
    after: object = None


@dataclass
class Comparison:
    book: RuleBook  # the chosen version
    rows: list[Row]  # projects pinned to another version, largest change first
    already: int  # live projects already pinned to the chosen version
    pinned: dict[str, int]  # rule book id → live projects pinned to it
    differences: dict[str, list[Difference]] = field(default_factory=dict)  # pinned id → vs the chosen one

    def total(self, name: str) -> Decimal:
        return sum((getattr(r, name) for r in self.rows), ZERO)


def versions(ctx: Context, jurisdiction: str) -> list[RuleBook]:
    """The loaded versions of a jurisdiction's rule book, oldest first."""
    return [b for b in ctx.rulebooks if b.jurisdiction == jurisdiction]


def choose(ctx: Context, jurisdiction: str, version: str) -> RuleBook:
    """The version asked for, or a field error naming what is wrong."""
    if jurisdiction not in ctx.rulebooks.jurisdictions():
        raise InvalidInput(
            f"no rule book for jurisdiction {jurisdiction!r}",
            errors=[FieldError("jurisdiction", "no such rule book")],
        )
    book = ctx.rulebooks.get(f"{jurisdiction}@{version}")
    if book is None:
        raise InvalidInput(
            f"{jurisdiction} has no rule book version {version!r}",
            errors=[FieldError("version", "no such version")],
        )
    return book


def newest(ctx: Context, jurisdiction: str) -> RuleBook | None:
    return max(
        versions(ctx, jurisdiction), key=lambda b: (b.effective_from, version_key(b.version)), default=None
    )


def live(ctx: Context, book: RuleBook) -> Comparison:
    """The live projects of `book`'s jurisdiction under `book`, against their pinned versions."""
    with ctx.reading() as uow:  # never committed: nothing of this view is kept
        return compare(uow, ctx, book)


def compare(uow: UnitOfWork, ctx: Context, book: RuleBook) -> Comparison:
    figures = uow.cap_figures
    live = figures.live_projects(book.jurisdiction)
    pinned: dict[str, int] = {}
    for project in live:
        pinned[project.rulebook_id] = pinned.get(project.rulebook_id, 0) + 1
    others = [p for p in live if p.rulebook_id != book.id]
    progress_of = figures.progress_of([p.id for p in others])
    inputs_of = figures.inputs(((p.account_id, p.supervised_amount_fen) for p in others), ctx.today())
    grades = uow.adoptions.credit_grades([p.id for p in others])
    rule_for = caps.RuleMemo()
    rows = []
    for project in others:
        current = ctx.rulebook(project.rulebook_id)
        inputs = inputs_of[project.account_id]
        progress = progress_of[project.id]
        supervised = key_amount_under(project, grades.get(project.id, ""), current, book)
        retention_now, releasable_now = caps.node_release_figures(
            inputs, rule_for(current, progress, project.finish)
        )
        retention_then, releasable_then = caps.node_release_figures(
            replace(inputs, supervised_amount=supervised), rule_for(book, progress, project.finish)
        )
        highest = current.highest_node(progress.everywhere)
        rows.append(
            Row(
                project_id=project.id,
                name=project.name,
                developer_name=project.developer_name,
                pinned=project.rulebook_id,
                node_code=highest.code if highest else None,
                supervised_now=inputs.supervised_amount,
                supervised_then=supervised,
                retention_now=retention_now,
                retention_then=retention_then,
                releasable_now=releasable_now,
                releasable_then=releasable_then,
            )
        )
    rows.sort(key=lambda r: (-abs(r.releasable_delta), -abs(r.retention_delta), r.project_id))
    differences = {
        book_id: differences_between(ctx.rulebook(book_id), book)
        for book_id in sorted(pinned)
        if book_id != book.id
    }
    return Comparison(
        book=book, rows=rows, already=pinned.get(book.id, 0), pinned=pinned, differences=differences
    )


def grade_factor(rule: SupervisedAmountRule, grade: str) -> Decimal:
    """The credit grade's factor; a grade the rule book does not name counts 1 (as at opening)."""
    return rule.credit_grade_factors.get(grade, Decimal("1"))


def key_amount_under(project: LiveProject, grade: str, current: RuleBook, book: RuleBook) -> Decimal:
    """The key supervised amount of `project` under `book`: its own where `book`'s formula gives this
    project what its pinned version's does, else what `book`'s formula gives
    (escrow.domain.caps.supervised_amount)."""
    own = from_fen(project.supervised_amount_fen)
    old, new = current.supervised_amount, book.supervised_amount
    if (old.cost_per_m2, old.coefficient, grade_factor(old, grade)) == (
        new.cost_per_m2,
        new.coefficient,
        grade_factor(new, grade),
    ):
        return own
    area = Decimal(project.presale_area_x100) / 100
    return caps.supervised_amount(new.cost_per_m2, area, new.coefficient, grade_factor(new, grade))


def differences_between(old: RuleBook, new: RuleBook) -> list[Difference]:
    """What the cap and the approvals see differently under `new` than under `old`."""
    found: list[Difference] = []
    old_nodes = {n.code: n for n in old.nodes}
    new_nodes = {n.code: n for n in new.nodes}
    for node in new.nodes:
        before = old_nodes.get(node.code)
        if before is None:
            found.append(Difference("node_added", node.code, None, node.retention))
        elif before.retention != node.retention:
            found.append(Difference("node_retention", node.code, before.retention, node.retention))
    found.extend(
        Difference("node_removed", n.code, n.retention, None) for n in old.nodes if n.code not in new_nodes
    )
    for finish in sorted(set(old.finish_surcharge) | set(new.finish_surcharge)):
        before, after = old.finish_surcharge.get(finish, ZERO), new.finish_surcharge.get(finish, ZERO)
        if before != after:
            found.append(Difference("surcharge", finish, before, after))
    if old.surcharge_until != new.surcharge_until:
        found.append(Difference("surcharge_until", "", old.surcharge_until, new.surcharge_until))
    if old.guarantee_max_share != new.guarantee_max_share:
        found.append(Difference("guarantee_share", "", old.guarantee_max_share, new.guarantee_max_share))
    if old.guarantee_requires_full_amount != new.guarantee_requires_full_amount:
        found.append(
            Difference(
                "guarantee_full_amount",
                "",
                old.guarantee_requires_full_amount,
                new.guarantee_requires_full_amount,
            )
        )
    chain = [(s.role, s.min_amount) for s in old.release.approval_chain]
    if chain != [(s.role, s.min_amount) for s in new.release.approval_chain]:
        found.append(Difference("approval_chain", "", old.release.approval_chain, new.release.approval_chain))
    formula = (old.supervised_amount.cost_per_m2, old.supervised_amount.coefficient)
    if formula != (new.supervised_amount.cost_per_m2, new.supervised_amount.coefficient):
        found.append(Difference("supervised_amount", "", old.supervised_amount, new.supervised_amount))
    old_factors, new_factors = (
        old.supervised_amount.credit_grade_factors,
        new.supervised_amount.credit_grade_factors,
    )
    for grade in sorted(set(old_factors) | set(new_factors)):
        before, after = grade_factor(old.supervised_amount, grade), grade_factor(new.supervised_amount, grade)
        if before != after:
            found.append(Difference("credit_grade_factor", grade, before, after))
    return found
