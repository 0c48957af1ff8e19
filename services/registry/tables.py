"""The registry's tables: models, versions, aliases and the append-only deployment history."""

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.storage.columns import json_field, timestamp_field


class RegisteredModel(SQLModel, table=True):
    __tablename__ = "registry_models"
    __table_args__ = (UniqueConstraint("tenant", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    name: str = Field(max_length=64)
    description: str = Field(default="", max_length=2000)
    created_at: datetime = timestamp_field()


class ModelVersion(SQLModel, table=True):
    __tablename__ = "registry_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"), UniqueConstraint("tenant", "job_id"))

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    model_id: int = Field(foreign_key="registry_models.id", index=True)
    version: int
    status: str = Field(max_length=16)
    serving_name: str = Field(max_length=128)
    base_model: str = Field(max_length=255)
    artifact_sha256: str | None = Field(default=None, max_length=64)
    artifact_uri: str | None = Field(default=None, max_length=1024)
    artifact_bytes: int | None = None
    external_model_id: str | None = Field(default=None, max_length=255)
    source: str = Field(max_length=16)
    job_id: str | None = Field(default=None, max_length=128)
    dataset: str | None = Field(default=None, max_length=128)
    dataset_version: int | None = None
    training_config: dict[str, Any] = json_field()
    training_metrics: dict[str, float] = json_field()
    quality_metrics: dict[str, float] = json_field()
    performance_metrics: dict[str, float] = json_field()
    cost: dict[str, float] = json_field()
    created_at: datetime = timestamp_field()


class ModelAlias(SQLModel, table=True):
    __tablename__ = "registry_aliases"
    __table_args__ = (UniqueConstraint("model_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    model_id: int = Field(foreign_key="registry_models.id", index=True)
    name: str = Field(max_length=32)
    version_id: int = Field(foreign_key="registry_versions.id")
    revision: int = Field(default=1, description="Optimistic concurrency counter.")
    updated_at: datetime = timestamp_field()


class DeploymentEntry(SQLModel, table=True):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "registry_deployments"

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    model_id: int = Field(foreign_key="registry_models.id", index=True)
    alias: str | None = Field(default=None, max_length=32)
    action: str = Field(max_length=16)
    from_version: int | None = None
    to_version: int | None = None
    actor: str = Field(max_length=128)
    notes: str = Field(default="", max_length=4000)
    config: dict[str, Any] = json_field()
    justification: str | None = Field(default=None, max_length=255)
    created_at: datetime = timestamp_field(index=True)


class ExperimentArmUse(SQLModel, table=True):
    """A version an experiment serves; archiving it is refused while the experiment runs."""

    __tablename__ = "registry_experiment_arms"
    __table_args__ = (UniqueConstraint("tenant", "experiment_id", "serving_name"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    experiment_id: str = Field(max_length=64)
    serving_name: str = Field(max_length=128, index=True)
    running: bool = True


class CostEntry(SQLModel, table=True):
    """The newest amount of one cost-ledger entry charged to a version (exact decimal text)."""

    __tablename__ = "registry_cost_entries"

    tenant: str = Field(primary_key=True, max_length=64)
    entry_id: str = Field(primary_key=True, max_length=128)
    version_id: int = Field(foreign_key="registry_versions.id", index=True)
    kind: str = Field(max_length=16)
    amount_usd: str = Field(max_length=64)
    requests: int = 0


__all__ = [
    "CostEntry",
    "DeploymentEntry",
    "ExperimentArmUse",
    "ModelAlias",
    "ModelVersion",
    "RegisteredModel",
]
