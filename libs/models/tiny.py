"""A tiny Llama built from nothing: a BPE tokenizer trained on generated text, a ChatML chat
template, two layers of width 64, briefly pretrained so it speaks the chat format.

It is small enough to train on a CPU in seconds, which is what the tests need.
"""

from pathlib import Path
from typing import Any

from libs.models.corpus import chats, plain_texts

VOCAB_SIZE = 512
HIDDEN = 64
LAYERS = 2
HEADS = 4
INTERMEDIATE = 128
CONTEXT = 256
PAD, EOS, IM_START = "<|endoftext|>", "<|im_end|>", "<|im_start|>"
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def train_tokenizer(texts: list[str]) -> Any:
    """A byte-level BPE tokenizer with the ChatML special tokens, as a transformers tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[PAD, IM_START, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer,
        bos_token=None,
        eos_token=EOS,
        pad_token=PAD,
        model_max_length=CONTEXT,
        chat_template=CHATML_TEMPLATE,
    )


def new_model(tokenizer: Any, seed: int, heads: int = HEADS) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        intermediate_size=INTERMEDIATE,
        num_hidden_layers=LAYERS,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=CONTEXT,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=False,
    )
    return LlamaForCausalLM(config)  # type: ignore[no-untyped-call]


def pretraining_texts(tokenizer: Any, seed: int) -> list[str]:
    dialogues = [tokenizer.apply_chat_template(c, tokenize=False) for c in chats(1500, seed)]
    return dialogues + plain_texts(500, seed + 1)


def pretrain(model: Any, tokenizer: Any, texts: list[str], steps: int, seed: int) -> None:
    """Next-token prediction on the generated texts, batches of 16, AdamW."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    encoded = tokenizer(
        texts, truncation=True, max_length=96, padding="longest", return_tensors="pt"
    )
    ids, mask = encoded["input_ids"], encoded["attention_mask"]
    labels = ids.masked_fill(mask == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    model.train()
    for _ in range(steps):
        batch = torch.randint(0, ids.shape[0], (16,), generator=generator)
        loss = model(input_ids=ids[batch], attention_mask=mask[batch], labels=labels[batch]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()


def build_tiny_llama(
    target_dir: Path, *, pretrain_steps: int = 300, seed: int = 0, heads: int = HEADS
) -> Path:
    """Build, pretrain and save the tiny Llama and its tokenizer into ``target_dir``.

    vLLM's CPU attention needs heads of at least 32 dimensions: ``heads=2`` (64 / 2) builds
    a variant it can serve.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # its matrices are too small for threads to pay off
    try:
        return _build(target_dir, pretrain_steps, seed, heads)
    finally:
        torch.set_num_threads(threads)


def _build(target_dir: Path, pretrain_steps: int, seed: int, heads: int) -> Path:
    import torch

    torch.manual_seed(seed)
    tokenizer = train_tokenizer([*plain_texts(3000, seed), CHATML_TEMPLATE])
    model = new_model(tokenizer, seed, heads)
    if pretrain_steps:
        pretrain(model, tokenizer, pretraining_texts(tokenizer, seed), pretrain_steps, seed)
    target_dir.mkdir(parents=True, exist_ok=True)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(str(target_dir))
    tokenizer.save_pretrained(str(target_dir))
    return target_dir


def random_lora_adapter(model_dir: Path, target: Path, seed: int) -> Path:
    """A PEFT LoRA adapter of ``model_dir`` with random non-zero weights, saved in ``target``.

    Adapters of different seeds make the model say different things: what serving tests and
    benchmarks need to tell versions apart without training.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    config = LoraConfig(
        r=8,
        lora_alpha=64,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        init_lora_weights=False,
    )
    get_peft_model(base, config).save_pretrained(target)
    return target


__all__ = [
    "CHATML_TEMPLATE",
    "build_tiny_llama",
    "new_model",
    "random_lora_adapter",
    "train_tokenizer",
]
