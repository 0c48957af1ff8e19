"""Sending tickets through the router and feedback back, as the support app would."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from tuneloop.flywheel.client import FlywheelError, Gateway
from tuneloop.flywheel.tickets import Ticket
from tuneloop.flywheel.users import Feedback, SimulatedUsers


@dataclass(frozen=True)
class Exchange:
    ticket: Ticket
    user: str
    request_id: str
    answer: str
    serving_name: str
    variant: str | None


async def ask(
    gateway: Gateway, model: str, ticket: Ticket, user: str, max_tokens: int, system_prompt: str
) -> Exchange:
    body = {
        "model": model,
        "messages": ticket.messages(system_prompt),
        "max_tokens": max_tokens,
        "temperature": 0,
        "user": user,
    }
    response = await gateway.call("POST", "/v1/chat/completions", json=body)
    if response.status_code != 200:
        raise FlywheelError(
            f"the router answered {response.status_code} for model {model!r}: {response.text[:300]}"
        )
    content = response.json()["choices"][0]["message"].get("content") or ""
    return Exchange(
        ticket=ticket,
        user=user,
        request_id=response.headers["x-tuneloop-request-id"],
        answer=content,
        serving_name=response.headers.get("x-tuneloop-serving-name", ""),
        variant=response.headers.get("x-tuneloop-variant"),
    )


async def give_feedback(gateway: Gateway, feedback: Feedback) -> None:
    await gateway.post("/v1/feedback", feedback.body())


async def serve_all(
    gateway: Gateway,
    model: str,
    tickets: list[tuple[str, Ticket]],
    max_tokens: int,
    system_prompt: str,
    concurrency: int,
    advance: Callable[[Exchange], None],
) -> list[Exchange]:
    """Every (user, ticket) through the router, ``concurrency`` at a time, in order."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(user: str, ticket: Ticket) -> Exchange:
        async with semaphore:
            exchange = await ask(gateway, model, ticket, user, max_tokens, system_prompt)
        advance(exchange)
        return exchange

    return list(await asyncio.gather(*(one(user, ticket) for user, ticket in tickets)))


async def judge_all(
    gateway: Gateway, users: SimulatedUsers, exchanges: list[Exchange]
) -> list[Feedback]:
    feedback = [users.judge(e.ticket, e.request_id, e.answer) for e in exchanges]
    for item in feedback:
        await give_feedback(gateway, item)
    return feedback


__all__ = ["Exchange", "ask", "give_feedback", "judge_all", "serve_all"]
