"""Settings of the retrainer service."""

from pydantic import Field

from libs.config import ServiceSettings


class RetrainerSettings(ServiceSettings):
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias="TUNELOOP_RETRAINER_PORT",
        description="HTTP port of the retrainer; 0 picks a free one.",
    )
    tick_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        validation_alias="TUNELOOP_RETRAINER_TICK_SECONDS",
        description="How often policies' schedules, pending evaluations and stage time limits "
        "are checked (a gold-star feedback also wakes the check at once).",
    )
    count_seconds: float = Field(
        default=60.0,
        gt=0,
        validation_alias="TUNELOOP_RETRAINER_COUNT_SECONDS",
        description="How often each gold-star policy asks the exporter for its count when no "
        "gold-star feedback arrived (uploaded examples come with no event).",
    )
    query_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        validation_alias="TUNELOOP_RETRAINER_QUERY_TIMEOUT_SECONDS",
        description="How long to wait for the exporter's count and the router's answer.",
    )
    export_timeout_seconds: float = Field(
        default=3600.0,
        gt=0,
        validation_alias="TUNELOOP_RETRAINER_EXPORT_TIMEOUT_SECONDS",
        description="A run still exporting after this long fails.",
    )
    training_timeout_seconds: float = Field(
        default=172800.0,
        gt=0,
        validation_alias="TUNELOOP_RETRAINER_TRAINING_TIMEOUT_SECONDS",
        description="A run still training (or waiting for the registry) after this long fails.",
    )
    evaluation_timeout_seconds: float = Field(
        default=7200.0,
        gt=0,
        validation_alias="TUNELOOP_RETRAINER_EVALUATION_TIMEOUT_SECONDS",
        description="A run still evaluating after this long fails.",
    )
    experiment_start_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        validation_alias="TUNELOOP_RETRAINER_EXPERIMENT_START_TIMEOUT_SECONDS",
        description="A run whose A/B test the router has not started after this long fails "
        "(a running test has no time limit: it ends with its verdict, or when stopped).",
    )

    def stage_limits(self) -> dict[str, float]:
        """Seconds a run may stay in each status before it fails."""
        return {
            "triggered": self.export_timeout_seconds,
            "exporting": self.export_timeout_seconds,
            "training": self.training_timeout_seconds,
            "evaluating": self.evaluation_timeout_seconds,
            "experimenting": self.experiment_start_timeout_seconds,
        }


__all__ = ["RetrainerSettings"]
