"""Registration, deploys, rollbacks, archives and their history, on SQLite and PostgreSQL."""

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from contracts.api.registry import ArchiveRequest, DeployRequest, RegisterRequest, RollbackRequest
from contracts.events import (
    CostRecorded,
    EvaluationCompleted,
    ExperimentStarted,
    JobCancelled,
    JobCreated,
    JobFailed,
)
from contracts.events.experiments import ExperimentArm
from libs.messaging.tables import OutboxMessage
from services.registry import queries
from services.registry.errors import Conflict, InvalidRequest, NotFound, Refused
from services.registry.registry import Registry
from tests.integration.registry.conftest import job_completed, registry_on

pytestmark = pytest.mark.integration


async def outbox_types(registry: Registry) -> list[str]:
    async with registry.database.session() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    return [row.subject.split(".events.", 1)[1] for row in sorted(rows, key=lambda r: r.created_at)]


async def test_a_redelivered_or_repeated_job_makes_one_version(registry: Registry) -> None:
    event = job_completed("job-1")
    first = await registry.register_job_output(event)
    assert first is not None
    assert first.version == 1
    assert first.serving_name == f"support-bot@1-{'a' * 8}"
    assert await registry.register_job_output(event) is None  # the same message again
    again = await registry.register_job_output(job_completed("job-1"))  # same job, new message
    assert again is not None
    assert again.version == 1
    versions = await registry.read(lambda s: queries.list_versions(s, "acme", "support-bot"))
    assert [v.version for v in versions] == [1]
    assert versions[0].training_metrics["train_loss"] == 0.5
    assert versions[0].training_config == {"epochs": 3, "lora_r": 8}
    assert await outbox_types(registry) == ["model.registered"]


async def test_deploy_deploy_roll_back_is_recorded_and_announced(registry: Registry) -> None:
    await registry.register_job_output(job_completed("job-1", sha_digit="a"))
    await registry.register_job_output(job_completed("job-2", sha_digit="b", loss=0.3))
    await registry.deploy("acme", "support-bot", DeployRequest(version=1, notes="first"))
    await registry.deploy(
        "acme",
        "support-bot",
        DeployRequest(
            version=2, notes="better loss", justification="exp-7", config={"traffic_weight": 1.0}
        ),
    )
    alias = await registry.roll_back(
        "acme", "support-bot", "production", RollbackRequest(notes="complaints", actor="ana")
    )
    assert alias.version == 1
    assert alias.revision == 3

    records = await registry.read(lambda s: queries.history(s, "acme", "support-bot"))
    assert [(r.action, r.from_version, r.to_version, r.notes) for r in records] == [
        ("deploy", None, 1, "first"),
        ("deploy", 1, 2, "better loss"),
        ("rollback", 2, 1, "complaints"),
    ]
    assert records[1].justification == "exp-7"
    assert records[1].config == {"traffic_weight": 1.0}
    assert records[2].actor == "ana"
    statuses = {
        v.version: v.status
        for v in await registry.read(lambda s: queries.list_versions(s, "acme", "support-bot"))
    }
    assert statuses == {1: "deployed", 2: "ready"}
    assert await outbox_types(registry) == [
        "model.registered",
        "model.registered",
        "model.deployed",
        "model.deployed",
        "model.rolled_back",
    ]


async def test_racing_deploys_one_wins_one_conflicts(
    migrated_database_url: str, tmp_path: Path
) -> None:
    setup = registry_on(migrated_database_url, tmp_path)
    first = registry_on(migrated_database_url, tmp_path)
    second = registry_on(migrated_database_url, tmp_path)
    try:
        for job in ("job-1", "job-2", "job-3"):
            await setup.register_job_output(job_completed(job, sha_digit=job[-1]))
        current = await setup.deploy("acme", "support-bot", DeployRequest(version=1))
        results = await asyncio.gather(
            first.deploy(
                "acme", "support-bot", DeployRequest(version=2, expected_revision=current.revision)
            ),
            second.deploy(
                "acme", "support-bot", DeployRequest(version=3, expected_revision=current.revision)
            ),
            return_exceptions=True,
        )
        conflicts = [r for r in results if isinstance(r, Conflict)]
        winners = [r for r in results if not isinstance(r, BaseException)]
        assert len(conflicts) == 1, results
        assert len(winners) == 1, results
        assert (
            "changed by someone else" in conflicts[0].message or "same time" in conflicts[0].message
        )
        serving = await setup.read(
            lambda s: queries.serving_now(s, "acme", "support-bot", "production")
        )
        assert serving.version == winners[0].version
        assert serving.revision == current.revision + 1
    finally:
        for instance in (setup, first, second):
            await instance.database.dispose()


async def test_a_stale_revision_is_a_conflict(registry: Registry) -> None:
    await registry.register_job_output(job_completed("job-1"))
    await registry.deploy("acme", "support-bot", DeployRequest(version=1))
    with pytest.raises(Conflict, match="reload it and retry"):
        await registry.deploy("acme", "support-bot", DeployRequest(version=1, expected_revision=0))


