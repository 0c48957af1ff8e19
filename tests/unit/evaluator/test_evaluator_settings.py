"""The evaluator's settings and its judge endpoint."""

import pytest

from libs.config import load_settings
from services.evaluator.evaluations import JudgeEndpoint
from services.evaluator.settings import EvaluatorSettings

pytestmark = pytest.mark.unit


@pytest.mark.usefixtures("clean_env")
def test_judge_endpoint_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNELOOP_EVALUATOR_JUDGE_BASE_URL", "https://judge.example/v1")
    monkeypatch.setenv("TUNELOOP_EVALUATOR_JUDGE_API_KEY", "sk-test")
    monkeypatch.setenv("TUNELOOP_EVALUATOR_CONCURRENCY", "8")
    settings = load_settings(EvaluatorSettings)
    assert settings.judge_base_url == "https://judge.example/v1"
    assert settings.judge_api_key is not None
    assert "sk-test" not in repr(settings)
    assert settings.evaluation_concurrency == 8


@pytest.mark.usefixtures("clean_env")
def test_no_judge_and_no_secret_by_default() -> None:
    settings = load_settings(EvaluatorSettings)
    assert settings.judge_base_url is None
    assert settings.judge_api_key is None
    assert settings.model_base_url.endswith("/v1")


async def test_the_judge_client_sends_its_key() -> None:
    async with JudgeEndpoint("https://judge.example/v1", "sk-test").client(5.0) as client:
        assert client.headers["Authorization"] == "Bearer sk-test"
        assert str(client.base_url) == "https://judge.example/v1/"
    async with JudgeEndpoint("http://127.0.0.1:1/v1").client(5.0) as client:
        assert "Authorization" not in client.headers
