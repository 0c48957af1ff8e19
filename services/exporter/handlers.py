"""Message handlers of the exporter: export commands and feedback on served requests."""

import json

from faststream.nats import NatsRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.commands import ExportDataset
from contracts.events import FeedbackRecorded, InteractionCaptured
from contracts.queries import ExampleCountQuery, ExampleCountReply
from libs.messaging import (
    Subjects,
    claim_message,
    command_subscriber,
    event_subscriber,
    query_subscriber,
)
from services.exporter.examples import (
    Provenance,
    example_row,
    insert_examples,
    rate_captured_example,
)
from services.exporter.export_runs import submit_export
from services.exporter.runtime import Exporter
from services.exporter.summary import count_examples
from services.exporter.tables import ExporterExample, ExporterFeedback
from services.exporter.validation import content_text

FEEDBACK_CONSUMER = "exporter.feedback"
CAPTURE_CONSUMER = "exporter.captured"


async def export_on_command(exporter: Exporter, command: ExportDataset) -> None:
    """Start the export in the background, as the HTTP API does; a redelivered command (same
    id) starts nothing twice. It ends with ``dataset.exported`` or ``dataset.export_failed``."""
    await submit_export(exporter, command.tenant, command, command.id)


async def record_feedback(exporter: Exporter, event: FeedbackRecorded) -> None:
    """Keep the feedback and rate the example captured for its request, once per event."""
    async with exporter.tools.database.transaction() as session:
        if not await claim_message(session, FEEDBACK_CONSUMER, event.id):
            return
        statement = select(ExporterFeedback).where(
            col(ExporterFeedback.tenant) == event.tenant,
            col(ExporterFeedback.request_id) == event.request_id,
        )
        feedback = (await session.execute(statement)).scalar_one_or_none()
        if feedback is None:
            feedback = ExporterFeedback(tenant=event.tenant, request_id=event.request_id)
            session.add(feedback)
        if event.rating is not None:
            feedback.rating = event.rating
        feedback.gold_star = feedback.gold_star or event.gold_star
        await rate_captured_example(
            session, event.tenant, event.request_id, event.rating, event.gold_star
        )
        if event.corrected_answer:
            await add_correction(session, event)
    await apply_kept_feedback(exporter, event.tenant, event.request_id)


async def apply_kept_feedback(exporter: Exporter, tenant: str, request_id: str) -> None:
    """Rate the request's captured example with its kept feedback, after both were committed.

    The capture and its feedback are handled concurrently: each handler applies the feedback
    again once its own transaction has committed, so whichever commits last sees the other.
    """
    async with exporter.tools.database.transaction() as session:
        statement = select(ExporterFeedback).where(
            col(ExporterFeedback.tenant) == tenant,
            col(ExporterFeedback.request_id) == request_id,
        )
        feedback = (await session.execute(statement)).scalar_one_or_none()
        if feedback is not None:
            await rate_captured_example(
                session, tenant, request_id, feedback.rating, feedback.gold_star
            )


async def add_correction(session: AsyncSession, event: FeedbackRecorded) -> None:
    """A corrected answer becomes a gold-star example of its own, next to the captured one."""
    statement = select(ExporterExample).where(
        col(ExporterExample.tenant) == event.tenant,
        col(ExporterExample.request_id) == event.request_id,
        col(ExporterExample.deleted_at).is_(None),
    )
    captured = (await session.execute(statement)).scalars().first()
    if captured is None or event.corrected_answer is None:
        return
    messages = json.loads(captured.messages)
    last = max(i for i, m in enumerate(messages) if m.get("role") == "assistant")
    corrected = [*messages[:last], {"role": "assistant", "content": event.corrected_answer}]
    record = {
        "messages": corrected,
        "tools": json.loads(captured.tools) if captured.tools else None,
        "rating": 5,
        "gold_star": True,
        "domain": captured.domain,
        "task_type": captured.task_type,
        "owner": captured.owner,
        "source": "correction",
        "metadata": {
            "corrects": captured.id,
            "feedback": event.id,
            "rejected": content_text(messages[last].get("content")) or "",
        },
    }
    provenance = Provenance(tenant=event.tenant, source="correction")
    await insert_examples(session, [example_row(record, provenance)])


async def store_capture(exporter: Exporter, event: InteractionCaptured) -> None:
    """A captured request/answer becomes an unrated example, rated later by its feedback.

    Feedback that arrived first rates it as it is stored (see ``insert_examples``).
    """
    async with exporter.tools.database.transaction() as session:
        if not await claim_message(session, CAPTURE_CONSUMER, event.id):
            return
        statement = select(ExporterExample.id).where(  # type: ignore[call-overload]
            col(ExporterExample.tenant) == event.tenant,
            col(ExporterExample.request_id) == event.request_id,
            col(ExporterExample.source) == "capture",
        )
        if (await session.execute(statement)).first() is not None:
            return
        record = {
            "messages": event.messages,
            "source": "capture",
            "request_id": event.request_id,
            "metadata": {
                "serving_name": event.serving_name,
                "requested_model": event.requested_model,
                **({"experiment_id": event.experiment_id} if event.experiment_id else {}),
                **({"variant": event.variant} if event.variant else {}),
            },
        }
        await insert_examples(session, [example_row(record, Provenance(tenant=event.tenant))])
    await apply_kept_feedback(exporter, event.tenant, event.request_id)


def register_handlers(router: NatsRouter, subjects: Subjects, exporter: Exporter) -> None:
    @command_subscriber(router, subjects, ExportDataset)
    async def on_export(command: ExportDataset) -> None:
        await export_on_command(exporter, command)

    @event_subscriber(router, subjects, "exporter", InteractionCaptured)
    async def on_captured(event: InteractionCaptured) -> None:
        await store_capture(exporter, event)

    @event_subscriber(router, subjects, "exporter", FeedbackRecorded)
    async def on_feedback(event: FeedbackRecorded) -> None:
        await record_feedback(exporter, event)

    @query_subscriber(router, subjects, "exporter", ExampleCountQuery.message_type())
    async def on_count(query: ExampleCountQuery) -> ExampleCountReply:
        return await count_examples(exporter.tools.database, query.tenant, query.filters)


__all__ = ["export_on_command", "record_feedback", "register_handlers", "store_capture"]