async def test_archive_is_refused_while_an_alias_serves_the_version(registry: Registry) -> None:
    await registry.register_job_output(job_completed("job-1", sha_digit="a"))
    await registry.register_job_output(job_completed("job-2", sha_digit="b"))
    await registry.deploy("acme", "support-bot", DeployRequest(version=1, alias="candidate"))
    with pytest.raises(Refused, match="alias\\(es\\) candidate"):
        await registry.archive("acme", "support-bot", 1, ArchiveRequest())
    archived = await registry.archive("acme", "support-bot", 2, ArchiveRequest(notes="worse"))
    assert archived.status == "archived"
    with pytest.raises(Refused, match="archived"):
        await registry.deploy("acme", "support-bot", DeployRequest(version=2))


async def test_rollback_without_history_says_what_to_do(registry: Registry) -> None:
    await registry.register_job_output(job_completed("job-1"))
    await registry.deploy("acme", "support-bot", DeployRequest(version=1))
    with pytest.raises(Refused, match="name one with to_version"):
        await registry.roll_back("acme", "support-bot", "production", RollbackRequest())


async def test_tenants_never_see_each_other(registry: Registry) -> None:
    await registry.register_job_output(job_completed("job-1", tenant="acme"))
    assert await registry.read(lambda s: queries.list_models(s, "globex")) == []
    with pytest.raises(NotFound):
        await registry.deploy("globex", "support-bot", DeployRequest(version=1))
    with pytest.raises(NotFound):
        await registry.read(lambda s: queries.describe_version(s, "globex", "support-bot", 1))


async def test_manual_registration_needs_a_stored_artifact(registry: Registry) -> None:
    with pytest.raises(NotFound, match="upload the adapter first"):
        await registry.register(
            "acme", RegisterRequest(model_name="manual", base_model="m", artifact_sha256="c" * 64)
        )
    stored = await registry.artifacts.put_bytes(b"adapter")
    version = await registry.register(
        "acme", RegisterRequest(model_name="manual", base_model="m", artifact_sha256=stored.sha256)
    )
    assert version.artifact_bytes == len(b"adapter")
    hosted = await registry.register(
        "acme",
        RegisterRequest(
            model_name="manual",
            base_model="gpt-4o-mini",
            external_model_id="ft:gpt-4o-mini:acme::1",
        ),
    )
    assert hosted.version == 2
    assert hosted.external_model_id == "ft:gpt-4o-mini:acme::1"


async def test_export_and_import_round_trip(registry: Registry) -> None:
    await registry.register_job_output(job_completed("job-1", sha_digit="a"))
    await registry.register_job_output(job_completed("job-2", sha_digit="b"))
    await registry.deploy("acme", "support-bot", DeployRequest(version=1, notes="go"))
    await registry.deploy("acme", "support-bot", DeployRequest(version=2, notes="better"))
    exported = await registry.export_registry("acme")

    summary = await registry.import_registry("acme-restored", exported)
    assert (summary.models, summary.versions, summary.history) == (1, 2, 2)
    restored = await registry.export_registry("acme-restored")
    assert restored.versions == exported.versions
    assert [m.model_dump(exclude={"tenant"}) for m in restored.models] == [
        m.model_dump(exclude={"tenant"}) for m in exported.models
    ]
    assert [r.model_dump(exclude={"sequence"}) for r in restored.history] == [
        r.model_dump(exclude={"sequence"}) for r in exported.history
    ]

    with pytest.raises(Conflict, match="already exist"):
        await registry.import_registry("acme-restored", exported)


async def test_compare_shows_metric_and_config_differences(registry: Registry) -> None:
    await registry.register_job_output(job_completed("job-1", sha_digit="a", loss=0.5))
    event = job_completed("job-2", sha_digit="b", loss=0.25)
    event = event.model_copy(update={"hyperparameters": {"epochs": 5, "lora_r": 8}})
    await registry.register_job_output(event)
    comparison = await registry.read(lambda s: queries.compare(s, "acme", "support-bot", 1, 2))
    assert comparison.metric_differences["training_metrics.train_loss"] == -0.25
    assert comparison.config_differences == {"epochs": [3, 5]}


async def test_archive_is_refused_while_an_experiment_serves_the_version(
    registry: Registry,
) -> None:
    await registry.register_job_output(job_completed("job-1", sha_digit="a"))
    second = await registry.register_job_output(job_completed("job-2", sha_digit="b"))
    assert second is not None
    started = ExperimentStarted(
        tenant="acme",
        experiment_id="exp_tone",
        minimum_detectable_effect=0.05,
        control=ExperimentArm(
            variant="control",
            model_name="support-bot",
            version=1,
            serving_name=f"support-bot@1-{'a' * 8}",
            weight=0.5,
        ),
        treatments=[
            ExperimentArm(
                variant="tuned",
                model_name="support-bot",
                version=2,
                serving_name=second.serving_name,
                weight=0.5,
            )
        ],
    )
    await registry.track_experiment(started)
    await registry.track_experiment(started)  # redelivered: changes nothing
    with pytest.raises(Refused, match="running experiment\\(s\\) exp_tone"):
        await registry.archive("acme", "support-bot", 2, ArchiveRequest())
    await registry.end_experiment("acme", "exp_tone")
    archived = await registry.archive("acme", "support-bot", 2, ArchiveRequest())
    assert archived.status == "archived"


