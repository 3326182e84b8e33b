"""Rule books: loading and validating TOML, pinning by permit date, refusing edited versions (DESIGN §3)."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from escrow.domain import checks
from escrow.rulebooks import RuleBook, RuleBookError, RuleBooks, load_dir, parse

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "rules"
SHIPPED_2024 = SHIPPED / "hengshui" / "2024.1.toml"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
TEXT_2024 = SHIPPED_2024.read_text(encoding="utf-8")

NODE_CODES = ("half_structure", "topped_out", "completion_report", "completion_filed", "first_registration")


@pytest.fixture(scope="module")
def shipped() -> RuleBooks:
    return load_dir(SHIPPED)


@pytest.fixture(scope="module")
def book(shipped: RuleBooks) -> RuleBook:
    b = shipped.get("hengshui@2024.1")
    assert b is not None
    return b


# --- the shipped Hengshui rule book -------------------------------------------------------------------


def test_shipped_hengshui_identity(book: RuleBook) -> None:
    assert book.id == "hengshui@2024.1"
    assert book.jurisdiction == "hengshui"
    assert book.version == "2024.1"
    assert book.effective_from == date(2024, 1, 1)
    assert book.supersedes is None
    assert "衡水市商品房预售资金监督管理办法" in book.title
    assert "configured values" in book.note
    assert book.sha256 == hashlib.sha256(SHIPPED_2024.read_bytes()).hexdigest()
    assert book.path == str(SHIPPED_2024)


def test_shipped_hengshui_nodes(book: RuleBook) -> None:
    assert tuple(n.code for n in book.nodes) == NODE_CODES
    assert [n.name_zh for n in book.nodes] == [
        "主体结构完成二分之一",
        "主体结构封顶",
        "取得建设工程竣工验收报告",
        "完成建设工程竣工验收备案",
        "完成不动产首次登记",
    ]
    shares = [n.retention for n in book.nodes]
    assert shares == sorted(shares, reverse=True)
    assert all(Decimal("0") <= s <= Decimal("1") for s in shares)
    assert shares[-1] == Decimal("0")
    assert all(n.evidence and n.name_en for n in book.nodes)
    assert book.node("topped_out") is book.nodes[1]
    assert book.node("nonexistent") is None
    assert book.highest_node(set()) is None
    assert book.highest_node({"half_structure", "completion_report"}).code == "completion_report"


def test_finished_interior_surcharge_until_first_registration(book: RuleBook) -> None:
    for node in book.nodes:
        expected = Decimal("0") if node.code == "first_registration" else Decimal("0.05")
        assert book.surcharge_for(node, "finished") == expected, node.code
        assert book.surcharge_for(node, "shell") == Decimal("0")
    assert book.surcharge_for(None, "finished") == Decimal("0")
    assert book.surcharge_until == "first_registration"


def test_release_policy(book: RuleBook) -> None:
    assert "wage_arrears_statement" in book.release.required_documents
    assert set(book.release.payee_roles) == {"construction", "equipment", "materials"}
    assert book.release.distinct_people is True
    assert [s.role for s in book.release.approval_chain] == ["reviewer", "approver", "director"]


def test_director_step_above_a_threshold(book: RuleBook) -> None:
    director = book.release.approval_chain[-1]
    assert director.role == "director"
    threshold = director.min_amount
    assert threshold is not None and threshold > 0
    below = [s.role for s in book.approval_steps_for(threshold - Decimal("0.01"))]
    at = [s.role for s in book.approval_steps_for(threshold)]
    above = [s.role for s in book.approval_steps_for(threshold * 10)]
    assert below == ["reviewer", "approver"]
    assert at == above == ["reviewer", "approver", "director"]
    assert [s.role for s in book.approval_steps_for(Decimal("0.01"))] == ["reviewer", "approver"]


def test_guarantee_freeze_refund_and_limits(book: RuleBook) -> None:
    assert book.guarantee_max_share == Decimal("0.30")
    assert book.guarantee_requires_full_amount is True
    assert book.court_deduction_before_registration == "forbidden_within_key_amount"
    assert set(book.court_deduction_exceptions) == {"construction", "equipment", "materials"}
    assert book.refund_requires_contract_record is True
    assert all(isinstance(v, int) and v >= 0 for v in book.limits.values())


def test_deposit_checks_are_registered_with_valid_severities(book: RuleBook) -> None:
    rules = [c.rule for c in book.deposit_checks]
    assert len(rules) == len(set(rules))
    assert set(rules) <= set(checks.REGISTRY)
    assert {"amount_equals_notice", "payer_matches_buyer", "notice_exists_and_open"} <= set(rules)
    assert all(c.severity in ("block", "warn") for c in book.deposit_checks)
    payer = next(c for c in book.deposit_checks if c.rule == "payer_matches_buyer")
    assert payer.params == {"allow_mortgage_lender": True}
    assert payer.severity == "block"


def test_supervised_amount_parameters(book: RuleBook) -> None:
    sa = book.supervised_amount
    assert sa.cost_per_m2 > 0
    assert sa.coefficient > 0
    assert set(sa.credit_grade_factors) >= {"A", "B", "C"}
    assert all(isinstance(v, Decimal) for v in sa.credit_grade_factors.values())


def test_to_json_round_trips_through_json(book: RuleBook) -> None:
    data = book.to_json()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["id"] == "hengshui@2024.1"
    assert data["effective_from"] == "2024-01-01"
    assert [n["code"] for n in data["nodes"]] == list(NODE_CODES)
    assert data["nodes"][0]["retention"] == str(book.nodes[0].retention)
    assert isinstance(data["guarantee_max_share"], str)
    assert data["finish_surcharge"] == {"shell": "0.00", "finished": "0.05"}
    assert data["release"]["approval_chain"][-1]["min_amount"] == str(
        book.release.approval_chain[-1].min_amount
    )


# --- versions and pinning -----------------------------------------------------------------------------


def test_fixture_2024_is_a_byte_copy_of_the_shipped_version() -> None:
    # A published version is immutable; the fixture stands for it in the versioning tests.
    assert (FIXTURES / "hengshui" / "2024.1.toml").read_bytes() == SHIPPED_2024.read_bytes()


@pytest.fixture(scope="module")
def versions() -> RuleBooks:
    return load_dir(FIXTURES)


def test_two_versions_load(versions: RuleBooks) -> None:
    assert len(versions) == 2
    assert [b.id for b in versions] == ["hengshui@2024.1", "hengshui@2025.1"]
    newer = versions.get("hengshui@2025.1")
    older = versions.get("hengshui@2024.1")
    assert newer.supersedes == "2024.1"
    assert newer.effective_from == date(2025, 7, 1)
    assert [n.retention for n in newer.nodes] != [n.retention for n in older.nodes]
    assert versions.jurisdictions() == {"hengshui"}


@pytest.mark.parametrize(
    ("permit_date", "expected"),
    [
        (date(2023, 12, 31), None),  # before the first version: nothing to pin to
        (date(2024, 1, 1), "hengshui@2024.1"),
        (date(2025, 6, 30), "hengshui@2024.1"),
        (date(2025, 7, 1), "hengshui@2025.1"),
        (date(2025, 7, 2), "hengshui@2025.1"),
        (date(2030, 1, 1), "hengshui@2025.1"),
    ],
)
def test_in_force_pins_by_permit_date(versions: RuleBooks, permit_date: date, expected: str | None) -> None:
    found = versions.in_force("hengshui", permit_date)
    assert (found.id if found else None) == expected


def test_in_force_of_an_unknown_jurisdiction_is_none(versions: RuleBooks) -> None:
    assert versions.in_force("cangzhou", date(2025, 1, 1)) is None


def test_pinned_projects_keep_their_version_after_a_new_one_appears(tmp_path: Path) -> None:
    (tmp_path / "hengshui").mkdir()
    shutil.copy(SHIPPED_2024, tmp_path / "hengshui" / "2024.1.toml")
    only_old = load_dir(tmp_path)
    assert only_old.in_force("hengshui", date(2026, 1, 1)).id == "hengshui@2024.1"
    shutil.copy(FIXTURES / "hengshui" / "2025.1.toml", tmp_path / "hengshui" / "2025.1.toml")
    both = load_dir(tmp_path)
    assert both.in_force("hengshui", date(2026, 1, 1)).id == "hengshui@2025.1"
    # A project pinned earlier looks its version up by id, which is still there and unchanged.
    assert both.get("hengshui@2024.1").sha256 == only_old.get("hengshui@2024.1").sha256


def test_versions_with_the_same_date_are_ordered_naturally(tmp_path: Path) -> None:
    folder = tmp_path / "hengshui"
    folder.mkdir()
    text = SHIPPED_2024.read_text(encoding="utf-8")
    for version in ("2024.9", "2024.10"):
        (folder / f"{version}.toml").write_text(
            text.replace('version = "2024.1"', f'version = "{version}"'), encoding="utf-8"
        )
    books = load_dir(tmp_path)
    assert books.in_force("hengshui", date(2025, 1, 1)).id == "hengshui@2024.10"
    assert [b.version for b in books] == ["2024.9", "2024.10"]


def _copy_fixtures(tmp_path: Path) -> Path:
    root = tmp_path / "rules"
    shutil.copytree(FIXTURES, root)
    return root


def test_unchanged_versions_are_not_flagged(tmp_path: Path) -> None:
    root = _copy_fixtures(tmp_path)
    books = load_dir(root)
    recorded = {b.id: b.sha256 for b in books}
    assert books.changed_since_published(recorded) == []
    assert load_dir(root).changed_since_published(recorded) == []


def test_an_edited_published_version_is_flagged(tmp_path: Path) -> None:
    root = _copy_fixtures(tmp_path)
    recorded = {b.id: b.sha256 for b in load_dir(root)}
    path = root / "hengshui" / "2024.1.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('retention = "0.45"', 'retention = "0.40"'))
    problems = load_dir(root).changed_since_published(recorded)
    assert len(problems) == 1
    assert str(path) in problems[0]
    assert "hengshui@2024.1 was edited" in problems[0]
    assert "issue a new version" in problems[0]


def test_even_a_comment_change_is_an_edit(tmp_path: Path) -> None:
    root = _copy_fixtures(tmp_path)
    recorded = {b.id: b.sha256 for b in load_dir(root)}
    path = root / "hengshui" / "2025.1.toml"
    path.write_bytes(path.read_bytes() + b"# harmless?\n")
    problems = load_dir(root).changed_since_published(recorded)
    assert len(problems) == 1 and "hengshui@2025.1" in problems[0]


def test_a_missing_published_version_is_flagged(tmp_path: Path) -> None:
    root = _copy_fixtures(tmp_path)
    recorded = {b.id: b.sha256 for b in load_dir(root)}
    (root / "hengshui" / "2025.1.toml").unlink()
    problems = load_dir(root).changed_since_published(recorded)
    assert problems == [f"hengshui@2025.1: published version is missing from {root}"]


# --- malformed rule books -----------------------------------------------------------------------------


def _write(root: Path, text: str, *, jurisdiction: str = "hengshui", version: str = "2024.1") -> Path:
    folder = root / jurisdiction
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _edit(old: str, new: str) -> str:
    assert TEXT_2024.count(old) == 1, f"the shipped rule book no longer contains {old!r} exactly once"
    return TEXT_2024.replace(old, new)


BROKEN = [
    pytest.param(TEXT_2024 + "\n[[nodes]\n", "(file)", "malformed TOML", id="malformed-toml"),
    pytest.param(
        _edit('[guarantee]\nmax_share = "0.30"\nrequires_full_amount = true\n', ""),
        "guarantee",
        "missing table",
        id="missing-table",
    ),
    pytest.param(
        _edit(
            '[freeze]\ncourt_deduction_before_registration = "forbidden_within_key_amount"\n', "[freeze]\n"
        ),
        "freeze.court_deduction_before_registration",
        "missing",
        id="missing-key",
    ),
    pytest.param(
        _edit('retention = "0.45"', "retention = 0.45"),
        "nodes[1].retention",
        "must be a decimal written as a string",
        id="retention-as-float",
    ),
    pytest.param(
        _edit('retention = "0.25"', 'retention = "0.50"'),
        "nodes[2].retention",
        "may not rise",
        id="rising-retention",
    ),
    pytest.param(
        _edit('retention = "0.70"', 'retention = "1.20"'),
        "nodes[0].retention",
        "at most 1",
        id="share-above-one",
    ),
    pytest.param(
        _edit('retention = "0.10"', 'retention = "ten percent"'),
        "nodes[3].retention",
        "not a decimal number",
        id="share-not-a-number",
    ),
    pytest.param(
        _edit('code = "topped_out"', 'code = "half_structure"'),
        "nodes[1].code",
        "appears twice",
        id="duplicate-node",
    ),
    pytest.param(
        _edit('rule = "amount_equals_notice"', 'rule = "amount_roughly_notice"'),
        "deposit_checks[3].rule",
        "no check named 'amount_roughly_notice'",
        id="unknown-check",
    ),
    pytest.param(
        _edit(
            'rule = "value_date_within_days"\nseverity = "warn"',
            'rule = "value_date_within_days"\nseverity = "log"',
        ),
        "deposit_checks[7].severity",
        "block or warn",
        id="unknown-severity",
    ),
    pytest.param(
        _edit("params = { days = 3 }", "params = { days = 3, hours = 4 }"),
        "deposit_checks[7].params",
        "takes no parameter hours",
        id="unknown-param",
    ),
    pytest.param(
        _edit("params = { days = 3 }", 'params = { days = "3" }'),
        "deposit_checks[7].params.days",
        "whole number",
        id="param-of-wrong-type",
    ),
    pytest.param(
        _edit("params = { allow_mortgage_lender = true }", 'params = { allow_mortgage_lender = "no" }'),
        "deposit_checks[4].params.allow_mortgage_lender",
        "true or false",
        id="bool-param-as-string",
    ),
    pytest.param(
        _edit("requires_full_amount = true", "requires_full_ammount = true"),
        "guarantee.requires_full_ammount",
        "unknown key",
        id="misspelt-optional-key",
    ),
    pytest.param(
        _edit('code = "topped_out"', 'code = "topped_out"\nretension = "0.40"'),
        "nodes[1].retension",
        "unknown key",
        id="misspelt-node-key",
    ),
    pytest.param(
        _edit("[limits]", "[limits]\nsuspense_max_dayz = 3"),
        "limits.suspense_max_dayz",
        "unknown key",
        id="misspelt-limit",
    ),
    pytest.param(
        _edit("[refund]", "[refunds]"),
        "refunds",
        "unknown key",
        id="unknown-table",
    ),
    pytest.param(
        _edit('role = "reviewer"', 'role = "clerk"'),
        "release.approval_chain[0].role",
        "'clerk' is not one of",
        id="unknown-approval-role",
    ),
    pytest.param(
        _edit(
            'payee_roles = ["construction", "equipment", "materials"]',
            'payee_roles = ["construction", "developer"]',
        ),
        "release.payee_roles",
        "'developer' is not one of",
        id="unknown-payee-role",
    ),
    pytest.param(
        _edit('until_node = "first_registration"', 'until_node = "handover"'),
        "finish_surcharge.until_node",
        "'handover' is not a node",
        id="until-node-not-a-node",
    ),
    pytest.param(
        _edit("effective_from = 2024-01-01", 'effective_from = "2024-01-01"'),
        "rulebook.effective_from",
        "must be a date",
        id="date-as-string",
    ),
    pytest.param(
        _edit("effective_from = 2024-01-01", "effective_from = 2024-01-01T00:00:00"),
        "rulebook.effective_from",
        "must be a date",
        id="date-time-not-date",
    ),
    pytest.param(
        _edit('max_share = "0.30"', 'max_share = "1.30"'),
        "guarantee.max_share",
        "at most 1",
        id="guarantee-above-one",
    ),
    pytest.param(
        _edit("suspense_max_days = 5", "suspense_max_days = -5"),
        "limits.suspense_max_days",
        "whole number",
        id="negative-limit",
    ),
    pytest.param(
        _edit("distinct_people = true", 'distinct_people = "yes"'),
        "release.distinct_people",
        "true or false",
        id="boolean-as-string",
    ),
    pytest.param(
        _edit("effective_from = 2024-01-01\n", 'effective_from = 2024-01-01\nsupersedes = "2023.1"\n'),
        "rulebook.supersedes",
        "no version '2023.1' to supersede",
        id="supersedes-unknown",
    ),
]


@pytest.mark.parametrize(("text", "key", "reason"), BROKEN)
def test_malformed_rule_books_name_file_key_and_reason(
    tmp_path: Path, text: str, key: str, reason: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(RuleBookError) as caught:
        load_dir(tmp_path)
    err = caught.value
    assert err.file == str(path)
    assert err.key == key
    assert reason in err.reason
    assert str(err).startswith(f"{path}: {key}: ")


def test_version_must_match_the_file_name(tmp_path: Path) -> None:
    path = _write(tmp_path, TEXT_2024, version="2024.2")
    with pytest.raises(RuleBookError) as caught:
        load_dir(tmp_path)
    assert (caught.value.file, caught.value.key) == (str(path), "rulebook.version")
    assert "'2024.1' does not match the file name '2024.2'" in caught.value.reason


def test_jurisdiction_must_match_the_folder(tmp_path: Path) -> None:
    path = _write(tmp_path, TEXT_2024, jurisdiction="cangzhou")
    with pytest.raises(RuleBookError) as caught:
        load_dir(tmp_path)
    assert (caught.value.file, caught.value.key) == (str(path), "rulebook.jurisdiction")
    assert "'hengshui' does not match its folder 'cangzhou'" in caught.value.reason


def test_a_broken_version_beside_a_good_one_is_still_refused(tmp_path: Path) -> None:
    _write(tmp_path, TEXT_2024)
    broken = (
        (FIXTURES / "hengshui" / "2025.1.toml")
        .read_text(encoding="utf-8")
        .replace('retention = "0.40"', "retention = 0.4")
    )
    path = _write(tmp_path, broken, version="2025.1")
    with pytest.raises(RuleBookError) as caught:
        load_dir(tmp_path)
    assert (caught.value.file, caught.value.key) == (str(path), "nodes[1].retention")


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleBookError) as caught:
        parse(TEXT_2024.encode("gb18030"), file="x.toml")
    assert (caught.value.file, caught.value.key) == ("x.toml", "(file)")
    assert "UTF-8" in caught.value.reason


def test_missing_or_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleBookError, match="not found"):
        load_dir(tmp_path / "nowhere")
    with pytest.raises(RuleBookError, match="no rule books"):
        load_dir(tmp_path)


def test_parse_without_hints_reads_the_shipped_text() -> None:
    book = parse(SHIPPED_2024.read_bytes(), file="anywhere.toml")
    assert book.id == "hengshui@2024.1"
    assert book.path == "anywhere.toml"
