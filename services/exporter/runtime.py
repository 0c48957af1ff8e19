"""What the exporter's routes and handlers share, built once from its settings."""

from dataclasses import dataclass, field, replace
from pathlib import Path

from contracts.api.datasets import ExportRequest
from contracts.commands import ExportDataset
from services.exporter.export import ExportPlan, ExportTools
from services.exporter.export_runs import ExportRunner
from services.exporter.intake import Intake
from services.exporter.settings import ExporterSettings
from services.exporter.validation import Rules


@dataclass(frozen=True)
class Exporter:
    tools: ExportTools
    rules: Rules = field(default_factory=Rules)
    min_examples: int = 10
    warn_examples: int = 100
    upload_max_bytes: int = 100 * 1024 * 1024
    max_reported_errors: int = 100
    runner: ExportRunner = field(default_factory=ExportRunner, compare=False)
    intake: Intake = field(default=None, compare=False)  # type: ignore[assignment]
    """Where batches of examples are checked; by default in this process."""

    def __post_init__(self) -> None:
        if self.intake is None:
            object.__setattr__(self, "intake", Intake(self.rules, self.tools.counter))

    def plan(self, tenant: str, request: ExportRequest | ExportDataset) -> ExportPlan:
        rules = self.rules
        if request.context_length is not None:
            rules = replace(rules, context_length=request.context_length)
        return ExportPlan(
            tenant=tenant,
            name=request.name,
            format=request.format,
            filters=request.filters,
            test_fraction=request.test_fraction,
            min_examples=request.min_examples or self.min_examples,
            warn_examples=self.warn_examples,
            rules=rules,
            external=request.external,
        )


DEFAULT_CONTEXT_LENGTH = 2048
"""Token limit of rows when neither the settings nor the base model say."""


def exporter_from_settings(
    settings: ExporterSettings, tools: ExportTools, tokenizer: Path | None = None
) -> Exporter:
    """The exporter ``settings`` describe; ``tokenizer`` is the directory ``tools.counter``
    was loaded from, for intake worker processes to load it too."""
    rules = Rules(
        min_prompt_chars=settings.exporter_min_prompt_chars,
        min_response_chars=settings.exporter_min_response_chars,
        context_length=settings.exporter_context_length or DEFAULT_CONTEXT_LENGTH,
        near_limit_fraction=settings.exporter_near_limit_fraction,
    )
    return Exporter(
        tools=tools,
        rules=rules,
        intake=Intake(
            rules,
            tools.counter,
            tokenizer,
            workers=settings.intake_workers(),
            min_worker_bytes=settings.exporter_intake_min_worker_bytes,
        ),
        min_examples=settings.exporter_min_examples,
        warn_examples=settings.exporter_warn_examples,
        upload_max_bytes=settings.exporter_upload_max_bytes,
        max_reported_errors=settings.exporter_max_reported_errors,
    )


__all__ = ["DEFAULT_CONTEXT_LENGTH", "Exporter", "exporter_from_settings"]
