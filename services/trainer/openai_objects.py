"""Rows of the trainer's tables as OpenAI-shaped API objects."""

from datetime import UTC, datetime
from typing import Any

from contracts.api.fine_tuning import (
    DpoMethod,
    FineTuningJob,
    FineTuningJobEvent,
    FineTuningMethod,
    SupervisedMethod,
)
from contracts.commands import CreateJob
from contracts.envelope import utc_now
from contracts.training import Hyperparameters, JobError
from services.trainer.tables import TrainerJob, TrainerJobEvent


def seconds(moment: datetime | None) -> int | None:
    """Unix seconds; SQLite hands back naive datetimes, which are UTC here."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp())


def method_of(method: str, hyperparameters: Hyperparameters) -> FineTuningMethod:
    """OpenAI's ``method`` object, hyperparameters under the method's own key."""
    if method == "dpo":
        return FineTuningMethod(type="dpo", dpo=DpoMethod(hyperparameters=hyperparameters))
    return FineTuningMethod(
        type="supervised", supervised=SupervisedMethod(hyperparameters=hyperparameters)
    )


def as_job(job: TrainerJob) -> FineTuningJob:
    hyperparameters = Hyperparameters.model_validate(job.hyperparameters)
    error = (
        JobError(code=job.error_code, message=job.error_message or "") if job.error_code else None
    )
    return FineTuningJob(
        id=job.id,
        created_at=seconds(job.created_at) or 0,
        finished_at=seconds(job.finished_at),
        model=job.base_model,
        fine_tuned_model=job.fine_tuned_model,
        organization_id=job.tenant,
        status=job.status,
        hyperparameters=hyperparameters.model_dump(mode="json"),
        training_file=job.training_file,
        validation_file=job.validation_file,
        result_files=[f for f in (job.adapter_sha256, job.merged_model_sha256) if f],
        trained_tokens=job.trained_tokens,
        error=error,
        seed=hyperparameters.seed,
        method=method_of(job.method, hyperparameters),
        estimated_finish=None if job.finished_at else seconds(job.estimated_finish_at),
        user_provided_suffix=job.suffix,
        backend=job.backend,
        dataset=job.dataset,
        dataset_version=job.dataset_version,
        owner=job.owner,
    )


def pending_job(command: CreateJob) -> FineTuningJob:
    return FineTuningJob(
        id=command.job_id,
        created_at=seconds(utc_now()) or 0,
        model=command.base_model,
        organization_id=command.tenant,
        status="validating_files",
        hyperparameters=command.hyperparameters.model_dump(mode="json"),
        training_file=command.training_file or "",
        validation_file=command.validation_file,
        seed=command.hyperparameters.seed,
        method=method_of(command.method, command.hyperparameters),
        user_provided_suffix=command.suffix,
        backend=command.backend,
        dataset=command.dataset,
        dataset_version=command.dataset_version,
        owner=command.owner,
    )


def describe(event_type: str, payload: dict[str, Any]) -> str:
    if event_type == "job.progress":
        loss = payload.get("train_loss")
        shown = f", train loss {loss:.4f}" if isinstance(loss, float) else ""
        return f"Step {payload.get('step')}/{payload.get('total_steps')}{shown}"
    if event_type == "job.failed":
        return f"Job failed: {payload.get('error', {}).get('message', '')}"
    if event_type == "job.created" and payload.get("export"):
        return f"Created fine-tuning job; exporting dataset {payload['export'].get('name')} first"
    if event_type == "job.estimated":
        return (
            f"Estimated {payload.get('trained_tokens')} trained tokens, about "
            f"{float(payload.get('wall_seconds', 0)) / 60:.1f} min and "
            f"${payload.get('cost_usd')} on {payload.get('hardware')}"
        )
    if event_type == "job.checkpoint":
        return f"Checkpoint saved at step {payload.get('step')}"
    return {
        "job.created": "Created fine-tuning job",
        "job.queued": "Files validated; job queued",
        "job.started": "Fine-tuning job started",
        "job.completed": "The job has successfully completed",
        "job.cancelled": "Job cancelled",
    }.get(event_type, event_type)


def as_event(row: TrainerJobEvent) -> FineTuningJobEvent:
    return FineTuningJobEvent(
        id=row.message_id,
        created_at=seconds(row.time) or 0,
        level="error" if row.type == "job.failed" else "info",
        message=describe(row.type, row.payload),
        type="metrics" if row.type == "job.progress" else "message",
        data={"type": row.type, "sequence": row.sequence, **row.payload},
    )


__all__ = ["as_event", "as_job", "pending_job"]
