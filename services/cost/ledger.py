"""The ledger, written from events: each job's cost and per-minute rollups of inference.

A job is priced when it ends: tokens x the hosted model's training price for hosted
fine-tuning, wall time x the hardware's hourly rate otherwise (a failed or cancelled job is
charged the time it ran, when its start is known). Inference is priced per request (tokens x
the serving name's model prices, or the busy share of the serving host's hour) and added to
its serving name's rollup of that minute; a rollup's ``cost.recorded`` is published when a
later minute begins (a later ``cost.recorded`` with the same ``entry_id`` supersedes it).
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.events import (
    CostRecorded,
    InferenceCompleted,
    JobCancelled,
    JobCompleted,
    JobCreated,
    JobFailed,
    JobStarted,
    ModelRegistered,
)
from libs.messaging import Bus, PermanentError, add_to_outbox
from services.cost.budgets import Spend, apply_spend
from services.cost.periods import as_utc, minute_of
from services.cost.price_book import PriceBook, current_book
from services.cost.pricing import (
    hours,
    hours_cost,
    inference_cost,
    self_hosted_inference_cost,
    tokens_cost,
)
from services.cost.tables import CostJob, LedgerRow, ServingModel

HOSTED_BACKENDS = {"openai"}
DEFAULT_HARDWARE = "cpu"


async def job_row(session: AsyncSession, tenant: str, job_id: str) -> CostJob:
    query = select(CostJob).where(col(CostJob.tenant) == tenant, col(CostJob.job_id) == job_id)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        row = CostJob(tenant=tenant, job_id=job_id)
        session.add(row)
    return row


def hardware_of(hyperparameters: Mapping[str, object] | BaseModel) -> str | None:
    """The `hardware` the job says it ran on, when it says so."""
    values = (
        hyperparameters.model_dump() if isinstance(hyperparameters, BaseModel) else hyperparameters
    )
    value = values.get("hardware")
    return str(value) if value else None


async def remember_job_created(session: AsyncSession, event: JobCreated) -> None:
    job = await job_row(session, event.tenant, event.job_id)
    job.base_model = event.base_model
    job.backend = job.backend or event.backend
    job.hardware = job.hardware or hardware_of(event.hyperparameters)


async def remember_job_started(session: AsyncSession, event: JobStarted) -> None:
    job = await job_row(session, event.tenant, event.job_id)
    job.backend = event.backend
    job.started_at = event.time


def is_hosted(book: PriceBook, backend: str | None, base_model: str) -> bool:
    if backend in HOSTED_BACKENDS:
        return True
    if backend not in (None, "auto"):
        return False
    price = book.model(base_model)
    return price is not None and price.training_per_1m is not None


def cost_event(row: LedgerRow) -> CostRecorded:
    return CostRecorded(
        tenant=row.tenant,
        entry_id=row.entry_id,
        kind=row.kind,
        reference_id=row.reference_id,
        model=row.model,
        serving_name=row.serving_name,
        quantity=row.quantity,
        unit=row.unit,
        amount_usd=row.amount_usd,
        requests=row.requests,
        price_version=row.price_version,
        period_start=row.period_start,
        period_end=row.period_end,
    )


def new_entry_id() -> str:
    return f"cost_{uuid4().hex[:20]}"


def hardware_entry(
    book: PriceBook, hardware: str, wall_seconds: float
) -> tuple[Decimal, str, Decimal]:
    price = book.hardware.get(hardware)
    if price is None:
        raise PermanentError(
            f"no hourly price for hardware {hardware!r}; add it with POST /v1/prices, "
            "then replay this dead letter (tuneloop deadletters replay)"
        )
    unit = "gpu_hours" if price.unit == "gpu_hour" else "cpu_hours"
    return hours(wall_seconds), unit, hours_cost(wall_seconds, price.usd_per_hour)


async def add_entry(session: AsyncSession, bus: Bus, row: LedgerRow, job_id: str | None) -> None:
    session.add(row)
    add_to_outbox(session, bus, cost_event(row))
    await apply_spend(
        session, bus, Spend(row.tenant, row.kind, job_id, row.amount_usd, row.period_start)
    )


async def has_entry(session: AsyncSession, tenant: str, kind: str, reference: str) -> bool:
    query = select(col(LedgerRow.id)).where(
        col(LedgerRow.tenant) == tenant,
        col(LedgerRow.kind) == kind,
        col(LedgerRow.reference_id) == reference,
    )
    return (await session.execute(query)).first() is not None


async def record_job_completed(session: AsyncSession, bus: Bus, event: JobCompleted) -> None:
    """Price a completed job once, even if its event was published twice under two ids."""
    if await has_entry(session, event.tenant, "training", event.job_id):
        return
    book = await current_book(session, event.tenant)
    job = await job_row(session, event.tenant, event.job_id)
    job.base_model = event.base_model
    job.hardware = hardware_of(event.hyperparameters) or job.hardware or DEFAULT_HARDWARE
    job.trained_tokens, job.wall_seconds, job.finished = (
        event.trained_tokens,
        event.wall_seconds,
        True,
    )
    started = event.time - timedelta(seconds=event.wall_seconds)
    if is_hosted(book, job.backend, event.base_model):
        price = book.model(event.base_model)
        if price is None or price.training_per_1m is None:
            raise PermanentError(
                f"no training price per 1M tokens for the hosted model {event.base_model!r}; "
                "add it with POST /v1/prices, then replay this dead letter"
            )
        quantity, unit = Decimal(event.trained_tokens), "tokens"
        amount = tokens_cost(event.trained_tokens, price.training_per_1m)
        job.hardware = None
    else:
        quantity, unit, amount = hardware_entry(book, job.hardware, event.wall_seconds)
    row = LedgerRow(
        entry_id=new_entry_id(),
        tenant=event.tenant,
        kind="training",
        reference_id=event.job_id,
        model=event.base_model,
        serving_name=None,
        quantity=quantity,
        unit=unit,
        amount_usd=amount,
        price_version=book.version,
        period_start=started,
        period_end=event.time,
    )
    await add_entry(session, bus, row, event.job_id)


async def record_job_ended(
    session: AsyncSession, bus: Bus, event: JobFailed | JobCancelled
) -> None:
    """Charge a failed or cancelled self-hosted job the time it ran, if its start is known."""
    book = await current_book(session, event.tenant)
    job = await job_row(session, event.tenant, event.job_id)
    if job.started_at is None or job.finished:
        return
    if is_hosted(book, job.backend, job.base_model or ""):
        return  # the provider reports no tokens for a job that did not finish
    wall = max(0.0, (as_utc(event.time) - as_utc(job.started_at)).total_seconds())
    quantity, unit, amount = hardware_entry(book, job.hardware or DEFAULT_HARDWARE, wall)
    job.finished = True
    row = LedgerRow(
        entry_id=new_entry_id(),
        tenant=event.tenant,
        kind="training",
        reference_id=f"{event.job_id}/{event.type.split('.')[1]}",
        model=job.base_model,
        quantity=quantity,
        unit=unit,
        amount_usd=amount,
        price_version=book.version,
        period_start=job.started_at,
        period_end=event.time,
    )
    await add_entry(session, bus, row, event.job_id)


async def remember_serving_name(session: AsyncSession, event: ModelRegistered) -> None:
    query = select(ServingModel).where(
        col(ServingModel.tenant) == event.tenant,
        col(ServingModel.serving_name) == event.serving_name,
    )
    if (await session.execute(query)).scalar_one_or_none() is None:
        session.add(
            ServingModel(
                tenant=event.tenant,
                serving_name=event.serving_name,
                model_name=event.model_name,
                version=event.version,
                base_model=event.base_model,
                external_model_id=event.external_model_id,
                job_id=event.job_id,
            )
        )


async def priced_model_of(session: AsyncSession, tenant: str, serving_name: str) -> str:
    """The model whose prices apply to a serving name: hosted id, else base, else itself."""
    query = select(ServingModel).where(
        col(ServingModel.tenant) == tenant, col(ServingModel.serving_name) == serving_name
    )
    known = (await session.execute(query)).scalar_one_or_none()
    if known is None:
        return serving_name
    return known.external_model_id or known.base_model


def price_request(
    book: PriceBook, model: str, event: InferenceCompleted, serving_hardware: str
) -> tuple[Decimal, str, Decimal]:
    """(quantity, unit, amount) of one request."""
    price = book.model(model)
    if price is not None and price.input_per_1m is not None and price.output_per_1m is not None:
        amount = inference_cost(
            event.prompt_tokens, event.completion_tokens, price.input_per_1m, price.output_per_1m
        )
        return Decimal(event.prompt_tokens + event.completion_tokens), "tokens", amount
    hardware = book.hardware.get(serving_hardware)
    if hardware is None:
        raise PermanentError(
            f"no price for model {model!r} nor for the serving hardware {serving_hardware!r}; "
            "add one with POST /v1/prices, then replay this dead letter"
        )
    tokens = event.prompt_tokens + event.completion_tokens
    amount = self_hosted_inference_cost(
        tokens, hardware.inference_tokens_per_second, hardware.usd_per_hour
    )
    busy_seconds = tokens / hardware.inference_tokens_per_second
    unit = "gpu_hours" if hardware.unit == "gpu_hour" else "cpu_hours"
    return hours(busy_seconds), unit, amount


def rollup_reference(serving_name: str, minute: datetime) -> str:
    return f"{serving_name}@{minute:%Y-%m-%dT%H:%MZ}"


async def close_earlier_rollups(
    session: AsyncSession, bus: Bus, tenant: str, serving_name: str, before: datetime
) -> int:
    query = select(LedgerRow).where(
        col(LedgerRow.tenant) == tenant,
        col(LedgerRow.kind) == "inference",
        col(LedgerRow.serving_name) == serving_name,
        col(LedgerRow.open).is_(True),
        col(LedgerRow.period_start) < before,
    )
    closed = 0
    for row in (await session.execute(query)).scalars():
        row.open = False
        add_to_outbox(session, bus, cost_event(row))
        closed += 1
    return closed


async def record_inference(
    session: AsyncSession,
    bus: Bus,
    event: InferenceCompleted,
    serving_hardware: str,
    book: PriceBook,
    model: str,
) -> None:
    """Add one request to its rollup; ``model`` is :func:`priced_model_of` its serving name."""
    quantity, unit, amount = price_request(book, model, event, serving_hardware)
    minute = minute_of(event.time)
    reference = rollup_reference(event.serving_name, minute)
    query = select(LedgerRow).where(
        col(LedgerRow.tenant) == event.tenant,
        col(LedgerRow.kind) == "inference",
        col(LedgerRow.reference_id) == reference,
    )
    row = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if row is None:
        row = LedgerRow(
            entry_id=new_entry_id(),
            tenant=event.tenant,
            kind="inference",
            reference_id=reference,
            model=model,
            serving_name=event.serving_name,
            quantity=Decimal(0),
            unit=unit,
            amount_usd=Decimal(0),
            price_version=book.version,
            open=True,
            period_start=minute,
            period_end=minute + timedelta(minutes=1),
        )
        await close_earlier_rollups(session, bus, event.tenant, event.serving_name, minute)
    row.open = True  # a late request re-opens a closed minute: its total is published again
    row.quantity += quantity
    row.amount_usd += amount
    row.requests += 1
    row.prompt_tokens += event.prompt_tokens
    row.completion_tokens += event.completion_tokens
    session.add(row)
    await apply_spend(session, bus, Spend(event.tenant, "inference", None, amount, minute))


async def close_rollups(session: AsyncSession, bus: Bus, before: datetime) -> int:
    """Close every open rollup of a minute before ``before`` (publishing their costs)."""
    query = select(LedgerRow).where(
        col(LedgerRow.open).is_(True), col(LedgerRow.period_start) < minute_of(before)
    )
    closed = 0
    for row in (await session.execute(query)).scalars():
        row.open = False
        add_to_outbox(session, bus, cost_event(row))
        closed += 1
    return closed


__all__ = [
    "close_rollups",
    "priced_model_of",
    "record_inference",
    "record_job_completed",
    "record_job_ended",
    "remember_job_created",
    "remember_job_started",
    "remember_serving_name",
]
