"""Experiments over a real, migrated database (SQLite and PostgreSQL)."""

from collections.abc import AsyncIterator
from itertools import count

import pytest
from faststream.nats import NatsBroker

from contracts.events import ExperimentStarted, FeedbackRecorded, InferenceCompleted
from contracts.events.experiments import ExperimentArm, StoppingPolicy
from libs.messaging import Bus, OutboxRelay, Subjects
from libs.storage import Database
from services.evaluator.experiments import Experiments

_requests = count()


def experiments_on(url: str, bus: Bus | None = None) -> Experiments:
    database = Database(url)
    bus = bus or Bus(NatsBroker(), Subjects("unit"))
    return Experiments(database, bus, OutboxRelay(database, bus), snapshot_interval_seconds=0)


@pytest.fixture
async def experiments(migrated_database_url: str) -> AsyncIterator[Experiments]:
    instance = experiments_on(migrated_database_url)
    yield instance
    await instance.database.dispose()


def started(
    experiment_id: str,
    control: str = "support-bot@1-aaaaaaaa",
    treatment: str = "support-bot@2-bbbbbbbb",
    min_units: int = 30,
    tenant: str = "acme",
) -> ExperimentStarted:
    return ExperimentStarted(
        tenant=tenant,
        experiment_id=experiment_id,
        control=ExperimentArm(
            variant="control", model_name="support-bot", version=1, serving_name=control, weight=1
        ),
        treatments=[
            ExperimentArm(
                variant="tuned",
                model_name="support-bot",
                version=2,
                serving_name=treatment,
                weight=1,
            )
        ],
        primary_metric="gold_star_rate",
        minimum_detectable_effect=0.2,
        stopping=StoppingPolicy(min_units_per_arm=min_units),
    )


def served(
    experiment_id: str, variant: str, serving_name: str, tenant: str = "acme"
) -> InferenceCompleted:
    return InferenceCompleted(
        tenant=tenant,
        request_id=f"req-{next(_requests)}",
        requested_model="support-bot",
        serving_name=serving_name,
        experiment_id=experiment_id,
        variant=variant,
        latency_ms=120.0,
        prompt_tokens=20,
        completion_tokens=10,
    )


def rated(request: InferenceCompleted, gold_star: bool, with_ids: bool = True) -> FeedbackRecorded:
    return FeedbackRecorded(
        tenant=request.tenant,
        request_id=request.request_id,
        gold_star=gold_star,
        rating=5 if gold_star else 2,
        experiment_id=request.experiment_id if with_ids else None,
        variant=request.variant if with_ids else None,
    )
