"""Reading rule book versions: one TOML file per version (rules/<jurisdiction>/<version>.toml).

`parse` turns one file into the domain model (`escrow.domain.rulebook.RuleBook`), validating every key (errors
name the file, the key and the reason); `load_dir` reads every version under a directory and checks that what
a version supersedes exists. The sha256 of each file's bytes is kept on the book, so that a published version
can be checked against the hash recorded when it was first used (`escrow.rulebooks.pinning`).
"""

from __future__ import annotations

import hashlib
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from escrow.domain import checks
from escrow.domain.rulebook import (
    FINISHES,
    FREEZE_EXEMPTIONS,
    GUARANTEE_SHARE_BASES,
    LIMITS,
    NON_KEY_PAYEE_ROLES,
    PAYEE_ROLES,
    ROLES,
    SEVERITIES,
    ApprovalStep,
    ChangePolicy,
    CheckSpec,
    FundPlanPolicy,
    Node,
    ReleasePolicy,
    RuleBook,
    SupervisedAmountRule,
)
from escrow.rulebooks.pinning import RuleBooks
from escrow.rulebooks.reader import RuleBookError, TomlReader


def parse(
    text: bytes, *, file: str, jurisdiction_hint: str | None = None, version_hint: str | None = None
) -> RuleBook:
    r = TomlReader(file)
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
            "non_key_release",
            "deposit_checks",
            "guarantee",
            "freeze",
            "refund",
            "limits",
            "buildings",
            "supervised_amount_change",
            "fund_plan",
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

    release = _release_policy(r, r.table(data, "release"), "release", PAYEE_ROLES)
    nk = r.table(data, "non_key_release", required=False)
    non_key = _release_policy(r, nk, "non_key_release", NON_KEY_PAYEE_ROLES) if nk else None

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
    r.only(g, "guarantee", {"max_share", "requires_full_amount", "share_of"})
    share_of = r.string(g, "guarantee.share_of", required=False, default="supervised_amount")
    if share_of not in GUARANTEE_SHARE_BASES:
        raise r.fail("guarantee.share_of", f"must be one of {', '.join(GUARANTEE_SHARE_BASES)}")
    fr = r.table(data, "freeze")
    r.only(fr, "freeze", {"court_deduction_before_registration", "deduction_exceptions", "exempt"})
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

    bl = r.table(data, "buildings", required=False)
    r.only(bl, "buildings", {"supervise_by_building"})
    sac = r.table(data, "supervised_amount_change", required=False)
    fp = r.table(data, "fund_plan", required=False)

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
        non_key_release=non_key,
        guarantee_share_of=share_of,
        freeze_exempt=r.strings(fr, "freeze.exempt", allowed=FREEZE_EXEMPTIONS) if "exempt" in fr else (),
        by_building=r.boolean(bl, "buildings.supervise_by_building", False),
        supervised_amount_change=_change_policy(r, sac) if sac else None,
        fund_plan=_fund_plan_policy(r, fp) if fp else None,
    )


def _chain(r: TomlReader, table: dict, name: str) -> tuple[ApprovalStep, ...]:
    chain = tuple(
        _step(r, raw, f"{name}.approval_chain[{i}]")
        for i, raw in enumerate(r.array_of_tables(table, f"{name}.approval_chain"))
    )
    if not chain:
        raise r.fail(f"{name}.approval_chain", "at least one step is needed")
    return chain


def _step(r: TomlReader, raw: dict, key: str) -> ApprovalStep:
    r.only(raw, key, {"role", "label_zh", "label_en", "min_amount"})
    role = r.string(raw, f"{key}.role")
    if role not in ROLES:
        raise r.fail(f"{key}.role", f"{role!r} is not one of {', '.join(ROLES)}")
    min_amount = r.decimal(raw, f"{key}.min_amount", lo=Decimal("0")) if "min_amount" in raw else None
    return ApprovalStep(role, r.string(raw, f"{key}.label_zh"), r.string(raw, f"{key}.label_en"), min_amount)


def _change_policy(r: TomlReader, table: dict) -> ChangePolicy:
    name = "supervised_amount_change"
    r.only(table, name, {"approval_chain", "distinct_people"})
    return ChangePolicy(_chain(r, table, name), r.boolean(table, f"{name}.distinct_people", True))


def _fund_plan_policy(r: TomlReader, table: dict) -> FundPlanPolicy:
    name = "fund_plan"
    r.only(
        table,
        name,
        {"approval_chain", "distinct_people", "beyond_plan_step", "ahead_tolerance", "behind_days"},
    )
    extra = r.table(table, f"{name}.beyond_plan_step", required=False)
    behind = table.get("behind_days", 30)
    if not isinstance(behind, int) or isinstance(behind, bool) or behind < 0:
        raise r.fail(f"{name}.behind_days", "must be a whole number ≥ 0")
    return FundPlanPolicy(
        approval_chain=_chain(r, table, name),
        distinct_people=r.boolean(table, f"{name}.distinct_people", True),
        beyond_plan_step=_step(r, extra, f"{name}.beyond_plan_step") if extra else None,
        ahead_tolerance=r.decimal(table, f"{name}.ahead_tolerance", lo=Decimal("0"), hi=Decimal("10"))
        if "ahead_tolerance" in table
        else Decimal("0"),
        behind_days=behind,
    )


def _release_policy(r: TomlReader, table: dict, name: str, roles: tuple[str, ...]) -> ReleasePolicy:
    """A release policy table: `[release]` (node releases) or `[non_key_release]`."""
    r.only(table, name, {"required_documents", "payee_roles", "approval_chain", "distinct_people"})
    chain = [
        _step(r, raw, f"{name}.approval_chain[{i}]")
        for i, raw in enumerate(r.array_of_tables(table, f"{name}.approval_chain"))
    ]
    payee_roles = r.strings(table, f"{name}.payee_roles", allowed=roles)
    if not payee_roles:
        raise r.fail(f"{name}.payee_roles", "at least one payee role is needed")
    return ReleasePolicy(
        required_documents=r.strings(table, f"{name}.required_documents"),
        payee_roles=payee_roles,
        approval_chain=tuple(chain),
        distinct_people=r.boolean(table, f"{name}.distinct_people", True),
    )


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
