"""The run's state machine: every fact moves a run once, in the right order, told in words."""

from datetime import timedelta

import pytest

from contracts.commands import CancelJob, CreateJob, StartEvaluation, StartExperiment
from contracts.events import (
    DatasetExportFailed,
    EvaluationFailed,
    ExperimentStartFailed,
    ExperimentStopped,
    JobCancelled,
    JobFailed,
)
from contracts.fields import ErrorDetail
from contracts.retraining import ACTIVE_RUN_STATUSES, FINAL_RUN_STATUSES
from services.retrainer import machine
from services.retrainer.tables import RetrainingRun
from tests.unit.retrainer.facts import (
    CANDIDATE,
    SERVING,
    a_run,
    concluded,
    evaluated,
    exported,
    job_completed,
    registered,
    served,
    started,
)

pytestmark = pytest.mark.unit


def applied(run: RetrainingRun, change: machine.Change | None) -> machine.Change:
    """Record a change the way the run book does (status only; no database here)."""
    assert change is not None
    machine.check_allowed(run.status, change.status)
    run.status = change.status
    run.history = [*run.history, {"status": change.status, "summary": change.summary}]
    return change


def to_evaluating(run: RetrainingRun) -> None:
    applied(run, machine.dataset_exported(run, exported(run)))
    applied(run, machine.model_registered(run, registered(run)))


def test_a_run_goes_from_export_to_a_live_ab_test_and_its_verdict() -> None:
    run = a_run(
        training={"hyperparameters": {"max_steps": 60, "lora_r": 16}},
        experiment={"treatment_weight": 0.3, "stopping": {"min_units_per_arm": 10}},
    )
    assert run.status == "exporting"

    change = applied(run, machine.dataset_exported(run, exported(run)))
    assert change.status == "training"
    [create] = change.send
    assert isinstance(create, CreateJob)
    assert create.job_id == run.job_id
    assert create.training_file == "a" * 64
    assert create.base_model == "tiny-llama"
    assert create.model_name == "support-bot"
    assert (create.dataset, create.dataset_version) == (run.dataset, 3)
    assert create.hyperparameters.max_steps == 60
    assert "exported support-bot-retraining v3 (45 train + 5 test rows)" in change.summary

    change = applied(run, machine.job_completed(run, job_completed(run)))
    assert change.status == "training"
    assert run.training_metrics["train_loss"] == 0.25
    assert "waiting for the registry" in change.summary

    change = applied(run, machine.model_registered(run, registered(run)))
    assert change.status == "evaluating"
    assert run.candidate_serving_name == CANDIDATE

    change = applied(run, machine.evaluation_due(run, served()))
    [evaluate] = change.send
    assert isinstance(evaluate, StartEvaluation)
    assert evaluate.evaluation_id == run.evaluation_id
    assert evaluate.request.models == [SERVING, CANDIDATE]
    assert evaluate.request.dataset_sha256 == "b" * 64  # the export's held-out test split
    assert evaluate.request.primary_metric == "normalized_match"

    change = applied(run, machine.evaluation_completed(run, evaluated(run, 0.8, 0.4)))
    assert change.status == "experimenting"
    assert run.candidate_score == 0.8
    assert run.serving_score == 0.4
    assert run.decision is not None
    assert "scored 0.800 normalized_match against 0.400" in run.decision
    [start] = change.send
    assert isinstance(start, StartExperiment)
    assert start.experiment_id == run.experiment_id
    definition = start.definition
    assert definition.model_name == "support-bot"
    assert (definition.control.serving_name, definition.control.weight) == (SERVING, 0.7)
    assert [(t.serving_name, t.weight) for t in definition.treatments] == [(CANDIDATE, 0.3)]
    assert definition.stopping.min_units_per_arm == 10

    change = applied(run, machine.experiment_started(run, started(run)))
    assert change.status == "experimenting"
    assert run.experiment_running

    change = applied(run, machine.experiment_concluded(run, concluded(run, promote=True)))
    assert change.final
    assert change.status == "completed"
    assert run.verdict == "treatment_wins"
    assert f"{CANDIDATE} is promoted to support-bot:production" in change.summary
    assert [step["status"] for step in run.history] == [
        "triggered",
        "exporting",
        "training",
        "training",
        "evaluating",
        "evaluating",
        "experimenting",
        "experimenting",
        "completed",
    ]


