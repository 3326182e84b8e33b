"""Unified social credit code (统一社会信用代码), GB 32100-2015."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escrow.domain.credit_code import ALPHABET, check_character, complete, is_valid, problem

PUBLISHED = (
    "91350100M000100Y43",  # the worked example in the text of GB 32100-2015
    "9144030071526726XG",  # 腾讯科技（深圳）有限公司 Tencent Technology (Shenzhen) Co., Ltd.
    "914403001922038216",  # 华为技术有限公司 Huawei Technologies Co., Ltd.
)

first17s = st.builds(
    lambda head, division, body: head + division + body,
    st.text(alphabet=ALPHABET, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert problem(code) is None
    assert is_valid(code)
    assert complete(code[:17]) == code


def test_standard_example_check_character() -> None:
    assert check_character("91350100M000100Y4") == "3"


@given(first17s)
def test_completed_codes_are_valid(first17: str) -> None:
    code = complete(first17)
    assert len(code) == 18
    assert code[17] in ALPHABET
    assert problem(code) is None


def _every_single_character_change(code: str):
    for i, original in enumerate(code):
        for ch in ALPHABET + "IOSVZ" + "a-":
            if ch != original:
                yield code[:i] + ch + code[i + 1 :]


@pytest.mark.parametrize("code", PUBLISHED)
def test_every_single_character_change_of_a_published_code_fails(code: str) -> None:
    changed = list(_every_single_character_change(code))
    assert len(changed) == 18 * (len(ALPHABET) + 7 - 1)
    accepted = [c for c in changed if is_valid(c)]
    assert accepted == []


@given(
    first17s, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=len(ALPHABET) - 1)
)
def test_every_single_character_change_of_a_generated_code_fails(
    first17: str, position: int, shift: int
) -> None:
    code = complete(first17)
    replacement = ALPHABET[(ALPHABET.index(code[position]) + shift) % len(ALPHABET)]
    changed = code[:position] + replacement + code[position + 1 :]
    assert changed != code
    assert problem(changed) is not None


def test_alphabet_has_31_characters_without_forbidden_letters() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set("IOSVZ") & set(ALPHABET)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "must be 18 characters, got 0"),
        ("91350100M000100Y4", "must be 18 characters, got 17"),
        ("91350100M000100Y433", "must be 18 characters, got 19"),
        ("91350100M000100Y4 ", "characters not allowed"),
    ],
)
def test_wrong_length_or_stray_characters_are_explained(code: str, message: str) -> None:
    assert message in (problem(code) or "")
    assert not is_valid(code)


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_forbidden_letters_are_named(letter: str) -> None:
    code = "91350100M000100Y4" + letter
    reason = problem(code)
    assert reason is not None
    assert "not allowed" in reason
    assert reason.endswith(letter)


def test_lower_case_is_not_accepted() -> None:
    assert "not allowed" in (problem("9144030071526726xg") or "")


def test_division_code_must_be_digits() -> None:
    first17 = "91A50100M000100Y4"  # a letter among characters 3–8
    reason = problem(complete(first17))
    assert reason is not None
    assert "administrative division" in reason


def test_wrong_check_character_names_the_expected_one() -> None:
    assert problem("91350100M000100Y44") == "check character is 4, expected 3 (GB 32100-2015)"
