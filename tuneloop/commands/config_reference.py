"""The configuration reference (docs/configuration.md), generated from the settings classes.

Every environment variable tuneloop reads is a field of a pydantic-settings class: the shared
ones in ``libs.config``, one class per service, the embedded engine's and the command line's.
"""

import importlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from contracts.services import SERVICE_NAMES

SECTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "libs.config.settings",
        "TuneloopSettings",
        "Every process (each service, `tuneloop up`, `tuneloop db upgrade`, ...)",
    ),
    ("libs.config.settings", "ServiceSettings", "Every service"),
    ("libs.config.settings", "StackSettings", "`tuneloop up`, the embedded stack"),
    *((f"services.{name}.settings", "", f"The {name} service") for name in SERVICE_NAMES),
    (
        "services.router.engine.settings",
        "EngineSettings",
        "The embedded inference engine (started by `tuneloop up` when no upstream is set)",
    ),
    ("tuneloop.client.settings", "ClientSettings", "The command line (`tuneloop datasets ...`)"),
    (
        "libs.config.settings",
        "TelemetrySettings",
        "OpenTelemetry (the SDK also reads the other standard `OTEL_*` variables, "
        "such as `OTEL_EXPORTER_OTLP_ENDPOINT`)",
    ),
)
# Meanings of the fields whose settings class gives no description.
MEANINGS = {
    "TUNELOOP_LOG_LEVEL": "Lowest level of log records written.",
    "TUNELOOP_LOG_FORMAT": "`json`: one JSON object a line, with trace ids; `text` for people.",
    "TUNELOOP_GATEWAY_PORT": "Port of the gateway, the HTTP front door clients use.",
    "TUNELOOP_STARTUP_TIMEOUT_SECONDS": "How long `tuneloop up` waits for a service.",
    "TUNELOOP_TRAINER_MAX_CONCURRENT_JOBS": "Jobs one trainer process runs at once.",
    "TUNELOOP_ROUTER_REMOTE_API_KEY": "API key sent to the hosted-model endpoint (a secret).",
    "TUNELOOP_MAX_REQUEST_BYTES": "Largest inference request body the router accepts.",
    "TUNELOOP_MAX_TOKENS_LIMIT": "Largest `max_tokens` an inference request may ask for.",
    "TUNELOOP_CONNECT_RETRIES": "Retries of a failed upstream connection before falling back.",
    "TUNELOOP_ENGINE_PORT": "HTTP port of the embedded engine; 0 picks a free one.",
    "TUNELOOP_MAX_NEW_TOKENS_LIMIT": "Largest number of tokens the embedded engine generates.",
    "TUNELOOP_ENGINE_THREADS": "CPU threads of the embedded engine.",
    "OTEL_SDK_DISABLED": "`true` turns OpenTelemetry off entirely.",
    "OTEL_SERVICE_NAME": "Service name on traces; default `tuneloop-<service>`.",
}
HEADER = """# Configuration reference

tuneloop is configured only by environment variables; every one is optional on one machine.
This page is generated from the settings classes by `tuneloop docs config` (a test fails when
it is stale): do not edit it by hand. A wrong value stops the process with one line naming the
variable. For how to set them in containers see [deployment.md](deployment.md).
"""


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    default: str
    description: str


def settings_class(module_name: str, class_name: str) -> type[BaseSettings]:
    module = importlib.import_module(module_name)
    if class_name:
        found: type[BaseSettings] = getattr(module, class_name)
        return found
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if issubclass(cls, BaseSettings) and cls.__module__ == module_name:
            return cls
    raise LookupError(f"no settings class in {module_name}")


def own_fields(cls: type[BaseSettings]) -> Iterator[tuple[str, FieldInfo]]:
    """Fields the class declares itself (inherited ones are documented with their parent)."""
    annotations = inspect.get_annotations(cls)
    for name, field in cls.model_fields.items():
        if name in annotations:
            yield name, field


def variable_name(cls: type[BaseSettings], name: str, field: FieldInfo) -> str:
    if isinstance(field.validation_alias, str):
        return field.validation_alias
    prefix = str(cls.model_config.get("env_prefix", ""))
    return f"{prefix}{name}".upper()


def type_text(field: FieldInfo) -> str:
    text = str(field.annotation).replace("typing.", "").replace("pathlib.", "")
    text = text.replace("<class '", "").replace("'>", "").replace("pydantic.types.", "")
    text = text.replace("Literal[", "one of [").replace(" | None", "")
    limits = []
    for item in field.metadata:
        for attribute, symbol in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(item, attribute, None)
            if value is not None:
                limits.append(f"{symbol} {value}")
    return text + (f" ({', '.join(limits)})" if limits else "")


def default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    else:
        value = field.default
    if value is PydanticUndefined:
        return "required"
    if value is None or isinstance(value, SecretStr) or value in ("", {}, []):
        return "unset"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Path | str | int | float | bool):
        return f"`{str(value).lower() if isinstance(value, bool) else value}`"
    return f"`{value}`"


def variable_of(cls: type[BaseSettings], name: str, field: FieldInfo) -> Variable:
    variable = variable_name(cls, name, field)
    meaning = " ".join((field.description or "").split()) or MEANINGS.get(variable, "")
    return Variable(variable, type_text(field), default_text(field), meaning)


def variables(cls: type[BaseSettings]) -> list[Variable]:
    return [variable_of(cls, name, field) for name, field in own_fields(cls)]


def escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_config_reference() -> str:
    lines = [HEADER]
    for module_name, class_name, title in SECTIONS:
        cls = settings_class(module_name, class_name)
        found = variables(cls)
        if not found:
            continue
        lines += [f"## {title}", "", f"Read by `{cls.__module__}.{cls.__name__}`.", ""]
        lines += ["| variable | type | default | meaning |", "|---|---|---|---|"]
        for v in found:
            lines.append(
                f"| `{v.name}` | {escape(v.type)} | {escape(v.default)} | {escape(v.description)} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def known_variables() -> set[str]:
    """Every variable name the settings classes read."""
    return {
        v.name
        for module_name, class_name, _ in SECTIONS
        for v in variables(settings_class(module_name, class_name))
    } | {
        variable_name(cls, name, field)
        for module_name, class_name, _ in SECTIONS
        for cls in [settings_class(module_name, class_name)]
        for name, field in cls.model_fields.items()
    }


__all__ = ["known_variables", "render_config_reference"]
