"""The embedded inference engine: transformers + PEFT behind vLLM's OpenAI-compatible API.

It serves one base model and any number of LoRA adapters loaded at run time, so on one
machine the router talks to it exactly as it talks to vLLM in production.
"""

__all__: list[str] = []
