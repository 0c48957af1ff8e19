"""HTTP bodies of the registry: models, versions, aliases and their deployment history."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.commands.models import ALIAS_PATTERN, MODEL_NAME_PATTERN
from contracts.fields import Sha256

VersionStatus = Literal["training", "ready", "deployed", "archived", "failed"]
DeploymentAction = Literal["deploy", "rollback", "archive"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VersionPublic(Body):
    model_name: str
    version: int
    status: VersionStatus
    serving_name: str
    base_model: str
    artifact_sha256: Sha256 | None = None
    artifact_uri: str | None = None
    artifact_bytes: int | None = None
    external_model_id: str | None = None
    source: Literal["job", "manual", "import"]
    job_id: str | None = None
    dataset: str | None = None
    dataset_version: int | None = None
    training_config: dict[str, Any] = Field(default_factory=dict)
    training_metrics: dict[str, float] = Field(default_factory=dict)
    quality_metrics: dict[str, float] = Field(default_factory=dict)
    performance_metrics: dict[str, float] = Field(default_factory=dict)
    cost: dict[str, float] = Field(default_factory=dict)
    aliases: list[str] = Field(default_factory=list)
    created_at: datetime


class AliasPublic(Body):
    model_name: str
    alias: str
    version: int
    serving_name: str
    revision: int = Field(
        description="Increases with every change; send it back as "
        "`expected_revision` to deploy only if nobody else did."
    )
    updated_at: datetime


class ModelPublic(Body):
    name: str
    tenant: str
    description: str
    latest_version: int | None
    aliases: list[AliasPublic]
    created_at: datetime


class DeploymentRecord(Body):
    """One entry of the append-only history: who changed what, when and why."""

    sequence: int
    model_name: str
    alias: str | None
    action: DeploymentAction
    from_version: int | None
    to_version: int | None
    actor: str
    notes: str
    config: dict[str, Any]
    justification: str | None
    created_at: datetime


class RegisterRequest(Body):
    """At most one of an adapter in the artifact store, an adapter directory, or a hosted model;
    none of them registers the base model itself (e.g. as the control of an experiment)."""

    model_name: str = Field(pattern=MODEL_NAME_PATTERN)
    base_model: str = Field(min_length=1)
    artifact_sha256: Sha256 | None = None
    adapter_path: str | None = Field(
        default=None,
        description="A PEFT adapter directory the registry can read; it is "
        "stored in the artifact store.",
    )
    external_model_id: str | None = None
    description: str = ""
    actor: str = "api"


class DeployRequest(Body):
    version: int = Field(ge=1)
    alias: str = Field(default="production", pattern=ALIAS_PATTERN)
    config: dict[str, Any] = Field(default_factory=dict)
    expected_revision: int | None = Field(default=None, ge=0)
    justification: str | None = None
    actor: str = "api"
    notes: str = ""


class RollbackRequest(Body):
    to_version: int | None = Field(default=None, ge=1)
    justification: str | None = None
    actor: str = "api"
    notes: str = ""


class ArchiveRequest(Body):
    actor: str = "api"
    notes: str = ""


class VersionComparison(Body):
    """Two versions side by side, with the metric differences (b minus a)."""

    a: VersionPublic
    b: VersionPublic
    metric_differences: dict[str, float]
    config_differences: dict[str, list[Any]] = Field(
        description="Training config keys whose values differ: [a, b]."
    )


class RegistryExport(Body):
    """The whole registry of one tenant, for backup and migration."""

    format_version: Literal[1] = 1
    tenant: str
    exported_at: datetime
    models: list[ModelPublic]
    versions: list[VersionPublic]
    history: list[DeploymentRecord]


class ImportSummary(Body):
    models: int
    versions: int
    history: int


__all__ = [
    "AliasPublic",
    "ArchiveRequest",
    "DeployRequest",
    "DeploymentRecord",
    "ImportSummary",
    "ModelPublic",
    "RegisterRequest",
    "RegistryExport",
    "RollbackRequest",
    "VersionComparison",
    "VersionPublic",
]
