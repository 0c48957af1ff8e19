"""The retrainer over real NATS and a real database: gold stars start a run, the other
services' events move it on, redeliveries and restarts change nothing twice and lose nothing.

The exporter, trainer, evaluator and router are played by the test (it takes their commands,
answers their queries and publishes their events); tests/e2e/test_retraining.py runs the same
loop on the real stack.
"""

from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.commands import (
    CancelJob,
    CreateJob,
    ExportDataset,
    StartEvaluation,
    StartExperiment,
)
from contracts.events import (
    DatasetExported,
    DatasetExportFailed,
    EvaluationCompleted,
    ExperimentConcluded,
    ExperimentStarted,
    FeedbackRecorded,
    JobCompleted,
    ModelDeployed,
    ModelRegistered,
    RetrainingCompleted,
    RetrainingPolicyChanged,
    RetrainingTriggered,
    RetrainingUpdated,
    SplitArtifact,
)
from contracts.events.experiments import ExperimentArm
from libs.messaging import Bus, Subjects
from tests.integration.harness import running_bus
from tests.integration.retrainer.harness import (
    TENANT,
    Stand,
    api_client,
    retrainer_settings,
    running_retrainer,
)
from tests.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

MODEL = "support-bot"
SERVING = "support-bot@1-e3b0c442"
CANDIDATE = "support-bot@2-cafe1234"


async def deploy_production(bus: Bus) -> None:
    await bus.publish_event(
        ModelDeployed(
            tenant=TENANT,
            model_name=MODEL,
            version=1,
            serving_name=SERVING,
            base_model="tiny-llama",
            alias="production",
            alias_revision=1,
        )
    )


def policy(**extra: Any) -> dict[str, Any]:
    return {
        "model_name": MODEL,
        "trigger": {"gold_stars": 3},
        "training": {"hyperparameters": {"max_steps": 20}},
        "evaluation": {"margin": 0.05},
        "experiment": {"treatment_weight": 0.4, "stopping": {"min_units_per_arm": 10}},
        **extra,
    }


