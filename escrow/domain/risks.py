"""Risk signals a supervisor reads on the dashboard (escrow.services.overview): named rules on figures the
caps already compute."""

from __future__ import annotations

from decimal import Decimal

ZERO = Decimal(0)


def is_near_floor(retained: Decimal, releasable: Decimal, percent: int) -> bool:
    """Near the retention floor: what a node release could take is at most `percent` (a configured value,
    ESCROW_RETENTION_NEAR_PERCENT, not one from the measures) of the required cash retention. No retention,
    no floor to be near."""
    return retained > ZERO and releasable * 100 <= retained * percent
