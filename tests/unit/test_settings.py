"""Settings: defaults, and one readable line for a bad variable."""

from pathlib import Path

import pytest

from libs.config import ConfigurationError, StackSettings, load_settings
from services.gateway.settings import GatewaySettings
from services.registry.settings import RegistrySettings

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("clean_env")]


def test_defaults_use_sqlite_under_the_home_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TUNELOOP_HOME", str(tmp_path))
    settings = load_settings(StackSettings)
    assert settings.resolved_database_url() == f"sqlite+aiosqlite:///{tmp_path / 'tuneloop.db'}"
    assert settings.gateway_port == 8000
    assert settings.subject_prefix == "tuneloop"


def test_each_service_reads_its_own_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNELOOP_GATEWAY_PORT", "9100")
    monkeypatch.setenv("TUNELOOP_REGISTRY_PORT", "9103")
    assert load_settings(GatewaySettings).http_port == 9100
    assert load_settings(RegistrySettings).http_port == 9103


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TUNELOOP_DATABASE_URL", "mysql://x@y/z", "TUNELOOP_DATABASE_URL"),
        ("TUNELOOP_SUBJECT_PREFIX", "Has Spaces", "TUNELOOP_SUBJECT_PREFIX"),
        ("TUNELOOP_MAX_DELIVERY_ATTEMPTS", "0", "TUNELOOP_MAX_DELIVERY_ATTEMPTS"),
    ],
)
def test_a_bad_variable_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(StackSettings)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
