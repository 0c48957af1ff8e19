"""Which stored examples a dataset is made of: shared by exports and jobs that export first."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ExportFilters(BaseModel):
    """Which stored examples go into a dataset."""

    model_config = ConfigDict(extra="forbid")

    min_rating: int | None = Field(default=None, ge=1, le=5)
    gold_star_only: bool = False
    domain: str | None = None
    task_type: str | None = None
    source: str | None = None
    owner: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


__all__ = ["ExportFilters"]
