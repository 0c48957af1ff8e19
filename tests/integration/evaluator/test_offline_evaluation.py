"""Offline evaluations against a real HTTP model server and a real database."""

import json
from pathlib import Path

import httpx
import pytest
from faststream.nats import NatsBroker
from sqlalchemy import select

from contracts.api.evaluations import EvaluationRequest, PromptCase
from contracts.events import EvaluationCompleted
from libs.artifacts import LocalArtifactStore
from libs.messaging import Bus, OutboxRelay, Subjects
from libs.messaging.tables import OutboxMessage
from libs.storage import Database
from services.evaluator.api import create_api
from services.evaluator.evaluations import Evaluations
from services.evaluator.tables import Evaluation, EvaluationOutput
from tests.integration.evaluator.conftest import experiments_on
from tests.integration.evaluator.model_server import serving_models
from tests.polling import eventually
from tests.support.identity import as_gateway, protected

pytestmark = pytest.mark.integration

PROMPTS = [
    {"prompt": f"What is the capital of {country}?", "reference": capital}
    for country, capital in (("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"))
] * 4


def evaluations_on(url: str, base_url: str, artifacts: Path) -> Evaluations:
    database = Database(url)
    bus = Bus(NatsBroker(), Subjects("unit"))
    return Evaluations(
        database, bus, OutboxRelay(database, bus), LocalArtifactStore(artifacts), base_url, 3, 10
    )


async def finished(client: httpx.AsyncClient, evaluation_id: str) -> dict[str, object]:
    state: dict[str, object] = {}

    async def done() -> bool:
        state.update((await client.get(f"/v1/evaluations/{evaluation_id}")).json())
        return state["status"] != "running"

    await eventually(done, what="evaluation finished")
    return state


async def test_two_models_scored_compared_and_reported(
    migrated_database_url: str, tmp_path: Path
) -> None:
    async with serving_models() as base_url:
        evaluations = evaluations_on(migrated_database_url, base_url, tmp_path)
        experiments = experiments_on(migrated_database_url)
        api = protected(create_api(experiments, evaluations))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api),
            base_url="http://evaluator",
            auth=as_gateway(),
        ) as client:
            started = await client.post(
                "/v1/evaluations",
                json={"models": ["base@1", "good@2"], "prompts": PROMPTS, "judge_model": "judge"},
            )
            assert started.status_code == 202, started.text
            evaluation_id = started.json()["evaluation_id"]
            state = await finished(client, evaluation_id)
            outputs = (
                await client.get(f"/v1/evaluations/{evaluation_id}/outputs", params={"limit": 2})
            ).json()
            async with evaluations.database.session() as session:
                rows = (await session.execute(select(OutboxMessage))).scalars()
                payloads = [row.payload for row in rows]
        await evaluations.database.dispose()
        await experiments.database.dispose()
    assert state["status"] == "completed", state
    assert state["done"] == state["total"] == 24
    metrics = state["metrics"]
    assert isinstance(metrics, dict)
    assert metrics["good@2"]["normalized_match"] == 1.0
    assert metrics["base@1"]["normalized_match"] == 0.0
    assert metrics["good@2"]["latency_p95_ms"] >= metrics["good@2"]["latency_p50_ms"] > 0
    assert metrics["good@2"]["tokens_per_second"] > 0
    assert metrics["good@2"]["win_rate_normalized_match"] == 1.0
    comparisons = state["comparisons"]
    assert isinstance(comparisons, list)
    mcnemar, judged = comparisons
    assert (mcnemar["wins"], mcnemar["losses"], mcnemar["ties"]) == (12, 0, 0)
    assert mcnemar["method"] == "exact McNemar test"
    assert mcnemar["p_value"] == pytest.approx(2 * 0.5**12)
    assert judged["metric"] == "judge:judge"
    assert judged["wins"] == 12
    assert "good@2 is better than base@1" in str(state["summary"])
    assert outputs["total_prompts"] == 12
    first = outputs["rows"][0]
    assert first["reference"] == "Paris"
    assert {o["model"]: o["response"] for o in first["outputs"]} == {
        "base@1": "I don't know",
        "good@2": "Paris",
    }
    [completed] = [EvaluationCompleted.model_validate_json(p) for p in payloads]
    assert completed.serving_names == ["base@1", "good@2"]
    assert completed.metrics["good@2"]["exact_match"] == 1.0


