"""A base model with LoRA adapters that can be added and removed while serving."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class AdapterProblem(Exception):
    pass


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class AdapterModel:
    """Generation is serialised: PEFT's active adapter is process-wide state."""

    def __init__(self, model_dir: Path, threads: int) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads)
        self.tokenizer: Any = AutoTokenizer.from_pretrained(model_dir)
        self.base: Any = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        self.base.eval()  # type: ignore[no-untyped-call]
        self.model: Any = self.base
        self.adapters: set[str] = set()
        self.lock = threading.Lock()

    def load(self, name: str, path: Path) -> None:
        from peft import PeftModel

        if not (path / "adapter_config.json").exists():
            raise AdapterProblem(f"No adapter found at {path} (adapter_config.json missing)")
        with self.lock:
            if name in self.adapters:
                raise AdapterProblem(f"The lora adapter '{name}' has already been loaded.")
            if not self.adapters:
                self.model = PeftModel.from_pretrained(self.base, str(path), adapter_name=name)
            else:
                self.model.load_adapter(str(path), adapter_name=name)
            self.model.eval()
            self.adapters.add(name)

    def unload(self, name: str) -> None:
        with self.lock:
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

    def prompt_ids(self, messages: list[dict[str, Any]] | None, prompt: str | None) -> Any:
        if messages is not None:
            return self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )["input_ids"]
        return self.tokenizer(prompt or "", return_tensors="pt")["input_ids"]

    def _generate(
        self, adapter: str | None, input_ids: Any, options: dict[str, Any], streamer: Any = None
    ) -> Any:
        import torch

        kwargs = {
            "max_new_tokens": options["max_tokens"],
            "do_sample": options["temperature"] > 0,
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            "streamer": streamer,
        }
        if options["temperature"] > 0:
            kwargs |= {"temperature": options["temperature"], "top_p": options["top_p"]}
        with torch.inference_mode():
            if adapter is None:
                if self.adapters:
                    with self.model.disable_adapter():
                        return self.model.generate(input_ids=input_ids, **kwargs)
                return self.model.generate(input_ids=input_ids, **kwargs)
            if adapter not in self.adapters:
                raise AdapterProblem(f"The model `{adapter}` does not exist.")
            self.model.set_adapter(adapter)
            return self.model.generate(input_ids=input_ids, **kwargs)

    def generate(self, adapter: str | None, input_ids: Any, options: dict[str, Any]) -> Generation:
        with self.lock:
            output = self._generate(adapter, input_ids, options)
        new_tokens = output[0][input_ids.shape[1] :]
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        finish = "length" if len(new_tokens) >= options["max_tokens"] else "stop"
        return Generation(text, int(input_ids.shape[1]), len(new_tokens), finish)

    def stream(self, adapter: str | None, input_ids: Any, options: dict[str, Any]) -> Iterator[str]:
        """Text pieces as they are generated (generation runs in a worker thread)."""
        from transformers import TextIteratorStreamer

        streamer: Any = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True
        )
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with self.lock:
                    self._generate(adapter, input_ids, options, streamer)
            except BaseException as exc:  # reported to the reader below
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        yield from streamer
        worker.join()
        if failure:
            raise failure[0]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text)["input_ids"])


__all__ = ["AdapterModel", "AdapterProblem", "Generation"]
