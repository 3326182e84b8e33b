"""The rule book model: one version of a city's policy as data (DESIGN.md §3).

Pure: the dataclasses a rule book version is made of, the vocabulary its fields may use, and the questions
the rest of the system asks of it (which node is the highest reached, what surcharge applies, which approval
steps an amount needs). Reading the TOML files, pinning a project to a version and refusing edited versions
live in `escrow.rulebooks`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

ROLES = ("reviewer", "approver", "director", "inspector", "auditor", "admin")
PAYEE_ROLES = ("construction", "equipment", "materials")
# A non-key release (非重点监管资金) may also pay the developer's own settlement account (national
# opinion 2022).
NON_KEY_PAYEE_ROLES = (*PAYEE_ROLES, "developer")
RELEASE_KINDS = ("node", "non_key")
# Outflows a court freeze does not stop (法〔2022〕12号 art. 2): bureau-approved construction progress
# payments (node releases) and buyer refunds; the bank pays them and reports them to the court.
FREEZE_EXEMPTIONS = ("node_release", "refund")
# What the guarantee's share is a share of: the key supervised amount (as hengshui@2024.1 words it) or the
# required retention (the national notice on guarantees: at least 70% of the retention stays in cash).
GUARANTEE_SHARE_BASES = ("supervised_amount", "required_retention")
FINISHES = ("shell", "finished")
SEVERITIES = ("block", "warn")
LIMITS = (
    "suspense_max_days",
    "instruction_max_working_days",
    "notice_overdue_days",
    "reversal_same_day",
    "bank_confirmation_days",  # from hengshui@2026.2: the bank confirms the tri-party agreement within this
)


@dataclass(frozen=True)
class Node:
    code: str
    name_zh: str
    name_en: str
    evidence: tuple[str, ...]
    retention: Decimal  # share of the key supervised amount that must stay once this node is reached


@dataclass(frozen=True)
class ApprovalStep:
    role: str
    label_zh: str
    label_en: str
    min_amount: Decimal | None = None  # the step applies only from this release amount on


@dataclass(frozen=True)
class CheckSpec:
    rule: str
    severity: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SupervisedAmountRule:
    cost_per_m2: Decimal
    coefficient: Decimal
    credit_grade_factors: dict[str, Decimal]


@dataclass(frozen=True)
class ReleasePolicy:
    required_documents: tuple[str, ...]
    payee_roles: tuple[str, ...]
    approval_chain: tuple[ApprovalStep, ...]
    distinct_people: bool


@dataclass(frozen=True)
class ChangePolicy:
    """Four eyes for a change that moves no money by itself (a key supervised amount change)."""

    approval_chain: tuple[ApprovalStep, ...]
    distinct_people: bool


@dataclass(frozen=True)
class FundPlanPolicy:
    """The fund demand plan (资金需求计划): who approves it, the step a release beyond it adds, and when the
    alerts speak (drawings ahead of the plan, construction behind it)."""

    approval_chain: tuple[ApprovalStep, ...]
    distinct_people: bool
    beyond_plan_step: ApprovalStep | None  # added to a release's chain when it goes beyond the plan
    ahead_tolerance: Decimal  # drawings beyond the plan to date by more than this share of it raise an alert
    behind_days: int  # a node planned for a month and unconfirmed this many days after it raises an alert


@dataclass(frozen=True)
class RuleBook:
    jurisdiction: str
    version: str
    title: str
    title_en: str
    effective_from: date
    supersedes: str | None
    note: str
    supervised_amount: SupervisedAmountRule
    nodes: tuple[Node, ...]
    finish_surcharge: dict[str, Decimal]
    surcharge_until: str  # the node from which on no surcharge applies
    release: ReleasePolicy
    deposit_checks: tuple[CheckSpec, ...]
    guarantee_max_share: Decimal
    guarantee_requires_full_amount: bool
    court_deduction_before_registration: str  # "forbidden_within_key_amount" | "allowed"
    court_deduction_exceptions: tuple[str, ...]
    refund_requires_contract_record: bool
    limits: dict[str, int]
    path: str
    sha256: str
    # Stated from hengshui@2026.1 on; a version that does not state them keeps the behaviour it was
    # published with: no non-key releases, the guarantee share of the key amount, no freeze exemption.
    non_key_release: ReleasePolicy | None = None
    guarantee_share_of: str = "supervised_amount"
    freeze_exempt: tuple[str, ...] = ()
    # Stated from hengshui@2026.2 on; an earlier version supervises the project as one building, changes
    # the key amount and approves a fund plan along its base release chain (reviewer → approver).
    by_building: bool = False
    supervised_amount_change: ChangePolicy | None = None
    fund_plan: FundPlanPolicy | None = None

    @property
    def id(self) -> str:
        return f"{self.jurisdiction}@{self.version}"

    def node(self, code: str) -> Node | None:
        return next((n for n in self.nodes if n.code == code), None)

    def node_index(self, code: str) -> int:
        return next(i for i, n in enumerate(self.nodes) if n.code == code)

    def unconfirmed_before(self, code: str, confirmed: Collection[str]) -> tuple[Node, ...]:
        """The nodes before `code` that are not confirmed yet: a node is confirmed only after all of them."""
        return tuple(n for n in self.nodes[: self.node_index(code)] if n.code not in confirmed)

    def highest_node(self, confirmed: set[str] | frozenset[str]) -> Node | None:
        reached = [n for n in self.nodes if n.code in confirmed]
        return reached[-1] if reached else None

    def surcharge_for(self, node: Node | None, finish: str) -> Decimal:
        """Surcharge on the retention share: applies to every node before `surcharge_until`."""
        if node is None:
            return Decimal("0")
        if self.node_index(node.code) >= self.node_index(self.surcharge_until):
            return Decimal("0")
        return self.finish_surcharge.get(finish, Decimal("0"))

    @property
    def registration_node(self) -> str:
        """The node that marks first registration: `first_registration` by its code, else the node from which
        the finish surcharge stops (the rule book defines that one as first registration)."""
        return "first_registration" if self.node("first_registration") else self.surcharge_until

    def release_policy(self, kind: str = "node") -> ReleasePolicy | None:
        """The policy of a release of `kind` (None: this version has no such release)."""
        return self.non_key_release if kind == "non_key" else self.release

    def approval_steps_for(self, amount: Decimal, kind: str = "node") -> tuple[ApprovalStep, ...]:
        policy = self.release_policy(kind) or self.release
        return tuple(s for s in policy.approval_chain if s.min_amount is None or amount >= s.min_amount)

    def to_json(self) -> dict[str, Any]:
        """The parsed rule book as plain JSON values (decimals as strings)."""

        def plain(value: Any) -> Any:
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if hasattr(value, "__dataclass_fields__"):
                return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__}
            return value

        data = plain(self)
        data["id"] = self.id
        return data


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """Order versions naturally: 2024.9 before 2024.10."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.split("."))
