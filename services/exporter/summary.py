"""Counts of the stored examples that export filters match, for choosing data before exporting."""

from typing import Any

from sqlalchemy import Integer, func, select
from sqlalchemy.sql import Select

from contracts.api.datasets import ExampleSummary, ExportFilters
from contracts.queries import ExampleCountReply
from libs.storage import Database
from services.exporter.candidates import candidates


async def breakdown(database: Database, statement: Select[Any], column: str) -> dict[str, int]:
    """Examples per value of ``column`` (``domain`` or ``task_type``); none counts as ``""``."""
    rows = statement.order_by(None).subquery()
    grouped = select(rows.c[column], func.count()).group_by(rows.c[column])
    async with database.session() as session:
        result = await session.execute(grouped)
        return {str(value or ""): int(count) for value, count in result.all()}


async def totals(database: Database, tenant: str, filters: ExportFilters) -> tuple[int, int, int]:
    """Examples matching ``filters``, how many of them are gold stars, and their tokens."""
    rows = candidates(tenant, filters).order_by(None).subquery()
    statement = select(
        func.count(),
        func.coalesce(func.sum(rows.c.gold_star.cast(Integer)), 0),
        func.coalesce(func.sum(rows.c.token_count), 0),
    ).select_from(rows)
    async with database.session() as session:
        matching, gold_star, tokens = (await session.execute(statement)).one()
    return int(matching), int(gold_star), int(tokens)


async def count_examples(
    database: Database, tenant: str, filters: ExportFilters
) -> ExampleCountReply:
    """The ``examples.count`` query: what a retraining policy counts its new gold stars with."""
    matching, gold_star, _ = await totals(database, tenant, filters)
    return ExampleCountReply(matching=matching, gold_star=gold_star)


async def summarize(database: Database, tenant: str, filters: ExportFilters) -> ExampleSummary:
    matching, gold_star, tokens = await totals(database, tenant, filters)
    everything = candidates(tenant, ExportFilters())
    return ExampleSummary(
        matching=int(matching),
        gold_star=int(gold_star),
        tokens=int(tokens),
        domains=await breakdown(database, everything, "domain"),
        task_types=await breakdown(database, everything, "task_type"),
    )


__all__ = ["count_examples", "summarize", "totals"]
