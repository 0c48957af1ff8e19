"""Price tables: the shipped default (version 0) and each tenant's immutable saved versions.

Editing never updates a row: it copies the current version, applies the changes and saves the
result as the next version, so every ledger entry can name the prices it was computed with.
"""

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.cost import HardwarePrice, ModelPrice, PriceEdit, PriceTable, PriceVersionSummary
from services.cost.errors import InvalidRequest, NotFound
from services.cost.tables import HardwarePriceRow, ModelPriceRow, PriceVersion

DEFAULT_PRICES_FILE = Path(__file__).with_name("default_prices.json")
SHIPPED_VERSION = 0


@dataclass(frozen=True)
class PriceBook:
    """One price table version, indexed for lookups."""

    version: int
    models: dict[str, ModelPrice]
    hardware: dict[str, HardwarePrice]

    def model(self, name: str) -> ModelPrice | None:
        """Prices of ``name``, also for a dated or fine-tuned variant of a priced model.

        ``gpt-4o-mini-2024-07-18`` uses the prices of ``gpt-4o-mini``; a fine-tuned
        ``ft:gpt-4o-mini-2024-07-18:org::id`` those of ``ft:gpt-4o-mini`` (fine-tuned models
        cost more to call), else of its base model, unless either has its own entry.
        """
        if name in self.models:
            return self.models[name]
        if name.startswith("ft:") and ":" in name[3:]:
            bare = name.split(":")[1]
            return self._closest("ft:" + bare) or self._closest(bare)
        return self._closest(name)

    def fine_tuned(self, base_model: str) -> ModelPrice | None:
        """Prices of calling a model fine-tuned from ``base_model`` (or ``base_model`` itself
        when the table has no separate fine-tuned entry)."""
        if base_model.startswith("ft:"):
            return self.model(base_model)
        return self._closest("ft:" + base_model) or self._closest(base_model)

    def _closest(self, name: str) -> ModelPrice | None:
        """The entry ``name`` is, or is a dated variant of (the longest such entry)."""
        candidates = [m for m in self.models if name == m or name.startswith(m + "-")]
        return self.models[max(candidates, key=len)] if candidates else None


@cache
def _shipped_document() -> dict[str, object]:
    document: dict[str, object] = json.loads(DEFAULT_PRICES_FILE.read_text())
    return document


def shipped_table(tenant: str) -> PriceTable:
    """The default prices every tenant starts with (version 0)."""
    return PriceTable.model_validate({**_shipped_document(), "tenant": tenant, "version": 0})


def book_of(table: PriceTable) -> PriceBook:
    return PriceBook(
        version=table.version,
        models={price.model: price for price in table.models},
        hardware={price.hardware: price for price in table.hardware},
    )


async def _version_row(
    session: AsyncSession, tenant: str, version: int | None
) -> PriceVersion | None:
    query = select(PriceVersion).where(col(PriceVersion.tenant) == tenant)
    if version is None:
        query = query.order_by(col(PriceVersion.version).desc()).limit(1)
    else:
        query = query.where(col(PriceVersion.version) == version)
    return (await session.execute(query)).scalar_one_or_none()


async def _table_of(session: AsyncSession, row: PriceVersion) -> PriceTable:
    models = (
        await session.execute(
            select(ModelPriceRow)
            .where(col(ModelPriceRow.version_id) == row.id)
            .order_by(col(ModelPriceRow.model))
        )
    ).scalars()
    hardware = (
        await session.execute(
            select(HardwarePriceRow)
            .where(col(HardwarePriceRow.version_id) == row.id)
            .order_by(col(HardwarePriceRow.hardware))
        )
    ).scalars()
    return PriceTable(
        tenant=row.tenant,
        version=row.version,
        created_at=row.created_at,
        as_of=date.fromisoformat(row.as_of),
        source=row.source,
        notes=row.notes,
        models=[
            ModelPrice.model_validate(m.model_dump(exclude={"id", "version_id"})) for m in models
        ],
        hardware=[
            HardwarePrice.model_validate(h.model_dump(exclude={"id", "version_id"}))
            for h in hardware
        ],
    )


async def price_table(session: AsyncSession, tenant: str, version: int | None = None) -> PriceTable:
    """The tenant's table at ``version`` (the latest when ``None``; 0 is the shipped one)."""
    if version == SHIPPED_VERSION:
        return shipped_table(tenant)
    row = await _version_row(session, tenant, version)
    if row is None:
        if version is None:
            return shipped_table(tenant)
        raise NotFound(
            f"tenant {tenant!r} has no price table version {version}; "
            "list them with GET /v1/prices/versions"
        )
    return await _table_of(session, row)


async def current_book(session: AsyncSession, tenant: str) -> PriceBook:
    return book_of(await price_table(session, tenant))


async def price_versions(session: AsyncSession, tenant: str) -> list[PriceVersionSummary]:
    shipped = shipped_table(tenant)
    rows = (
        await session.execute(
            select(PriceVersion)
            .where(col(PriceVersion.tenant) == tenant)
            .order_by(col(PriceVersion.version))
        )
    ).scalars()
    return [
        PriceVersionSummary(
            version=0,
            created_at=None,
            as_of=shipped.as_of,
            source=shipped.source,
            notes=shipped.notes,
        ),
        *(
            PriceVersionSummary(
                version=row.version,
                created_at=row.created_at,
                as_of=date.fromisoformat(row.as_of),
                source=row.source,
                notes=row.notes,
            )
            for row in rows
        ),
    ]


def edited(table: PriceTable, edit: PriceEdit) -> PriceTable:
    """``table`` with ``edit`` applied (not yet saved)."""
    unknown_models = set(edit.remove_models) - {m.model for m in table.models}
    unknown_hardware = set(edit.remove_hardware) - {h.hardware for h in table.hardware}
    if unknown_models or unknown_hardware:
        names = sorted(unknown_models | unknown_hardware)
        raise InvalidRequest(
            f"cannot remove {', '.join(names)}: not in price table version {table.version}; "
            "see GET /v1/prices for what it contains",
            field="remove_models" if unknown_models else "remove_hardware",
        )
    models = {m.model: m for m in table.models if m.model not in edit.remove_models}
    models.update({m.model: m for m in edit.models})
    hardware = {h.hardware: h for h in table.hardware if h.hardware not in edit.remove_hardware}
    hardware.update({h.hardware: h for h in edit.hardware})
    return table.model_copy(
        update={
            "models": [models[name] for name in sorted(models)],
            "hardware": [hardware[name] for name in sorted(hardware)],
            "as_of": edit.as_of or table.as_of,
            "source": edit.source or table.source,
            "notes": edit.notes,
        }
    )


async def save_edit(session: AsyncSession, tenant: str, edit: PriceEdit) -> PriceTable:
    """Save the current table with ``edit`` applied as the tenant's next version."""
    result = edited(await price_table(session, tenant), edit)
    latest = await session.scalar(
        select(func.max(PriceVersion.version)).where(col(PriceVersion.tenant) == tenant)
    )
    row = PriceVersion(
        tenant=tenant,
        version=(latest or 0) + 1,
        as_of=result.as_of.isoformat(),
        source=result.source,
        notes=result.notes,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    for model in result.models:
        session.add(ModelPriceRow(version_id=row.id, **model.model_dump()))
    for hardware in result.hardware:
        session.add(HardwarePriceRow(version_id=row.id, **hardware.model_dump()))
    await session.flush()
    return await _table_of(session, row)


__all__ = [
    "PriceBook",
    "book_of",
    "current_book",
    "edited",
    "price_table",
    "price_versions",
    "save_edit",
    "shipped_table",
]
