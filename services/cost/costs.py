"""The cost service's operations, each in one transaction: what its API and handlers call."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.cost import (
    BudgetCreate,
    BudgetPublic,
    Estimate,
    EstimateRequest,
    HostingComparison,
    HostingComparisonRequest,
    PriceEdit,
    PriceTable,
    RoiReport,
    RoiRequest,
)
from contracts.envelope import Event, utc_now
from contracts.events import (
    InferenceCompleted,
    JobCancelled,
    JobCompleted,
    JobCreated,
    JobFailed,
    JobStarted,
    ModelRegistered,
)
from contracts.queries import BudgetCheckReply, JobEstimateReply
from libs.artifacts import ArtifactNotFound, ArtifactStore
from libs.messaging import Bus, OutboxRelay, claim_message
from libs.storage import Database
from services.cost import budgets, ledger, price_book
from services.cost.dataset_texts import example_texts
from services.cost.errors import CostError, InvalidRequest, NotFound
from services.cost.estimate import (
    Throughput,
    TokenCounter,
    TokenCounterLoader,
    estimate,
    example_counts,
    transformers_token_counter,
)
from services.cost.periods import minute_of
from services.cost.roi import hosting_comparison, roi_report
from services.cost.tables import CostJob, LedgerRow, ServingModel

T = TypeVar("T")

BOOK_TTL_SECONDS = 5.0
"""How long inference pricing reuses a tenant's price table before reading it again."""


class Busy(CostError):
    code = "busy"
    status = 409


