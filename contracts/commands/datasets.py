"""Commands for the exporter."""

from typing import ClassVar, Literal

from pydantic import Field

from contracts.api.datasets import DatasetFormat, ExportFilters, ExternalSource
from contracts.envelope import Command


class ExportDataset(Command):
    """Export the tenant's stored examples matching ``filters`` as the next dataset version."""

    SERVICE: ClassVar[str] = "exporter"
    type: Literal["dataset.export"] = "dataset.export"
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    format: DatasetFormat = "openai-chat-jsonl"
    filters: ExportFilters = Field(default_factory=ExportFilters)
    test_fraction: float = Field(default=0.1, ge=0.0, lt=1.0)
    min_examples: int | None = Field(default=None, ge=1)
    context_length: int | None = Field(default=None, ge=16)
    external: ExternalSource | None = None
