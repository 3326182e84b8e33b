"""Buyer identity documents. A mainland resident ID (GB 11643-1999) is 17 digits and a check character;
other documents (passports, Hong Kong/Macao/Taiwan permits) are accepted as 6–20 letters and digits."""

from __future__ import annotations

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_RESIDENT = re.compile(r"^\d{17}[\dX]$")
_OTHER = re.compile(r"^[A-Z0-9]{6,20}$")


def resident_id_check(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_problem(id_no: str) -> str | None:
    """None if acceptable, else what is wrong in words."""
    value = id_no.strip().upper()
    if _RESIDENT.match(value):
        expected = resident_id_check(value[:17])
        if value[17] != expected:
            return f"resident ID check character is {value[17]}, expected {expected}"
        return None
    if len(value) == 18 and value[:17].isdigit():
        return "resident ID must end in a digit or X"
    if _OTHER.match(value) and not value.isdigit():
        return None  # passport or permit
    return "must be an 18-character resident ID or a 6–20 character passport/permit number"


def mask_name(name: str) -> str:
    """张三丰 → 张**; for the public voucher page and bank-facing notice views."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""
