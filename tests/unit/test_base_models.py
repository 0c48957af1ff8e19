"""Base model names and paths resolve to local directories, or fail saying what to use."""

from pathlib import Path

import pytest

from libs.models import BaseModelNotFound, resolve_base_model
from libs.models.registry import check_base_model

pytestmark = pytest.mark.unit


def test_a_local_model_directory_resolves_to_itself(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert resolve_base_model(str(tmp_path), tmp_path / "cache") == tmp_path.resolve()


def test_an_unknown_name_lists_the_known_models(tmp_path: Path) -> None:
    with pytest.raises(BaseModelNotFound) as caught:
        resolve_base_model(str(tmp_path / "nowhere"), tmp_path)
    assert "tiny-llama" in str(caught.value)
    assert "smollm2-135m-instruct" in str(caught.value)


def test_known_names_pass_the_check_without_building_anything(tmp_path: Path) -> None:
    check_base_model("tiny-llama")
    check_base_model("smollm2-135m-instruct")
    with pytest.raises(BaseModelNotFound):
        check_base_model(str(tmp_path))