def test_the_same_fact_twice_changes_nothing_the_second_time() -> None:
    run = a_run()
    event = exported(run)
    applied(run, machine.dataset_exported(run, event))
    assert machine.dataset_exported(run, event) is None
    completed = job_completed(run)
    applied(run, machine.job_completed(run, completed))
    assert machine.job_completed(run, completed) is None
    applied(run, machine.model_registered(run, registered(run)))
    assert machine.model_registered(run, registered(run)) is None
    applied(run, machine.evaluation_due(run, served()))
    assert machine.evaluation_due(run, served()) is None


def test_facts_about_other_runs_are_ignored() -> None:
    run, other = a_run(), a_run()
    assert machine.dataset_exported(run, exported(other)) is None
    assert run.status == "exporting"
    applied(run, machine.dataset_exported(run, exported(run)))
    assert machine.model_registered(run, registered(other)) is None
    assert machine.job_ended(run, JobCancelled(tenant="acme", job_id=other.job_id)) is None


def test_the_registration_may_arrive_before_the_training_metrics() -> None:
    run = a_run()
    to_evaluating(run)
    change = applied(run, machine.job_completed(run, job_completed(run)))
    assert change.status == "evaluating"
    assert run.training_metrics["train_loss"] == 0.25
    assert "waiting for the registry" not in change.summary


@pytest.mark.parametrize(
    ("candidate", "serving", "margin", "status"),
    [
        (0.8, 0.4, 0.0, "experimenting"),
        (0.4, 0.4, 0.0, "experimenting"),
        (0.35, 0.4, 0.1, "experimenting"),
        (0.2, 0.4, 0.1, "skipped"),
    ],
)
def test_a_candidate_goes_to_the_ab_test_unless_it_is_worse_than_the_margin(
    candidate: float, serving: float, margin: float, status: str
) -> None:
    run = a_run(evaluation={"margin": margin})
    to_evaluating(run)
    applied(run, machine.evaluation_due(run, served()))
    change = applied(run, machine.evaluation_completed(run, evaluated(run, candidate, serving)))
    assert change.status == status
    if status == "skipped":
        assert change.final
        assert not change.send
        assert change.summary.startswith(
            f"skipped: {CANDIDATE} scored 0.200 normalized_match against 0.400"
        )
        assert "not worse needs at least 0.300): worse" in change.summary
        assert "the serving version stays" in change.summary


def test_the_candidate_is_compared_with_what_the_alias_serves_when_it_is_evaluated() -> None:
    run = a_run()
    to_evaluating(run)
    newer = served("support-bot@3-beef0000", version=3)
    change = applied(run, machine.evaluation_due(run, newer))
    [evaluate] = change.send
    assert isinstance(evaluate, StartEvaluation)
    assert evaluate.request.models == ["support-bot@3-beef0000", CANDIDATE]
    assert (run.serving_version, run.serving_name) == (3, "support-bot@3-beef0000")


def test_a_policy_evaluation_dataset_is_used_instead_of_the_test_split() -> None:
    run = a_run(evaluation={"dataset_sha256": "d" * 64, "metric": "json_field_accuracy"})
    applied(run, machine.dataset_exported(run, exported(run, test_rows=0)))
    applied(run, machine.model_registered(run, registered(run)))
    change = applied(run, machine.evaluation_due(run, served()))
    [evaluate] = change.send
    assert isinstance(evaluate, StartEvaluation)
    assert evaluate.request.dataset_sha256 == "d" * 64
    assert evaluate.request.primary_metric == "json_field_accuracy"


def failure(run: RetrainingRun, change: machine.Change | None, code: str) -> str:
    change = applied(run, change)
    assert change.status == "failed"
    assert change.final
    assert run.error_code == code
    return change.summary


