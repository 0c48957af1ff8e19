"""Events of the exporter: training datasets."""

from typing import Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.fields import Sha256


class DatasetExported(Event):
    """A validated, versioned dataset was written to the artifact store."""

    type: Literal["dataset.exported"] = "dataset.exported"
    dataset: str = Field(description="Dataset name, unique per tenant.")
    version: int = Field(ge=1, description="Version number within the dataset.")
    artifact_sha256: Sha256 = Field(description="Content address of the dataset file.")
    artifact_uri: str = Field(description="Where the artifact store keeps the file.")
    format: Literal["openai-chat-jsonl"] = "openai-chat-jsonl"
    train_rows: int = Field(ge=0)
    validation_rows: int = Field(default=0, ge=0)
    test_rows: int = Field(default=0, ge=0)
    rejected_rows: int = Field(default=0, ge=0, description="Rows excluded by validation.")
    token_count: int | None = Field(default=None, ge=0, description="Tokens in the train split.")
    base_model: str | None = Field(
        default=None, description="Tokenizer the rows were counted with."
    )
    filters: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="The selection the dataset was exported with."
    )
