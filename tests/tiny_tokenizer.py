"""A tokenizer-only Hugging Face directory built in a moment, for counting tokens in tests."""

from pathlib import Path

CORPUS = [
    "the order has shipped and will arrive on monday",
    "please reset my password",
    "your refund was issued to the original card",
]


def build_word_tokenizer(directory: Path, corpus: list[str] = CORPUS) -> Path:
    """A word-level tokenizer of ``corpus`` (ChatML markers as special tokens) in ``directory``."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    special = ["[UNK]", "<|im_start|>", "<|im_end|>"]
    tokenizer.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=special))
    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    fast.save_pretrained(directory)
    return directory


__all__ = ["CORPUS", "build_word_tokenizer"]
