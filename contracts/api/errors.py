"""The error body every HTTP endpoint returns."""

from pydantic import BaseModel, ConfigDict, Field


class FieldError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: int | None = Field(default=None, description="1-based line of an uploaded file.")
    field: str | None = Field(default=None, description="Dotted path of the offending field.")
    code: str
    message: str


class ErrorInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="Stable machine-readable error code.")
    message: str = Field(description="What went wrong and what to do next.")
    errors: list[FieldError] = Field(default_factory=list)
    total_errors: int | None = None


class ErrorBody(BaseModel):
    """``{"error": {"code", "message", "errors": [...]}}``."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorInfo


__all__ = ["ErrorBody", "ErrorInfo", "FieldError"]
