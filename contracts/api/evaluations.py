"""HTTP bodies of the evaluator: experiment statistics and offline evaluations."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.events.evaluations import ArmStatistics, TreatmentResult


class ExperimentView(BaseModel):
    """An experiment's statistics and verdict as of now."""

    model_config = ConfigDict(extra="forbid")

    experiment_id: str
    status: Literal["running", "concluded"]
    verdict: str | None = None
    summary: str
    primary_metric: str
    method: str
    alpha: float
    arms: list[ArmStatistics]
    results: list[TreatmentResult]
    srm_p_value: float | None = None
    planned_units_per_arm: int | None = Field(
        default=None, description="Units per arm a fixed-horizon test would need."
    )
    recommendation: str | None = None
    definition: dict[str, Any]
    created_at: datetime
    concluded_at: datetime | None = None


__all__ = ["ExperimentView"]