async def test_an_adapter_directory_is_stored_and_registered(
    registry: Registry, tmp_path: Path
) -> None:
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"r": 8}')
    (adapter / "adapter_model.safetensors").write_bytes(b"weights")
    version = await registry.register(
        "acme",
        RegisterRequest(model_name="imported", base_model="tiny-llama", adapter_path=str(adapter)),
    )
    assert version.artifact_sha256 is not None
    assert await registry.artifacts.exists(version.artifact_sha256)
    with pytest.raises(InvalidRequest, match=r"adapter_config\.json"):
        await registry.register(
            "acme",
            RegisterRequest(
                model_name="imported", base_model="tiny-llama", adapter_path=str(tmp_path)
            ),
        )


def job_created(job_id: str) -> JobCreated:
    return JobCreated(
        tenant="acme",
        job_id=job_id,
        base_model="tiny-llama",
        training_file="f" * 64,
        model_name="support-bot",
        dataset="support",
        dataset_version=1,
    )


async def test_a_version_is_training_from_job_creation_until_it_completes(
    registry: Registry,
) -> None:
    created = job_created("job-7")
    await registry.track_job(created)
    await registry.track_job(created)  # redelivered: one version
    [training] = await registry.read(lambda s: queries.list_versions(s, "acme", "support-bot"))
    assert training.status == "training"
    assert training.version == 1
    with pytest.raises(Refused, match="training"):
        await registry.deploy("acme", "support-bot", DeployRequest(version=1))
    completed = await registry.register_job_output(job_completed("job-7", sha_digit="c"))
    assert completed is not None
    assert completed.version == 1
    assert completed.status == "ready"
    assert completed.serving_name == f"support-bot@1-{'c' * 8}"
    assert await outbox_types(registry) == ["model.registered"]


async def test_a_failed_job_leaves_its_version_failed(registry: Registry) -> None:
    await registry.track_job(job_created("job-8"))
    await registry.track_job(
        JobFailed(
            tenant="acme",
            job_id="job-8",
            error={"code": "worker_lost", "message": "The worker died three times."},
        )
    )
    [failed] = await registry.read(lambda s: queries.list_versions(s, "acme", "support-bot"))
    assert failed.status == "failed"
    await registry.track_job(job_created("job-9"))
    await registry.track_job(JobCancelled(tenant="acme", job_id="job-9"))
    statuses = [
        v.status
        for v in await registry.read(lambda s: queries.list_versions(s, "acme", "support-bot"))
    ]
    assert statuses == ["failed", "archived"]


async def test_evaluations_and_costs_are_attached_to_versions(registry: Registry) -> None:
    version = await registry.register_job_output(job_completed("job-11", sha_digit="d"))
    assert version is not None
    await registry.attach_evaluation(
        EvaluationCompleted(
            tenant="acme",
            evaluation_id="ev-1",
            serving_names=[version.serving_name],
            metrics={
                version.serving_name: {
                    "exact_match": 0.8,
                    "latency_p50_ms": 120.0,
                    "tokens_per_second": 42.0,
                }
            },
        )
    )
    await registry.attach_cost(cost_entry("train-1", "training", "job-11", None, "0.40"))
    await registry.attach_cost(
        cost_entry("inf-1", "inference", "x", version.serving_name, "0.10", requests=7)
    )
    # the same ledger entry published again with a newer amount replaces the old one
    await registry.attach_cost(
        cost_entry("inf-1", "inference", "x", version.serving_name, "0.25", requests=9)
    )
    [row] = await registry.read(lambda s: queries.list_versions(s, "acme", "support-bot"))
    assert row.quality_metrics == {"exact_match": 0.8}
    assert row.performance_metrics == {"latency_p50_ms": 120.0, "tokens_per_second": 42.0}
    assert row.cost == {"training_usd": 0.4, "inference_usd": 0.25, "inference_requests": 9.0}


def cost_entry(
    entry_id: str,
    kind: str,
    reference: str,
    serving_name: str | None,
    amount: str,
    requests: int = 0,
) -> CostRecorded:
    return CostRecorded(
        tenant="acme",
        entry_id=entry_id,
        kind=kind,
        reference_id=reference,
        serving_name=serving_name,
        quantity=Decimal(1),
        unit="tokens" if kind == "inference" else "cpu_hours",
        amount_usd=Decimal(amount),
        requests=requests,
        price_version=0,
    )
