"""The release cap's terms in words (escrow.catalog.caps): every retention case said in Chinese and in English
from the domain's figures alone, the rule-book keys it rests on, and stored terms said as they were kept."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from escrow.catalog import gettext_for
from escrow.catalog.caps import cap_terms, stored_cap_terms, term_words
from escrow.domain.caps import CapInputs, Term, release_cap
from tests.unit.test_caps import BOOK, rule_for

ZH, EN = gettext_for("zh"), gettext_for("en")
KEY = Decimal("10000000.00")
NODES = tuple(n.code for n in BOOK.nodes)


def cap_at(node: str | None, finish: str = "shell", guarantee: str = "0", received: str = "12000000.00"):
    """A cap computed by the domain now, for a project at `node` of the shipped rule book."""
    confirmed = set(NODES[: NODES.index(node) + 1]) if node else set()
    inputs = CapInputs(
        balance=Decimal("12000000.00"),
        suspense=Decimal("1000.00"),
        supervised_amount=KEY,
        frozen=Decimal("250000.00"),
        pending_out=Decimal("300000.00"),
        guarantee=Decimal(guarantee),
        deposits_total=Decimal(received),
    )
    return release_cap(inputs, rule_for(BOOK, confirmed, finish))


def stored_waiting(node: str, waiting: str):
    """A cap stored before guarantees were registered (up to hengshui@2026.1): an accepted guarantee could
    wait, uncounted, for the deposits to reach the key amount; its stored figures are still said."""
    cap = cap_at(node)
    term = retention_term(cap)
    params = {**term.params, "guarantee": "0.00", "guarantee_waiting": waiting}
    terms = tuple(dataclasses.replace(t, params=params) if t is term else t for t in cap.terms)
    return dataclasses.replace(cap, terms=terms)


def retention_term(cap) -> Term:
    return next(t for t in cap.terms if t.term == "required_retention")


HALF_EN = (
    "Key supervised amount ¥10,000,000.00 × 70% retained once “Half of the main structure completed” is "
    "confirmed"
)
HALF_ZH = "重点监管资金 ¥10,000,000.00 × 留存比例 70%（“主体结构完成二分之一”节点已确认）"
CASES = {
    "before the first node": (
        cap_at(None),
        "Key supervised amount ¥10,000,000.00, all of it retained until the first node is confirmed",
        "重点监管资金 ¥10,000,000.00，首个节点确认前全部留存",
        ("hengshui@2024.1 nodes",),
    ),
    "at a node": (
        cap_at("half_structure"),
        HALF_EN,
        HALF_ZH,
        ("hengshui@2024.1 nodes.half_structure.retention",),
    ),
    "with the finish surcharge": (
        cap_at("topped_out", finish="finished"),
        "Key supervised amount ¥10,000,000.00 × 45% retained once “Main structure topped out” is confirmed, "
        "plus the finish surcharge of 5%",
        "重点监管资金 ¥10,000,000.00 × 留存比例 45%（“主体结构封顶”节点已确认），另加装修标准加成 5%",
        ("hengshui@2024.1 nodes.topped_out.retention", "hengshui@2024.1 finish_surcharge"),
    ),
    "a guarantee counted up to its max share": (
        cap_at("half_structure", guarantee="5000000.00"),
        HALF_EN + ", less the accepted bank guarantee ¥3,000,000.00 (counted up to 30% of the key amount)",
        HALF_ZH + "，减去已接受的银行保函 ¥3,000,000.00（最多抵扣重点监管资金的 30%）",
        ("hengshui@2024.1 nodes.half_structure.retention", "hengshui@2024.1 guarantee.max_share"),
    ),
    "a guarantee waiting for the deposits to reach the key amount": (
        stored_waiting("half_structure", "1000000.00"),
        HALF_EN + "; the accepted bank guarantee ¥1,000,000.00 is not counted until deposits reach the key"
        " supervised amount",
        HALF_ZH + "；存入资金达到重点监管资金前，已接受的银行保函 ¥1,000,000.00 暂不抵扣",
        ("hengshui@2024.1 nodes.half_structure.retention", "hengshui@2024.1 guarantee.requires_full_amount"),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_retention_case_is_said_from_its_figures_in_both_languages(case: str) -> None:
    cap, english, chinese, rules = CASES[case]
    term = retention_term(cap)
    said_en, said_zh = term_words(EN, term, BOOK, "en"), term_words(ZH, term, BOOK, "zh")
    assert (said_en.words, said_zh.words) == (english, chinese)
    assert said_en.rules == said_zh.rules == rules
    assert (said_en.name, said_zh.name) == ("Key supervised funds to retain", "应留存的重点监管资金")
    assert said_zh.value == cap.required_retention


def test_the_counted_guarantee_is_the_one_the_value_leaves_out() -> None:
    cap, *_ = CASES["a guarantee counted up to its max share"]
    assert cap.required_retention == KEY * Decimal("0.70") - Decimal("3000000.00")
    waiting, *_ = CASES["a guarantee waiting for the deposits to reach the key amount"]
    assert waiting.required_retention == KEY * Decimal("0.70")


def test_every_term_has_a_name_and_says_what_it_is_and_only_the_retention_cites_the_rule_book() -> None:
    cap = cap_at("half_structure")
    chinese = cap_terms(ZH, cap.terms, BOOK, "zh")
    assert [(t.sign, t.name) for t in chinese] == [
        ("", "监管账户余额"),
        ("−", "待认领资金"),
        ("−", "应留存的重点监管资金"),
        ("−", "司法冻结金额"),
        ("−", "已批准尚未支付的拨付和退款"),
    ]
    assert chinese[1].words == "已到账但尚未对应合同的款项，不得拨付"
    assert [t.rules != () for t in chinese] == [False, False, True, False, False]
    english = cap_terms(EN, cap.terms, BOOK, "en")
    assert english[0].name == "Balance of the supervised account"
    assert all(t.words and t.words != term.detail for t, term in zip(english, cap.terms, strict=True))
    assert [t.value for t in english] == [t.value for t in cap.terms]


def test_a_stored_cap_is_said_as_the_fresh_one() -> None:
    cap = cap_at("topped_out", finish="finished", guarantee="5000000.00")
    fresh = cap_terms(ZH, cap.terms, BOOK, "zh")
    assert stored_cap_terms(ZH, {"releasable": "1.00", "explanation": cap.to_json()}, BOOK, "zh") == fresh
    assert stored_cap_terms(ZH, cap.to_json(), BOOK, "zh") == fresh


def test_a_term_stored_before_terms_carried_codes_keeps_its_stored_text() -> None:
    kept = {
        "term": "required_retention",
        "value": "7000000.00",
        "rule": "hengshui@2024.1 nodes",
        "detail": "by hand",
    }
    said = term_words(ZH, Term.from_json(kept), BOOK, "zh", first=False)
    assert (said.name, said.words, said.rules, said.sign) == (
        "应留存的重点监管资金",
        "by hand",
        (kept["rule"],),
        "−",
    )
    balance = term_words(
        ZH, Term.from_json({"term": "balance", "value": "1", "rule": "books", "detail": "cash"}), BOOK, "zh"
    )
    assert (balance.name, balance.words, balance.rules) == ("监管账户余额", "cash", ())
    unknown = term_words(EN, Term.from_json({"term": "mystery", "value": "1", "detail": "?"}), BOOK, "en")
    assert (unknown.name, unknown.words) == ("mystery", "?")
