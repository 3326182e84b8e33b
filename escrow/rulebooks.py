"""Rule books: policy as data, one TOML file per version (rules/<jurisdiction>/<version>.toml).

This module loads and validates them (errors name the file, the key and the reason), pins a project to the
version in force on its permit date, and checks that a published version was never edited: the hash of each
version is recorded at first use, and a file whose content no longer matches is refused.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from escrow.domain import checks

ROLES = ("reviewer", "approver", "director", "inspector", "auditor", "admin")
PAYEE_ROLES = ("construction", "equipment", "materials")
FINISHES = ("shell", "finished")
SEVERITIES = ("block", "warn")
LIMITS = ("suspense_max_days", "instruction_max_working_days", "notice_overdue_days", "reversal_same_day")


class RuleBookError(ValueError):
    def __init__(self, file: str, key: str, reason: str):
        super().__init__(f"{file}: {key}: {reason}")
        self.file, self.key, self.reason = file, key, reason


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

    @property
    def id(self) -> str:
        return f"{self.jurisdiction}@{self.version}"

    def node(self, code: str) -> Node | None:
        return next((n for n in self.nodes if n.code == code), None)

    def node_index(self, code: str) -> int:
        return next(i for i, n in enumerate(self.nodes) if n.code == code)

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

    def approval_steps_for(self, amount: Decimal) -> tuple[ApprovalStep, ...]:
        return tuple(s for s in self.release.approval_chain if s.min_amount is None or amount >= s.min_amount)

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


# --- parsing -------------------------------------------------------------------------------------------


class _Reader:
    """Reads typed values out of parsed TOML, raising RuleBookError with the dotted key on any problem."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, key: str, reason: str) -> RuleBookError:
        return RuleBookError(self.file, key, reason)

    def table(self, data: dict, key: str, *, required: bool = True) -> dict:
        value = data.get(key.rsplit(".", 1)[-1])
        if value is None:
            if required:
                raise self.fail(key, "missing table")
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value

    def string(self, data: dict, key: str, *, required: bool = True, default: str = "") -> str:
        value = data.get(key.rsplit(".", 1)[-1])
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, "must be a non-empty string")
        return value

    def decimal(
        self, data: dict, key: str, *, lo: Decimal | None = None, hi: Decimal | None = None
    ) -> Decimal:
        value = data.get(key.rsplit(".", 1)[-1])
        if value is None:
            raise self.fail(key, "missing")
        if not isinstance(value, str):
            raise self.fail(key, 'must be a decimal written as a string, such as "0.70"')
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.fail(key, f"{value!r} is not a decimal number") from None
        if not number.is_finite():
            raise self.fail(key, f"{value!r} is not a finite number")
        if lo is not None and number < lo:
            raise self.fail(key, f"must be at least {lo}")
        if hi is not None and number > hi:
            raise self.fail(key, f"must be at most {hi}")
        return number

    def only(self, data: dict, key: str, allowed: set[str]) -> None:
        """Refuse keys the loader does not know: a misspelt key must not silently fall back to a default."""
        unknown = sorted(set(data) - allowed)
        if unknown:
            where = f"{key}.{unknown[0]}" if key else unknown[0]
            raise self.fail(where, f"unknown key (known here: {', '.join(sorted(allowed))})")

    def boolean(self, data: dict, key: str, default: bool) -> bool:
        value = data.get(key.rsplit(".", 1)[-1], default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def strings(self, data: dict, key: str, *, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = data.get(key.rsplit(".", 1)[-1], [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "must be a list of strings")
        if allowed is not None:
            for v in value:
                if v not in allowed:
                    raise self.fail(key, f"{v!r} is not one of {', '.join(allowed)}")
        return tuple(value)

    def array_of_tables(self, data: dict, key: str) -> list[dict]:
        value = data.get(key.rsplit(".", 1)[-1])
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "must be a non-empty array of tables")
        return value


def parse(
    text: bytes, *, file: str, jurisdiction_hint: str | None = None, version_hint: str | None = None
) -> RuleBook:
    r = _Reader(file)
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise r.fail("(file)", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise r.fail("(file)", f"malformed TOML: {exc}") from None

    r.only(
        data,
        "",
        {
            "rulebook",
            "supervised_amount",
            "nodes",
            "finish_surcharge",
            "release",
            "deposit_checks",
            "guarantee",
            "freeze",
            "refund",
            "limits",
        },
    )
    head = r.table(data, "rulebook")
    r.only(
        head,
        "rulebook",
        {"jurisdiction", "version", "title", "title_en", "effective_from", "supersedes", "note"},
    )
    jurisdiction = r.string(head, "rulebook.jurisdiction")
    version = r.string(head, "rulebook.version")
    if jurisdiction_hint and jurisdiction != jurisdiction_hint:
        raise r.fail(
            "rulebook.jurisdiction", f"{jurisdiction!r} does not match its folder {jurisdiction_hint!r}"
        )
    if version_hint and version != version_hint:
        raise r.fail("rulebook.version", f"{version!r} does not match the file name {version_hint!r}")
    effective_from = head.get("effective_from")
    # A TOML date-time is a datetime, which is also a date but cannot be compared with one.
    if not isinstance(effective_from, date) or isinstance(effective_from, datetime):
        raise r.fail("rulebook.effective_from", "must be a date such as 2024-01-01")
    supersedes = r.string(head, "rulebook.supersedes", required=False) or None

    sa = r.table(data, "supervised_amount")
    r.only(sa, "supervised_amount", {"cost_per_m2", "coefficient", "credit_grade_factors"})
    grades = r.table(sa, "supervised_amount.credit_grade_factors", required=False)
    supervised = SupervisedAmountRule(
        cost_per_m2=r.decimal(sa, "supervised_amount.cost_per_m2", lo=Decimal("0")),
        coefficient=r.decimal(sa, "supervised_amount.coefficient", lo=Decimal("0"), hi=Decimal("10")),
        credit_grade_factors={
            g: r.decimal(grades, f"supervised_amount.credit_grade_factors.{g}", lo=Decimal("0"))
            for g in grades
        },
    )

    nodes: list[Node] = []
    previous = Decimal("1")
    for i, raw in enumerate(r.array_of_tables(data, "nodes")):
        key = f"nodes[{i}]"
        r.only(raw, key, {"code", "name_zh", "name_en", "evidence", "retention"})
        code = r.string(raw, f"{key}.code")
        if any(n.code == code for n in nodes):
            raise r.fail(f"{key}.code", f"node {code!r} appears twice")
        retention = r.decimal(raw, f"{key}.retention", lo=Decimal("0"), hi=Decimal("1"))
        if retention > previous:
            raise r.fail(f"{key}.retention", "retention may not rise from one node to the next")
        previous = retention
        nodes.append(
            Node(
                code=code,
                name_zh=r.string(raw, f"{key}.name_zh"),
                name_en=r.string(raw, f"{key}.name_en"),
                evidence=r.strings(raw, f"{key}.evidence"),
                retention=retention,
            )
        )

    fs = r.table(data, "finish_surcharge")
    r.only(fs, "finish_surcharge", {*FINISHES, "until_node"})
    surcharge = {
        f: r.decimal(fs, f"finish_surcharge.{f}", lo=Decimal("0"), hi=Decimal("1")) for f in FINISHES
    }
    until = r.string(fs, "finish_surcharge.until_node")
    if until not in {n.code for n in nodes}:
        raise r.fail("finish_surcharge.until_node", f"{until!r} is not a node of this rule book")

    rel = r.table(data, "release")
    r.only(rel, "release", {"required_documents", "payee_roles", "approval_chain", "distinct_people"})
    chain: list[ApprovalStep] = []
    for i, raw in enumerate(r.array_of_tables(rel, "release.approval_chain")):
        key = f"release.approval_chain[{i}]"
        r.only(raw, key, {"role", "label_zh", "label_en", "min_amount"})
        role = r.string(raw, f"{key}.role")
        if role not in ROLES:
            raise r.fail(f"{key}.role", f"{role!r} is not one of {', '.join(ROLES)}")
        min_amount = r.decimal(raw, f"{key}.min_amount", lo=Decimal("0")) if "min_amount" in raw else None
        chain.append(
            ApprovalStep(role, r.string(raw, f"{key}.label_zh"), r.string(raw, f"{key}.label_en"), min_amount)
        )
    payee_roles = r.strings(rel, "release.payee_roles", allowed=PAYEE_ROLES)
    if not payee_roles:
        raise r.fail("release.payee_roles", "at least one payee role is needed")
    release = ReleasePolicy(
        required_documents=r.strings(rel, "release.required_documents"),
        payee_roles=payee_roles,
        approval_chain=tuple(chain),
        distinct_people=r.boolean(rel, "release.distinct_people", True),
    )

    specs: list[CheckSpec] = []
    for i, raw in enumerate(r.array_of_tables(data, "deposit_checks")):
        key = f"deposit_checks[{i}]"
        r.only(raw, key, {"rule", "severity", "params"})
        rule = r.string(raw, f"{key}.rule")
        if rule not in checks.REGISTRY:
            raise r.fail(
                f"{key}.rule", f"no check named {rule!r} (known: {', '.join(sorted(checks.REGISTRY))})"
            )
        severity = r.string(raw, f"{key}.severity")
        if severity not in SEVERITIES:
            raise r.fail(f"{key}.severity", "must be block or warn")
        params = r.table(raw, f"{key}.params", required=False)
        unknown = set(params) - set(checks.PARAMS[rule])
        if unknown:
            raise r.fail(f"{key}.params", f"{rule} takes no parameter {', '.join(sorted(unknown))}")
        for name, value in params.items():
            expected = checks.PARAMS[rule][name]
            if type(value) is not expected or (expected is int and value < 0):
                raise r.fail(
                    f"{key}.params.{name}",
                    f"must be {'true or false' if expected is bool else 'a whole number ≥ 0'}",
                )
        specs.append(CheckSpec(rule, severity, dict(params)))

    g = r.table(data, "guarantee")
    r.only(g, "guarantee", {"max_share", "requires_full_amount"})
    fr = r.table(data, "freeze")
    r.only(fr, "freeze", {"court_deduction_before_registration", "deduction_exceptions"})
    deduction = r.string(fr, "freeze.court_deduction_before_registration")
    if deduction not in ("forbidden_within_key_amount", "allowed"):
        raise r.fail(
            "freeze.court_deduction_before_registration", "must be forbidden_within_key_amount or allowed"
        )
    rf = r.table(data, "refund", required=False)
    r.only(rf, "refund", {"requires_contract_record"})
    limits_raw = r.table(data, "limits", required=False)
    r.only(limits_raw, "limits", set(LIMITS))
    limits = {}
    for k, v in limits_raw.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise r.fail(f"limits.{k}", "must be a whole number ≥ 0")
        limits[k] = v

    return RuleBook(
        jurisdiction=jurisdiction,
        version=version,
        title=r.string(head, "rulebook.title"),
        title_en=r.string(head, "rulebook.title_en", required=False),
        effective_from=effective_from,
        supersedes=supersedes,
        note=r.string(head, "rulebook.note", required=False),
        supervised_amount=supervised,
        nodes=tuple(nodes),
        finish_surcharge=surcharge,
        surcharge_until=until,
        release=release,
        deposit_checks=tuple(specs),
        guarantee_max_share=r.decimal(g, "guarantee.max_share", lo=Decimal("0"), hi=Decimal("1")),
        guarantee_requires_full_amount=r.boolean(g, "guarantee.requires_full_amount", True),
        court_deduction_before_registration=deduction,
        court_deduction_exceptions=r.strings(fr, "freeze.deduction_exceptions", allowed=PAYEE_ROLES),
        refund_requires_contract_record=r.boolean(rf, "refund.requires_contract_record", True),
        limits=limits,
        path=file,
        sha256=hashlib.sha256(text).hexdigest(),
    )


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """Order versions naturally: 2024.9 before 2024.10."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.split("."))


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


def load_dir(root: Path) -> RuleBooks:
    if not root.is_dir():
        raise RuleBookError(str(root), "(directory)", "rule book directory not found")
    books: list[RuleBook] = []
    for path in sorted(root.glob("*/*.toml")):
        books.append(
            parse(
                path.read_bytes(), file=str(path), jurisdiction_hint=path.parent.name, version_hint=path.stem
            )
        )
    if not books:
        raise RuleBookError(
            str(root), "(directory)", "no rule books (expected <jurisdiction>/<version>.toml)"
        )
    ids = {b.id for b in books}
    for b in books:
        if b.supersedes and f"{b.jurisdiction}@{b.supersedes}" not in ids:
            raise RuleBookError(b.path, "rulebook.supersedes", f"no version {b.supersedes!r} to supersede")
    return RuleBooks(books, root)
