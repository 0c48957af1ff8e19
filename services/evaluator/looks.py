"""Running always-valid looks stored as JSON (infinite bounds stored as null)."""

import math
from dataclasses import asdict
from typing import Any

from services.evaluator.statistics import SequentialLook


def looks_to_json(looks: dict[str, SequentialLook]) -> dict[str, Any]:
    return {
        key: {
            k: (v if not isinstance(v, float) or math.isfinite(v) else None)
            for k, v in asdict(look).items()
        }
        for key, look in looks.items()
    }


def looks_from_json(stored: dict[str, Any]) -> dict[str, SequentialLook]:
    infinite = {
        "ci_low": -math.inf,
        "ci_high": math.inf,
        "likelihood_ratio": math.inf,
        "variance": math.inf,
    }
    restored: dict[str, SequentialLook] = {}
    for key, values in stored.items():
        fields: dict[str, Any] = {
            k: (infinite.get(k, 0.0) if v is None else v) for k, v in values.items()
        }
        restored[key] = SequentialLook(**fields)
    return restored


__all__ = ["looks_from_json", "looks_to_json"]
