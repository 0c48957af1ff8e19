"""Estimates count tokens with a real tokenizer and refine the speed prior with measurements."""

from decimal import Decimal
from pathlib import Path

import pytest

from contracts.api.cost import EstimateRequest
from services.cost.dataset_texts import example_texts
from services.cost.errors import InvalidRequest
from services.cost.estimate import (
    Throughput,
    estimate,
    example_counts,
    trained_tokens,
    transformers_token_counter,
)
from services.cost.price_book import book_of, shipped_table
from tests.tiny_tokenizer import build_word_tokenizer

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_word_tokenizer(tmp_path_factory.mktemp("tokenizer"))


def test_trained_tokens_are_capped_by_the_context_and_multiplied_by_epochs() -> None:
    tokens = trained_tokens([10, 50, 200], context_length=64, epochs=3)
    assert tokens.per_epoch == 10 + 50 + 64
    assert tokens.total == 372
    assert tokens.truncated == 1


def test_examples_are_counted_with_the_real_tokenizer(tokenizer_dir: Path) -> None:
    counter = transformers_token_counter(str(tokenizer_dir))
    assert counter("please reset my password") == 4
    assert counter("the order has shipped") == 4
    request = EstimateRequest(
        model="gpt-3.5-turbo",
        examples=["please reset my password", "the order has shipped"],
        tokenizer=str(tokenizer_dir),
        context_length=3,
        epochs=2,
    )
    counts = example_counts(request, transformers_token_counter)
    result = estimate(request, book_of(shipped_table("acme")), counts, {})
    assert result.trained_tokens == (3 + 3) * 2
    assert result.truncated_examples == 2
    assert result.hosted is not None
    assert result.hosted.cost_usd == Decimal("0.000096")  # 12 tokens x $8 / 1M


def test_wall_time_uses_the_prior_until_jobs_have_been_measured() -> None:
    book = book_of(shipped_table("acme"))
    request = EstimateRequest(
        model="smollm2-135m",
        example_token_counts=[100] * 500,
        epochs=3,
        hardware=["a100", "cpu"],
    )
    prior = estimate(request, book, request.example_token_counts, {})
    assert prior.hosted is None
    a100, cpu = prior.hardware
    assert (a100.basis, a100.wall_seconds) == ("prior", 15.0)  # 1,500 examples at 100/s
    assert (cpu.basis, cpu.wall_seconds) == ("prior", 300.0)  # at 5/s
    assert cpu.cost_usd == Decimal("0.004166666667")  # 300 s at $0.05/h
    measured = estimate(
        request, book, request.example_token_counts, {"cpu": Throughput(2, 60_000, 120.0)}
    )
    assert measured.hardware[1].basis == "measured"
    assert measured.hardware[1].measured_tokens_per_second == 500.0
    assert measured.hardware[1].wall_seconds == 300.0  # 150,000 tokens at 500 tokens/s


def test_unknown_hardware_and_missing_tokenizer_say_what_to_do() -> None:
    book = book_of(shipped_table("acme"))
    request = EstimateRequest(model="x", example_token_counts=[1], hardware=["tpu"])
    with pytest.raises(InvalidRequest, match="no price for hardware tpu"):
        estimate(request, book, [1], {})
    with pytest.raises(InvalidRequest, match="`tokenizer` is required"):
        example_counts(EstimateRequest(model="x", examples=["hi"]), transformers_token_counter)


def test_dataset_lines_are_rendered_as_the_trainer_sees_them(tokenizer_dir: Path) -> None:
    data = (
        b'{"messages": [{"role": "user", "content": "please reset my password"}, '
        b'{"role": "assistant", "content": "your refund was issued"}]}\n'
        b"\n"
        b'{"text": "the order has shipped"}\n'
        b'{"prompt": "please ", "completion": "reset my password"}\n'
    )
    texts = example_texts(data)
    assert texts[0].startswith("<|im_start|>user\nplease reset my password<|im_end|>")
    counter = transformers_token_counter(str(tokenizer_dir))
    # 2 x (<|im_start|> role text <|im_end|>) = 2 x 2 markers + 2 roles + 4 + 4 words
    assert [counter(text) for text in texts] == [14, 4, 4]


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b'{"text": "ok"}\n{"text": ', 2, "line 2 is not valid JSON"),
        (b'{"text": "ok"}\n\n{"input": "x"}', 3, "line 3 has no training text"),
        (b'{"messages": [{"role": "user"}]}', 1, "message 0 needs a string `content`"),
    ],
)
def test_a_bad_dataset_line_is_named(data: bytes, line: int, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message) as caught:
        example_texts(data)
    assert caught.value.line == line


def test_fine_tuned_models_are_priced_apart_from_their_base_model() -> None:
    book = book_of(shipped_table("acme"))
    base = book.model("gpt-4o-mini-2024-07-18")
    tuned = book.model("ft:gpt-4o-mini-2024-07-18:acme:support:abc123")
    assert base is not None
    assert tuned is not None
    assert (base.model, tuned.model) == ("gpt-4o-mini", "ft:gpt-4o-mini")
    assert tuned.input_per_1m is not None
    assert base.input_per_1m is not None
    assert tuned.input_per_1m > base.input_per_1m
    mini = book.model("gpt-4.1-mini-2025-04-14")
    assert mini is not None
    assert mini.model == "gpt-4.1-mini"
    assert book.model("ft:unknown-model:org::1") is None
