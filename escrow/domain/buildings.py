"""Buildings (楼栋): a pre-sale permit often covers several buildings that reach their nodes at different
times.

Where the rule book supervises by building (`[buildings] supervise_by_building`, hengshui@2026.2), the key
supervised amount K is split across the buildings by pre-sale area, each building keeps the retention of
its own highest node, and the court-deduction protection of 法〔2022〕12号 art. 3 lasts for each building
until its own first registration. A project opened without buildings is one building, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from escrow.domain.money import CENT

MAX_BUILDINGS = 200  # a permit with more buildings than this is a data entry mistake (configured)


@dataclass(frozen=True)
class BuildingProgress:
    """One building as the caps need it: its pre-sale area and the nodes confirmed for it (a confirmation
    made for the whole project counts for every building)."""

    code: str
    area: Decimal
    confirmed: frozenset[str]


@dataclass(frozen=True)
class Progress:
    """How far a project's construction is: the nodes confirmed for the whole project and, where it has
    buildings, each building's (the project's confirmations included)."""

    confirmed: frozenset[str]
    buildings: tuple[BuildingProgress, ...] = ()

    @property
    def anywhere(self) -> frozenset[str]:
        """The nodes confirmed for the project or for at least one of its buildings."""
        return self.confirmed.union(*(b.confirmed for b in self.buildings))

    @property
    def everywhere(self) -> frozenset[str]:
        """The nodes every building (or the project, without buildings) has reached."""
        if self.buildings:
            return frozenset.intersection(*(b.confirmed for b in self.buildings))
        return self.confirmed

    def reached(self, node_code: str) -> bool:
        """Every building (or the project, without buildings) has reached `node_code`."""
        return node_code in self.everywhere


def split_by_area(total: Decimal, areas: Sequence[Decimal]) -> tuple[Decimal, ...]:
    """`total` split in proportion to `areas`, to the fen, the parts summing to `total` exactly: each part is
    rounded down and the fen left over go one each to the largest remainders (the earlier building first on a
    tie), so that no part is ever more than a fen from its exact share."""
    if not areas:
        return ()
    if any(a <= 0 for a in areas):
        raise ValueError("every building needs a positive pre-sale area")
    fen = int(total / CENT)
    if Decimal(fen) * CENT != total or fen < 0:
        raise ValueError(f"{total} is not a non-negative amount in fen")
    weights = [Fraction(a) for a in areas]
    whole = sum(weights)
    exact = [fen * w / whole for w in weights]
    parts = [int(x) for x in exact]  # floor: every x ≥ 0
    left = fen - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return tuple(Decimal(p) * CENT for p in parts)