def test_each_failure_ends_the_run_with_its_reason() -> None:
    run = a_run()
    message = failure(
        run,
        machine.export_failed(
            run,
            DatasetExportFailed(
                tenant="acme",
                dataset=run.dataset,
                command_id=run.export_id,
                code="too_few_examples",
                message="only 3 examples match.",
            ),
        ),
        "export_failed",
    )
    assert message == "the export failed: only 3 examples match."

    run = a_run()
    assert "holds out no test rows" in failure(
        run, machine.dataset_exported(run, exported(run, test_rows=0)), "no_test_split"
    )

    run = a_run()
    applied(run, machine.dataset_exported(run, exported(run)))
    error = ErrorDetail(code="oom", message="Lower the batch size.")
    assert "Lower the batch size." in failure(
        run,
        machine.job_ended(run, JobFailed(tenant="acme", job_id=run.job_id, error=error)),
        "training_failed",
    )

    run = a_run()
    to_evaluating(run)
    applied(run, machine.evaluation_due(run, served()))
    assert "no such file" in failure(
        run,
        machine.evaluation_failed(
            run,
            EvaluationFailed(tenant="acme", evaluation_id=run.evaluation_id, error="no such file"),
        ),
        "evaluation_failed",
    )

    run = a_run()
    to_evaluating(run)
    applied(run, machine.evaluation_due(run, served()))
    broken = evaluated(run, 0.0, 0.5)
    broken.metrics[CANDIDATE]["error_rate"] = 1.0
    assert "could not get a single answer from" in failure(
        run, machine.evaluation_completed(run, broken), "evaluation_unusable"
    )

    run = a_run()
    to_evaluating(run)
    applied(run, machine.evaluation_due(run, served()))
    applied(run, machine.evaluation_completed(run, evaluated(run, 0.5, 0.5)))
    refusal = ExperimentStartFailed(
        tenant="acme",
        experiment_id=run.experiment_id,
        model_name="support-bot",
        code="experiment_running",
        message="an experiment already splits 'support-bot'; stop it first",
    )
    assert "stop it first" in failure(
        run, machine.experiment_refused(run, refusal), "experiment_refused"
    )


def test_a_candidate_someone_already_deployed_is_not_compared_with_itself() -> None:
    run = a_run()
    to_evaluating(run)
    change = applied(run, machine.evaluation_due(run, served(CANDIDATE, version=2)))
    assert change.status == "skipped"
    assert not change.send
    assert "already serves" in change.summary


def test_the_serving_version_gone_fails_the_evaluation_step() -> None:
    run = a_run()
    to_evaluating(run)
    assert "serves nothing any more" in failure(
        run, machine.evaluation_due(run, None), "nothing_served"
    )


def test_an_ab_test_stopped_by_a_person_ends_the_run_but_one_stopped_by_its_verdict_waits() -> None:
    run = a_run()
    to_evaluating(run)
    applied(run, machine.evaluation_due(run, served()))
    applied(run, machine.evaluation_completed(run, evaluated(run, 0.5, 0.5)))
    by_verdict = ExperimentStopped(
        tenant="acme", experiment_id=run.experiment_id, reason="concluded: no difference"
    )
    assert machine.experiment_stopped(run, by_verdict) is None
    by_person = ExperimentStopped(
        tenant="acme", experiment_id=run.experiment_id, reason="stopped by request"
    )
    change = applied(run, machine.experiment_stopped(run, by_person))
    assert change.status == "completed"
    assert "support-bot:production keeps serving" in change.summary
    assert machine.experiment_concluded(run, concluded(run, promote=False)) is None


def test_cancelling_a_training_run_cancels_its_job() -> None:
    run = a_run()
    applied(run, machine.dataset_exported(run, exported(run)))
    change = applied(run, machine.cancel(run))
    assert change.status == "cancelled"
    [cancel] = change.send
    assert isinstance(cancel, CancelJob)
    assert cancel.job_id == run.job_id
    assert machine.cancel(run) is None


def test_a_run_stuck_longer_than_its_stage_allows_fails_but_a_live_ab_test_never_does() -> None:
    limits = {"exporting": 60.0, "training": 600.0, "evaluating": 60.0, "experimenting": 60.0}
    run = a_run()
    start = run.stage_started_at
    assert machine.timed_out(run, start + timedelta(seconds=59), limits) is None
    summary = failure(run, machine.timed_out(run, start + timedelta(seconds=61), limits), "timeout")
    assert "waiting 1 minute for the exporter to export support-bot-retraining" in summary

    run = a_run()
    to_evaluating(run)
    applied(run, machine.evaluation_due(run, served()))
    applied(run, machine.evaluation_completed(run, evaluated(run, 0.5, 0.5)))
    applied(run, machine.experiment_started(run, started(run)))
    later = run.stage_started_at + timedelta(days=30)
    assert machine.timed_out(run, later, limits) is None


def test_a_finished_run_goes_nowhere() -> None:
    for status in FINAL_RUN_STATUSES:
        assert status not in machine.ALLOWED
        with pytest.raises(machine.IllegalTransition):
            machine.check_allowed(status, "training")
    assert set(machine.ALLOWED) == set(ACTIVE_RUN_STATUSES)
    with pytest.raises(machine.IllegalTransition):
        machine.check_allowed("exporting", "experimenting")
