"""The province's sales draw their project from a Fenwick tree: it must pick what bisecting the prefix sums
picks (the city's way), also after weights change and where a project is sold out."""

from __future__ import annotations

import bisect
import itertools
import random

from escrow.demo.plan import _Fenwick


def test_the_tree_draws_as_the_prefix_sums_do():
    rng = random.Random(7)
    weights = [rng.choice((0.0, rng.random() * 100)) for _ in range(257)]
    tree = _Fenwick(weights)
    for _ in range(2000):
        if rng.random() < 0.3:
            i = rng.randrange(len(weights))
            weights[i] = rng.choice((0.0, rng.random() * 100))
            tree.set(i, weights[i])
        cumulative = list(itertools.accumulate(weights))
        assert abs(tree.total() - cumulative[-1]) < 1e-6
        x = rng.random() * cumulative[-1]
        expected = bisect.bisect(cumulative, x)
        edges = (cumulative[expected], cumulative[expected - 1] if expected else -1.0)
        if all(abs(edge - x) > 1e-6 for edge in edges):
            assert tree.find(x) == expected  # away from a boundary, where float rounding may differ
        assert weights[tree.find(x)] > 0  # never a sold-out project
