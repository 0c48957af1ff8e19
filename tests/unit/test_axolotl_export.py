"""A job exported as an Axolotl config."""

import pytest
import yaml

from contracts.training import Hyperparameters
from services.trainer.axolotl import axolotl_yaml
from services.trainer.tables import TrainerJob

pytestmark = pytest.mark.unit


def job(**hyperparameters: object) -> TrainerJob:
    return TrainerJob(
        id="ftjob-1",
        tenant="default",
        status="queued",
        base_model="HuggingFaceTB/SmolLM2",
        training_file="b" * 64,
        backend="trl",
        method="supervised",
        hyperparameters=Hyperparameters.model_validate(hyperparameters).model_dump(mode="json"),
    )


def test_a_lora_job_becomes_an_axolotl_lora_config() -> None:
    config = yaml.safe_load(axolotl_yaml(job(n_epochs=2, lora_r=4), "train.jsonl"))
    assert config["adapter"] == "lora"
    assert config["lora_r"] == 4
    assert config["num_epochs"] == 2
    assert config["datasets"][0]["type"] == "chat_template"
    assert config["datasets"][0]["roles_to_train"] == ["assistant"]
    assert config["train_on_inputs"] is False
    assert config["learning_rate"] == pytest.approx(2e-4)


def test_a_qlora_job_loads_in_four_bits() -> None:
    config = yaml.safe_load(axolotl_yaml(job(qlora=True, max_steps=10), "train.jsonl"))
    assert config["adapter"] == "qlora"
    assert config["load_in_4bit"] is True
    assert config["max_steps"] == 10
