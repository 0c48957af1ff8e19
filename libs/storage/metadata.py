"""The schema of every table, gathered from each package's ``tables`` module.

Each service keeps its tables in ``services/<name>/tables.py`` with names prefixed by the
service (``trainer_jobs``); shared infrastructure keeps its own in ``libs/<lib>/tables.py``.
"""

import importlib
import pkgutil

from sqlalchemy import MetaData
from sqlmodel import SQLModel

TABLE_PACKAGES = ("libs", "services")


def table_modules() -> list[str]:
    """Names of every ``tables`` module under the libs and services packages."""
    names: list[str] = []
    for root in TABLE_PACKAGES:
        package = importlib.import_module(root)
        for info in pkgutil.iter_modules(package.__path__, prefix=f"{root}."):
            if not info.ispkg:
                continue
            candidate = f"{info.name}.tables"
            if importlib.util.find_spec(candidate) is not None:
                names.append(candidate)
    return sorted(names)


def all_tables_metadata() -> MetaData:
    """SQLModel's metadata after importing every ``tables`` module."""
    for name in table_modules():
        importlib.import_module(name)
    return SQLModel.metadata


__all__ = ["all_tables_metadata", "table_modules"]
