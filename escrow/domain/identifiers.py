"""Document numbers as the issuing office writes them (CONTRACT.md §7).

Permit numbers (预售许可证号), contract numbers, notice numbers, court order numbers, guarantee numbers,
receipt numbers and agreement numbers are printable text of 1–64 characters: `衡房预售字(2026)第001号`,
`（2026）衡市房预售证第016号`, `HT/2026/0001`, `（2026）冀1102执保123号`. One rule, used by the API's schemas,
the CLI, the portal's and the bureau's forms:

- letters of any script (CJK included) and digits (ASCII and full-width);
- the punctuation offices print in numbers: round, square, lenticular and tortoise-shell brackets, ASCII
  and full-width; `/`, `-`, `－`, `—`, `–`, `_`, `.`, `·`, `・`, `#`, `＃`, `:`, `：`, `,`, `，`, `、`, `№`;
- spaces (U+0020 and the ideographic space U+3000) inside, never at the start or the end;
- no control or format character (the NUL character included), nothing invisible;
- no `.` or `..` segment between slashes: a number is carried in a URL path, percent-encoded
  (`HT%2F2026%2F0001`), and a dot segment would be read as a step up the path by clients and proxies.

Bank account numbers and bank references keep their own, narrower patterns (they are not office-written).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote

MAX_LENGTH = 64
SPACES = frozenset(" \u3000")
PUNCTUATION = frozenset("()（）[]［］【】〔〕〖〗/-－—–_.·・#＃:：,，、№")
_WORDS = {
    "empty": "must not be empty",
    "too_long": "at most {count} characters",
    "edge_space": "must not start or end with a space",
    "control_character": "must not contain the control character {codepoint}",
    "character_not_allowed": "the character {char!r} ({codepoint}) is not allowed in a document number",
    "dot_segment": "must not contain a '.' or '..' segment between slashes",
}


@dataclass(frozen=True)
class IdentifierProblem:
    """Why a document number is refused: a code with its params, and the English built from them."""

    code: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return _WORDS[self.code].format(**self.params)


def _codepoint(char: str) -> str:
    return "NUL (U+0000)" if char == "\x00" else f"U+{ord(char):04X}"


def _allowed(char: str) -> bool:
    if char in SPACES or char in PUNCTUATION:
        return True
    category = unicodedata.category(char)
    return category[0] == "L" or category == "Nd"


def identifier_problem(value: str) -> IdentifierProblem | None:
    """None when `value` is a document number this system takes; otherwise why not."""
    if not value:
        return IdentifierProblem("empty")
    if len(value) > MAX_LENGTH:
        return IdentifierProblem("too_long", {"count": str(MAX_LENGTH)})
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return IdentifierProblem("control_character", {"codepoint": _codepoint(char)})
    if value[0].isspace() or value[-1].isspace():
        return IdentifierProblem("edge_space")
    for char in value:
        if not _allowed(char):
            return IdentifierProblem("character_not_allowed", {"char": char, "codepoint": _codepoint(char)})
    if any(segment in (".", "..") for segment in value.split("/")):
        return IdentifierProblem("dot_segment")
    return None


def check_identifier(value: str) -> str:
    """`value` unchanged if acceptable; ValueError with the reason otherwise (for schema validators)."""
    problem = identifier_problem(value)
    if problem is not None:
        raise ValueError(problem.message)
    return value


def path_segment(value: str) -> str:
    """The number as one URL path segment: every reserved character percent-encoded, `/` included."""
    return quote(value, safe="")
