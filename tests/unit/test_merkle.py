"""The anchor's Merkle root (escrow.domain.merkle): the recipe the README gives, on small trees by hand, and
for any set of chains: the order given does not matter, and changing any head or chain changes the root."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from escrow.domain import merkle

HASH = st.binary(min_size=32, max_size=32).map(bytes.hex)
HEADS = st.dictionaries(st.integers(-1, 2**40), HASH, min_size=1, max_size=40)


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_small_trees_by_hand():
    a, b, c = "aa" * 32, "bb" * 32, "cc" * 32
    la = _sha(b"\x00" + (0).to_bytes(8, "big", signed=True) + bytes.fromhex(a))
    lb = _sha(b"\x00" + (7).to_bytes(8, "big", signed=True) + bytes.fromhex(b))
    lc = _sha(b"\x00" + (-1).to_bytes(8, "big", signed=True) + bytes.fromhex(c))
    assert merkle.root([]) == hashlib.sha256(b"").hexdigest()
    assert merkle.root([(0, a)]) == la.hex()
    assert merkle.root([(7, b), (0, a)]) == _sha(b"\x01" + la + lb).hex()
    # sorted by chain: -1, 0, 7; the odd last leaf is promoted
    assert merkle.root([(0, a), (7, b), (-1, c)]) == _sha(b"\x01" + _sha(b"\x01" + lc + la) + lb).hex()


@given(HEADS, st.randoms())
def test_the_order_given_does_not_matter(heads, rnd):
    pairs = list(heads.items())
    shuffled = pairs[:]
    rnd.shuffle(shuffled)
    assert merkle.root(pairs) == merkle.root(shuffled)


@given(HEADS, st.data())
def test_any_changed_head_or_chain_changes_the_root(heads, data):
    root = merkle.root(heads.items())
    chain = data.draw(st.sampled_from(sorted(heads)))
    other = data.draw(HASH.filter(lambda h: h != heads[chain]))
    assert merkle.root({**heads, chain: other}.items()) != root
    moved = data.draw(st.integers(-1, 2**40).filter(lambda c: c not in heads))
    renamed = {k: v for k, v in heads.items() if k != chain} | {moved: heads[chain]}
    assert merkle.root(renamed.items()) != root
    assert merkle.root({k: v for k, v in heads.items() if k != chain}.items()) != root  # a leaf left out
