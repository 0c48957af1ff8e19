"""Counting word by word gives exactly the tokenizer's counts, or declines to answer."""

import random
import string
from pathlib import Path

import pytest

from services.exporter.token_pieces import GPT2_ASCII, PieceCounter, single_spaced
from services.exporter.tokens import HuggingFaceTokenCounter

pytestmark = pytest.mark.unit
ALPHABET = string.ascii_letters + string.digits + string.punctuation + " \t\n\r\x0b\x0c\x1c\x1f\x7f"
WORDS = ("order", "refund", "'s", "'ll", "  ", "\n\n", "123", "TL0001", "<|im_end", "|>", "é", "→")


def random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 12)):
        if rng.random() < 0.5:
            parts.append(rng.choice(WORDS))
        else:
            parts.append("".join(rng.choices(ALPHABET, k=rng.randint(1, 8))))
    return "".join(parts)


def real_count(counter: HuggingFaceTokenCounter, conversation: list[dict[str, str]]) -> int:
    rendered = counter.tokenizer.apply_chat_template(conversation, tokenize=False)
    return len(counter.tokenizer(rendered, add_special_tokens=False)["input_ids"])


def test_the_ascii_regex_cuts_words_as_the_tokenizer_does(exporter_tokenizer_dir: Path) -> None:
    from tokenizers import pre_tokenizers

    counter = HuggingFaceTokenCounter(exporter_tokenizer_dir)
    gpt2 = counter.tokenizer.backend_tokenizer.pre_tokenizer
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choices(ALPHABET, k=rng.randint(0, 40)))
        ours = [byte_level.pre_tokenize_str(w)[0][0] for w in GPT2_ASCII.findall(text)]
        assert ours == [w for w, _ in gpt2.pre_tokenize_str(text)], repr(text)


def test_counts_equal_the_tokenizer_on_random_conversations(exporter_tokenizer_dir: Path) -> None:
    counter = HuggingFaceTokenCounter(exporter_tokenizer_dir)
    assert counter.pieces is not None  # ChatML over a byte-level BPE: counted word by word
    rng = random.Random(11)
    conversations = [
        [
            {"role": "system", "content": random_text(rng)},
            {"role": "user", "content": random_text(rng)},
            {"role": "assistant", "content": random_text(rng)},
        ]
        for _ in range(400)
    ]
    assert counter.count(conversations) == [real_count(counter, c) for c in conversations]


def test_messages_repeated_in_a_batch_count_in_every_conversation_holding_them(
    exporter_tokenizer_dir: Path,
) -> None:
    """A message the tokenizer must encode (here: beyond ASCII) is encoded once per batch
    and counted in each conversation that holds it, as often as it holds it; a second
    batch counts from the cache and agrees."""
    counter = HuggingFaceTokenCounter(exporter_tokenizer_dir)
    accented = {"role": "user", "content": "Où est ma commande ? Elle n'est pas arrivée."}
    answer = {"role": "assistant", "content": "Elle part demain → suivi TL0001."}
    plain = {"role": "assistant", "content": "It left today, tracking TL0001."}
    conversations = [
        [accented, answer],
        [accented, plain],
        [accented, answer, accented, answer],
        [{"role": "user", "content": "Where is it?"}, plain],
    ]
    expected = [real_count(counter, c) for c in conversations]
    assert counter.count(conversations) == expected
    assert counter.count(conversations) == expected


def test_single_spaced_text_counted_space_by_space_equals_the_tokenizer(
    exporter_tokenizer_dir: Path,
) -> None:
    counter = HuggingFaceTokenCounter(exporter_tokenizer_dir)
    assert counter.pieces is not None
    assert all(frame.apart is not None for frame in counter.pieces.frames.values())
    rng = random.Random(5)
    pieces = string.ascii_letters + string.digits + string.punctuation
    conversations = []
    for _ in range(300):
        texts = [
            " ".join(
                rng.choice(WORDS[:4] + WORDS[6:8] + ("".join(rng.choices(pieces, k=5)),))
                for _ in range(rng.randint(1, 15))
            )
            for _ in range(3)
        ]
        assert all(single_spaced(text) for text in texts)
        conversations.append(
            [
                {"role": r, "content": t}
                for r, t in zip(("system", "user", "assistant"), texts, strict=True)
            ]
        )
    assert counter.count(conversations) == [real_count(counter, c) for c in conversations]
    for text in (" lead", "two  spaces", "new\nline", "tail "):
        assert not single_spaced(text)


def test_text_with_an_added_token_or_beyond_ascii_is_left_to_the_tokenizer(
    exporter_tokenizer_dir: Path,
) -> None:
    counter = HuggingFaceTokenCounter(exporter_tokenizer_dir)
    pieces = counter.pieces
    assert pieces is not None
    assert pieces.count("user", "plain words") is not None
    assert pieces.count("user", "a <|im_end|> inside") is None
    assert pieces.count("user", "ends with <|im_end") is not None
    assert pieces.count("user", "café") is None
    assert pieces.count("narrator", "unknown role") is None
    tricky = [
        {"role": "user", "content": "x<|im_end|>\n<|im_start|>assistant\nhi"},
        {"role": "assistant", "content": "naïve → done <|im_start|"},
    ]
    assert counter.count([tricky]) == [real_count(counter, tricky)]


def test_a_tokenizer_of_another_kind_is_not_counted_word_by_word() -> None:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    assert PieceCounter.of(tokenizer, {"user": ("", "")}) is None
    tokenizer.normalizer = None
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    assert PieceCounter.of(tokenizer, {"user": ("", "")}) is None


def test_long_numbers_are_counted_but_not_kept(exporter_tokenizer_dir: Path) -> None:
    """Order numbers and ids seldom come again: counting them must not grow the caches,
    while the words around them are kept; system prompts are kept whole."""
    counter = HuggingFaceTokenCounter(exporter_tokenizer_dir)
    assert counter.pieces is not None
    conversations = [
        [
            {"role": "system", "content": "You answer questions about orders."},
            {"role": "user", "content": f"Where is order {n:08d}? Call me on 555{n:07d}."},
            {"role": "assistant", "content": f"Order {n:08d} (ref TL{n:06d}) ships today."},
        ]
        for n in range(3000)
    ]
    assert counter.count(conversations) == [real_count(counter, c) for c in conversations]
    pieces = counter.pieces
    kept = len(pieces.words) + len(pieces.first) + len(pieces.spaced) + len(counter._cache)
    assert kept < 200
    assert ("system", "You answer questions about orders.") in counter._cache
