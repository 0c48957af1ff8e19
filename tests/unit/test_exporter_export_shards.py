"""Shards of an export: ranges of normalised hashes that cover them all, once, in order; and
statistics that add up to those of one writer."""

import itertools
import random

import pytest

from services.exporter.export_shards import shard_ranges
from services.exporter.stats import SplitAccumulator

pytestmark = pytest.mark.unit


def in_range(value: str, low: str | None, high: str | None) -> bool:
    return (low is None or value >= low) and (high is None or value < high)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_shard_ranges_hold_every_hash_once_and_in_order(count: int) -> None:
    ranges = shard_ranges(count)
    assert len(ranges) == count
    assert ranges[0][0] is None
    assert ranges[-1][1] is None
    for (_, high), (low, _) in itertools.pairwise(ranges):
        assert high == low
    rng = random.Random(count)
    hashes = sorted(f"{rng.getrandbits(128):032x}" for _ in range(2000))
    hashes += ["0" * 32, "f" * 32, *(f"{low}{'0' * 28}" for low, _ in ranges if low)]
    for value in hashes:
        holders = [i for i, (low, high) in enumerate(ranges) if in_range(value, low, high)]
        assert len(holders) == 1, value
    shard_of = [next(i for i, r in enumerate(ranges) if in_range(h, *r)) for h in sorted(hashes)]
    assert shard_of == sorted(shard_of)


def test_split_statistics_merged_from_parts_equal_one_accumulator() -> None:
    rng = random.Random(3)
    rows = [
        (
            rng.randint(1, 900),
            rng.choice([2, 3, 5]),
            rng.randint(0, 400),
            rng.choice(["billing", None]),
            rng.choice(["qa", "chat"]),
            rng.choice([None, 1, 5]),
            rng.random() < 0.2,
        )
        for _ in range(300)
    ]
    whole, first, second, empty = (SplitAccumulator() for _ in range(4))
    for row in rows:
        whole.add(*row)
    for row in rows[:120]:
        first.add(*row)
    for row in rows[120:]:
        second.add(*row)
    first.merge(empty)
    first.merge(second)
    empty.merge(first)
    for merged in (first, empty):
        assert merged.summary(None, None, 0) == whole.summary(None, None, 0)
