"""The Merkle root an audit anchor commits to: one leaf per audit chain, over that chain's head.

The recipe (README, "Verifying the audit trail"), all hashes SHA-256:

    leaf  = sha256(0x00 || chain as 8-byte big-endian signed integer || head hash as its 32 raw bytes)
    node  = sha256(0x01 || left || right)
    root  = the leaves sorted by chain, paired level by level left to right; a level's odd last node is
            promoted to the next level unchanged; the root of no leaves is sha256 of nothing

The 0x00/0x01 prefixes keep a leaf from passing for a node (as in RFC 6962, whose tree shape differs: it
splits at the largest power of two, where this one pairs neighbours and promotes an odd one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def leaf(chain: int, head_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + chain.to_bytes(8, "big", signed=True) + bytes.fromhex(head_hash)).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(heads: Iterable[tuple[int, str]]) -> str:
    """The root (hex) over (chain, head hash) pairs, in any order; each chain once."""
    level = [leaf(chain, head) for chain, head in sorted(heads)]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        paired = [node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()
