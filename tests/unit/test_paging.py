"""Cursors and limits of the lists' pages (escrow.domain.paging)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escrow.domain.errors import InvalidInput
from escrow.domain.paging import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    decode_cursor,
    encode_cursor,
    limit_of,
    page_of,
)

keys = st.integers(min_value=0, max_value=2**63 - 1)


@given(st.lists(keys, min_size=1, max_size=3))
def test_a_cursor_names_the_position_it_was_made_of(position):
    cursor = encode_cursor(tuple(position))
    assert cursor.isascii() and "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor, len(position)) == tuple(position)


@given(st.lists(keys, min_size=1, max_size=3), st.integers(min_value=1, max_value=3))
def test_a_cursor_of_another_list_is_refused(position, keys_of_list):
    if keys_of_list == len(position):
        return
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(encode_cursor(tuple(position)), keys_of_list)
    assert [e.field for e in refused.value.errors] == ["cursor"]


@given(st.text(max_size=40))
def test_any_text_decodes_to_a_position_or_is_refused_naming_cursor(text):
    try:
        position = decode_cursor(text, 1)
    except InvalidInput as refused:
        assert [e.field for e in refused.errors] == ["cursor"]
    else:
        assert len(position) == 1 and 0 <= position[0] < 2**63


@pytest.mark.parametrize("value", ["0", "-1", "1001", "1e3", "ten", "", " 5", "١٠"])
def test_a_limit_outside_its_range_is_refused_naming_limit(value):
    with pytest.raises(InvalidInput) as refused:
        limit_of(value)
    assert [e.field for e in refused.value.errors] == ["limit"]


def test_limits_within_range():
    assert limit_of(None) == DEFAULT_LIMIT == 100
    assert limit_of("1") == 1 and limit_of(str(MAX_LIMIT)) == MAX_LIMIT == 1000


@given(st.integers(min_value=0, max_value=30), st.integers(min_value=1, max_value=10))
def test_the_extra_item_read_says_more_follow(n, limit):
    read = list(range(1, min(n, limit + 1) + 1))  # what a store query with limit + 1 returns
    paged = page_of(read, Page(limit), lambda i: (i,))
    assert paged.items == read[:limit]
    assert paged.next == ((read[limit - 1],) if n > limit else None)
