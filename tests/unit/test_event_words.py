"""Every audit event the code can write has a sentence in the catalog, in Chinese and English, with its
parameters filled from the event (no code, no placeholder left); actor references read back into words.

The actions are collected from the code itself (every `action=` of a call, the bulk writer's `_event`
calls, a module constant named like an action), not from a hand list: an f-string such as
f"deposit.{deposit.status}" must be matched by the catalog, and its placeholders' values are read from the
code where they live (the approval flows' kinds, the decisions, the instruction kinds)."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

from escrow.catalog import gettext_for
from escrow.catalog.actors import actor_words
from escrow.catalog.events import EVENTS, OTHER_EVENT, event_sentence
from escrow.domain.actors import ActorRef, parse_ref
from escrow.domain.approvals import DECISIONS
from escrow.services.approvals import PAST

ESCROW = Path(__file__).resolve().parents[2] / "escrow"
ACTION = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
# What the f-strings' placeholders can be, read where the code defines them.
INSTRUCTION_KINDS = ("release", "refund", "return", "closure", "transfer")  # models.PaymentInstruction.kind


def _trees():
    for path in sorted(ESCROW.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text())


def _action_expressions():
    """Every expression the code passes as an audit action, with the function it sits in."""
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "action":
                        yield path, kw.value, tree
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name == "_event" and len(node.args) > 1:  # the bulk writer's (actor, action, …)
                    yield path, node.args[1], tree
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                value = node.value.value
                if (
                    isinstance(value, str)
                    and ACTION.match(value)
                    and any(
                        isinstance(t, ast.Name) and t.id.isupper() and t.id in ("ANCHORED",)
                        for t in node.targets
                    )
                ):
                    yield path, node.value, tree


def _flow_kinds() -> set[str]:
    """The approval workflows' kinds: every `approvals.Flow(kind=…)` of the services."""
    kinds = set()
    for _path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Flow":
                kinds |= {kw.value.value for kw in node.keywords if kw.arg == "kind"}
    return kinds


