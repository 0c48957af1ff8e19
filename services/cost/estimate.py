"""Estimates before a job: trained tokens, hosted cost, and wall time and cost by hardware.

Trained tokens = Σ min(context, tokens per example) x epochs, counted with the base model's
real tokenizer. Wall time uses the hardware's examples/second prior until jobs on that
hardware have completed; then their measured tokens/second (trained tokens / wall seconds).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from contracts.api.cost import Estimate, EstimateRequest, HardwareEstimate, HostedEstimate
from services.cost.errors import InvalidRequest
from services.cost.price_book import PriceBook
from services.cost.pricing import hours_cost, tokens_cost


class TokenCounter(Protocol):
    """Counts the tokens of one text as the model's tokenizer does."""

    def __call__(self, text: str, /) -> int: ...


TokenCounterLoader = Callable[[str], TokenCounter]
"""Gives the token counter of a tokenizer name or path."""


@dataclass(frozen=True)
class Throughput:
    """Measured training speed on one hardware kind, summed over completed jobs."""

    jobs: int
    trained_tokens: int
    wall_seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.trained_tokens / self.wall_seconds


@dataclass(frozen=True)
class TrainedTokens:
    examples: int
    truncated: int
    per_epoch: int
    total: int


def trained_tokens(counts: Iterable[int], context_length: int, epochs: int) -> TrainedTokens:
    """Σ min(context, tokens per example) x epochs."""
    counts = list(counts)
    per_epoch = sum(min(context_length, count) for count in counts)
    truncated = sum(1 for count in counts if count > context_length)
    return TrainedTokens(len(counts), truncated, per_epoch, per_epoch * epochs)


def transformers_token_counter(name_or_path: str) -> TokenCounter:
    """A counter from a Hugging Face tokenizer directory or name (loaded once per call)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name_or_path)

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=True)["input_ids"])

    return count


def example_counts(
    request: EstimateRequest, load_counter: TokenCounterLoader, texts: list[str] | None = None
) -> list[int]:
    """Token counts of the request's examples; ``texts`` are those of its dataset, if any."""
    given = [
        name
        for name, present in (
            ("examples", bool(request.examples)),
            ("example_token_counts", bool(request.example_token_counts)),
            ("dataset_sha256", request.dataset_sha256 is not None),
        )
        if present
    ]
    if len(given) > 1:
        raise InvalidRequest(
            f"send only one of `examples`, `example_token_counts` or `dataset_sha256` "
            f"(got {', '.join(given)})",
            field=given[1],
        )
    if request.example_token_counts:
        return request.example_token_counts
    texts = texts if texts is not None else request.examples
    if not texts:
        raise InvalidRequest(
            "no examples to estimate: send `dataset_sha256` or `examples` with a `tokenizer`, "
            "or `example_token_counts`",
            field="examples",
        )
    if request.tokenizer is None:
        raise InvalidRequest(
            "`tokenizer` is required to count `examples`: give the base model's tokenizer "
            "name or directory",
            field="tokenizer",
        )
    try:
        counter = load_counter(request.tokenizer)
    except (OSError, ValueError) as exc:
        raise InvalidRequest(
            f"cannot load tokenizer {request.tokenizer!r} ({exc}); give a local tokenizer "
            "directory or a name available offline",
            field="tokenizer",
        ) from None
    return [counter(text) for text in texts]


def hardware_estimate(
    book: PriceBook,
    hardware: str,
    tokens: TrainedTokens,
    epochs: int,
    measured: Throughput | None,
) -> HardwareEstimate:
    price = book.hardware[hardware]
    if measured is not None and measured.wall_seconds > 0 and measured.trained_tokens > 0:
        wall = tokens.total / measured.tokens_per_second
        basis = "measured"
    else:
        wall = tokens.examples * epochs / price.examples_per_second
        basis = "prior"
    return HardwareEstimate(
        hardware=hardware,
        unit=price.unit,
        usd_per_hour=price.usd_per_hour,
        basis=basis,
        examples_per_second_prior=price.examples_per_second,
        measured_tokens_per_second=measured.tokens_per_second if measured else None,
        measured_jobs=measured.jobs if measured else 0,
        wall_seconds=round(wall, 3),
        cost_usd=hours_cost(round(wall, 3), price.usd_per_hour),
    )


def estimate(
    request: EstimateRequest,
    book: PriceBook,
    counts: list[int],
    throughputs: Mapping[str, Throughput],
) -> Estimate:
    wanted = request.hardware if request.hardware is not None else sorted(book.hardware)
    unknown = [name for name in wanted if name not in book.hardware]
    if unknown:
        raise InvalidRequest(
            f"no price for hardware {', '.join(unknown)}; priced kinds are "
            f"{', '.join(sorted(book.hardware))} (add one with POST /v1/prices)",
            field="hardware",
        )
    tokens = trained_tokens(counts, request.context_length, request.epochs)
    model_price = book.model(request.model)
    hosted = None
    if model_price is not None and model_price.training_per_1m is not None:
        hosted = HostedEstimate(
            model=model_price.model,
            training_per_1m=model_price.training_per_1m,
            cost_usd=tokens_cost(tokens.total, model_price.training_per_1m),
        )
    return Estimate(
        model=request.model,
        examples=tokens.examples,
        epochs=request.epochs,
        context_length=request.context_length,
        truncated_examples=tokens.truncated,
        trained_tokens=tokens.total,
        price_version=book.version,
        hosted=hosted,
        hardware=[
            hardware_estimate(book, name, tokens, request.epochs, throughputs.get(name))
            for name in wanted
        ],
    )


__all__ = [
    "Throughput",
    "TokenCounter",
    "TokenCounterLoader",
    "TrainedTokens",
    "estimate",
    "example_counts",
    "trained_tokens",
    "transformers_token_counter",
]
