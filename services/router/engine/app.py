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

from services.router.engine.model import AdapterProblem
from services.router.engine.sampling import BadParameters, parse_sampling
from services.router.engine.scheduler import (
    Delta,
    Failed,
    Finished,
    Handle,
    PromptTooLong,
    Scheduler,
)


def vllm_error(status: int, message: str, kind: str = "BadRequestError") -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": status}},
        status_code=status,
    )


def usage(finished: Finished) -> dict[str, int]:
    return {
        "prompt_tokens": finished.prompt_tokens,
        "completion_tokens": finished.completion_tokens,
        "total_tokens": finished.prompt_tokens + finished.completion_tokens,
    }


def create_engine_app(scheduler: Scheduler, base_model: str, limit: int) -> FastAPI:
    """``scheduler`` must be started; the app does not stop it."""
    app = FastAPI(title="tuneloop engine")
    model = scheduler.model

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        names = [base_model, *scheduler.adapters]
        return {
            "object": "list",
            "data": [
                {"id": n, "object": "model", "created": 0, "owned_by": "tuneloop"} for n in names
            ],
        }

    @app.post("/v1/load_lora_adapter")
    async def load(body: dict[str, str]) -> Response:
        try:
            await asyncio.to_thread(scheduler.load, body["lora_name"], Path(body["lora_path"]))
        except AdapterProblem as exc:
            return vllm_error(400, str(exc))
        return PlainTextResponse(f"Success: LoRA adapter '{body['lora_name']}' added successfully.")

    @app.post("/v1/unload_lora_adapter")
    async def unload(body: dict[str, str]) -> Response:
        try:
            await asyncio.to_thread(scheduler.unload, body["lora_name"])
        except AdapterProblem as exc:
            return vllm_error(404, str(exc), "NotFoundError")
        return PlainTextResponse(
            f"Success: LoRA adapter '{body['lora_name']}' removed successfully."
        )

    async def complete(request: Request, chat: bool) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return vllm_error(400, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return vllm_error(400, "The request body must be a JSON object.")
        name = str(body.get("model"))
        try:
            options = parse_sampling(body, limit)
            messages = body.get("messages") if chat else None
            if chat and not isinstance(messages, list):
                raise BadParameters("`messages` must be a list")
            prompt_ids = model.prompt_ids(messages, None if chat else str(body.get("prompt", "")))
            handle = scheduler.submit(None if name == base_model else name, prompt_ids, options)
        except AdapterProblem as exc:
            return vllm_error(404, str(exc), "NotFoundError")
        except (BadParameters, PromptTooLong) as exc:
            return vllm_error(400, str(exc))
        except Exception as exc:  # e.g. messages the chat template cannot render
            return vllm_error(400, f"The request could not be read: {exc}")
        completion_id = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"
        if body.get("stream"):
            return StreamingResponse(
                stream(handle, body, completion_id, chat), media_type="text/event-stream"
            )
        pieces: list[str] = []
        try:
            async for event in handle.events():
                if isinstance(event, Delta):
                    pieces.append(event.text)
                elif isinstance(event, Failed):
                    return vllm_error(500, event.message, "InternalServerError")
                else:
                    finished = event
        except asyncio.CancelledError:
            handle.cancel()
            raise
        text = "".join(pieces)
        choice: dict[str, Any] = {"index": 0, "finish_reason": finished.finish_reason}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion" if chat else "text_completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [choice],
                "usage": usage(finished),
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
    handle: Handle, body: dict[str, Any], completion_id: str, chat: bool
) -> AsyncIterator[bytes]:
    created = int(time.time())
    kind = "chat.completion.chunk" if chat else "text_completion"

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

    def choice(text: str, finish_reason: str | None) -> dict[str, Any]:
        if chat:
            return {
                "index": 0,
                "delta": {"content": text} if text else {},
                "finish_reason": finish_reason,
            }
        return {"index": 0, "text": text, "finish_reason": finish_reason}

    try:
        if chat:
            yield chunk(
                [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
            )
        async for event in handle.events():
            if isinstance(event, Delta):
                yield chunk([choice(event.text, None)])
            elif isinstance(event, Failed):
                error = {"message": event.message, "type": "InternalServerError", "code": 500}
                yield f"data: {json.dumps({'error': error})}\n\n".encode()
                break
            else:
                yield chunk([choice("", event.finish_reason)])
                if (body.get("stream_options") or {}).get("include_usage"):
                    yield chunk([], usage=usage(event))
        yield b"data: [DONE]\n\n"
    finally:
        handle.cancel()  # no-op once finished; stops the row when the client went away


__all__ = ["create_engine_app"]
