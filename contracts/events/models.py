"""Events of the registry: model versions, aliases and deployments."""

from typing import Any, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.fields import Sha256


class ModelEvent(Event):
    model_name: str = Field(min_length=1)
    version: int = Field(ge=1)
    serving_name: str = Field(description="Immutable name the adapter is served under.")


class ModelRegistered(ModelEvent):
    type: Literal["model.registered"] = "model.registered"
    base_model: str
    artifact_sha256: Sha256 | None = None
    job_id: str | None = None


class ModelDeployed(ModelEvent):
    type: Literal["model.deployed"] = "model.deployed"
    alias: str
    base_model: str
    artifact_sha256: Sha256 | None = None
    artifact_uri: str | None = None
    previous_version: int | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    actor: str = "system"
    notes: str = ""


class ModelRolledBack(ModelEvent):
    type: Literal["model.rolled_back"] = "model.rolled_back"
    alias: str
    from_version: int = Field(ge=1)
    actor: str = "system"
    notes: str = ""


class ModelArchived(ModelEvent):
    type: Literal["model.archived"] = "model.archived"
    actor: str = "system"
    notes: str = ""
