"""Commands for the registry."""

from typing import Any, ClassVar, Literal

from pydantic import Field

from contracts.envelope import Command
from contracts.fields import ALIAS_PATTERN, MODEL_NAME_PATTERN, Sha256


class RegisterModel(Command):
    """Register a version by hand: an adapter already in the artifact store, or an external
    model such as an OpenAI ``ft:`` id."""

    SERVICE: ClassVar[str] = "registry"
    type: Literal["model.register"] = "model.register"
    model_name: str = Field(pattern=MODEL_NAME_PATTERN)
    base_model: str = Field(min_length=1)
    artifact_sha256: Sha256 | None = None
    adapter_path: str | None = Field(
        default=None, description="A PEFT adapter directory the registry reads."
    )
    external_model_id: str | None = Field(default=None, description="e.g. ft:gpt-4o-mini:acme::x")
    description: str = ""
    actor: str = "system"


class DeployModel(Command):
    """Point an alias at a version; the router starts serving it."""

    SERVICE: ClassVar[str] = "registry"
    type: Literal["model.deploy"] = "model.deploy"
    model_name: str = Field(pattern=MODEL_NAME_PATTERN)
    version: int = Field(ge=1)
    alias: str = Field(default="production", pattern=ALIAS_PATTERN)
    config: dict[str, Any] = Field(
        default_factory=dict, description="Deployment config, e.g. traffic weight."
    )
    expected_revision: int | None = Field(
        default=None, ge=0, description="Fail with a conflict unless the alias is at this revision."
    )
    justification: str | None = Field(
        default=None, description="Experiment or evaluation behind the change."
    )
    actor: str = "system"
    notes: str = ""


class RollBackModel(Command):
    """Point an alias back at its previous version (or a named one)."""

    SERVICE: ClassVar[str] = "registry"
    type: Literal["model.rollback"] = "model.rollback"
    model_name: str = Field(pattern=MODEL_NAME_PATTERN)
    alias: str = Field(default="production", pattern=ALIAS_PATTERN)
    to_version: int | None = Field(
        default=None, ge=1, description="Target version; the previous one when empty."
    )
    justification: str | None = None
    actor: str = "system"
    notes: str = ""


class ArchiveModel(Command):
    """Retire a version no alias uses."""

    SERVICE: ClassVar[str] = "registry"
    type: Literal["model.archive"] = "model.archive"
    model_name: str = Field(pattern=MODEL_NAME_PATTERN)
    version: int = Field(ge=1)
    actor: str = "system"
    notes: str = ""


__all__ = [
    "ALIAS_PATTERN",
    "MODEL_NAME_PATTERN",
    "ArchiveModel",
    "DeployModel",
    "RegisterModel",
    "RollBackModel",
]
