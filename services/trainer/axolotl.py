"""A job written as an Axolotl YAML config, for teams that run Axolotl themselves."""

from typing import Any

import yaml

from contracts.training import Hyperparameters
from services.trainer.tables import TrainerJob

LLAMA_STYLE_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def axolotl_config(job: TrainerJob, dataset_path: str) -> dict[str, Any]:
    """The Axolotl settings equivalent to this job (LoRA or QLoRA, chat-template dataset)."""
    hp = Hyperparameters.model_validate(job.hyperparameters)
    targets = LLAMA_STYLE_TARGETS if hp.lora_target_modules == "auto" else hp.lora_target_modules
    config: dict[str, Any] = {
        "base_model": job.base_model,
        "adapter": "qlora" if hp.qlora else "lora",
        "load_in_4bit": hp.qlora,
        "lora_r": hp.lora_r,
        "lora_alpha": hp.lora_alpha,
        "lora_dropout": hp.lora_dropout,
        "lora_target_modules": list(targets),
        "datasets": [
            {
                "path": dataset_path,
                "type": "chat_template",
                "field_messages": "messages",
                "roles_to_train": ["assistant"],
            }
        ],
        "chat_template": "tokenizer_default",
        "train_on_inputs": False,
        "sequence_len": 2048 if hp.max_seq_length == "auto" else hp.max_seq_length,
        "sample_packing": hp.packing,
        "micro_batch_size": 16 if hp.batch_size == "auto" else hp.batch_size,
        "gradient_accumulation_steps": 1,
        "num_epochs": 3 if hp.n_epochs == "auto" else hp.n_epochs,
        "learning_rate": hp.resolved_learning_rate(),
        "optimizer": "adamw_torch",
        "lr_scheduler": "linear",
        "seed": hp.seed,
        "val_set_size": hp.validation_split,
        "output_dir": f"./outputs/{job.id}",
    }
    if hp.max_steps:
        config["max_steps"] = hp.max_steps
    if hp.early_stopping_patience:
        config["early_stopping_patience"] = hp.early_stopping_patience
    if hp.eval_steps:
        config["eval_steps"] = hp.eval_steps
    return config


def axolotl_yaml(job: TrainerJob, dataset_path: str) -> str:
    header = f"# Axolotl config of tuneloop job {job.id}; run: axolotl train this.yaml\n"
    return header + yaml.safe_dump(axolotl_config(job, dataset_path), sort_keys=False)


__all__ = ["axolotl_config", "axolotl_yaml"]
