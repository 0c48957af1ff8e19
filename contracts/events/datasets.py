"""Events of the exporter: training datasets."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Event
from contracts.fields import DatasetFormat, Sha256


class SplitArtifact(BaseModel):
    """One split of a dataset version: its file in the artifact store and its row count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: Sha256
    uri: str
    rows: int = Field(ge=0)
    tokens: int = Field(default=0, ge=0)


class DatasetExported(Event):
    """A validated, versioned dataset was written to the artifact store."""

    type: Literal["dataset.exported"] = "dataset.exported"
    dataset: str = Field(description="Dataset name, unique per tenant.")
    version: int = Field(ge=1, description="Version number within the dataset.")
    dataset_id: str | None = Field(default=None, description="Id of this dataset version.")
    artifact_sha256: Sha256 = Field(description="Content address of the train file.")
    artifact_uri: str = Field(description="Where the artifact store keeps the train file.")
    format: DatasetFormat = "openai-chat-jsonl"
    train_rows: int = Field(ge=0)
    validation_rows: int = Field(default=0, ge=0)
    test_rows: int = Field(default=0, ge=0)
    rejected_rows: int = Field(default=0, ge=0, description="Rows excluded by validation.")
    duplicate_rows: int = Field(default=0, ge=0, description="Rows excluded as duplicates.")
    token_count: int | None = Field(default=None, ge=0, description="Tokens in the train split.")
    base_model: str | None = Field(
        default=None, description="Tokenizer the rows were counted with."
    )
    splits: dict[str, SplitArtifact] = Field(
        default_factory=dict, description="Every split's file: `train` and, when any, `test`."
    )
    manifest_sha256: Sha256 | None = Field(
        default=None, description="Content address of the manifest (filters, counts, stats)."
    )
    manifest_uri: str | None = None
    filters: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="The selection the dataset was exported with."
    )


class DatasetExportFailed(Event):
    """An export (asked by command or over HTTP) could not produce a dataset; nothing was
    written."""

    type: Literal["dataset.export_failed"] = "dataset.export_failed"
    dataset: str = Field(description="Dataset name the export was for.")
    command_id: str = Field(
        description="Id of the export: of its `dataset.export` command, or the `id` that "
        "`POST /v1/datasets/exports` answered."
    )
    code: str = Field(
        description="`too_few_examples`, `external_import_failed` or `export_failed` (an "
        "unexpected error, after retries)."
    )
    message: str = Field(description="What went wrong and what to do next.")
    considered: int = Field(default=0, ge=0, description="Examples that matched the filters.")
    excluded: dict[str, int] = Field(
        default_factory=dict, description="Examples left out, by reason."
    )


__all__ = ["DatasetExportFailed", "DatasetExported", "DatasetFormat", "SplitArtifact"]
