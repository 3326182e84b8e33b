"""Document numbers as offices write them (CONTRACT.md §7): the one rule, and its round trip through a URL
path as an ASGI server decodes it (escrow.api.paths)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escrow.api.paths import SLASH, restore, routing_path
from escrow.domain.identifiers import (
    MAX_LENGTH,
    PUNCTUATION,
    check_identifier,
    identifier_problem,
    path_segment,
)

REAL = [
    "衡房预售字(2026)第001号",
    "（2026）衡市房预售证第016号",
    "HT/2026/0001",
    "（2026）冀1102执保123号",
    "衡水·安居 2026-01",
    "ＨＴ２０２６－０１",
    "法〔2022〕12号",
    "BH-2026-0001",
    "HT-2025-0001",
    "a" * MAX_LENGTH,
]


@pytest.mark.parametrize("value", REAL)
def test_numbers_as_offices_write_them_are_taken(value):
    assert identifier_problem(value) is None
    assert check_identifier(value) == value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "empty"),
        ("a" * (MAX_LENGTH + 1), "too_long"),
        (" HT-1", "edge_space"),
        ("HT-1 ", "edge_space"),
        ("HT-1\u3000", "edge_space"),
        ("HT\x00-1", "control_character"),
        ("HT\n1", "control_character"),
        ("HT\t1", "control_character"),
        ("HT\u200b1", "control_character"),  # zero-width space: invisible
        ("HT\u202e1", "control_character"),  # right-to-left override
        ("HT%2F1", "character_not_allowed"),
        ("HT?1", "character_not_allowed"),
        ("HT\\1", "character_not_allowed"),
        ("HT\ue0001", "character_not_allowed"),  # private use: escrow.api.paths' stand-in for `/`
        ("HT/../1", "dot_segment"),
        ("..", "dot_segment"),
        (".", "dot_segment"),
        ("HT/.", "dot_segment"),
    ],
)
def test_what_is_refused_says_why(value, code):
    problem = identifier_problem(value)
    assert problem is not None and problem.code == code
    with pytest.raises(ValueError) as refused:
        check_identifier(value)
    assert str(refused.value) == problem.message


def test_a_nul_is_named_as_such():
    assert "NUL" in identifier_problem("a\x00b").message


def _server_path(raw: bytes) -> str:
    """What uvicorn (and the test client) put in scope["path"]: the raw path percent-decoded."""
    return unquote(raw.decode("ascii"))


def _route(number: str) -> list[str]:
    raw = f"/api/v1/contracts/{path_segment(number)}/notices".encode("ascii")
    routed = routing_path(raw) or _server_path(raw)
    return routed.split("/")


@pytest.mark.parametrize("value", REAL)
def test_real_numbers_travel_in_one_path_segment(value):
    segments = _route(value)
    assert segments[:4] == ["", "api", "v1", "contracts"] and segments[5:] == ["notices"]
    assert restore(segments[4]) == value


_ALPHABET = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from([*sorted(PUNCTUATION), " ", "\u3000", "衡", "第", "号", "0", "９", "/", "."]),
)


@given(st.text(_ALPHABET, max_size=MAX_LENGTH + 4))
def test_any_text_is_taken_or_refused_with_a_reason_and_taken_ones_round_trip(value):
    problem = identifier_problem(value)
    if problem is not None:
        assert problem.code and problem.message  # a reason, in words
        with pytest.raises(ValueError):
            check_identifier(value)
        return
    assert 1 <= len(value) <= MAX_LENGTH and value == value.strip()
    assert SLASH not in value
    segments = _route(value)
    assert len(segments) == 6, segments  # the number stays one segment whatever it holds
    assert restore(segments[4]) == value


def test_a_path_without_an_encoded_slash_is_left_to_the_server():
    assert routing_path(b"/api/v1/contracts/HT-1/notices") is None
    assert routing_path(b"/api/v1/contracts/%E8%A1%A1/notices") is None
    assert routing_path(b"/api/v1/contracts/HT%2f1/notices") == f"/api/v1/contracts/HT{SLASH}1/notices"


def test_a_query_string_passed_along_with_the_raw_path_is_not_routed():
    """httpx's test transport hands the query over in `raw_path`; routing must not take it for the path."""
    assert routing_path(b"/api/v1/public/contracts/HT%2F1?id_last6=070011") == (
        f"/api/v1/public/contracts/HT{SLASH}1"
    )
    assert routing_path(b"/api/v1/contracts/HT-1?q=a%2Fb") is None
