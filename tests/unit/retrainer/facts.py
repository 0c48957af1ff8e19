"""Runs and the facts other services report about them, built without any database."""

from contracts.api.retraining import RetrainingPolicyCreate
from contracts.events import (
    DatasetExported,
    EvaluationCompleted,
    ExperimentConcluded,
    ExperimentStarted,
    JobCompleted,
    ModelRegistered,
    SplitArtifact,
)
from contracts.events.experiments import ExperimentArm
from services.retrainer.spec import PolicySpec
from services.retrainer.starting import new_run
from services.retrainer.tables import RetrainingPolicy, RetrainingRun, ServedVersion

MODEL = "support-bot"
SERVING = "support-bot@1-base0000"
CANDIDATE = "support-bot@2-cafe1234"


def policy_body(**sections: object) -> RetrainingPolicyCreate:
    return RetrainingPolicyCreate.model_validate(
        {"model_name": MODEL, "trigger": {"gold_stars": 10}, **sections}
    )


def a_run(**sections: object) -> RetrainingRun:
    body = policy_body(**sections)
    policy = RetrainingPolicy(tenant="acme", model_name=MODEL, spec={})
    return new_run(
        policy,
        PolicySpec.of_create(body),
        "gold_stars",
        "12 new gold stars",
        112,
        1,
        SERVING,
        "tiny-llama",
    )


def served(serving_name: str = SERVING, version: int = 1) -> ServedVersion:
    return ServedVersion(
        tenant="acme",
        model_name=MODEL,
        alias="production",
        version=version,
        serving_name=serving_name,
        base_model="tiny-llama",
        alias_revision=version,
    )


def exported(run: RetrainingRun, test_rows: int = 5) -> DatasetExported:
    splits = {"train": SplitArtifact(sha256="a" * 64, uri="file:///a", rows=45)}
    if test_rows:
        splits["test"] = SplitArtifact(sha256="b" * 64, uri="file:///b", rows=test_rows)
    return DatasetExported(
        tenant="acme",
        dataset=run.dataset,
        version=3,
        dataset_id=run.export_id,
        artifact_sha256="a" * 64,
        artifact_uri="file:///a",
        train_rows=45,
        test_rows=test_rows,
        splits=splits,
    )


def job_completed(run: RetrainingRun) -> JobCompleted:
    return JobCompleted(
        tenant="acme",
        job_id=run.job_id,
        base_model="tiny-llama",
        model_name=MODEL,
        fine_tuned_model=f"tiny-llama:{MODEL}:{run.job_id}",
        adapter_sha256="c" * 64,
        adapter_uri="file:///c",
        adapter_bytes=10,
        metrics={"train_loss": 0.25},
        trained_tokens=1000,
        wall_seconds=31.0,
    )


def registered(run: RetrainingRun) -> ModelRegistered:
    return ModelRegistered(
        tenant="acme",
        model_name=MODEL,
        version=2,
        serving_name=CANDIDATE,
        base_model="tiny-llama",
        artifact_sha256="c" * 64,
        job_id=run.job_id,
    )


def evaluated(run: RetrainingRun, candidate: float, serving: float) -> EvaluationCompleted:
    return EvaluationCompleted(
        tenant="acme",
        evaluation_id=run.evaluation_id,
        serving_names=[SERVING, CANDIDATE],
        metrics={
            SERVING: {"prompts": 5.0, "normalized_match": serving, "error_rate": 0.0},
            CANDIDATE: {"prompts": 5.0, "normalized_match": candidate, "error_rate": 0.0},
        },
    )


def started(run: RetrainingRun) -> ExperimentStarted:
    arm = ExperimentArm(
        variant="serving", model_name=MODEL, version=1, serving_name=SERVING, weight=0.5
    )
    treatment = ExperimentArm(
        variant="retrained", model_name=MODEL, version=2, serving_name=CANDIDATE, weight=0.5
    )
    return ExperimentStarted(
        tenant="acme",
        experiment_id=run.experiment_id,
        control=arm,
        treatments=[treatment],
        minimum_detectable_effect=0.05,
    )


def concluded(run: RetrainingRun, promote: bool) -> ExperimentConcluded:
    return ExperimentConcluded(
        tenant="acme",
        experiment_id=run.experiment_id,
        verdict="treatment_wins" if promote else "no_difference",
        winner="retrained" if promote else None,
        summary="'retrained' wins" if promote else "no difference",
        action="promote" if promote else "none",
    )
