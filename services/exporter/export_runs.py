"""Exports run in the exporter's background: accepted at once, followed through their status.

The HTTP API and the ``dataset.export`` command both call :func:`submit_export`: it records the
export in ``exporter_exports`` (once per id, so a redelivered command or a repeated request
starts nothing twice) and runs it in a task of this process. The version row, the export's
``succeeded`` status and ``dataset.exported`` are committed in one transaction at the very end
(see :func:`services.exporter.export.record_version`); a failure is recorded with its reason
together with ``dataset.export_failed``, and no version exists then: nothing is half-written.

The process running an export holds a lease on it and renews it. When a process stops, its
exports' leases run out and :meth:`ExportRunner.resume_stale` (at start-up and periodically, in
any replica) takes them over; an export whose process stopped ``max_attempts`` times fails.
"""

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from contracts.api.datasets import ExportRequest, ExportStatus
from contracts.api.errors import ErrorInfo, FieldError
from contracts.commands import ExportDataset
from contracts.envelope import new_message_id, utc_now
from contracts.events import DatasetExportFailed
from libs.background import BackgroundLoop
from libs.messaging import add_to_outbox, claim_message
from services.exporter.export import ExportRejected, ExternalImportFailed, run_export
from services.exporter.tables import ExporterExport

if TYPE_CHECKING:
    from services.exporter.runtime import Exporter

logger = logging.getLogger("tuneloop.exporter.exports")

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed")
FAILURE_CONSUMER = "exporter.export_failed"
PLAN_FIELDS = {
    "name",
    "format",
    "filters",
    "test_fraction",
    "min_examples",
    "context_length",
    "external",
}
RETRY_DELAYS_SECONDS = (1.0, 5.0)
"""Waits before running an export again after an unexpected error (a lost connection...)."""
WAIT_POLL_SECONDS = 0.2


def expires(seconds: float) -> datetime:
    return utc_now() + timedelta(seconds=seconds)


def rejection_error(exc: ExportRejected) -> ErrorInfo:
    reasons = [
        FieldError(field=code, code=code, message=f"{count} example(s) excluded: {code}")
        for code, count in sorted(exc.excluded.items(), key=lambda kv: -kv[1])
    ]
    return ErrorInfo(
        code="too_few_examples", message=str(exc), errors=reasons, total_errors=exc.considered
    )


def error_of(exc: BaseException) -> ErrorInfo:
    """What a failed export reports: a stable code and what to do next."""
    if isinstance(exc, ExportRejected):
        return rejection_error(exc)
    if isinstance(exc, ExternalImportFailed):
        return ErrorInfo(code="external_import_failed", message=str(exc))
    return ErrorInfo(
        code="export_failed",
        message=f"the export stopped on an unexpected error ({type(exc).__name__}: {exc}); "
        "nothing was written. Run it again; if it fails again, see the exporter's log",
    )


def status_of(row: ExporterExport) -> ExportStatus:
    succeeded = row.status == "succeeded"
    return ExportStatus(
        id=row.id,
        dataset=row.dataset,
        status=row.status,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        dataset_id=row.id if succeeded else None,
        version=row.version if succeeded else None,
        error=ErrorInfo.model_validate(row.error) if row.error else None,
    )


def request_of(row: ExporterExport) -> ExportRequest:
    return ExportRequest.model_validate(row.request)


