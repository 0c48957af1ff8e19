"""Field types shared by several contracts."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A lowercase hex sha256 digest, the address of an immutable artifact."""

MODEL_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
"""A registry model's name: lower case, digits, ``.``, ``_`` and ``-``."""

ALIAS_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
"""An alias of a model (``production``, ``candidate``)."""

DatasetFormat = Literal[
    "openai-chat-jsonl", "chatml", "alpaca", "sharegpt", "raw-jsonl", "openai-preference-jsonl"
]
"""The file formats of an exported dataset."""

Metrics = dict[str, float]
"""Named numeric metrics, e.g. ``{"train_loss": 0.41}``."""


class ErrorDetail(BaseModel):
    """A machine-readable code and a sentence that tells the reader what to do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, description="Stable machine-readable error code.")
    message: str = Field(min_length=1, description="What went wrong and what to do next.")


__all__ = ["ALIAS_PATTERN", "MODEL_NAME_PATTERN", "ErrorDetail", "Metrics", "Sha256"]

__all__ = ["DatasetFormat", "ErrorDetail", "Metrics", "Sha256"]
