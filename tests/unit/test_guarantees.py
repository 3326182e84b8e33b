"""Guarantee arithmetic (escrow.domain.guarantees, escrow.domain.caps): the peak of guarantees valid on the
same days, the counted total shared out, the status by date, the cap's share limit, and the retention's
words naming the guarantees counted."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from escrow.catalog import gettext_for
from escrow.catalog.caps import retention_sentence
from escrow.domain.caps import CapInputs, Retention, guarantee_limit, retention, rule_of
from escrow.domain.guarantees import Period, allocate, expiring, peak_in_force, status_on
from escrow.rulebooks import load_dir
from tests.conftest import REPO

BOOKS = load_dir(REPO / "rules")
D0 = date(2027, 1, 1)
money = st.integers(min_value=1, max_value=10**9).map(lambda fen: Decimal(fen) / 100)
periods = st.builds(
    lambda start, length, amount: Period(
        D0 + timedelta(days=start), D0 + timedelta(days=start + length), amount
    ),
    st.integers(0, 60),
    st.integers(0, 60),
    money,
)


@given(st.lists(periods, max_size=8), st.integers(0, 90), st.integers(0, 60))
def test_the_peak_is_the_largest_sum_valid_on_any_one_day(existing, start, length):
    first, last = D0 + timedelta(days=start), D0 + timedelta(days=start + length)
    by_day = [
        sum((p.amount for p in existing if p.in_force_on(first + timedelta(days=i))), Decimal("0"))
        for i in range(length + 1)
    ]
    assert peak_in_force(existing, first, last) == max(by_day)


@given(money, st.lists(money, max_size=6))
def test_the_counted_total_is_shared_out_oldest_first(counted, amounts):
    shares = allocate(counted, amounts)
    assert sum(shares, Decimal("0")) == min(counted, sum(amounts, Decimal("0")))
    assert all(Decimal("0") <= s <= a for s, a in zip(shares, amounts, strict=True))


def test_status_by_date():
    assert status_on("active", D0, D0) == "active"
    assert status_on("active", D0, D0 + timedelta(days=1)) == "expired"
    assert status_on("released", D0, D0 - timedelta(days=9)) == "released"
    assert expiring(D0 + timedelta(days=30), D0) and not expiring(D0 + timedelta(days=31), D0)


@given(money, st.sampled_from(["hengshui@2024.1", "hengshui@2026.1"]), st.booleans())
def test_cash_kept_is_never_below_its_share(guarantee, book_id, at_node):
    book = BOOKS.get(book_id)
    confirmed = {book.nodes[0].code} if at_node else set()
    rule = rule_of(book, confirmed, "shell")
    key = Decimal("10000000.00")
    inputs = CapInputs(
        balance=key,
        suspense=Decimal(0),
        supervised_amount=key,
        frozen=Decimal(0),
        pending_out=Decimal(0),
        guarantee=guarantee,
        deposits_total=key,
        guarantee_nos=("G-1",),
    )
    figures = retention(inputs, rule)
    limit = guarantee_limit(key, figures.gross, rule)
    assert figures.guarantee == min(guarantee, limit, figures.gross)
    if book.guarantee_share_of == "required_retention":
        assert figures.gross - figures.guarantee >= figures.gross * (1 - book.guarantee_max_share)
    assert figures.guarantee_nos == (("G-1",) if figures.guarantee else ())


def test_the_retention_words_name_the_guarantees_counted():
    book = BOOKS.get("hengshui@2026.1")
    inputs = CapInputs(
        balance=Decimal("12000000"),
        suspense=Decimal(0),
        supervised_amount=Decimal("10000000"),
        frozen=Decimal(0),
        pending_out=Decimal(0),
        guarantee=Decimal("2500000"),
        deposits_total=Decimal("12000000"),
        guarantee_nos=("BH-1", "（2026）保字第7号"),
    )
    figures = retention(inputs, rule_of(book, set(), "shell"))
    again = Retention.from_params(figures.params())  # as stored with a release and read back
    assert again.guarantee_nos == ("BH-1", "（2026）保字第7号")
    en = retention_sentence(gettext_for("en"), again, None)
    zh = retention_sentence(gettext_for("zh"), again, None)
    assert en.endswith("; guarantees counted: BH-1, （2026）保字第7号")
    assert zh.endswith("；计入的保函：BH-1, （2026）保字第7号")
    no_guarantee = retention(
        CapInputs(**{**inputs.__dict__, "guarantee": Decimal(0), "guarantee_nos": ()}),
        rule_of(book, set(), "shell"),
    )
    assert "guarantee_nos" not in no_guarantee.params()