class ExportRunner:
    """The exports this process runs, each in a task, under a lease it keeps renewing."""

    def __init__(
        self,
        lease_seconds: float = 30.0,
        max_attempts: int = 3,
        concurrency: int = 2,
        retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS,
    ) -> None:
        self.owner = f"exporter-{new_message_id()[:16]}"
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.retry_delays = retry_delays
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._concurrency = concurrency
        self._sweeper: BackgroundLoop | None = None

    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:  # created in the running loop
            self._slots = asyncio.Semaphore(self._concurrency)
        return self._slots

    def start(self, exporter: "Exporter", export_id: str) -> None:
        if export_id in self.tasks:
            return
        task = asyncio.create_task(run_held(exporter, export_id), name=f"export-{export_id}")
        self.tasks[export_id] = task
        task.add_done_callback(lambda _: self.tasks.pop(export_id, None))

    async def wait(self, export_id: str) -> None:
        """Until this process's task of the export ends (at once if it runs none)."""
        task = self.tasks.get(export_id)
        if task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(task)

    def start_sweeping(self, exporter: "Exporter") -> None:
        """Take over, now and then periodically, the exports other processes left behind."""

        async def sweep() -> None:
            await self.resume_stale(exporter)

        self._sweeper = BackgroundLoop(
            "export-sweeper",
            sweep,
            self.lease_seconds / 2,
            on_error=lambda _: logger.exception(
                "could not look for exports left behind; trying again"
            ),
        )
        self._sweeper.start()

    async def resume_stale(self, exporter: "Exporter") -> int:
        """Run the exports whose process stopped (their lease ran out); how many."""
        now = utc_now()
        database = exporter.tools.database
        async with database.session() as session:
            statement = (
                select(col(ExporterExport.id), col(ExporterExport.attempts))
                .where(
                    col(ExporterExport.status).in_(ACTIVE),
                    or_(
                        col(ExporterExport.lease_expires_at).is_(None),
                        col(ExporterExport.lease_expires_at) < now,
                    ),
                )
                .order_by(col(ExporterExport.created_at))
            )
            stale = list((await session.execute(statement)).all())
        resumed = 0
        for export_id, attempts in stale:
            if attempts >= self.max_attempts:
                await give_up(exporter, export_id, attempts)
            elif await self.claim(exporter, export_id, now):
                logger.info("resuming export %s left behind by a stopped process", export_id)
                self.start(exporter, export_id)
                resumed += 1
        return resumed

    async def claim(self, exporter: "Exporter", export_id: str, now: datetime) -> bool:
        async with exporter.tools.database.transaction() as session:
            result = await session.execute(
                update(ExporterExport)
                .where(
                    col(ExporterExport.id) == export_id,
                    col(ExporterExport.status).in_(ACTIVE),
                    or_(
                        col(ExporterExport.lease_expires_at).is_(None),
                        col(ExporterExport.lease_expires_at) < now,
                    ),
                )
                .values(
                    lease_owner=self.owner,
                    lease_expires_at=expires(self.lease_seconds),
                    attempts=ExporterExport.attempts + 1,
                )
            )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def renew(self, exporter: "Exporter", export_id: str) -> bool:
        """Extend the lease; False when another process has taken the export over."""
        async with exporter.tools.database.transaction() as session:
            result = await session.execute(
                update(ExporterExport)
                .where(
                    col(ExporterExport.id) == export_id,
                    col(ExporterExport.lease_owner) == self.owner,
                    col(ExporterExport.status).in_(ACTIVE),
                )
                .values(lease_expires_at=expires(self.lease_seconds))
            )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def stop(self, exporter: "Exporter | None" = None) -> None:
        """Stop the sweeper and the running exports, handing them over at once."""
        if self._sweeper is not None:
            await self._sweeper.stop()
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if exporter is not None and tasks:
            async with exporter.tools.database.transaction() as session:
                await session.execute(
                    update(ExporterExport)
                    .where(
                        col(ExporterExport.lease_owner) == self.owner,
                        col(ExporterExport.status).in_(ACTIVE),
                    )
                    .values(lease_expires_at=utc_now())
                )


async def submit_export(
    exporter: "Exporter",
    tenant: str,
    request: ExportRequest | ExportDataset,
    export_id: str | None = None,
) -> ExportStatus:
    """Record the export and start it in the background; an id seen before starts nothing."""
    runner = exporter.runner
    row = ExporterExport(
        id=export_id or new_message_id(),
        tenant=tenant,
        dataset=request.name,
        status="queued",
        request=request.model_dump(mode="json", include=PLAN_FIELDS),
        attempts=1,
        lease_owner=runner.owner,
        lease_expires_at=expires(runner.lease_seconds),
    )
    try:
        async with exporter.tools.database.transaction() as session:
            existing = await session.get(ExporterExport, row.id)
            if existing is not None:
                return status_of(existing)
            session.add(row)
    except IntegrityError:  # the same id submitted at the same time: the other one runs it
        known = await find_export(exporter, row.id)
        if known is None:
            raise
        return known
    runner.start(exporter, row.id)
    return status_of(row)


async def find_export(
    exporter: "Exporter", export_id: str, tenant: str | None = None
) -> ExportStatus | None:
    async with exporter.tools.database.session() as session:
        row = await session.get(ExporterExport, export_id)
    if row is None or (tenant is not None and row.tenant != tenant):
        return None
    return status_of(row)


