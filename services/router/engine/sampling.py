"""Per-request sampling parameters (OpenAI's names) and choosing the next token of one row."""

import os
from dataclasses import dataclass
from typing import Any


class BadParameters(ValueError):
    pass


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    ignore_eos: bool = False
    """vLLM's extension: go on after the end-of-sequence token (benchmarks)."""

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


def _number(body: dict[str, Any], key: str, default: float) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadParameters(f"`{key}` must be a number")
    return float(value)


def parse_sampling(body: dict[str, Any], limit: int) -> SamplingParams:
    """The sampling parameters of an OpenAI request body, checked; ``limit`` caps max_tokens."""
    raw_max = body.get("max_completion_tokens")
    if raw_max is None:
        raw_max = body.get("max_tokens")
    if raw_max is None:
        raw_max = 128
    if isinstance(raw_max, bool) or not isinstance(raw_max, int) or raw_max < 1:
        raise BadParameters("`max_tokens` must be a positive integer")
    temperature = _number(body, "temperature", 0.0)
    if temperature < 0:
        raise BadParameters("`temperature` must be at least 0")
    top_p = _number(body, "top_p", 1.0)
    if not 0.0 < top_p <= 1.0:
        raise BadParameters("`top_p` must be in (0, 1]")
    stop = body.get("stop")
    if stop is None:
        stops: tuple[str, ...] = ()
    elif isinstance(stop, str):
        stops = (stop,)
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        stops = tuple(stop)
    else:
        raise BadParameters("`stop` must be a string or a list of strings")
    stops = tuple(s for s in stops if s)
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise BadParameters("`seed` must be an integer")
    ignore_eos = body.get("ignore_eos", False)
    if not isinstance(ignore_eos, bool):
        raise BadParameters("`ignore_eos` must be a boolean")
    return SamplingParams(min(raw_max, limit), temperature, top_p, stops, seed, ignore_eos)


class Sampler:
    """Chooses one row's next token: argmax when greedy, else temperature and nucleus sampling
    from the row's own generator (seeded by the request's ``seed`` when given)."""

    def __init__(self, params: SamplingParams) -> None:
        import torch

        self.params = params
        self.generator: Any = None
        if not params.greedy:
            self.generator = torch.Generator()
            seed = params.seed if params.seed is not None else int.from_bytes(os.urandom(8))
            self.generator.manual_seed(seed & 0xFFFF_FFFF_FFFF_FFFF)

    def next_token(self, logits: Any) -> int:
        """``logits``: a 1-D float tensor over the vocabulary."""
        import torch

        if self.params.greedy:
            return int(torch.argmax(logits).item())
        probs = torch.softmax(logits.float() / self.params.temperature, dim=-1)
        if self.params.top_p < 1.0:
            sorted_probs, order = torch.sort(probs, descending=True)
            before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
            sorted_probs[before >= self.params.top_p] = 0.0
            probs = torch.zeros_like(probs).scatter_(0, order, sorted_probs)
        return int(torch.multinomial(probs, 1, generator=self.generator).item())


__all__ = ["BadParameters", "Sampler", "SamplingParams", "parse_sampling"]
