"""The ledger from events on SQLite and PostgreSQL: prices, rollups, idempotency, budgets."""

from datetime import timedelta
from decimal import Decimal

import pytest

from contracts.api.cost import BudgetCreate, EstimateRequest, HardwarePrice, ModelPrice, PriceEdit
from contracts.events import JobCreated, JobFailed, JobStarted
from contracts.fields import ErrorDetail
from libs.messaging import PermanentError
from services.cost import reports
from services.cost.costs import Costs
from services.cost.errors import InvalidRequest
from tests.integration.cost.conftest import (
    T0,
    inference,
    job_completed,
    registered,
    staged_events,
)

pytestmark = pytest.mark.integration


async def ledger_total(costs: Costs, tenant: str = "acme") -> Decimal:
    page = await costs.read(lambda s: reports.ledger_page(s, reports.ledger_query(tenant), 0, 1000))
    return page.total_usd


async def test_jobs_are_priced_by_hardware_time_or_hosted_tokens(costs: Costs) -> None:
    await costs.job_completed(job_completed("job-cpu", wall_seconds=7200.0, hardware="cpu"))
    hosted = job_completed("job-openai", base_model="gpt-3.5-turbo-0125", trained_tokens=250_000)
    assert await costs.job_completed(hosted)
    assert not await costs.job_completed(hosted)  # redelivered: counted once
    page = await costs.read(lambda s: reports.ledger_page(s, reports.ledger_query("acme"), 0, 10))
    by_job = {entry.reference_id: entry for entry in page.entries}
    assert by_job["job-cpu"].amount_usd == Decimal("0.1")  # 2 h x $0.05
    assert (by_job["job-cpu"].unit, by_job["job-cpu"].quantity) == ("cpu_hours", Decimal(2))
    assert by_job["job-openai"].amount_usd == Decimal(2)  # 250k tokens x $8 / 1M
    assert page.total_usd == Decimal("2.1")
    recorded = await staged_events(costs, "cost.recorded")
    assert sorted(str(e["amount_usd"]) for e in recorded) == ["0.1", "2"]


async def test_a_failed_job_is_charged_the_time_it_ran(costs: Costs) -> None:
    await costs.job_started(
        JobStarted(tenant="acme", job_id="j", worker="w1", backend="trl", time=T0)
    )
    failed = JobFailed(
        tenant="acme",
        job_id="j",
        error=ErrorDetail(code="oom", message="out of memory"),
        time=T0 + timedelta(hours=1),
    )
    await costs.job_ended(failed)
    await costs.job_ended(failed)
    assert await ledger_total(costs) == Decimal("0.05")  # 1 h on the default cpu


async def test_inference_rollups_equal_the_sum_of_events_counted_once(costs: Costs) -> None:
    await costs.model_registered(registered("bot@1-aaaaaaaa", "gpt-4o-mini", job_id="job-1"))
    events = [
        inference("bot@1-aaaaaaaa", prompt=n, completion=2 * n, time=T0 + timedelta(seconds=20 * n))
        for n in range(1, 8)
    ]
    for event in events:
        await costs.inference_completed(event)
    await costs.inference_completed(events[0])  # redelivered
    # gpt-4o-mini as shipped: $0.15 / 1M input, $0.60 / 1M output
    expected = sum(
        (Decimal(e.prompt_tokens) * Decimal("0.15") + Decimal(e.completion_tokens) * Decimal("0.6"))
        / 1_000_000
        for e in events
    )
    assert await ledger_total(costs) == expected
    page = await costs.read(lambda s: reports.ledger_page(s, reports.ledger_query("acme"), 0, 10))
    assert sum(entry.requests for entry in page.entries) == len(events)
    assert len(page.entries) == 3  # minutes :26, :27 and :28
    closed = await staged_events(costs, "cost.recorded")
    assert len(closed) == 2  # the rollups of finished minutes, not one per request
    assert await costs.close_rollups(T0 + timedelta(hours=1)) == 1
    summary = await costs.read(
        lambda s: reports.summary(s, reports.ledger_query("acme"), "serving_name", None, None)
    )
    assert [(row.group, row.requests) for row in summary.rows] == [("bot@1-aaaaaaaa", 7)]
    assert summary.total_usd == expected


async def test_self_hosted_inference_is_priced_by_throughput(costs: Costs) -> None:
    await costs.model_registered(registered("bot@2-bbbbbbbb", "smollm2-135m"))
    await costs.inference_completed(inference("bot@2-bbbbbbbb", prompt=10, completion=5))
    # 15 tokens at 15 tokens/s on the cpu = 1 s of $0.05 / h
    assert await ledger_total(costs) == Decimal("0.000013888889")