async def create_policy(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/v1/retraining/policies", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def gold_star(bus: Bus, stand: Stand, total: int) -> None:
    """The exporter now holds ``total`` gold stars; one more feedback tells the retrainer."""
    stand.gold_stars = total
    await bus.publish_event(FeedbackRecorded(tenant=TENANT, request_id="r", gold_star=True))


async def run_of(api: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/retraining/runs/{run_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def until_status(api: httpx.AsyncClient, run_id: str, status: str) -> dict[str, Any]:
    state: dict[str, Any] = {}

    async def reached() -> bool:
        state.update(await run_of(api, run_id))
        return bool(state["status"] == status)

    await eventually(reached, what=f"run {run_id} {status}")
    return state


def exported(command: ExportDataset, test_rows: int = 4) -> DatasetExported:
    return DatasetExported(
        tenant=TENANT,
        dataset=command.name,
        version=2,
        dataset_id=command.id,
        artifact_sha256="a" * 64,
        artifact_uri="file:///a",
        train_rows=36,
        test_rows=test_rows,
        splits={
            "train": SplitArtifact(sha256="a" * 64, uri="file:///a", rows=36),
            "test": SplitArtifact(sha256="b" * 64, uri="file:///b", rows=test_rows),
        },
    )


def job_completed(command: CreateJob) -> JobCompleted:
    return JobCompleted(
        tenant=TENANT,
        job_id=command.job_id,
        base_model=command.base_model,
        model_name=MODEL,
        fine_tuned_model=f"{command.base_model}:{MODEL}:{command.job_id}",
        adapter_sha256="c" * 64,
        adapter_uri="file:///c",
        adapter_bytes=100,
        metrics={"train_loss": 0.31},
        trained_tokens=4000,
        wall_seconds=12.0,
    )


def registered(command: CreateJob) -> ModelRegistered:
    return ModelRegistered(
        tenant=TENANT,
        model_name=MODEL,
        version=2,
        serving_name=CANDIDATE,
        base_model=command.base_model,
        artifact_sha256="c" * 64,
        job_id=command.job_id,
    )


def evaluated(command: StartEvaluation, candidate: float, serving: float) -> EvaluationCompleted:
    return EvaluationCompleted(
        tenant=TENANT,
        evaluation_id=command.evaluation_id,
        serving_names=command.request.models,
        metrics={
            SERVING: {"prompts": 4.0, "normalized_match": serving, "error_rate": 0.0},
            CANDIDATE: {"prompts": 4.0, "normalized_match": candidate, "error_rate": 0.0},
        },
        summary="compared",
    )


def experiment_started(command: StartExperiment) -> ExperimentStarted:
    definition = command.definition
    arms = [
        ExperimentArm(
            variant=spec.name,
            model_name=MODEL,
            version=1 if spec.serving_name == SERVING else 2,
            serving_name=spec.serving_name,
            weight=spec.weight,
        )
        for spec in (definition.control, *definition.treatments)
    ]
    return ExperimentStarted(
        tenant=TENANT,
        experiment_id=command.experiment_id,
        control=arms[0],
        treatments=arms[1:],
        minimum_detectable_effect=definition.minimum_detectable_effect,
    )


async def test_gold_stars_start_a_run_that_events_take_to_an_ab_test_and_its_verdict(
    nats_url: str, subjects: Subjects, migrated_database_url: str, tmp_path: Path
) -> None:
    stand = Stand()
    stand.gold_stars = 40
    settings = retrainer_settings(tmp_path, nats_url, subjects, migrated_database_url)
    async with (
        running_bus(nats_url, subjects, stand.router(subjects)) as bus,
        running_retrainer(settings) as service,
        api_client(service) as api,
    ):
        await deploy_production(bus)
        created = await create_policy(api, policy())
        assert created["gold_stars"] == 40
        assert created["new_gold_stars"] == 0
        assert created["dataset"] == "support-bot-retraining"

        await gold_star(bus, stand, 42)

        async def counted(expected: int) -> bool:
            found = (await api.get(f"/v1/retraining/policies/{MODEL}")).json()
            return bool(found["new_gold_stars"] == expected)

        await eventually(lambda: counted(2), what="2 new gold stars counted")
        assert not stand.sent(ExportDataset)

        await gold_star(bus, stand, 43)
        await eventually(lambda: bool(stand.sent(ExportDataset)), what="the export command")
        [export] = stand.sent(ExportDataset)
        assert export.name == "support-bot-retraining"
        assert export.filters.gold_star_only
        [triggered] = stand.told(RetrainingTriggered)
        run_id = triggered.run_id
        assert triggered.trigger == "gold_stars"
        assert triggered.reason.startswith("3 new gold-star examples since the last run")
        assert (triggered.serving_name, triggered.base_model) == (SERVING, "tiny-llama")
        refused = await api.post(f"/v1/retraining/policies/{MODEL}/runs")
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "run_active"

        event = exported(export)
        await bus.publish_event(event)
        await bus.publish_event(event.model_copy(update={"id": "a-redelivery"}))
        await eventually(lambda: bool(stand.sent(CreateJob)), what="the training command")
        [create] = stand.sent(CreateJob)
        assert create.training_file == "a" * 64
        assert create.hyperparameters.max_steps == 20
        assert (create.base_model, create.model_name) == ("tiny-llama", MODEL)

        await bus.publish_event(registered(create))  # the registration may come first
        await bus.publish_event(job_completed(create))
        await until_status(api, run_id, "evaluating")
        asked = stand.servable_asked
        await eventually(lambda: stand.servable_asked >= asked + 2, what="the router asked")
        assert not stand.sent(StartEvaluation), "the router cannot serve the candidate yet"
        stand.servable = {SERVING, CANDIDATE}
        await eventually(lambda: bool(stand.sent(StartEvaluation)), what="the evaluation")
        [evaluate] = stand.sent(StartEvaluation)
        assert evaluate.request.models == [SERVING, CANDIDATE]
        assert evaluate.request.dataset_sha256 == "b" * 64

        await bus.publish_event(evaluated(evaluate, candidate=0.5, serving=0.25))
        await eventually(lambda: bool(stand.sent(StartExperiment)), what="the A/B test")
        [start] = stand.sent(StartExperiment)
        assert start.definition.control.serving_name == SERVING
        assert start.definition.treatments[0].serving_name == CANDIDATE
        assert start.definition.treatments[0].weight == 0.4
        await bus.publish_event(experiment_started(start))
        await bus.publish_event(
            ExperimentConcluded(
                tenant=TENANT,
                experiment_id=start.experiment_id,
                verdict="treatment_wins",
                winner="retrained",
                summary="'retrained' wins",
                action="promote",
            )
        )
        state = await until_status(api, run_id, "completed")
        await eventually(
            lambda: bool(stand.told(RetrainingCompleted, run_id)), what="retraining.completed"
        )
        after = (await api.get(f"/v1/retraining/policies/{MODEL}")).json()

    assert len(stand.sent(CreateJob)) == 1, "the redelivered export trained nothing twice"
    statuses = [step["status"] for step in state["history"]]
    assert statuses[:3] == ["triggered", "exporting", "training"]
    assert statuses[-1] == "completed"
    assert statuses.index("evaluating") < statuses.index("experimenting")
    assert state["training_metrics"]["train_loss"] == 0.31
    assert state["candidate_serving_name"] == CANDIDATE
    assert (state["candidate_score"], state["serving_score"]) == (0.5, 0.25)
    assert "scored 0.500 normalized_match against 0.250" in state["decision"]
    assert state["verdict"] == "treatment_wins"
    assert f"{CANDIDATE} is promoted to support-bot:production" in state["summary"]
    [completed] = stand.told(RetrainingCompleted, run_id)
    assert completed.status == "completed"
    assert completed.summary == state["summary"]
    updates = [e.status for e in stand.told(RetrainingUpdated, run_id)]
    assert updates[0] == "exporting"
    assert "experimenting" in updates
    assert [e.change for e in stand.told(RetrainingPolicyChanged)] == ["created"]
    assert after["active_run_id"] is None
    assert after["last_run_id"] == run_id
    assert after["new_gold_stars"] == 0
    assert after["runs"] == 1


async def test_a_run_survives_a_restart_and_a_worse_candidate_is_skipped_with_its_numbers(
    nats_url: str, subjects: Subjects, migrated_database_url: str, tmp_path: Path
) -> None:
    stand = Stand()
    stand.servable = {SERVING, CANDIDATE}
    settings = retrainer_settings(tmp_path, nats_url, subjects, migrated_database_url)
    async with running_bus(nats_url, subjects, stand.router(subjects)) as bus:
        async with running_retrainer(settings) as service, api_client(service) as api:
            nothing = await create_policy(api, policy())
            assert nothing["waiting_for"] is None
            refused = await api.post(f"/v1/retraining/policies/{MODEL}/runs")
            assert refused.status_code == 409
            assert refused.json()["error"]["code"] == "nothing_served"
            await deploy_production(bus)

            async def started() -> bool:
                response = await api.post(f"/v1/retraining/policies/{MODEL}/runs")
                return response.status_code == 201

            await eventually(started, what="a run started by hand")
            await eventually(lambda: bool(stand.sent(ExportDataset)), what="the export command")
        # the retrainer is down while the exporter finishes: the event waits in its stream
        [export] = stand.sent(ExportDataset)
        await bus.publish_event(exported(export))
        async with running_retrainer(settings) as service, api_client(service) as api:
            await eventually(lambda: bool(stand.sent(CreateJob)), what="training after restart")
            [create] = stand.sent(CreateJob)
            await bus.publish_event(job_completed(create))
            await bus.publish_event(registered(create))
            await eventually(lambda: bool(stand.sent(StartEvaluation)), what="the evaluation")
            [evaluate] = stand.sent(StartEvaluation)
            await bus.publish_event(evaluated(evaluate, candidate=0.25, serving=0.5))
            runs = (await api.get("/v1/retraining/runs", params={"model_name": MODEL})).json()
            run_id = runs["data"][0]["id"]
            state = await until_status(api, run_id, "skipped")
            await eventually(
                lambda: bool(stand.told(RetrainingCompleted, run_id)), what="retraining.completed"
            )
            policy_after = (await api.get(f"/v1/retraining/policies/{MODEL}")).json()

    assert state["trigger"] == "manual"
    assert not stand.sent(StartExperiment)
    assert state["summary"] == (
        f"skipped: {CANDIDATE} scored 0.250 normalized_match against 0.500 for the serving "
        f"{SERVING} on 4 prompts (-0.250; not worse needs at least 0.450): worse; the serving "
        "version stays"
    )
    [completed] = stand.told(RetrainingCompleted, run_id)
    assert completed.status == "skipped"
    assert (completed.candidate_score, completed.serving_score) == (0.25, 0.5)
    assert completed.experiment_id is None
    assert policy_after["active_run_id"] is None


async def test_switched_off_policies_wait_failures_free_the_policy_and_runs_can_be_cancelled(
    nats_url: str, subjects: Subjects, migrated_database_url: str, tmp_path: Path
) -> None:
    stand = Stand()
    settings = retrainer_settings(tmp_path, nats_url, subjects, migrated_database_url)
    async with (
        running_bus(nats_url, subjects, stand.router(subjects)) as bus,
        running_retrainer(settings) as service,
        api_client(service) as api,
    ):
        await deploy_production(bus)
        await create_policy(api, policy())
        # a second policy that never fires: its counts show the clock going round
        await create_policy(api, {"model_name": "witness", "trigger": {"gold_stars": 10_000_000}})
        narrower = {"export": {"filters": {"gold_star_only": True, "domain": "support"}}}
        patched = (await api.patch(f"/v1/retraining/policies/{MODEL}", json=narrower)).json()
        assert patched["new_gold_stars"] is None, "other filters: counting starts again"
        assert patched["trigger"] == {"gold_stars": 3, "schedule_seconds": None}

        async def recounted() -> bool:
            found = (await api.get(f"/v1/retraining/policies/{MODEL}")).json()
            return bool(found["new_gold_stars"] == 0)

        await eventually(recounted, what="the new filters counted")
        off = (await api.post(f"/v1/retraining/policies/{MODEL}/disable")).json()
        assert (off["enabled"], off["waiting_for"]) == (False, "switched off")
        await gold_star(bus, stand, 50)
        asked = stand.count_asked
        await eventually(lambda: stand.count_asked >= asked + 3, what="rounds of counting")
        assert not stand.sent(ExportDataset), "a switched-off policy starts nothing"

        await api.post(f"/v1/retraining/policies/{MODEL}/enable")
        await eventually(lambda: bool(stand.sent(ExportDataset)), what="the export once on")
        [first] = stand.told(RetrainingTriggered)
        assert first.trigger == "gold_stars"
        [export] = stand.sent(ExportDataset)
        assert export.filters.domain == "support"
        await bus.publish_event(
            DatasetExportFailed(
                tenant=TENANT,
                dataset=export.name,
                command_id=export.id,
                code="too_few_examples",
                message="only 3 examples match the filters.",
            )
        )
        failed = await until_status(api, first.run_id, "failed")
        assert failed["error"] == {
            "code": "export_failed",
            "message": "the export failed: only 3 examples match the filters.",
        }

        second = await api.post(f"/v1/retraining/policies/{MODEL}/runs")
        assert second.status_code == 201, second.text
        run_id = second.json()["id"]
        await eventually(lambda: len(stand.sent(ExportDataset)) == 2, what="a second export")
        await bus.publish_event(exported(stand.sent(ExportDataset)[-1]))
        await until_status(api, run_id, "training")
        cancelled = await api.post(f"/v1/retraining/runs/{run_id}/cancel")
        assert cancelled.json()["status"] == "cancelled"
        await eventually(lambda: bool(stand.sent(CancelJob)), what="the job cancelled")
        deleted = await api.delete(f"/v1/retraining/policies/{MODEL}")
        assert deleted.status_code == 204
        assert (await api.get(f"/v1/retraining/policies/{MODEL}")).status_code == 404
        assert (await api.get(f"/v1/retraining/runs/{run_id}")).status_code == 200
        await eventually(
            lambda: len(stand.told(RetrainingPolicyChanged)) == 6, what="policy events"
        )

    assert [e.change for e in stand.told(RetrainingPolicyChanged)] == [
        "created",
        "created",
        "updated",
        "disabled",
        "enabled",
        "deleted",
    ]
    [cancel] = stand.sent(CancelJob)
    assert cancel.job_id == stand.sent(CreateJob)[0].job_id
    assert {e.status for e in stand.told(RetrainingCompleted)} == {"failed", "cancelled"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_run_nobody_answers_fails_after_its_stage_time_limit(
    nats_url: str, subjects: Subjects, migrated_database_url: str, tmp_path: Path
) -> None:
    stand = Stand()
    settings = retrainer_settings(
        tmp_path, nats_url, subjects, migrated_database_url, export_timeout_seconds=0.5
    )
    async with (
        running_bus(nats_url, subjects, stand.router(subjects)) as bus,
        running_retrainer(settings) as service,
        api_client(service) as api,
    ):
        await deploy_production(bus)
        await create_policy(api, policy())

        async def started() -> bool:
            response = await api.post(f"/v1/retraining/policies/{MODEL}/runs")
            return response.status_code == 201

        await eventually(started, what="a run started by hand")
        [run] = (await api.get("/v1/retraining/runs")).json()["data"]
        state = await until_status(api, run["id"], "failed")
    assert state["error"]["code"] == "timeout"
    assert (
        "waiting 0.5 seconds for the exporter to export support-bot-retraining" in state["summary"]
    )
