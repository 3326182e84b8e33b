"""Record ids as they arrive from URLs and request bodies. Primary keys are INTEGER columns: a larger id
cannot exist, and PostgreSQL refuses even to compare one with an INTEGER column, so callers check first."""

MAX_ID = 2**31 - 1


def valid_id(value: int) -> bool:
    return 0 < value <= MAX_ID
