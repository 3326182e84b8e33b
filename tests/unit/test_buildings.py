"""The key supervised amount split across buildings by pre-sale area (DESIGN §4): the parts sum to K exactly,
to the fen, for any areas, and no part is more than a fen from its exact share."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escrow.domain.buildings import split_by_area
from escrow.domain.money import CENT

amounts = st.integers(min_value=0, max_value=10**14).map(lambda fen: Decimal(fen) * CENT)
areas = st.lists(
    st.integers(min_value=1, max_value=10**9).map(lambda x: Decimal(x) / 100), min_size=1, max_size=60
)


@given(amounts, areas)
def test_the_parts_sum_to_the_key_amount_to_the_fen(total, building_areas):
    parts = split_by_area(total, building_areas)
    assert len(parts) == len(building_areas)
    assert sum(parts, Decimal("0")) == total
    assert all(p >= 0 and p == p.quantize(CENT) for p in parts)
    whole = sum(Fraction(a) for a in building_areas)
    for part, area in zip(parts, building_areas, strict=True):
        exact = Fraction(total) * Fraction(area) / whole
        assert abs(Fraction(part) - exact) < Fraction(1, 100)


def test_equal_areas_share_the_odd_fen_from_the_first_building():
    assert split_by_area(Decimal("100.00"), [Decimal("1")] * 3) == (
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    )


def test_an_area_of_zero_is_refused():
    with pytest.raises(ValueError, match="positive"):
        split_by_area(Decimal("1.00"), [Decimal("1"), Decimal("0")])