async def test_budget_alerts_then_exceeds_once_and_refuses_new_work(costs: Costs) -> None:
    budget = await costs.create_budget(
        "acme", BudgetCreate(scope="training", period="total", limit_usd=Decimal("0.10"))
    )
    assert budget.state == "ok"
    allowed = await costs.check_budget("acme", "job", Decimal("0.05"), None)
    assert allowed.allowed
    await costs.job_completed(job_completed("j1", wall_seconds=6120.0))  # $0.085
    assert len(await staged_events(costs, "budget.threshold_reached")) == 1
    assert await staged_events(costs, "budget.exceeded") == []
    refused = await costs.check_budget("acme", "job", Decimal("0.05"), None)
    assert not refused.allowed
    assert refused.code == "budget_exceeded"
    assert "$0.085 spent of $0.1, this would add $0.05" in refused.message
    await costs.job_completed(job_completed("j2", wall_seconds=3600.0))  # $0.05 more
    await costs.job_completed(job_completed("j3", wall_seconds=3600.0))
    [exceeded] = await staged_events(costs, "budget.exceeded")
    assert exceeded["spent_usd"] == "0.135"
    assert len(await staged_events(costs, "budget.threshold_reached")) == 1
    assert not (await costs.check_budget("acme", "job", Decimal(0), None)).allowed
    assert (await costs.check_budget("acme", "inference", Decimal(1), None)).allowed
    [listed] = await costs.list_budgets("acme")
    assert (listed.state, listed.spent_usd) == ("exceeded", Decimal("0.185"))


async def test_price_edits_make_new_versions_used_by_later_entries(costs: Costs) -> None:
    first = await costs.edit_prices(
        "acme",
        PriceEdit(
            hardware=[
                HardwarePrice(
                    hardware="cpu",
                    unit="cpu_hour",
                    usd_per_hour=Decimal("0.20"),
                    examples_per_second=5,
                    inference_tokens_per_second=15,
                )
            ],
            models=[ModelPrice(model="my-hosted", training_per_1m=Decimal("1.5"))],
            notes="our own cpu cost",
        ),
    )
    second = await costs.edit_prices("acme", PriceEdit(remove_models=["my-hosted"]))
    assert (first.version, second.version) == (1, 2)
    assert "my-hosted" not in {m.model for m in second.models}
    with pytest.raises(InvalidRequest, match="cannot remove nothing-here"):
        await costs.edit_prices("acme", PriceEdit(remove_models=["nothing-here"]))
    await costs.job_completed(job_completed("j", wall_seconds=3600.0))
    page = await costs.read(lambda s: reports.ledger_page(s, reports.ledger_query("acme"), 0, 1))
    assert (page.entries[0].amount_usd, page.entries[0].price_version) == (Decimal("0.2"), 2)
    assert await ledger_total(costs, "other") == 0  # tenants are separate


async def test_estimates_learn_the_measured_speed_of_finished_jobs(costs: Costs) -> None:
    request = EstimateRequest(model="tiny-llama", example_token_counts=[100] * 10, epochs=1)
    before = await costs.estimate("acme", request)
    assert {h.hardware: h.basis for h in before.hardware}["cpu"] == "prior"
    await costs.job_completed(job_completed("j", trained_tokens=4000, wall_seconds=8.0))
    after = await costs.estimate("acme", request)
    cpu = {h.hardware: h for h in after.hardware}["cpu"]
    assert (cpu.basis, cpu.measured_tokens_per_second, cpu.wall_seconds) == ("measured", 500, 2)


async def test_quiet_serving_names_and_late_requests_are_published(costs: Costs) -> None:
    await costs.inference_completed(inference("quiet@1-aaaaaaaa", time=T0))
    await costs.inference_completed(inference("busy@1-bbbbbbbb", time=T0 + timedelta(minutes=1)))
    [quiet] = await staged_events(costs, "cost.recorded")  # swept when the next minute began
    assert quiet["serving_name"] == "quiet@1-aaaaaaaa"
    await costs.inference_completed(inference("quiet@1-aaaaaaaa", time=T0))  # a late request
    await costs.close_rollups(T0 + timedelta(minutes=5))
    published = [
        e for e in await staged_events(costs, "cost.recorded") if e["entry_id"] == quiet["entry_id"]
    ]
    assert [e["requests"] for e in published] == [1, 2]  # the later total supersedes


async def test_a_hosted_job_without_a_price_is_refused_with_what_to_do(costs: Costs) -> None:
    await costs.job_created(
        JobCreated(
            tenant="acme",
            job_id="j",
            base_model="some-hosted-model",
            training_file="f" * 64,
            dataset="d",
            dataset_version=1,
            backend="openai",
        )
    )
    with pytest.raises(PermanentError, match="add it with POST /v1/prices"):
        await costs.job_completed(job_completed("j", base_model="some-hosted-model"))
    assert await ledger_total(costs) == 0
