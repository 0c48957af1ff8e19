"""An Ollama ``Modelfile`` that serves a finished job's LoRA adapter on its base model.

Ollama reads safetensors adapters of Llama, Mistral and Gemma models directly: unpack the
adapter artifact next to the Modelfile and run ``ollama create <name> -f Modelfile``.
"""

from services.trainer.tables import TrainerJob


def ollama_modelfile(job: TrainerJob, base_reference: str | None = None) -> str:
    """``FROM`` the base model (Ollama name or local path), ``ADAPTER`` the unpacked adapter."""
    base = base_reference or job.base_model
    return (
        f"# {job.fine_tuned_model or job.id}: LoRA adapter {job.adapter_sha256}\n"
        f"# unpack the adapter artifact into ./adapter, then: ollama create <name> -f Modelfile\n"
        f"FROM {base}\n"
        "ADAPTER ./adapter\n"
        "PARAMETER temperature 0\n"
    )


__all__ = ["ollama_modelfile"]
