"""The engine's HTTP API, in vLLM's shapes (errors included)."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from services.router.engine.model import AdapterModel, AdapterProblem


def vllm_error(status: int, message: str, kind: str = "BadRequestError") -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": status}},
        status_code=status,
    )


def sampling(body: dict[str, Any], limit: int) -> dict[str, Any]:
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or 128
    return {
        "max_tokens": min(int(max_tokens), limit),
        "temperature": float(body.get("temperature", 0.0) or 0.0),
        "top_p": float(body.get("top_p", 1.0) or 1.0),
    }


def create_engine_app(model: AdapterModel, base_model: str, limit: int) -> FastAPI:
    app = FastAPI(title="tuneloop engine")

    def adapter_of(name: str) -> str | None:
        if name == base_model:
            return None
        if name not in model.adapters:
            raise AdapterProblem(f"The model `{name}` does not exist.")
        return name

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        names = [base_model, *sorted(model.adapters)]
        return {
            "object": "list",
            "data": [
                {"id": n, "object": "model", "created": 0, "owned_by": "tuneloop"} for n in names
            ],
        }

    @app.post("/v1/load_lora_adapter")
    async def load(body: dict[str, str]) -> Response:
        try:
            await asyncio.to_thread(model.load, body["lora_name"], Path(body["lora_path"]))
        except AdapterProblem as exc:
            return vllm_error(400, str(exc))
        return PlainTextResponse(f"Success: LoRA adapter '{body['lora_name']}' added successfully.")

    @app.post("/v1/unload_lora_adapter")
    async def unload(body: dict[str, str]) -> Response:
        try:
            await asyncio.to_thread(model.unload, body["lora_name"])
        except AdapterProblem as exc:
            return vllm_error(404, str(exc), "NotFoundError")
        return PlainTextResponse(
            f"Success: LoRA adapter '{body['lora_name']}' removed successfully."
        )

    async def complete(request: Request, chat: bool) -> Response:
        body = await request.json()
        try:
            adapter = adapter_of(str(body.get("model")))
        except AdapterProblem as exc:
            return vllm_error(404, str(exc), "NotFoundError")
        input_ids = model.prompt_ids(
            body.get("messages") if chat else None, None if chat else str(body.get("prompt", ""))
        )
        options = sampling(body, limit)
        completion_id = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"
        if body.get("stream"):
            return StreamingResponse(
                stream(model, adapter, input_ids, options, body, completion_id, chat),
                media_type="text/event-stream",
            )
        result = await asyncio.to_thread(model.generate, adapter, input_ids, options)
        choice: dict[str, Any] = {"index": 0, "finish_reason": result.finish_reason}
        if chat:
            choice["message"] = {"role": "assistant", "content": result.text}
        else:
            choice["text"] = result.text
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion" if chat else "text_completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [choice],
                "usage": {
                    "prompt_tokens": result.prompt_tokens,
                    "completion_tokens": result.completion_tokens,
                    "total_tokens": result.prompt_tokens + result.completion_tokens,
                },
            }
        )

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await complete(request, chat=True)

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await complete(request, chat=False)

    return app


async def stream(
    model: AdapterModel,
    adapter: str | None,
    input_ids: Any,
    options: dict[str, Any],
    body: dict[str, Any],
    completion_id: str,
    chat: bool,
) -> AsyncIterator[bytes]:
    created = int(time.time())
    kind = "chat.completion.chunk" if chat else "text_completion"
    pieces: list[str] = []

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        document = {
            "id": completion_id,
            "object": kind,
            "created": created,
            "model": body["model"],
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(document)}\n\n".encode()

    if chat:
        yield chunk(
            [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
        )
    async for piece in iterate_in_threadpool(model.stream(adapter, input_ids, options)):
        if piece:
            pieces.append(piece)
            delta = {"content": piece} if chat else None
            yield chunk(
                [
                    {
                        "index": 0,
                        "finish_reason": None,
                        **({"delta": delta} if chat else {"text": piece}),
                    }
                ]
            )
    completion_tokens = model.count_tokens("".join(pieces)) if pieces else 0
    finish = "length" if completion_tokens >= options["max_tokens"] else "stop"
    yield chunk(
        [{"index": 0, "finish_reason": finish, **({"delta": {}} if chat else {"text": ""})}]
    )
    if (body.get("stream_options") or {}).get("include_usage"):
        prompt_tokens = int(input_ids.shape[1])
        yield chunk(
            [],
            usage={
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        )
    yield b"data: [DONE]\n\n"


__all__ = ["create_engine_app"]
