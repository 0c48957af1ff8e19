"""Build a small tokenizer-only Hugging Face directory: a BPE trained on generated lines (plus
an optional corpus), saved with ``PreTrainedTokenizerFast.save_pretrained`` and a ChatML chat
template."""

from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
WORDS = (
    "the",
    "a",
    "refund",
    "order",
    "shipping",
    "invoice",
    "account",
    "password",
    "reset",
    "help",
    "please",
    "thanks",
)


def training_lines(count: int = 400) -> list[str]:
    return [
        " ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(8 + i % 5)) + f" #{i}"
        for i in range(count)
    ]


def build_tokenizer_dir(
    directory: Path, corpus: list[str] | None = None, vocab_size: int = 512
) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<unk>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(training_lines() + (corpus or []), trainer)
    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer,
        unk_token="<unk>",
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
    )
    fast.chat_template = CHATML_TEMPLATE
    fast.save_pretrained(str(directory))
    return directory


__all__ = ["CHATML_TEMPLATE", "build_tokenizer_dir"]
