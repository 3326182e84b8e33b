"""The buyer's contract look-up without the database: what a suffix may be, and what the paid total counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escrow.domain.errors import InvalidInput
from escrow.services.contract_lookup import Found, normalise_contract_no, normalise_suffix
from escrow.services.vouchers import STATUSES


@pytest.mark.parametrize(
    ("typed", "read"), [("070011", "070011"), (" 00002x ", "00002X"), ("ab3456", "AB3456")]
)
def test_a_suffix_is_six_letters_or_digits_in_any_case(typed, read):
    assert normalise_suffix(typed) == read


@pytest.mark.parametrize("typed", [None, "", "12345", "1234567", "12-456", "１２３４５６", "12345\x00"])
def test_anything_else_is_refused_naming_the_field(typed):
    with pytest.raises(InvalidInput) as refused:
        normalise_suffix(typed)
    assert [(e.field, e.code) for e in refused.value.errors] == [("id_last6", "id_suffix")]
    assert refused.value.rule == "public.id_last6"


def test_a_number_no_contract_can_have_is_looked_up_as_nothing():
    assert normalise_contract_no(" HT/2026/0001 ") == "HT/2026/0001"
    for bad in ("HT\x00", "a/../b", "x" * 65, None, "   "):
        assert normalise_contract_no(bad) == ""


payments = st.lists(
    st.tuples(st.integers(min_value=1, max_value=10**12), st.sampled_from(STATUSES)), max_size=12
)


@given(payments)
def test_the_paid_total_counts_what_was_neither_reversed_nor_refunded(rows):
    found = Found(
        contract_no="HT-1",
        project_name="P",
        unit="1-1",
        status="signed",
        payments=[(f"PZ{i}", fen, date(2026, 11, 22), status) for i, (fen, status) in enumerate(rows)],
        nodes=[],
        account_no_masked="6222********2222",
        bank_name="B",
    )
    view = found.view("en")
    kept = sum(fen for fen, status in rows if status not in ("reversed", "refunded"))
    assert view.paid_total == Decimal(kept) / 100
    assert [p.status for p in view.payments] == [status for _, status in rows]  # every payment is shown
    assert all(isinstance(p.amount, Decimal) for p in view.payments)


def test_words_in_either_language():
    found = Found("HT-1", "P", "1-1", "cancelled", [], [("n1", "封顶", "Topped out", None)], "6222**", "B")
    assert found.view("zh").nodes[0].name == "封顶" and found.view("zh").status_text == "已解除（退房）"
    assert found.view("en").nodes[0].name == "Topped out" and found.view("en").status == "cancelled"
