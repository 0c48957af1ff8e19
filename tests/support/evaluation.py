"""Greedy evaluation of a base model with and without an adapter on held-out chat rows."""

from pathlib import Path
from typing import Any


def greedy_answers(
    model: Any, tokenizer: Any, rows: list[dict[str, Any]], max_new_tokens: int = 6
) -> list[str]:
    import torch

    answers = []
    for row in rows:
        prompt = tokenizer.apply_chat_template(
            row["messages"][:-1], add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        with torch.no_grad():
            output = model.generate(
                **prompt,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
        new_tokens = output[0][prompt["input_ids"].shape[1] :]
        answers.append(tokenizer.decode(new_tokens, skip_special_tokens=True).strip())
    return answers


def exact_matches(
    model_dir: Path, rows: list[dict[str, Any]], adapter_dir: Path | None = None
) -> list[bool]:
    """Whether each greedy answer equals the expected assistant reply."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir))
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir))
    model.eval()  # type: ignore[no-untyped-call]
    answers = greedy_answers(model, tokenizer, rows)
    return [a == row["messages"][-1]["content"] for a, row in zip(answers, rows, strict=True)]


__all__ = ["exact_matches", "greedy_answers"]
