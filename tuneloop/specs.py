"""Generate the AsyncAPI spec (every service's messages) and the OpenAPI spec of each HTTP API.

Both come from the code: the brokers' subscribers and publishers, and the FastAPI apps. They
are checked in under ``contracts/``; ``tuneloop contracts --check`` fails when they are stale.
"""

import importlib
import json
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from contracts.services import SERVICE_NAMES
from libs.runtime.assembly import assemble
from libs.runtime.definition import ServiceDefinition
from libs.runtime.health import VERSION

SPEC_DATABASE_URL = "sqlite+aiosqlite:///:memory:"
ASYNCAPI_FILE = "asyncapi.json"


def definitions() -> list[ServiceDefinition]:
    return [importlib.import_module(f"services.{name}").DEFINITION for name in SERVICE_NAMES]


def _dump(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_specs(artifacts_dir: Path) -> dict[str, str]:
    """Spec file name (relative to ``contracts/``) → its text."""
    brokers = []
    rendered: dict[str, str] = {}
    for definition in definitions():
        settings = definition.settings(database_url=SPEC_DATABASE_URL, artifacts_dir=artifacts_dir)
        service = assemble(definition, settings)
        brokers.append(service.broker)
        if definition.build_api is not None:
            rendered[f"openapi/{definition.name}.json"] = _dump(service.api.openapi())
    asyncapi = AsyncAPI(
        *brokers,
        title="tuneloop events, commands and queries",
        version=VERSION,
        description="Every message tuneloop services exchange "
        "over NATS JetStream. Subjects use the default prefix `tuneloop`.",
    )
    rendered[ASYNCAPI_FILE] = _dump(asyncapi.to_specification().to_jsonable())
    return rendered


def write_specs(directory: Path) -> list[Path]:
    written = []
    for name, text in render_specs(directory / ".spec-artifacts").items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    _remove_scratch(directory)
    return written


def stale_specs(directory: Path) -> list[str]:
    """Names of specs whose checked-in text differs from what the code generates."""
    rendered = render_specs(directory / ".spec-artifacts")
    _remove_scratch(directory)
    return [
        name
        for name, text in rendered.items()
        if not (directory / name).exists() or (directory / name).read_text() != text
    ]


def _remove_scratch(directory: Path) -> None:
    import shutil

    shutil.rmtree(directory / ".spec-artifacts", ignore_errors=True)


__all__ = ["render_specs", "stale_specs", "write_specs"]
