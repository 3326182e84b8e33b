"""Every coded outcome (field errors, deposit checks) has words in Chinese and in English, chosen from its
code and params: rewording the domain's English (what the API says) changes nothing on a Chinese page."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from escrow.catalog import gettext_for
from escrow.catalog.outcomes import CHECK_MESSAGES, CHECK_NAMES, FIELD_MESSAGES, check_sentence, field_message
from escrow.domain import checks
from escrow.domain.errors import FIELD_WORDS, FieldError, InvalidInput
from escrow.web.shell import refusals

ZH, EN = gettext_for("zh"), gettext_for("en")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def sample_params(template: str) -> dict[str, str]:
    return {name: "42" for name in PLACEHOLDER.findall(template)}


@pytest.mark.parametrize("code", sorted(FIELD_WORDS))
def test_every_field_error_code_has_chinese_and_english_words(code):
    error = FieldError.coded("amount", code, **sample_params(FIELD_WORDS[code]))
    zh, en = field_message(ZH, error), field_message(EN, error)
    assert code in FIELD_MESSAGES
    assert en == EN(FIELD_MESSAGES[code][0], value="42") and "%(" not in en
    assert zh != en and not LATIN_WORD.search(zh) and "%(" not in zh
    assert ("42" in zh) == bool(sample_params(FIELD_WORDS[code])), zh  # the value is kept


@pytest.mark.parametrize("code", sorted(checks.SENTENCES))
def test_every_check_outcome_code_has_chinese_and_english_words(code):
    outcome = checks.said(False, code, **sample_params(checks.SENTENCES[code]))
    result = {"rule": "r", "result": "fail", **outcome.record()}
    zh, en = check_sentence(ZH, result), check_sentence(EN, result)
    assert code in CHECK_MESSAGES
    assert en != outcome.message and en[0].isupper() and "%(" not in en
    assert zh != en and not LATIN_WORD.search(zh) and "%(" not in zh


def test_every_check_of_the_registry_has_a_name():
    assert set(checks.REGISTRY) <= set(CHECK_NAMES)


def test_a_check_outcome_keeps_the_english_it_always_had():
    facts = checks.DepositFacts(
        account_no="A1",
        amount=Decimal("2.00"),
        payer_name="李四",
        value_date=date(2026, 11, 10),
        today=date(2026, 11, 22),
        notice_given=True,
        notice_amount=Decimal("1.00"),
    )
    outcome = checks.REGISTRY["amount_equals_notice"](facts, {})
    assert outcome.message == "the amount 2.00 differs from the notice's 1.00"
    assert outcome.code == "amount_differs_from_notice"
    assert outcome.params == {"amount": "2.00", "notice_amount": "1.00"}


def test_field_errors_keep_the_english_the_api_has_always_said():
    assert FieldError.at_most("amount", "1200.00").message == "at most 1200.00"
    assert FieldError.at_most_chars("reason", 500).message == "at most 500 characters"
    assert FieldError.missing("documents", "wage_statement").message == "missing wage_statement"
    assert FieldError.confirm_first("node_code", "roof").message == "confirm roof first"
    assert FieldError.must_sum_to("payees", "10.00").message == "amounts must sum to 10.00"
    assert FieldError.one_of("kind", ["a", "b"]).message == "one of a, b"
    assert FieldError.one_of("role", ["a", "b"], separator=" | ").message == "a | b"
    assert FieldError.coded("presale_area_m2", "positive").message == "> 0"
    assert FieldError.coded("role", "at_least_chars", count=10).message == "at least 10 characters"


def test_a_reworded_english_message_does_not_change_the_chinese_page(monkeypatch):
    before = refusals.describe(InvalidInput("x", errors=[FieldError.at_most("amount", "1200.00")]), ZH)
    monkeypatch.setitem(FIELD_WORDS, "at_most", "no more than {value}")
    reworded = FieldError.at_most("amount", "1200.00")
    assert reworded.message == "no more than 1200.00"
    assert refusals.describe(InvalidInput("x", errors=[reworded]), ZH) == before
    assert before[1] == {"amount": "最多 1200.00。"}


def test_a_reworded_check_sentence_does_not_change_the_chinese_page(monkeypatch):
    def said() -> dict[str, object]:
        outcome = checks.said(False, "payer_not_buyer", payer="李四", buyer="张伟")
        return {"rule": "payer_matches_buyer", "result": "fail", **outcome.record()}

    before = check_sentence(ZH, said())
    monkeypatch.setitem(checks.SENTENCES, "payer_not_buyer", "{payer} paid, but {buyer} bought")
    assert said()["message"] == "李四 paid, but 张伟 bought"
    assert check_sentence(ZH, said()) == before == "付款人 李四 不是买受人 张*。"


def test_a_result_stored_without_a_code_shows_its_stored_text():
    old = {"rule": "payer_matches_buyer", "result": "fail", "message": "the payer 李四 is not the buyer 张伟"}
    assert check_sentence(ZH, old) == old["message"]
    statement = {"rule": "statement_only", "result": "fail", "message": "anything"}
    assert check_sentence(ZH, statement) == "银行对账单显示到账，但银行未登记该笔缴款。"


def test_an_uncoded_field_error_says_a_generic_refusal():
    assert field_message(ZH, FieldError("area_m2", "the area has more than two decimals")) == "未被接受。"


def test_a_failed_check_next_to_its_field_says_the_check_and_its_outcome():
    outcome = checks.said(False, "contract_cancelled")
    result = {"rule": "contract_not_cancelled", "result": "fail", **outcome.record()}
    error = FieldError.failed_check("contract_no", result)
    assert (error.message, error.code) == ("the contract was cancelled", "check_failed")
    assert field_message(EN, error) == "Contract in force: The contract was cancelled."
    said = ZH("%(check)s: %(why)s", check=ZH("Contract in force"), why="合同已解除。")
    assert field_message(ZH, error) == said


def test_the_pdfs_print_their_words_from_the_same_catalog():
    from escrow.catalog import caps, words
    from escrow.reports.data import zh

    assert zh(words.RELEASE_STATUS, "rejected") == "未批准" and zh(words.DECISIONS, "reject") == "不同意"
    assert ZH(caps.TERM_NAMES["required_retention"]) == "应留存的重点监管资金"
    assert zh(words.NOTICE_STATUS, "cancelled") == "已作废" == ZH("cancelled")  # as a check's sentence has it
    assert zh(words.CHANNELS, "no-such-channel") == "no-such-channel"
    for table in (words.NOTICE_KINDS, words.VOUCHER_STATUS, words.RELEASE_STATUS, words.ACCOUNT_STATUS,
                  words.RECONCILIATION, words.PAYEE_ROLES, words.DECISIONS, words.ENTRY_KINDS):  # fmt: skip
        assert all(not LATIN_WORD.search(zh(table, code)) for code in table), table
