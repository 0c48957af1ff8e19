"""HTTP bodies of the exporter: rated examples in, validated and versioned datasets out."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.api.errors import ErrorInfo, FieldError
from contracts.fields import DatasetFormat
from contracts.selection import ExportFilters

Role = Literal["system", "user", "assistant", "tool"]
UploadFormat = Literal["auto", "openai-chat", "prompt-completion", "alpaca", "sharegpt", "csv"]
ExportState = Literal["queued", "running", "succeeded", "failed"]


class ChatMessage(BaseModel):
    """One message of a conversation, in OpenAI chat format."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str | None = Field(
        default=None, description="Text; may be empty only on an assistant message with tool calls."
    )
    name: str | None = None
    weight: Literal[0, 1] | None = Field(
        default=None, description="0 excludes an assistant message from the loss."
    )
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class ExampleIn(BaseModel):
    """A rated example: a conversation and what is known about its quality and origin."""

    model_config = ConfigDict(extra="forbid")

    messages: list[ChatMessage] = Field(min_length=1)
    system: str | None = Field(
        default=None, description="System prompt, prepended as a system message when given."
    )
    tools: list[dict[str, Any]] | None = Field(
        default=None, description="Tool (function) definitions offered to the model."
    )
    rating: int | None = Field(default=None, ge=1, le=5, description="1 (bad) to 5 (excellent).")
    gold_star: bool = Field(default=False, description="Marked as an exemplary answer.")
    domain: str | None = Field(default=None, max_length=128)
    task_type: str | None = Field(default=None, max_length=128)
    owner: str | None = Field(default=None, max_length=128)
    source: str = Field(default="api", max_length=128, description="Where the example came from.")
    request_id: str | None = Field(
        default=None,
        max_length=128,
        description="Id of the served request it captures, so later feedback can rate it.",
    )
    metadata: dict[str, Any] = Field(default_factory=dict)


class ExampleBatch(BaseModel):
    """Several examples at once; all are stored or none."""

    model_config = ConfigDict(extra="forbid")

    examples: list[ExampleIn] = Field(min_length=1, max_length=10_000)


class ExamplesCreated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(description="Ids of the stored examples, in request order.")
    warnings: list[FieldError] = Field(default_factory=list)


class ExampleSummary(BaseModel):
    """How many stored examples match export filters, before de-duplication and validation."""

    model_config = ConfigDict(extra="forbid")

    matching: int = Field(ge=0, description="Examples matching the filters.")
    gold_star: int = Field(ge=0, description="Of those, marked gold star.")
    tokens: int = Field(ge=0, description="Their tokens, as counted on intake.")
    domains: dict[str, int] = Field(
        default_factory=dict, description="Every domain of the tenant's examples → examples."
    )
    task_types: dict[str, int] = Field(
        default_factory=dict, description="Every task type of the tenant's examples → examples."
    )


class UploadReport(BaseModel):
    """What an upload stored and, in lenient mode, what it rejected and why."""

    model_config = ConfigDict(extra="forbid")

    format: str = Field(description="The detected (or requested) format of the file.")
    mode: Literal["strict", "lenient"]
    accepted: int = Field(ge=0, description="Rows stored.")
    rejected: int = Field(ge=0, description="Rows refused (lenient mode only).")
    errors: list[FieldError] = Field(
        default_factory=list, description="Why rows were refused (capped; see `rejected`)."
    )
    warnings: list[FieldError] = Field(default_factory=list)
    total_warnings: int = Field(default=0, ge=0)


