"""Per-arm sums in a real database: idempotent, joined by request id, decided and explained."""

from typing import cast

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from contracts.events import ExperimentConcluded, ExperimentUpdated
from libs.messaging.tables import OutboxMessage
from services.evaluator.api import create_api
from services.evaluator.errors import NotFound
from services.evaluator.evaluations import Evaluations
from services.evaluator.experiments import Experiments
from services.evaluator.tables import ArmTotals
from tests.conftest import unique_name
from tests.integration.evaluator.conftest import rated, served, started
from tests.support.identity import as_gateway, protected

pytestmark = pytest.mark.integration


async def arm_totals(experiments: Experiments) -> dict[str, ArmTotals]:
    async with experiments.database.session() as session:
        rows = (await session.execute(select(ArmTotals))).scalars().all()
        return {row.variant: row for row in rows}


async def outbox_types(experiments: Experiments) -> list[str]:
    async with experiments.database.session() as session:
        rows = (
            await session.execute(select(OutboxMessage).order_by(col(OutboxMessage.created_at)))
        ).scalars()
        return [
            row.subject.rsplit(".", 2)[-2] + "." + row.subject.rsplit(".", 1)[-1] for row in rows
        ]


async def test_redeliveries_count_once_and_feedback_finds_its_arm(experiments: Experiments) -> None:
    experiment = unique_name("exp")
    await experiments.start(started(experiment))
    request = served(experiment, "tuned", "support-bot@2-bbbbbbbb")
    early = served(experiment, "control", "support-bot@1-aaaaaaaa")
    await experiments.record_feedback(rated(early, gold_star=True, with_ids=False))
    await experiments.record_inference(request)
    await experiments.record_inference(request)
    await experiments.record_inference(early)
    feedback = rated(request, gold_star=True, with_ids=False)
    await experiments.record_feedback(feedback)
    await experiments.record_feedback(feedback)
    await experiments.record_feedback(feedback.model_copy(update={"id": "second-opinion"}))
    totals = await arm_totals(experiments)
    assert (totals["tuned"].requests, totals["tuned"].metric_n, totals["tuned"].metric_total) == (
        1,
        1,
        1.0,
    )
    assert (totals["control"].requests, totals["control"].metric_total) == (1, 1.0)
    view = await experiments.describe("acme", experiment)
    assert view.status == "running"
    assert view.summary.startswith("Collecting data")
    assert "experiment.updated" in await outbox_types(experiments)


async def test_a_clearly_better_treatment_concludes_and_is_promoted(
    experiments: Experiments,
) -> None:
    experiment = unique_name("exp")
    await experiments.start(started(experiment))
    for index in range(60):
        for variant, serving, stars in (
            ("control", "support-bot@1-aaaaaaaa", index % 5 == 0),
            ("tuned", "support-bot@2-bbbbbbbb", index % 5 != 0),
        ):
            request = served(experiment, variant, serving)
            await experiments.record_inference(request)
            await experiments.record_feedback(rated(request, stars))
    view = await experiments.describe("acme", experiment)
    assert view.status == "concluded"
    assert view.verdict == "treatment_wins"
    assert "'tuned' (support-bot@2-bbbbbbbb) wins" in view.summary
    assert view.results[0].ci_low > 0
    types = await outbox_types(experiments)
    assert types.count("experiment.concluded") == 1
    assert types.count("model.deploy") == 1
    async with experiments.database.session() as session:
        payloads = [row.payload for row in (await session.execute(select(OutboxMessage))).scalars()]
    concluded = [ExperimentConcluded.model_validate_json(p) for p in payloads if "concluded" in p]
    assert concluded[0].action == "promote"
    assert concluded[0].route_to == "support-bot@2-bbbbbbbb"
    updates = [ExperimentUpdated.model_validate_json(p) for p in payloads if "updated" in p]
    assert updates
    assert updates[-1].arms[0].variant == "control"


async def test_an_unknown_experiment_is_a_clear_404(experiments: Experiments) -> None:
    with pytest.raises(NotFound, match=r"experiment\.started"):
        await experiments.describe("acme", "nope")


async def test_mean_rating_experiment_over_http(experiments: Experiments) -> None:
    experiment = unique_name("exp")
    definition = started(experiment).model_copy(
        update={"primary_metric": "mean_rating", "minimum_detectable_effect": 0.5}
    )
    await experiments.start(definition)
    for index in range(90):
        for variant, serving, stars in (
            ("control", "support-bot@1-aaaaaaaa", index % 3 == 0),
            ("tuned", "support-bot@2-bbbbbbbb", index % 3 != 0),
        ):
            request = served(experiment, variant, serving)
            await experiments.record_inference(request)
            await experiments.record_feedback(rated(request, stars))
    api = protected(create_api(experiments, cast(Evaluations, None)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api), base_url="http://evaluator", auth=as_gateway()
    ) as client:
        found = await client.get(
            f"/v1/evaluations/experiments/{experiment}", headers={"X-Tuneloop-Tenant": "acme"}
        )
        missing = await client.get(f"/v1/evaluations/experiments/{experiment}")
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["primary_metric"] == "mean_rating"
    control, tuned = body["arms"]
    assert control["n"] == tuned["n"] < 90
    assert tuned["total"] / tuned["n"] > control["total"] / control["n"]
    assert body["results"][0]["method"] == "mSPRT (normal mixture)"
    assert body["planned_units_per_arm"] > 0
    assert body["verdict"] == "treatment_wins"
    assert "mean rating of 'tuned'" in body["summary"]
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_requests_served_before_the_announcement_are_counted(
    experiments: Experiments,
) -> None:
    experiment = unique_name("exp")
    first = served(experiment, "tuned", "support-bot@2-bbbbbbbb")
    second = served(experiment, "control", "support-bot@1-aaaaaaaa")
    await experiments.record_inference(first)
    await experiments.record_feedback(rated(first, gold_star=True))
    await experiments.record_feedback(rated(second, gold_star=True, with_ids=False))
    await experiments.start(started(experiment))
    await experiments.record_inference(second)
    totals = await arm_totals(experiments)
    assert (totals["tuned"].requests, totals["tuned"].metric_total) == (1, 1.0)
    assert (totals["control"].requests, totals["control"].metric_total) == (1, 1.0)
