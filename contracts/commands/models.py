"""Commands for the registry."""

from typing import Any, ClassVar, Literal

from pydantic import Field

from contracts.envelope import Command


class DeployModel(Command):
    SERVICE: ClassVar[str] = "registry"
    type: Literal["model.deploy"] = "model.deploy"
    model_name: str
    version: int = Field(ge=1)
    alias: str = "production"
    config: dict[str, Any] = Field(default_factory=dict)
    actor: str = "system"
    notes: str = ""


class RollBackModel(Command):
    SERVICE: ClassVar[str] = "registry"
    type: Literal["model.rollback"] = "model.rollback"
    model_name: str
    alias: str = "production"
    to_version: int | None = Field(
        default=None, ge=1, description="Target version; the previous one when empty."
    )
    actor: str = "system"
    notes: str = ""
