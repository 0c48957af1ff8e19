"""Resolve a base model name or path to a local Hugging Face directory, building it once."""

import fcntl
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TINY_LLAMA = "tiny-llama"
SMOLLM2 = "smollm2-135m-instruct"
KNOWN_BASE_MODELS = (TINY_LLAMA, SMOLLM2)
COMPLETE_MARKER = ".complete"


class BaseModelNotFound(LookupError):
    """The name is neither a known base model nor a local Hugging Face model directory."""


def is_model_directory(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file()


@contextmanager
def _build_lock(target: Path) -> Iterator[None]:
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f".{target.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _cached(target: Path, build: Callable[[Path], Path]) -> Path:
    """Build ``target`` once, even when several processes ask at the same time."""
    if (target / COMPLETE_MARKER).is_file():
        return target
    with _build_lock(target):
        if not (target / COMPLETE_MARKER).is_file():
            build(target)
            (target / COMPLETE_MARKER).write_text("ok\n")
    return target


def resolve_base_model(name_or_path: str, cache_dir: Path) -> Path:
    """The local HF directory of ``tiny-llama``, ``smollm2-135m-instruct`` or a path."""
    if name_or_path == TINY_LLAMA:
        from libs.models.tiny import build_tiny_llama

        return _cached(cache_dir / TINY_LLAMA, build_tiny_llama)
    if name_or_path == SMOLLM2:
        from libs.models.smollm2 import convert_smollm2

        return _cached(cache_dir / SMOLLM2, convert_smollm2)
    path = Path(name_or_path).expanduser()
    if is_model_directory(path):
        return path.resolve()
    raise BaseModelNotFound(
        f"base model {name_or_path!r} is not known and is not a local Hugging Face model "
        f"directory (no config.json there); use one of {', '.join(KNOWN_BASE_MODELS)} or the "
        "path of a directory saved with save_pretrained()"
    )


def cached_base_model(name_or_path: str, cache_dir: Path) -> Path | None:
    """The local directory of a base model if it exists already (never builds one)."""
    if name_or_path in KNOWN_BASE_MODELS:
        target = cache_dir / name_or_path
        return target.resolve() if (target / COMPLETE_MARKER).exists() else None
    path = Path(name_or_path).expanduser()
    return path.resolve() if is_model_directory(path) else None


def model_context_length(directory: Path | None) -> int | None:
    """``max_position_embeddings`` from a model directory's ``config.json``, if it says."""
    if directory is None:
        return None
    try:
        config = json.loads((directory / "config.json").read_text())
    except (OSError, ValueError):
        return None
    value = config.get("max_position_embeddings")
    return int(value) if isinstance(value, int) and value > 0 else None


def check_base_model(name_or_path: str) -> None:
    """Raise :class:`BaseModelNotFound` without building anything."""
    if name_or_path in KNOWN_BASE_MODELS:
        return
    if not is_model_directory(Path(name_or_path).expanduser()):
        resolve_base_model(name_or_path, Path("/nonexistent"))


def load_tokenizer(name_or_path: str, cache_dir: Path) -> Any:
    """The tokenizer of a base model (a ``transformers`` tokenizer)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(resolve_base_model(name_or_path, cache_dir)))


__all__ = [
    "KNOWN_BASE_MODELS",
    "SMOLLM2",
    "TINY_LLAMA",
    "BaseModelNotFound",
    "cached_base_model",
    "check_base_model",
    "is_model_directory",
    "load_tokenizer",
    "model_context_length",
    "resolve_base_model",
]