async def test_a_dataset_from_the_artifact_store_and_a_failing_model(
    migrated_database_url: str, tmp_path: Path
) -> None:
    rows = [
        {
            "messages": [
                {"role": "user", "content": "Capital of Japan?"},
                {"role": "assistant", "content": "Tokyo"},
            ],
            "split": split,
        }
        for split in ("train", "test", "test")
    ]
    store = LocalArtifactStore(tmp_path)
    good = await store.put_bytes("\n".join(json.dumps(r) for r in rows).encode())
    bad = await store.put_bytes(b'{"messages": []}\nnot json\n')
    async with serving_models() as base_url:
        evaluations = evaluations_on(migrated_database_url, base_url, tmp_path)
        experiments = experiments_on(migrated_database_url)
        api = protected(create_api(experiments, evaluations))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api),
            base_url="http://evaluator",
            auth=as_gateway(),
        ) as client:
            refused = await client.post(
                "/v1/evaluations", json={"models": ["good"], "dataset_sha256": bad.sha256}
            )
            started = await client.post(
                "/v1/evaluations",
                json={"models": ["good", "broken"], "dataset_sha256": good.sha256},
            )
            state = await finished(client, started.json()["evaluation_id"])
            missing = await client.get("/v1/evaluations/eval-nope")
        await evaluations.database.dispose()
        await experiments.database.dispose()
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["total_errors"] == 2
    assert [e["line"] for e in error["errors"]] == [1, 2]
    assert state["total"] == 4
    metrics = state["metrics"]
    assert isinstance(metrics, dict)
    assert metrics["good"]["exact_match"] == 1.0
    assert metrics["broken"]["error_rate"] == 1.0
    assert missing.status_code == 404
    assert "POST /v1/evaluations" in missing.json()["error"]["message"]


async def test_an_interrupted_evaluation_resumes_from_the_stored_answers(
    migrated_database_url: str, tmp_path: Path
) -> None:
    request = EvaluationRequest(models=["good"], prompts=[PromptCase(**p) for p in PROMPTS[:3]])
    async with serving_models() as base_url:
        evaluations = evaluations_on(migrated_database_url, base_url, tmp_path)
        async with evaluations.database.transaction() as session:
            row = Evaluation(
                tenant="acme",
                evaluation_id="eval-interrupted",
                status="running",
                request={
                    **request.model_dump(mode="json", exclude={"prompts"}),
                    "cases": [c.model_dump(mode="json") for c in request.prompts or []],
                },
                total=3,
                done=1,
            )
            session.add(row)
            await session.flush()
            session.add(
                EvaluationOutput(
                    evaluation_pk=row.id or 0,
                    prompt_index=0,
                    model="good",
                    prompt="What is the capital of France?",
                    reference="Paris",
                    response="Paris (answered before the restart)",
                    scores={"exact_match": 0.0},
                )
            )
        assert await evaluations.resume_unfinished() == 1

        async def completed() -> bool:
            return (await evaluations.view("acme", "eval-interrupted")).status == "completed"

        await eventually(completed, what="resumed evaluation completed")
        view = await evaluations.view("acme", "eval-interrupted")
        side_by_side = await evaluations.side_by_side("acme", "eval-interrupted", 0, 10)
        await evaluations.close()
        await evaluations.database.dispose()
    assert view.done == view.total == 3
    assert side_by_side.rows[0].outputs[0].response == "Paris (answered before the restart)"
    assert [r.outputs[0].response for r in side_by_side.rows[1:]] == ["Rome", "Madrid"]
