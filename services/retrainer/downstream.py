"""The commands a run sends to the services that do the work, built from the run's plan."""

from contracts.api.evaluations import EvaluationRequest
from contracts.api.router import ExperimentCreate, VariantSpec
from contracts.commands import (
    CancelJob,
    CreateJob,
    ExportDataset,
    StartEvaluation,
    StartExperiment,
)
from services.retrainer.naming import experiment_name_of, message_id_of
from services.retrainer.spec import PolicySpec
from services.retrainer.tables import RetrainingRun

SERVING_VARIANT = "serving"
CANDIDATE_VARIANT = "retrained"


def plan_of(run: RetrainingRun) -> PolicySpec:
    return PolicySpec.model_validate(run.plan)


def export_command(run: RetrainingRun) -> ExportDataset:
    export = plan_of(run).export
    return ExportDataset(
        id=run.export_id,
        tenant=run.tenant,
        name=run.dataset,
        filters=export.filters,
        test_fraction=export.test_fraction,
        min_examples=export.min_examples,
    )


def training_command(run: RetrainingRun, training_file: str) -> CreateJob:
    training = plan_of(run).training
    return CreateJob(
        id=message_id_of(run.id, "job.create"),
        tenant=run.tenant,
        job_id=run.job_id,
        base_model=run.base_model,
        training_file=training_file,
        dataset=run.dataset,
        dataset_version=run.dataset_version,
        backend=training.backend,
        hyperparameters=training.hyperparameters,
        model_name=run.model_name,
        suffix=training.suffix,
    )


def cancel_command(run: RetrainingRun) -> CancelJob:
    return CancelJob(id=message_id_of(run.id, "job.cancel"), tenant=run.tenant, job_id=run.job_id)


def evaluation_dataset(run: RetrainingRun) -> str | None:
    """The file the candidate is evaluated on: the policy's own, or the run's test split."""
    return plan_of(run).evaluation.dataset_sha256 or run.test_split_sha256


def evaluation_command(run: RetrainingRun) -> StartEvaluation:
    evaluation = plan_of(run).evaluation
    assert run.serving_name is not None
    assert run.candidate_serving_name is not None
    request = EvaluationRequest(
        models=[run.serving_name, run.candidate_serving_name],
        dataset_sha256=evaluation_dataset(run),
        split=evaluation.split,
        primary_metric=evaluation.metric,
        max_tokens=evaluation.max_tokens,
    )
    return StartEvaluation(
        id=message_id_of(run.id, "evaluation.start"),
        tenant=run.tenant,
        evaluation_id=run.evaluation_id,
        request=request,
    )


def experiment_command(run: RetrainingRun) -> StartExperiment:
    experiment = plan_of(run).experiment
    assert run.serving_name is not None
    assert run.candidate_serving_name is not None
    weight = experiment.treatment_weight
    definition = ExperimentCreate(
        name=experiment_name_of(run.model_name, run.id),
        model_name=run.model_name,
        control=VariantSpec(
            name=SERVING_VARIANT, serving_name=run.serving_name, weight=round(1 - weight, 6)
        ),
        treatments=[
            VariantSpec(
                name=CANDIDATE_VARIANT, serving_name=run.candidate_serving_name, weight=weight
            )
        ],
        primary_metric=experiment.primary_metric,
        minimum_detectable_effect=experiment.minimum_detectable_effect,
        alpha=experiment.alpha,
        guardrails=experiment.guardrails,
        stopping=experiment.stopping,
    )
    return StartExperiment(
        id=message_id_of(run.id, "experiment.start"),
        tenant=run.tenant,
        experiment_id=run.experiment_id,
        definition=definition,
    )


__all__ = [
    "CANDIDATE_VARIANT",
    "SERVING_VARIANT",
    "cancel_command",
    "evaluation_command",
    "evaluation_dataset",
    "experiment_command",
    "export_command",
    "plan_of",
    "training_command",
]
