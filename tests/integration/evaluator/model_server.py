"""A small OpenAI-compatible server that answers deterministically, served on 127.0.0.1."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from tests.polling import eventually

CAPITALS = {"France": "Paris", "Italy": "Rome", "Spain": "Madrid", "Japan": "Tokyo"}


def answer(model: str, messages: list[dict[str, str]]) -> str:
    text = messages[-1]["content"]
    if model == "judge":
        first = text.split("Answer A:\n", 1)[1].split("\n\nAnswer B:", 1)[0]
        return "B" if "don't know" in first else "A"
    if model == "broken":
        raise RuntimeError("this model always fails")
    country = next((c for c in CAPITALS if c in text), None)
    if (model.startswith("good") or "@2-" in model) and country:
        return CAPITALS[country]
    return "I don't know"


def model_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(body: dict[str, Any]) -> Any:
        if body["model"] == "broken":
            return JSONResponse({"error": {"message": "model is down"}}, status_code=503)
        content = answer(body["model"], body["messages"])
        return {
            "id": "x",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": len(content.split())},
        }

    return app


@asynccontextmanager
async def serving_models() -> AsyncIterator[str]:
    """The base URL of the fake models while the block runs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(model_app(), log_config=None, access_log=False, lifespan="off")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started, what="model server started")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        await task
        sock.close()