class Costs:
    def __init__(
        self,
        database: Database,
        bus: Bus,
        outbox: OutboxRelay,
        serving_hardware: str = "cpu",
        load_counter: TokenCounterLoader = transformers_token_counter,
        artifacts: ArtifactStore | None = None,
    ) -> None:
        self.artifacts = artifacts
        self.database = database
        self.bus = bus
        self.outbox = outbox
        self.serving_hardware = serving_hardware
        self.load_counter = load_counter
        self._counters: dict[str, TokenCounter] = {}
        self._books: dict[str, tuple[float, price_book.PriceBook]] = {}
        self._priced_models: dict[tuple[str, str], str] = {}
        self._swept_minute: datetime | None = None

    async def _write(self, change: Callable[[AsyncSession], Awaitable[T]]) -> T:
        try:
            async with self.database.transaction() as session:
                result = await change(session)
        except OperationalError as exc:
            if "locked" in str(exc):
                raise Busy("another change happened at the same time; retry") from None
            raise
        self.outbox.notify()
        return result

    async def read(self, query: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with self.database.session() as session:
            return await query(session)

    async def _once(
        self,
        consumer: str,
        event: Event,
        apply: Callable[[AsyncSession], Awaitable[None]],
    ) -> bool:
        """Apply an event's change once per consumer; False for a redelivery."""

        async def change(session: AsyncSession) -> bool:
            if not await claim_message(session, consumer, event.id):
                return False
            await apply(session)
            return True

        return await self._write(change)

    # --- events ---------------------------------------------------------------------------

    async def job_created(self, event: JobCreated) -> bool:
        return await self._once(
            "cost__job_created", event, lambda s: ledger.remember_job_created(s, event)
        )

    async def job_started(self, event: JobStarted) -> bool:
        return await self._once(
            "cost__job_started", event, lambda s: ledger.remember_job_started(s, event)
        )

    async def job_completed(self, event: JobCompleted) -> bool:
        return await self._once(
            "cost__job_completed",
            event,
            lambda s: ledger.record_job_completed(s, self.bus, event),
        )

    async def job_ended(self, event: JobFailed | JobCancelled) -> bool:
        return await self._once(
            f"cost__{event.type.replace('.', '_')}",
            event,
            lambda s: ledger.record_job_ended(s, self.bus, event),
        )

    async def model_registered(self, event: ModelRegistered) -> bool:
        return await self._once(
            "cost__model_registered", event, lambda s: ledger.remember_serving_name(s, event)
        )

    async def book_for(self, session: AsyncSession, tenant: str) -> price_book.PriceBook:
        """The tenant's current prices, re-read at most every ``BOOK_TTL_SECONDS``."""
        now = time.monotonic()
        cached = self._books.get(tenant)
        if cached is None or cached[0] < now:
            cached = (now + BOOK_TTL_SECONDS, await price_book.current_book(session, tenant))
            self._books[tenant] = cached
        return cached[1]

    async def priced_model(self, session: AsyncSession, tenant: str, serving_name: str) -> str:
        """The model a serving name is priced as (serving names are immutable: cached)."""
        key = (tenant, serving_name)
        if key in self._priced_models:
            return self._priced_models[key]
        model = await ledger.priced_model_of(session, tenant, serving_name)
        if model != serving_name:
            self._priced_models[key] = model
        return model

    async def inference_completed(self, event: InferenceCompleted) -> bool:
        async def apply(session: AsyncSession) -> None:
            book = await self.book_for(session, event.tenant)
            model = await self.priced_model(session, event.tenant, event.serving_name)
            await ledger.record_inference(
                session, self.bus, event, self.serving_hardware, book, model
            )
            minute = minute_of(event.time)
            if self._swept_minute is None or minute > self._swept_minute:
                await ledger.close_rollups(session, self.bus, minute)  # quiet serving names
                self._swept_minute = minute

        return await self._once("cost__inference_completed", event, apply)

    async def close_rollups(self, before: datetime | None = None) -> int:
        """Close (and publish) every inference rollup of a finished minute."""
        moment = before or utc_now()
        return await self._write(lambda s: ledger.close_rollups(s, self.bus, moment))

    # --- prices and estimates -------------------------------------------------------------

    async def edit_prices(self, tenant: str, edit: PriceEdit) -> PriceTable:
        table = await self._write(lambda s: price_book.save_edit(s, tenant, edit))
        self._books.pop(tenant, None)
        return table

    def counter(self, name_or_path: str) -> TokenCounter:
        if name_or_path not in self._counters:
            self._counters[name_or_path] = self.load_counter(name_or_path)
        return self._counters[name_or_path]

    async def dataset_texts(self, sha256: str) -> list[str]:
        if self.artifacts is None:
            raise InvalidRequest("this cost service has no artifact store", field="dataset_sha256")
        try:
            data = await self.artifacts.get_bytes(sha256)
        except ArtifactNotFound:
            raise NotFound(
                f"no dataset {sha256} in the artifact store; export it first, or send `examples`",
                field="dataset_sha256",
            ) from None
        return example_texts(data)

    async def estimate(self, tenant: str, request: EstimateRequest) -> Estimate:
        texts = None
        if request.dataset_sha256 is not None and not request.example_token_counts:
            texts = await self.dataset_texts(request.dataset_sha256)
        counts = await asyncio.to_thread(
            example_counts, request, lambda name: self.counter(name), texts
        )

        async def query(session: AsyncSession) -> Estimate:
            book = await price_book.current_book(session, tenant)
            return estimate(request, book, counts, await throughputs(session, tenant))

        return await self.read(query)

    async def estimate_job(self, tenant: str, request: EstimateRequest) -> JobEstimateReply:
        """:meth:`estimate` for a job about to be queued; a problem becomes the reply's error."""
        try:
            return JobEstimateReply(estimate=await self.estimate(tenant, request))
        except (InvalidRequest, NotFound) as exc:
            return JobEstimateReply(error=str(exc))

    # --- ROI ------------------------------------------------------------------------------

    async def roi(self, tenant: str, request: RoiRequest) -> RoiReport:
        async def query(session: AsyncSession) -> RoiReport:
            training = request.training_cost_usd
            if training is None:
                training = await training_cost_of(session, tenant, request.serving_name)
            tuned = request.tuned_cost_per_call_usd
            if tuned is None:
                tuned = await cost_per_call(session, tenant, request.serving_name, "serving_name")
            base = request.base_cost_per_call_usd
            if base is None:
                base = await cost_per_call(session, tenant, request.baseline, "baseline")
            return roi_report(
                training_cost=training,
                base_cost_per_call=base,
                tuned_cost_per_call=tuned,
                base_accuracy=request.base_accuracy,
                tuned_accuracy=request.tuned_accuracy,
                value_per_error=request.value_per_error_usd,
                calls_per_month=request.calls_per_month,
                horizon_months=request.horizon_months,
            )

        return await self.read(query)

    async def compare_hosting(
        self, tenant: str, request: HostingComparisonRequest
    ) -> HostingComparison:
        async def query(session: AsyncSession) -> HostingComparison:
            return hosting_comparison(request, await price_book.current_book(session, tenant))

        return await self.read(query)

    # --- budgets --------------------------------------------------------------------------

    async def create_budget(self, tenant: str, request: BudgetCreate) -> BudgetPublic:
        return await self._write(lambda s: budgets.create_budget(s, self.bus, tenant, request))

    async def delete_budget(self, tenant: str, budget_id: str) -> None:
        await self._write(lambda s: budgets.delete_budget(s, tenant, budget_id))

    async def list_budgets(self, tenant: str) -> list[BudgetPublic]:
        async def query(session: AsyncSession) -> list[BudgetPublic]:
            now = utc_now()
            return [
                budgets.budget_public(b, now) for b in await budgets.budgets_of(session, tenant)
            ]

        return await self.read(query)

    async def check_budget(
        self, tenant: str, kind: str, estimated: Decimal, job_id: str | None
    ) -> BudgetCheckReply:
        return await self.read(lambda s: budgets.check(s, tenant, kind, estimated, job_id))


async def throughputs(session: AsyncSession, tenant: str) -> dict[str, Throughput]:
    """Measured training speed per hardware kind from the tenant's completed jobs."""
    query = select(CostJob).where(
        col(CostJob.tenant) == tenant,
        col(CostJob.finished).is_(True),
        col(CostJob.hardware).is_not(None),
        col(CostJob.wall_seconds) > 0,
        col(CostJob.trained_tokens) > 0,
    )
    totals: dict[str, tuple[int, int, float]] = {}
    for job in (await session.execute(query)).scalars():
        assert job.hardware is not None
        jobs, tokens, seconds = totals.get(job.hardware, (0, 0, 0.0))
        totals[job.hardware] = (
            jobs + 1,
            tokens + (job.trained_tokens or 0),
            seconds + (job.wall_seconds or 0),
        )
    return {name: Throughput(*values) for name, values in totals.items()}


async def training_cost_of(session: AsyncSession, tenant: str, serving_name: str | None) -> Decimal:
    if serving_name is None:
        raise InvalidRequest(
            "give `training_cost_usd`, or `serving_name` to take it from the ledger",
            field="training_cost_usd",
        )
    served = (
        await session.execute(
            select(ServingModel).where(
                col(ServingModel.tenant) == tenant, col(ServingModel.serving_name) == serving_name
            )
        )
    ).scalar_one_or_none()
    if served is None or served.job_id is None:
        raise InvalidRequest(
            f"no training job is known for {serving_name!r}; give `training_cost_usd`",
            field="training_cost_usd",
        )
    rows = await session.execute(
        select(col(LedgerRow.reference_id), col(LedgerRow.amount_usd)).where(
            col(LedgerRow.tenant) == tenant, col(LedgerRow.kind) == "training"
        )
    )
    job = served.job_id
    return sum(
        (
            amount
            for reference, amount in rows
            if reference == job or reference.startswith(job + "/")
        ),
        Decimal(0),
    )


async def cost_per_call(
    session: AsyncSession, tenant: str, serving_name: str | None, field: str
) -> Decimal:
    if serving_name is None:
        raise InvalidRequest(
            f"give `{field}` to take its cost per call from the ledger, or the cost per call",
            field=field,
        )
    rows = (
        await session.execute(
            select(LedgerRow).where(
                col(LedgerRow.tenant) == tenant,
                col(LedgerRow.kind) == "inference",
                col(LedgerRow.serving_name) == serving_name,
            )
        )
    ).scalars()
    amount, calls = Decimal(0), 0
    for row in rows:
        amount += row.amount_usd
        calls += row.requests
    if calls == 0:
        raise InvalidRequest(
            f"the ledger has no inference for {serving_name!r} yet; give its cost per call",
            field=field,
        )
    return (amount / calls).quantize(Decimal("1e-12"))


__all__ = ["Costs"]