async def wait_for_export(exporter: "Exporter", export_id: str) -> ExportStatus:
    """The export's status once it has finished, wherever it runs."""
    await exporter.runner.wait(export_id)
    while True:
        status = await find_export(exporter, export_id)
        if status is None or status.status in FINISHED:
            assert status is not None, f"export {export_id} is not recorded"
            return status
        await asyncio.sleep(WAIT_POLL_SECONDS)


async def run_held(exporter: "Exporter", export_id: str) -> None:
    """Run an export this process holds the lease of, renewing it meanwhile."""
    runner = exporter.runner
    current = asyncio.current_task()
    assert current is not None

    async def keep_lease() -> None:
        while True:
            await asyncio.sleep(runner.lease_seconds / 3)
            try:
                held = await runner.renew(exporter, export_id)
            except Exception:
                logger.warning("export %s: could not renew its lease", export_id, exc_info=True)
                continue
            if not held:
                logger.warning("export %s was taken over by another process", export_id)
                current.cancel()
                return

    heartbeat = asyncio.create_task(keep_lease(), name=f"export-lease-{export_id}")
    try:
        async with runner.slots():
            await run_recorded(exporter, export_id)
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat


async def run_recorded(exporter: "Exporter", export_id: str) -> None:
    """Run a recorded export to its end: a version, or a failure with its reason."""
    database = exporter.tools.database
    async with database.transaction() as session:
        row = await session.get(ExporterExport, export_id)
        if row is None or row.status not in ACTIVE:
            return
        row.status = "running"
        row.started_at = row.started_at or utc_now()
        tenant, request = row.tenant, request_of(row)
    plan = exporter.plan(tenant, request)
    for attempt, delay in enumerate((*exporter.runner.retry_delays, None)):
        try:
            version = await run_export(
                exporter.tools, plan, export_id, exporter.intake.export_workers()
            )
        except (ExportRejected, ExternalImportFailed) as exc:
            logger.warning("export %s of %s refused: %s", export_id, request.name, exc)
            await record_failure(exporter, export_id, tenant, request.name, exc)
            return
        except Exception as exc:
            if delay is None:
                logger.exception("export %s of %s failed", export_id, request.name)
                await record_failure(exporter, export_id, tenant, request.name, exc)
                return
            logger.warning(
                "export %s failed (attempt %d), running it again in %.0f s: %s",
                export_id,
                attempt + 1,
                delay,
                exc,
            )
            await asyncio.sleep(delay)
            continue
        if version is not None:
            logger.info("exported %s version %s (%s)", version.dataset, version.version, version.id)
        return


async def record_failure(
    exporter: "Exporter", export_id: str, tenant: str, dataset: str, exc: BaseException
) -> None:
    """The export's error and ``dataset.export_failed``, in one transaction, once."""
    error = error_of(exc)
    event = DatasetExportFailed(
        tenant=tenant,
        dataset=dataset,
        command_id=export_id,
        code=error.code,
        message=error.message,
        considered=exc.considered if isinstance(exc, ExportRejected) else 0,
        excluded=exc.excluded if isinstance(exc, ExportRejected) else {},
    )
    tools = exporter.tools
    async with tools.database.transaction() as session:
        await session.execute(
            update(ExporterExport)
            .where(col(ExporterExport.id) == export_id, col(ExporterExport.status).in_(ACTIVE))
            .values(
                status="failed",
                error=error.model_dump(mode="json"),
                finished_at=utc_now(),
                lease_owner=None,
            )
        )
        if await claim_message(session, FAILURE_CONSUMER, export_id):
            add_to_outbox(session, tools.bus, event)
    if tools.outbox is not None:
        tools.outbox.notify()


async def give_up(exporter: "Exporter", export_id: str, attempts: int) -> None:
    async with exporter.tools.database.session() as session:
        row = await session.get(ExporterExport, export_id)
    if row is None:
        return
    stopped = RuntimeError(
        f"the exporter stopped {attempts} times while running this export (out of memory?)"
    )
    await record_failure(exporter, export_id, row.tenant, row.dataset, stopped)


__all__ = [
    "ExportRunner",
    "error_of",
    "find_export",
    "rejection_error",
    "submit_export",
    "wait_for_export",
]