def _assigned_in(tree, name: str):
    """What a plain name passed as the action (`action=action`) is assigned in the module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    yield node.value
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    for t, v in zip(target.elts, node.value.elts, strict=False):
                        if isinstance(t, ast.Name) and t.id == name:
                            yield v


def _pattern(expr: ast.JoinedStr) -> re.Pattern:
    parts = [re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z_]+" for v in expr.values]
    return re.compile("^" + "".join(parts) + "$")


def written_actions() -> tuple[set[str], set[str]]:
    """(the actions written as they are, the patterns of those built by f-strings)."""
    fixed, patterns = set(), set()
    for _path, expr, tree in _action_expressions():
        exprs = list(_assigned_in(tree, expr.id)) if isinstance(expr, ast.Name) else [expr]
        for e in exprs:
            if isinstance(e, ast.Constant) and isinstance(e.value, str) and ACTION.match(e.value):
                fixed.add(e.value)  # (argparse's action="store_true" is no audit action)
            elif isinstance(e, ast.JoinedStr):
                patterns.add(_pattern(e).pattern)
    return fixed, patterns


def expanded() -> set[str]:
    """Every action the f-strings can make, from the values their placeholders take in the code."""
    outcomes = {f"step_{PAST[d]}" for d in DECISIONS} | {"approved", "rejected", "executed"}
    outcomes |= {"step_rejectd"}  # written before, still stored
    flows = {f"{kind}.{outcome}" for kind in _flow_kinds() for outcome in outcomes - {"executed"}}
    return (
        flows
        | {f"{kind}.executed" for kind in ("release", "refund")}
        | {f"instruction.executed.{kind}" for kind in INSTRUCTION_KINDS}
        | {"deposit.accepted", "deposit.suspense", "statement.reconciled", "statement.discrepancy"}
        | {"account.frozen", "account.active"}
        | {f"alert.{a}" for a in ("opened", "reopened", "resolved", "acknowledged")}
    )


FIXED, PATTERNS = written_actions()
EVERY_ACTION = sorted(FIXED | expanded())


def test_the_code_writes_the_actions_collected_here():
    assert {"release.submitted", "node.confirmed", "freeze.placed", "audit.anchored"} <= FIXED
    assert len(_flow_kinds()) >= 5  # releases, refunds, key amount changes, adoptions, fund plans
    for pattern in PATTERNS:  # every f-string's action is one the expansion names, and it has a sentence
        made = [a for a in EVERY_ACTION if re.match(pattern, a)]
        assert made, f"no action of the expansion matches {pattern}: name its values in expanded()"


def test_every_action_has_a_sentence():
    missing = [a for a in EVERY_ACTION if a not in EVENTS]
    assert not missing, f"actions the code writes without a sentence in escrow.catalog.events: {missing}"


DETAILS = {
    "node_code": "half_structure",
    "reached_on": "2026-06-01",
    "executed_on": "2026-06-02",
    "step_no": 2,
    "role": "approver",
    "cap": "5000000.00",
    "limit": "1200000.50",
    "deducted": "20000.00",
    "paid": "300000.00",
    "planned_total": "9000000.00",
    "voucher_no": "PZ2026000001",
    "contract_no": "HT-2026-0001",
    "replaces": "6222000011112222",
    "code": "1#",
    "by_version": 2,
    "deleted": 12,
    "period": "2026-11",
}


@pytest.mark.parametrize("action", EVERY_ACTION)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_event_reads_as_a_sentence_with_its_parameters(action, lang):
    _ = gettext_for(lang)
    sentence = event_sentence(
        _,
        action,
        actor="张伟（审批人）" if lang == "zh" else "Zhang Wei (Approver)",
        subject_id="12",
        details=DETAILS,
        long_date=lambda value: f"<{value}>",
        node_name=lambda code: "[N1]" if code == "half_structure" else code,
    )
    assert "%(" not in sentence and "—" not in sentence, sentence  # every parameter it names is filled
    assert action not in sentence and not re.search(r"\b[a-z_]+\.[a-z_]+\b", sentence), sentence
    assert sentence != _(OTHER_EVENT, actor="x")
    if lang == "zh":
        assert re.search(r"[\u4e00-\u9fff]", sentence) and not re.search(r"[A-Za-z]{4,}", sentence), sentence
    for key, shown in (("cap", "¥5,000,000.00"), ("limit", "¥1,200,000.50"), ("reached_on", "<2026-06-01>")):
        if f"%({key})s" in EVENTS[action]:
            assert shown in sentence, sentence
    if "%(node)s" in EVENTS[action]:
        assert "[N1]" in sentence


def test_an_action_without_a_sentence_still_names_no_code():
    for lang in ("zh", "en"):
        said = event_sentence(
            gettext_for(lang), "thing.new_kind", actor="A", subject_id="1", details={}, long_date=str
        )
        assert "thing" not in said and "new_kind" not in said and said.startswith("A")


REFS = [
    ("user:5", ActorRef("user", 5)),
    ("bank:1", ActorRef("bank", 1)),
    ("developer:3", ActorRef("developer", 3)),
    ("developer:3/user:7", ActorRef("developer", 3, 7)),
    ("system:0", ActorRef("system")),
    ("system:scheduler", ActorRef("system", detail="scheduler")),
    ("operator:0", ActorRef("operator")),
    ("public", ActorRef("public")),
    ("user:abc", ActorRef("unknown", detail="user:abc")),
    ("", ActorRef("unknown")),
]


@pytest.mark.parametrize(("ref", "parsed"), REFS)
def test_actor_references_are_read_back(ref, parsed):
    assert parse_ref(ref) == parsed


class _Name:
    def __init__(self, name, role=None):
        self.name, self.role = name, role


NAMES = {
    ("user", 5): _Name("张伟", "approver"),
    ("user", 7): _Name("刘洋", "developer"),
    ("bank", 1): _Name("衡水银行股份有限公司"),
    ("developer", 3): _Name("衡水安居置业有限公司"),
}
SAID = {
    "zh": {
        "user:5": "张伟（审批人）",
        "bank:1": "衡水银行股份有限公司",
        "developer:3": "衡水安居置业有限公司",
        "developer:3/user:7": "刘洋（衡水安居置业有限公司）",
        "system:scheduler": "系统（定时任务）",
        "system:0": "系统",
        "operator:0": "运维人员（命令行）",
        "public": "公众（未登录）",
        "user:99": "已不在册的用户",
        "bank:abc": "无法识别的主体",
    },
    "en": {
        "user:5": "张伟 (Approver)",
        "developer:3/user:7": "刘洋 (衡水安居置业有限公司)",
        "system:scheduler": "The system (scheduled job)",
        "user:99": "A user no longer on record",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_actors_are_said_by_name_and_role(lang):
    _ = gettext_for(lang)
    for ref, words in SAID[lang].items():
        assert actor_words(_, ref, NAMES) == words, ref


def test_money_in_sentences_keeps_its_cents():
    said = event_sentence(
        gettext_for("en"),
        "release.submitted",
        actor="A",
        subject_id="3",
        details={"cap": "0.10"},
        long_date=str,
    )
    assert "¥0.10" in said and Decimal("0.10") == Decimal(said.split("¥")[1].rstrip(")"))
