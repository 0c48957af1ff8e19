"""Latency as a fixed log-spaced histogram, so p99 needs no raw samples."""

import math

BUCKETS = 96
"""Bucket i holds latencies up to 2^(i/4) ms (up to ~16 minutes), about 19 % wide each."""


def bucket_of(latency_ms: float) -> int:
    if latency_ms <= 1:
        return 0
    return min(BUCKETS - 1, math.ceil(4 * math.log2(latency_ms)))


def upper_bound(bucket: int) -> float:
    return float(2 ** (bucket / 4))


def with_latency(histogram: list[int], latency_ms: float) -> list[int]:
    """A copy of ``histogram`` with one more latency counted."""
    counts = list(histogram) or [0] * BUCKETS
    counts[bucket_of(latency_ms)] += 1
    return counts


def quantile(histogram: list[int], q: float) -> float | None:
    """The upper bound of the bucket holding the ``q`` quantile; None when empty."""
    total = sum(histogram)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for bucket, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return upper_bound(bucket)
    return upper_bound(len(histogram) - 1)


__all__ = ["BUCKETS", "bucket_of", "quantile", "upper_bound", "with_latency"]
