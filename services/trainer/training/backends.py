"""Which backend runs a job on this machine, and why when it is not the one asked for."""

from dataclasses import dataclass

from services.trainer.training.errors import TrainingError


@dataclass(frozen=True)
class BackendChoice:
    backend: str
    notice: str | None = None


def select_backend(
    requested: str, *, cuda: bool, unsloth_installed: bool, qlora: bool
) -> BackendChoice:
    """``auto`` prefers Unsloth on a GPU where it is installed, TRL everywhere else.

    Asking for Unsloth without a GPU or without the package falls back to TRL with a notice;
    QLoRA needs a GPU whatever the backend.
    """
    if qlora and not cuda:
        raise TrainingError(
            "gpu_required",
            "qlora (4-bit loading) needs a CUDA GPU and none is visible; set "
            "hyperparameters.qlora=false to train a plain LoRA on this machine",
            "hyperparameters.qlora",
        )
    if requested == "openai":
        raise TrainingError(
            "backend_not_local",
            "the openai backend runs in OpenAI's cloud, not in a training process",
            "backend",
        )
    if requested in ("auto", "unsloth") and cuda and unsloth_installed:
        return BackendChoice("unsloth")
    if requested == "unsloth":
        reason = "no CUDA GPU is visible" if not cuda else "the unsloth package is not installed"
        return BackendChoice(
            "trl",
            f"unsloth was requested but {reason}; training with trl instead "
            "(install tuneloop[gpu] on a CUDA machine to use unsloth)",
        )
    return BackendChoice("trl")


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def unsloth_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("unsloth") is not None


__all__ = ["BackendChoice", "cuda_available", "select_backend", "unsloth_installed"]
