"""LoRA settings checked against the modules the base model really has."""

from typing import Any

from contracts.training import Hyperparameters
from services.trainer.training.errors import TrainingError

PREFERRED_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def linear_module_names(model: Any) -> set[str]:
    import torch

    return {
        name.rsplit(".", 1)[-1]
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] != "lm_head"
    }


def target_modules(model: Any, hyperparameters: Hyperparameters) -> list[str]:
    available = linear_module_names(model)
    if hyperparameters.lora_target_modules == "auto":
        preferred = [name for name in PREFERRED_TARGETS if name in available]
        return preferred or sorted(available)
    missing = [name for name in hyperparameters.lora_target_modules if name not in available]
    if missing:
        raise TrainingError(
            "lora_target_module_not_found",
            f"LoRA target module(s) {', '.join(missing)} are not in the base model; "
            f"its linear modules are: {', '.join(sorted(available))}",
            "hyperparameters.lora_target_modules",
        )
    return list(hyperparameters.lora_target_modules)


def lora_config(model: Any, hyperparameters: Hyperparameters) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=hyperparameters.lora_r,
        lora_alpha=hyperparameters.lora_alpha,
        lora_dropout=hyperparameters.lora_dropout,
        target_modules=target_modules(model, hyperparameters),
        task_type="CAUSAL_LM",
    )


__all__ = ["PREFERRED_TARGETS", "linear_module_names", "lora_config", "target_modules"]
