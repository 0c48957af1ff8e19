"""A stand-in for a vLLM server in tests: the same load/unload and completion API.

Each adapter directory holds ``answer.txt``; a request to that adapter answers with its text,
so a test can tell exactly which adapter served it. The base model answers ``base``.
"""

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "BadRequestError", "param": None, "code": status}},
        status_code=status,
    )


def fake_vllm(base_model: str) -> FastAPI:
    app = FastAPI()
    adapters: dict[str, str] = {}
    app.state.adapters = adapters
    app.state.requests = []

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name} for name in [base_model, *adapters]]}

    @app.post("/v1/load_lora_adapter")
    async def load(body: dict[str, str]) -> Response:
        if body["lora_name"] in adapters:
            return error(400, f"The lora adapter '{body['lora_name']}' has already been loaded.")
        answer = Path(body["lora_path"]) / "answer.txt"
        if not answer.exists():
            return error(400, f"No adapter found at {body['lora_path']}")
        adapters[body["lora_name"]] = answer.read_text()
        return PlainTextResponse(f"Success: LoRA adapter '{body['lora_name']}' added successfully.")

    @app.post("/v1/unload_lora_adapter")
    async def unload(body: dict[str, str]) -> Response:
        if adapters.pop(body["lora_name"], None) is None:
            return error(404, f"The lora adapter '{body['lora_name']}' cannot be found.")
        return PlainTextResponse("Success")

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        app.state.requests.append(body)
        model = body["model"]
        if model != base_model and model not in adapters:
            return error(404, f"The model `{model}` does not exist.")
        text = "base" if model == base_model else adapters[model]
        if body.get("stream"):
            return StreamingResponse(stream(model, text, body), media_type="text/event-stream")
        return JSONResponse(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text},
                    }
                ],
                "usage": {
                    "prompt_tokens": 7,
                    "completion_tokens": len(text.split()),
                    "total_tokens": 7 + len(text.split()),
                },
            }
        )

    return app


async def stream(model: str, text: str, body: dict[str, Any]) -> AsyncIterator[bytes]:
    for word in text.split():
        chunk = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}],
        }
        yield f"data: {json.dumps(chunk)}\n\n".encode()
        await asyncio.sleep(0)
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [],
            "usage": {
                "prompt_tokens": 7,
                "completion_tokens": len(text.split()),
                "total_tokens": 7 + len(text.split()),
            },
        }
        yield f"data: {json.dumps(usage)}\n\n".encode()
    yield b"data: [DONE]\n\n"


class ServerThread:
    """A uvicorn server on 127.0.0.1 in a thread of this process, stoppable at will."""

    def __init__(self, app: FastAPI, port: int | None = None) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port or 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> "ServerThread":
        self.thread.start()
        while not self.server.started:
            self.thread.join(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@contextmanager
def serving(app: FastAPI) -> Iterator[ServerThread]:
    server = ServerThread(app).start()
    try:
        yield server
    finally:
        server.stop()


__all__ = ["ServerThread", "fake_vllm", "serving"]
