"""LLM-as-judge: ask a model which of two answers to the same prompt is better."""

from typing import Literal

import httpx

from contracts.api.evaluations import ChatMessage, PromptCase
from services.evaluator.model_client import ask

Preference = Literal["a", "b", "tie"]

INSTRUCTIONS = (
    "You compare two answers to the same request. Reply with exactly one word: "
    "A if answer A is better, B if answer B is better, TIE if they are equally good."
)


def judge_messages(case: PromptCase, first: str, second: str) -> list[ChatMessage]:
    request = "\n".join(f"{m.role}: {m.content}" for m in case.chat())
    reference = f"\nReference answer: {case.reference}" if case.reference else ""
    return [
        ChatMessage(role="system", content=INSTRUCTIONS),
        ChatMessage(
            role="user",
            content=f"Request:\n{request}{reference}\n\nAnswer A:\n{first}\n\nAnswer B:\n{second}",
        ),
    ]


async def judge_pair(
    client: httpx.AsyncClient,
    judge_model: str,
    case: PromptCase,
    answer_a: str,
    answer_b: str,
    swap: bool,
) -> Preference | None:
    """The judge's preference between A and B; ``swap`` shows them in the other order to
    cancel position bias. None when the judge fails or answers something else."""
    first, second = (answer_b, answer_a) if swap else (answer_a, answer_b)
    reply = await ask(client, judge_model, judge_messages(case, first, second), max_tokens=4)
    word = (reply.response or "").strip().upper().rstrip(".")
    if word == "TIE":
        return "tie"
    if word not in {"A", "B"}:
        return None
    shown_first_wins = word == "A"
    return "b" if shown_first_wins == swap else "a"


__all__ = ["Preference", "judge_messages", "judge_pair"]
