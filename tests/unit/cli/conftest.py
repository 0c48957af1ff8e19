from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.cli.fake_gateway import FakeGateway
from tuneloop.client import ApiClient, ClientConfig
from tuneloop.commands import gateway as gateway_module


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, clean_env: None, tmp_path: Path) -> FakeGateway:
    fake = FakeGateway()
    monkeypatch.setenv("TUNELOOP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TUNELOOP_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("TUNELOOP_API_KEY", "tl_testkey1_secret")
    monkeypatch.setenv("COLUMNS", "200")

    def open_client(config: ClientConfig) -> ApiClient:
        return ApiClient(config, transport=fake.transport)

    monkeypatch.setattr(gateway_module, "open_client", open_client)
    return fake


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
