"""Deterministic, sticky assignment of units to experiment variants.

A unit (the request's ``user`` or ``X-Tuneloop-Unit``) hashes with the experiment's salt into
one of 10,000 buckets; the same unit always lands in the same bucket, on every replica and
after restarts. Treatment *i* of *k* owns the buckets starting at ``i * 10000 // k`` up to its
weight, the control owns every other bucket. Ramping a treatment up therefore only takes
buckets from the control: a unit already in a treatment never moves out of it.
"""

import hashlib
from dataclasses import dataclass

BUCKETS = 10_000


@dataclass(frozen=True)
class Variant:
    name: str
    serving_name: str
    weight: float
    is_control: bool


def bucket_of(salt: str, unit: str) -> int:
    """The unit's bucket in ``[0, 10000)`` for this experiment."""
    digest = hashlib.sha256(f"{salt}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def treatment_ranges(treatments: list[Variant]) -> list[tuple[Variant, int, int]]:
    """Each treatment's bucket range ``[start, end)``; starts are fixed, ends move with weight."""
    region = BUCKETS // len(treatments)
    ranges = []
    for index, treatment in enumerate(treatments):
        start = index * region
        size = min(region, round(treatment.weight * BUCKETS))
        ranges.append((treatment, start, start + size))
    return ranges


def assign(salt: str, unit: str, variants: list[Variant]) -> tuple[Variant, int]:
    """The unit's variant and bucket."""
    bucket = bucket_of(salt, unit)
    treatments = [v for v in variants if not v.is_control]
    for treatment, start, end in treatment_ranges(treatments):
        if start <= bucket < end:
            return treatment, bucket
    control = next(v for v in variants if v.is_control)
    return control, bucket


__all__ = ["BUCKETS", "Variant", "assign", "bucket_of", "treatment_ranges"]
