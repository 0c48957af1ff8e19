"""A base model with LoRA adapters that can be added and removed while serving.

Only the scheduler's thread calls ``load``, ``unload`` and ``forward``: PEFT changes the
model's modules in place when an adapter comes or goes, so that happens between two steps.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASE = "__base__"
"""PEFT's name for a row of a mixed batch that uses no adapter."""


class AdapterProblem(Exception):
    pass


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class AdapterModel:
    def __init__(self, model_dir: Path, threads: int) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads)
        self.tokenizer: Any = AutoTokenizer.from_pretrained(model_dir)
        self.base: Any = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        self.base.eval()  # type: ignore[no-untyped-call]
        self.model: Any = self.base
        self.adapters: set[str] = set()
        config = self.base.config
        self.max_positions: int = int(getattr(config, "max_position_embeddings", 0) or 1 << 30)
        self.eos_ids: frozenset[int] = self._eos_ids()

    def _eos_ids(self) -> frozenset[int]:
        ids: set[int] = set()
        for value in (self.base.generation_config.eos_token_id, self.tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, list):
                ids.update(int(v) for v in value)
        return frozenset(ids)

    def load(self, name: str, path: Path) -> None:
        from peft import PeftModel

        if not (path / "adapter_config.json").exists():
            raise AdapterProblem(f"No adapter found at {path} (adapter_config.json missing)")
        if name in self.adapters:
            raise AdapterProblem(f"The lora adapter '{name}' has already been loaded.")
        if not self.adapters:
            self.model = PeftModel.from_pretrained(self.base, str(path), adapter_name=name)
        else:
            self.model.load_adapter(str(path), adapter_name=name)
        self.model.eval()
        self.adapters.add(name)

    def unload(self, name: str) -> None:
        if name not in self.adapters:
            raise AdapterProblem(f"The lora adapter '{name}' cannot be found.")
        others = sorted(self.adapters - {name})
        if others:
            self.model.set_adapter(others[0])
            self.model.delete_adapter(name)
        else:
            self.base = self.model.unload()
            self.model = self.base
        self.adapters.discard(name)

    def prompt_ids(self, messages: list[dict[str, Any]] | None, prompt: str | None) -> list[int]:
        if messages is not None:
            encoded = self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_dict=True
            )
            return list(encoded["input_ids"])
        return list(self.tokenizer(prompt or "")["input_ids"])

    def decode(self, tokens: Any) -> str:
        return str(self.tokenizer.decode(list(tokens), skip_special_tokens=True))

    def forward(
        self,
        input_ids: Any,
        attention_mask: Any,
        position_ids: Any,
        cache: Any,
        adapters: list[str | None],
    ) -> Any:
        """Next-token logits ``[rows, vocab]`` of one step; ``cache`` grows by the new tokens.

        Each row uses its own adapter (``None``: the base model) in the same pass.
        """
        kwargs: dict[str, Any] = {}
        if self.adapters:
            kwargs["adapter_names"] = [a or BASE for a in adapters]
        output = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,
            **kwargs,
        )
        return output.logits[:, -1, :]


__all__ = ["BASE", "AdapterModel", "AdapterProblem", "Generation"]
