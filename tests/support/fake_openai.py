"""A local stand-in for OpenAI's fine-tuning API, answering with its documented objects.

Each retrieve of a job moves it on: queued, running (emitting a metrics event per poll), then
succeeded with a fine-tuned model id; cancel moves it to cancelled.
"""

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request

STEPS = 3


@dataclass
class FakeJob:
    body: dict[str, Any]
    id: str = field(default_factory=lambda: f"ftjob-{uuid.uuid4().hex[:20]}")
    created_at: int = field(default_factory=lambda: int(time.time()))
    status: str = "validating_files"
    polls: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    fine_tuned_model: str | None = None

    def as_object(self) -> dict[str, Any]:
        done = self.status in ("succeeded", "failed", "cancelled")
        return {
            "object": "fine_tuning.job",
            "id": self.id,
            "created_at": self.created_at,
            "error": None,
            "fine_tuned_model": self.fine_tuned_model,
            "finished_at": int(time.time()) if done else None,
            "hyperparameters": {
                "n_epochs": "auto",
                "batch_size": "auto",
                "learning_rate_multiplier": "auto",
                **self.body.get("hyperparameters", {}),
            },
            "model": self.body["model"],
            "organization_id": "org-fake",
            "result_files": ["file-result"] if self.status == "succeeded" else [],
            "seed": self.body.get("seed", 0),
            "status": self.status,
            "trained_tokens": 1234 if self.status == "succeeded" else None,
            "training_file": self.body["training_file"],
            "validation_file": None,
            "estimated_finish": None,
            "integrations": [],
            "metadata": None,
            "method": {"type": "supervised", "supervised": {"hyperparameters": {}}},
        }

    def event(self, message: str, kind: str = "message", data: Any = None) -> None:
        self.events.append(
            {
                "object": "fine_tuning.job.event",
                "id": f"ftevent-{uuid.uuid4().hex[:16]}",
                "created_at": int(time.time()),
                "level": "info",
                "message": message,
                "type": kind,
                "data": data or {},
            }
        )

    def advance(self) -> None:
        if self.status in ("succeeded", "failed", "cancelled"):
            return
        self.polls += 1
        if self.polls == 1:
            self.status = "running"
            self.event("Fine-tuning job started")
        elif self.polls <= STEPS + 1:
            step = self.polls - 1
            self.event(
                f"Step {step}/{STEPS}: training loss={1.0 / step:.3f}",
                "metrics",
                {"step": step, "total_steps": STEPS, "train_loss": 1.0 / step},
            )
        else:
            self.status = "succeeded"
            self.fine_tuned_model = f"ft:{self.body['model']}:org-fake:{self.body.get('suffix')}:x1"
            self.event("The job has successfully completed")


def fake_openai_app(hold: bool = False) -> FastAPI:
    """``hold`` keeps jobs running until they are cancelled."""
    app = FastAPI()
    jobs: dict[str, FakeJob] = {}
    app.state.jobs = jobs

    @app.post("/v1/files")
    async def upload(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {
            "object": "file",
            "id": f"file-{uuid.uuid4().hex[:20]}",
            "bytes": len(body),
            "created_at": int(time.time()),
            "filename": "train.jsonl",
            "purpose": "fine-tune",
            "status": "processed",
        }

    @app.post("/v1/fine_tuning/jobs")
    async def create(request: Request) -> dict[str, Any]:
        job = FakeJob(await request.json())
        jobs[job.id] = job
        job.event("Created fine-tuning job")
        return job.as_object()

    @app.get("/v1/fine_tuning/jobs/{job_id}")
    async def retrieve(job_id: str) -> dict[str, Any]:
        job = jobs[job_id]
        if not (hold and job.polls >= 2):
            job.advance()
        return job.as_object()

    @app.get("/v1/fine_tuning/jobs/{job_id}/events")
    async def events(job_id: str) -> dict[str, Any]:
        return {"object": "list", "data": list(reversed(jobs[job_id].events)), "has_more": False}

    @app.post("/v1/fine_tuning/jobs/{job_id}/cancel")
    async def cancel(job_id: str) -> dict[str, Any]:
        job = jobs[job_id]
        job.status = "cancelled"
        job.event("Job cancelled")
        return job.as_object()

    return app


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` on a free local port; yields its ``/v1`` base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        await task
        sock.close()


__all__ = ["fake_openai_app", "serving"]
