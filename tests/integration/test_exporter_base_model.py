"""The exporter counts tokens with the base model's own tokenizer once that model is cached."""

from pathlib import Path

import pytest

from services.exporter.settings import ExporterSettings
from services.exporter.tokens import (
    ByteEstimateCounter,
    base_model_tokenizer,
    load_token_counter,
    model_context_length,
)

pytestmark = pytest.mark.integration


def test_the_cached_base_model_gives_the_tokenizer_and_the_context_length(
    tmp_path: Path, models_cache_dir: Path, tiny_model_dir: Path
) -> None:
    settings = ExporterSettings(home=tmp_path, base_model="tiny-llama", models_dir=models_cache_dir)
    directory = base_model_tokenizer(settings.base_model, settings.resolved_models_dir())
    assert directory == tiny_model_dir
    assert model_context_length(directory) == 256
    chat = [{"role": "user", "content": "hello there"}, {"role": "assistant", "content": "hi"}]
    counter = load_token_counter(directory)
    background = load_token_counter(directory, background=True)
    assert counter.name == background.name == "hf:tiny-llama"
    assert background.count([chat]) == counter.count([chat])
    assert counter.count([chat])[0] > 0


def test_a_base_model_not_yet_cached_falls_back_to_the_named_estimate(tmp_path: Path) -> None:
    assert base_model_tokenizer("smollm2-135m-instruct", tmp_path / "empty-cache") is None
    assert base_model_tokenizer(None, tmp_path) is None
    assert model_context_length(None) is None
    assert isinstance(load_token_counter(None), ByteEstimateCounter)
