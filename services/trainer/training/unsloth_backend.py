"""The Unsloth backend: the same job contract on a CUDA GPU, Unsloth's fast kernels.

Unsloth patches transformers when it is imported and refuses to run without a GPU, so it is
imported only here, in the training process, after CUDA has been found. This path needs a GPU
and is not exercised by the CPU test suite.
"""

from pathlib import Path
from typing import Any

from contracts.training import Hyperparameters


def load_with_unsloth(path: Path, hyperparameters: Hyperparameters, max_len: int) -> Any:
    """The base model (4-bit when ``qlora``) with Unsloth's LoRA applied, and its tokenizer."""
    import os

    os.environ.setdefault("UNSLOTH_DISABLE_CPU_FALLBACK", "1")
    from unsloth import FastLanguageModel

    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=str(path), max_seq_length=max_len, load_in_4bit=hyperparameters.qlora
    )
    targets = hyperparameters.lora_target_modules
    model = FastLanguageModel.get_peft_model(
        model,
        r=hyperparameters.lora_r,
        lora_alpha=hyperparameters.lora_alpha,
        lora_dropout=hyperparameters.lora_dropout,
        target_modules=None if targets == "auto" else targets,
        random_state=hyperparameters.seed,
    )
    return model, tokenizer


__all__ = ["load_with_unsloth"]