class ExternalSource(BaseModel):
    """Rated examples read from a query against a configured PostgreSQL database.

    The database is named, not given by URL: its connection string lives in the exporter's
    settings (``TUNELOOP_EXPORTER_EXTERNAL_DATABASES``), never in requests or manifests.
    """

    model_config = ConfigDict(extra="forbid")

    database: str = Field(min_length=1, description="Name of a configured external database.")
    query: str = Field(min_length=1, description="A SELECT; parameters as $1, $2, ...")
    parameters: list[str | int | float | bool | None] = Field(default_factory=list)
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Example field → result column: `id`, `prompt`, `response`, `messages`, "
        "`system`, `rating`, `gold_star`, `domain`, `task_type`, `owner`. "
        "Unmapped fields use the column of the same name when the query returns one.",
    )


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Dataset name; each export makes its next version.",
    )
    format: DatasetFormat = "openai-chat-jsonl"
    filters: ExportFilters = Field(default_factory=ExportFilters)
    test_fraction: float = Field(default=0.1, ge=0.0, lt=1.0)
    min_examples: int | None = Field(
        default=None, ge=1, description="Fewer valid examples is an error; default from settings."
    )
    context_length: int | None = Field(
        default=None, ge=16, description="Token limit of the base model; default from settings."
    )
    external: ExternalSource | None = Field(
        default=None, description="Import examples from an external database first."
    )


class RatingHistogram(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unrated: int = 0
    counts: dict[str, int] = Field(default_factory=dict, description="Rating (1-5) → examples.")
    gold_star: int = 0


class LengthStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: int = 0
    max: int = 0
    mean: float = 0.0


class SplitStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    examples: int = Field(ge=0)
    tokens: int = Field(ge=0)
    tokens_per_example: LengthStats
    messages_per_example: LengthStats
    response_chars: LengthStats
    domains: dict[str, int] = Field(default_factory=dict)
    task_types: dict[str, int] = Field(default_factory=dict)
    ratings: RatingHistogram
    artifact_sha256: str | None = None
    artifact_uri: str | None = None
    bytes: int = 0


class DatasetManifest(BaseModel):
    """What a dataset version contains and how it was made; stored next to its files."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    version: int = Field(ge=1)
    tenant: str
    format: DatasetFormat
    created_at: datetime
    filters: ExportFilters
    external: ExternalSource | None = None
    test_fraction: float
    context_length: int
    tokenizer: str = Field(description="What counted the tokens.")
    considered: int = Field(ge=0, description="Examples that matched the filters.")
    excluded: dict[str, int] = Field(
        default_factory=dict, description="Examples left out, by reason (error code)."
    )
    warnings: dict[str, int] = Field(default_factory=dict, description="Warnings, by code.")
    splits: dict[str, SplitStats]
    lineage_sha256: str = Field(description="JSONL of (example id, split) for every row.")
    lineage_uri: str


class DatasetVersionOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    dataset: str
    version: int
    format: DatasetFormat
    created_at: datetime
    train_rows: int
    test_rows: int
    artifact_sha256: str
    manifest_sha256: str


class DatasetDetail(DatasetVersionOut):
    manifest: DatasetManifest


class ExportStatus(BaseModel):
    """An export, accepted at once and run in the exporter's background."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Export id (of the `dataset.export` command, when one asked).")
    dataset: str = Field(description="Name of the dataset the export makes a version of.")
    status: ExportState = Field(
        description="`queued`, `running`, then `succeeded` (see `dataset_id`) or `failed` "
        "(see `error`); `dataset.exported` or `dataset.export_failed` is published at the end."
    )
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    dataset_id: str | None = Field(
        default=None, description="The dataset version made (`GET /v1/datasets/{id}`)."
    )
    version: int | None = Field(default=None, description="Its version number.")
    error: ErrorInfo | None = Field(
        default=None,
        description="Why it failed: `too_few_examples` (with the examples excluded per reason "
        "in `errors`), `external_import_failed` or `export_failed`. Nothing was written.",
    )


class DatasetList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: list[DatasetVersionOut]


class DatasetPreview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    split: Literal["train", "test"]
    rows: list[dict[str, Any]]


__all__ = [
    "ChatMessage",
    "DatasetDetail",
    "DatasetFormat",
    "DatasetList",
    "DatasetManifest",
    "DatasetPreview",
    "DatasetVersionOut",
    "ExampleBatch",
    "ExampleIn",
    "ExampleSummary",
    "ExamplesCreated",
    "ExportFilters",
    "ExportRequest",
    "ExportState",
    "ExportStatus",
    "ExternalSource",
    "LengthStats",
    "RatingHistogram",
    "Role",
    "SplitStats",
    "UploadFormat",
    "UploadReport",
]
