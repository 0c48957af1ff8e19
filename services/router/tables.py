"""The router's tables: what each alias serves, the versions it can serve, its experiments."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from contracts.envelope import utc_now


class Servable(SQLModel, table=True):
    """A registry version the router can send traffic to."""

    __tablename__ = "router_servables"
    __table_args__ = (UniqueConstraint("tenant", "serving_name"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    serving_name: str = Field(max_length=128)
    model_name: str = Field(max_length=64)
    version: int
    base_model: str = Field(max_length=255)
    artifact_sha256: str | None = Field(default=None, max_length=64)
    external_model_id: str | None = Field(default=None, max_length=255)
    archived: bool = False


class Route(SQLModel, table=True):
    """``model_name:alias`` → the serving name it points at now."""

    __tablename__ = "router_routes"
    __table_args__ = (UniqueConstraint("tenant", "model_name", "alias"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    model_name: str = Field(max_length=64)
    alias: str = Field(max_length=32)
    serving_name: str = Field(max_length=128)
    alias_revision: int = 0
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Experiment(SQLModel, table=True):
    __tablename__ = "router_experiments"
    __table_args__ = (UniqueConstraint("tenant", "name"),)

    id: str = Field(primary_key=True, max_length=32)
    tenant: str = Field(max_length=64, index=True)
    name: str = Field(max_length=64)
    model_name: str = Field(max_length=64)
    salt: str = Field(max_length=32)
    status: str = Field(default="running", max_length=16)
    variants: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    stop_reason: str | None = Field(default=None, max_length=2000)
    primary_metric: str = Field(max_length=32)
    minimum_detectable_effect: float
    alpha: float
    policy: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="baseline, power, guardrails, stopping, weights",
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


__all__ = ["Experiment", "Route", "Servable"]
