"""Typed values out of parsed TOML: each problem is a RuleBookError naming the file, the dotted key, why."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


class RuleBookError(ValueError):
    """A rule book file that cannot be used, with the file, the dotted key and the reason."""

    def __init__(self, file: str, key: str, reason: str):
        super().__init__(f"{file}: {key}: {reason}")
        self.file, self.key, self.reason = file, key, reason


class TomlReader:
    """Reads typed values out of parsed TOML, raising RuleBookError with the dotted key on any problem."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, key: str, reason: str) -> RuleBookError:
        return RuleBookError(self.file, key, reason)

    def table(self, data: dict, key: str, *, required: bool = True) -> dict:
        value = data.get(key.rsplit(".", 1)[-1])
        if value is None:
            if required:
                raise self.fail(key, "missing table")
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value

    def string(self, data: dict, key: str, *, required: bool = True, default: str = "") -> str:
        value = data.get(key.rsplit(".", 1)[-1])
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, "must be a non-empty string")
        return value

    def decimal(
        self, data: dict, key: str, *, lo: Decimal | None = None, hi: Decimal | None = None
    ) -> Decimal:
        value = data.get(key.rsplit(".", 1)[-1])
        if value is None:
            raise self.fail(key, "missing")
        if not isinstance(value, str):
            raise self.fail(key, 'must be a decimal written as a string, such as "0.70"')
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.fail(key, f"{value!r} is not a decimal number") from None
        if not number.is_finite():
            raise self.fail(key, f"{value!r} is not a finite number")
        if lo is not None and number < lo:
            raise self.fail(key, f"must be at least {lo}")
        if hi is not None and number > hi:
            raise self.fail(key, f"must be at most {hi}")
        return number

    def only(self, data: dict, key: str, allowed: set[str]) -> None:
        """Refuse keys the loader does not know: a misspelt key must not silently fall back to a default."""
        unknown = sorted(set(data) - allowed)
        if unknown:
            where = f"{key}.{unknown[0]}" if key else unknown[0]
            raise self.fail(where, f"unknown key (known here: {', '.join(sorted(allowed))})")

    def boolean(self, data: dict, key: str, default: bool) -> bool:
        value = data.get(key.rsplit(".", 1)[-1], default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def strings(self, data: dict, key: str, *, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = data.get(key.rsplit(".", 1)[-1], [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "must be a list of strings")
        if allowed is not None:
            for v in value:
                if v not in allowed:
                    raise self.fail(key, f"{v!r} is not one of {', '.join(allowed)}")
        return tuple(value)

    def array_of_tables(self, data: dict, key: str) -> list[dict]:
        value = data.get(key.rsplit(".", 1)[-1])
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "must be a non-empty array of tables")
        return value
