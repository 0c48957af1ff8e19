"""The registry's operations, each in one transaction: what its API and handlers call."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.registry import (
    AliasPublic,
    ArchiveRequest,
    DeployRequest,
    ImportSummary,
    RegisterRequest,
    RegistryExport,
    RollbackRequest,
    VersionPublic,
)
from contracts.events import (
    CostRecorded,
    EvaluationCompleted,
    ExperimentStarted,
    JobCancelled,
    JobCompleted,
    JobCreated,
    JobFailed,
)
from libs.artifacts import ArtifactStore
from libs.messaging import Bus, OutboxRelay, claim_message
from libs.storage import Database
from services.registry import deployment, queries, registration, transfer
from services.registry.errors import Conflict
from services.registry.lookups import model_or_404
from services.registry.measurements import attach_metrics, record_cost
from services.registry.tables import ExperimentArmUse, ModelVersion
from services.registry.views import version_public

T = TypeVar("T")

JOB_CONSUMER = "registry__job_completed"
JOB_LIFECYCLE_CONSUMER = "registry__job_lifecycle"
COST_CONSUMER = "registry__cost_recorded"
EVALUATION_CONSUMER = "registry__evaluation_completed"
EXPERIMENT_CONSUMER = "registry__experiment_started"


class Registry:
    def __init__(
        self, database: Database, bus: Bus, artifacts: ArtifactStore, outbox: OutboxRelay
    ) -> None:
        self.database = database
        self.bus = bus
        self.artifacts = artifacts
        self.outbox = outbox

    async def _write(self, change: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``change`` in a transaction, then let the outbox publish its events."""
        try:
            async with self.database.transaction() as session:
                result = await change(session)
        except OperationalError as exc:
            if "locked" in str(exc):
                raise Conflict(
                    "another change to the registry happened at the same time; reload and retry"
                ) from None
            raise
        self.outbox.notify()
        return result

    async def read(self, query: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run a read-only query (see ``services.registry.queries``)."""
        async with self.database.session() as session:
            return await query(session)

    async def register_job_output(self, event: JobCompleted) -> VersionPublic | None:
        """Register the adapter of a completed job; ``None`` for a redelivered event."""

        async def change(session: AsyncSession) -> VersionPublic | None:
            if not await claim_message(session, JOB_CONSUMER, event.id):
                return None
            row = await registration.register_job_output(session, self.bus, event)
            model = await model_or_404(session, event.tenant, event.model_name)
            return version_public(model, row)

        return await self._write(change)

    async def track_job(self, event: JobCreated | JobFailed | JobCancelled) -> None:
        """A created job's version is ``training``; it ends ``failed`` or ``archived``."""

        async def change(session: AsyncSession) -> None:
            if not await claim_message(session, JOB_LIFECYCLE_CONSUMER, event.id):
                return
            if isinstance(event, JobCreated):
                await registration.register_training_job(session, event)
            else:
                status = "failed" if isinstance(event, JobFailed) else "archived"
                await registration.mark_job_ended(session, event.tenant, event.job_id, status)

        await self._write(change)

    async def register(self, tenant: str, request: RegisterRequest) -> VersionPublic:
        async def change(session: AsyncSession) -> VersionPublic:
            row = await registration.register_manually(
                session, self.bus, self.artifacts, tenant, request
            )
            return version_public(await model_or_404(session, tenant, request.model_name), row)

        return await self._write(change)

    async def deploy(self, tenant: str, model_name: str, request: DeployRequest) -> AliasPublic:
        async def change(session: AsyncSession) -> AliasPublic:
            model = await model_or_404(session, tenant, model_name)
            alias = await deployment.deploy(session, self.bus, model, request)
            return await queries.serving_now(session, tenant, model_name, alias.name)

        return await self._write(change)

    async def roll_back(
        self, tenant: str, model_name: str, alias: str, request: RollbackRequest
    ) -> AliasPublic:
        async def change(session: AsyncSession) -> AliasPublic:
            model = await model_or_404(session, tenant, model_name)
            row = await deployment.roll_back(session, self.bus, model, alias, request)
            return await queries.serving_now(session, tenant, model_name, row.name)

        return await self._write(change)

    async def archive(
        self, tenant: str, model_name: str, version: int, request: ArchiveRequest
    ) -> VersionPublic:
        async def change(session: AsyncSession) -> VersionPublic:
            model = await model_or_404(session, tenant, model_name)
            row = await deployment.archive(session, self.bus, model, version, request)
            return version_public(model, row)

        return await self._write(change)

    async def attach_evaluation(self, event: EvaluationCompleted) -> int:
        """Copy an evaluation's metrics onto the versions it measured; how many were found."""

        async def change(session: AsyncSession) -> int:
            if not await claim_message(session, EVALUATION_CONSUMER, event.id):
                return 0
            rows = (
                (
                    await session.execute(
                        select(ModelVersion).where(
                            col(ModelVersion.tenant) == event.tenant,
                            col(ModelVersion.serving_name).in_(list(event.metrics)),
                        )
                    )
                )
                .scalars()
                .all()
            )
            for row in rows:
                attach_metrics(row, event.metrics[row.serving_name])
            return len(rows)

        return await self._write(change)

    async def attach_cost(self, event: CostRecorded) -> None:
        """Total what a version's training and serving cost, from the cost ledger's entries."""

        async def change(session: AsyncSession) -> None:
            if await claim_message(session, COST_CONSUMER, event.id):
                await record_cost(session, event)

        await self._write(change)

    async def track_experiment(self, event: ExperimentStarted) -> None:
        """Remember which versions a running experiment serves (they cannot be archived)."""

        async def change(session: AsyncSession) -> None:
            if not await claim_message(session, EXPERIMENT_CONSUMER, event.id):
                return
            for arm in event.arms:
                session.add(
                    ExperimentArmUse(
                        tenant=event.tenant,
                        experiment_id=event.experiment_id,
                        serving_name=arm.serving_name,
                    )
                )

        await self._write(change)

    async def end_experiment(self, tenant: str, experiment_id: str) -> None:
        async def change(session: AsyncSession) -> None:
            await session.execute(
                update(ExperimentArmUse)
                .where(
                    col(ExperimentArmUse.tenant) == tenant,
                    col(ExperimentArmUse.experiment_id) == experiment_id,
                )
                .values(running=False)
            )

        await self._write(change)

    async def import_registry(self, tenant: str, document: RegistryExport) -> ImportSummary:
        return await self._write(lambda s: transfer.import_registry(s, tenant, document))

    async def export_registry(self, tenant: str) -> RegistryExport:
        return await self.read(lambda s: transfer.export_registry(s, tenant))


__all__ = ["Registry"]
