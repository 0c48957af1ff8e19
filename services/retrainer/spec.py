"""A policy's sections as stored (``RetrainingPolicy.spec``, and each run's ``plan``)."""

from pydantic import BaseModel, ConfigDict, Field

from contracts.api.retraining import (
    RetrainingEvaluation,
    RetrainingExperiment,
    RetrainingExport,
    RetrainingPolicyCreate,
    RetrainingPolicyUpdate,
    RetrainingTraining,
    RetrainingTrigger,
)
from services.retrainer.naming import default_dataset


class PolicySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trigger: RetrainingTrigger
    export: RetrainingExport = Field(default_factory=RetrainingExport)
    training: RetrainingTraining = Field(default_factory=RetrainingTraining)
    evaluation: RetrainingEvaluation = Field(default_factory=RetrainingEvaluation)
    experiment: RetrainingExperiment = Field(default_factory=RetrainingExperiment)

    @classmethod
    def of_create(cls, body: RetrainingPolicyCreate) -> "PolicySpec":
        return cls.model_validate(body.model_dump(exclude={"model_name", "enabled"}))

    def updated(self, body: RetrainingPolicyUpdate) -> "PolicySpec":
        changes = {
            name: getattr(body, name)
            for name in ("trigger", "export", "training", "evaluation", "experiment")
            if getattr(body, name) is not None
        }
        return self.model_copy(update=changes)

    def dataset(self, model_name: str) -> str:
        return self.export.dataset or default_dataset(model_name)

    @property
    def alias(self) -> str:
        """The alias whose version a candidate is compared with, and promoted to."""
        return self.experiment.stopping.alias


__all__ = ["PolicySpec"]
