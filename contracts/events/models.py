"""Events of the registry: model versions, aliases and deployments."""

from typing import Any, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.fields import Sha256


class ModelEvent(Event):
    model_name: str = Field(min_length=1)
    version: int = Field(ge=1)
    serving_name: str = Field(description="Immutable name the version is served under.")


class ServableModelEvent(ModelEvent):
    """Everything a router needs to load and serve the version."""

    base_model: str
    artifact_sha256: Sha256 | None = Field(default=None, description="The LoRA adapter.")
    artifact_uri: str | None = None
    external_model_id: str | None = Field(
        default=None, description="A hosted model, e.g. an OpenAI ft: id."
    )


class ModelRegistered(ServableModelEvent):
    type: Literal["model.registered"] = "model.registered"
    job_id: str | None = None


class ModelDeployed(ServableModelEvent):
    type: Literal["model.deployed"] = "model.deployed"
    alias: str
    alias_revision: int = Field(ge=1, description="Revision of the alias after this change.")
    previous_version: int | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    justification: str | None = None
    actor: str = "system"
    notes: str = ""


class ModelRolledBack(ServableModelEvent):
    """The alias points at ``version`` again, replacing ``from_version``."""

    type: Literal["model.rolled_back"] = "model.rolled_back"
    alias: str
    alias_revision: int = Field(ge=1)
    from_version: int = Field(ge=1)
    justification: str | None = None
    actor: str = "system"
    notes: str = ""


class ModelRouted(ModelEvent):
    """The router sends ``model_name:alias`` traffic to ``serving_name`` now (after a deploy
    or a rollback), its adapter loaded on the upstreams it could reach: the version answers."""

    type: Literal["model.routed"] = "model.routed"
    alias: str
    alias_revision: int = Field(ge=1)


class ModelArchived(ModelEvent):
    type: Literal["model.archived"] = "model.archived"
    actor: str = "system"
    notes: str = ""
