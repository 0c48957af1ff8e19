"""From gold stars to a deployed adapter: export, fine-tune with live progress, deploy."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tuneloop.flywheel.client import FlywheelError, Gateway, error_message
from tuneloop.flywheel.plan import Plan

FINISHED = {"succeeded", "failed", "cancelled"}
EXPORT_FINISHED = {"succeeded", "failed"}
CANDIDATE = "candidate"


@dataclass(frozen=True)
class Dataset:
    id: str
    name: str
    version: int
    train_rows: int
    test_rows: int


@dataclass(frozen=True)
class TrainedJob:
    id: str
    final_loss: float | None
    first_loss: float | None
    steps: int


async def export_gold(gateway: Gateway, plan: Plan, timeout: float = 600.0) -> Dataset:
    """Export the gold stars; the exporter accepts at once and runs it in its background."""
    accepted = await gateway.post(
        "/v1/datasets/exports",
        {
            "name": plan.dataset_name,
            "filters": {"gold_star_only": True},
            "test_fraction": 0.1,
        },
    )
    status = await finished_export(gateway, accepted, timeout)
    detail = await gateway.get(f"/v1/datasets/{status['dataset_id']}")
    return Dataset(
        detail["id"],
        detail["dataset"],
        detail["version"],
        detail["train_rows"],
        detail["test_rows"],
    )


async def finished_export(
    gateway: Gateway, accepted: dict[str, Any], timeout: float
) -> dict[str, Any]:
    """The export's status once it succeeded; :class:`FlywheelError` with its reason if not."""
    deadline = time.monotonic() + timeout
    status, polls = accepted, 0
    while status["status"] not in EXPORT_FINISHED:
        if polls and time.monotonic() > deadline:
            raise FlywheelError(f"export {accepted['id']} did not finish within {timeout:.0f}s")
        if polls:
            await asyncio.sleep(0.2)
        status = await gateway.get(f"/v1/datasets/exports/{accepted['id']}")
        polls += 1
    if status["status"] == "failed":
        error = status.get("error") or {}
        raise FlywheelError(
            f"the export of {status['dataset']} failed ({error.get('code')}): "
            f"{error.get('message')}"
        )
    return status


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("  training"),
        BarColumn(),
        TextColumn("{task.fields[steps]}"),
        TextColumn("loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        console=console,
    )


def latest_progress(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    steps = [e["data"] for e in events if e.get("data", {}).get("type") == "job.progress"]
    return steps[-1] if steps else None


def losses(events: list[dict[str, Any]]) -> list[float]:
    values = [e["data"].get("train_loss") for e in events if e.get("type") == "metrics"]
    return [v for v in values if isinstance(v, float)]


async def create_job(
    gateway: Gateway, plan: Plan, dataset: Dataset, timeout: float
) -> dict[str, Any]:
    """Create the job once the trainer has heard of the dataset (``dataset.exported``)."""
    body = {
        "model": plan.base_model,
        "dataset": dataset.name,
        "dataset_version": dataset.version,
        "model_name": plan.model_name,
        "suffix": "triage",
        "hyperparameters": plan.hyperparameters,
        "seed": plan.seed,
    }
    deadline = time.monotonic() + timeout
    while True:
        response = await gateway.call("POST", "/v1/fine_tuning/jobs", json=body)
        if response.status_code < 400:
            job: dict[str, Any] = response.json()
            return job
        if response.status_code != 404 or time.monotonic() > deadline:
            raise FlywheelError(
                f"the trainer refused the job ({response.status_code}): {error_message(response)}"
            )
        await asyncio.sleep(0.5)


async def train(
    gateway: Gateway, plan: Plan, dataset: Dataset, console: Console, timeout: float
) -> TrainedJob:
    job = await create_job(gateway, plan, dataset, timeout=60)
    job_id = job["id"]
    console.print(f"  job [bold]{job_id}[/] on {plan.base_model}", highlight=False)
    deadline = time.monotonic() + timeout
    events: list[dict[str, Any]] = []
    with progress_bar(console) as progress:
        task = progress.add_task("train", total=None, loss="-", steps="waiting for a worker")
        while True:
            if time.monotonic() > deadline:
                raise FlywheelError(f"job {job_id} did not finish within {timeout:.0f}s")
            response = await gateway.call("GET", f"/v1/fine_tuning/jobs/{job_id}")
            if response.status_code == 404:  # the trainer has not taken the command yet
                await asyncio.sleep(0.5)
                continue
            job = response.json()
            events = (await gateway.get(f"/v1/fine_tuning/jobs/{job_id}/events"))["data"]
            latest = latest_progress(events)
            if latest is not None:
                loss = latest.get("train_loss")
                progress.update(
                    task,
                    total=latest.get("total_steps") or None,
                    completed=latest.get("step", 0),
                    loss=f"{loss:.3f}" if isinstance(loss, float) else "-",
                    steps=f"step {latest.get('step', 0)}/{latest.get('total_steps', '?')}",
                )
            if job["status"] in FINISHED:
                break
            await asyncio.sleep(1.0)
    if job["status"] != "succeeded":
        error = (job.get("error") or {}).get("message", "")
        raise FlywheelError(f"job {job_id} {job['status']}: {error}")
    history = losses(events)
    last = latest_progress(events) or {}
    return TrainedJob(
        job_id,
        history[-1] if history else None,
        history[0] if history else None,
        int(last.get("step", 0)),
    )


async def registered_version(
    gateway: Gateway, model_name: str, job_id: str, timeout: float
) -> dict[str, Any]:
    """The registry version the job's ``job.completed`` registered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        versions = await gateway.get(f"/v1/registry/models/{model_name}/versions")
        for version in versions:
            if version.get("job_id") == job_id and version["status"] in ("ready", "deployed"):
                return dict(version)
        await asyncio.sleep(0.5)
    raise FlywheelError(
        f"the registry did not register job {job_id} within {timeout:.0f}s; see the registry's log"
    )


async def deploy_candidate(gateway: Gateway, model_name: str, version: int) -> None:
    await gateway.post(
        f"/v1/registry/models/{model_name}/deployments",
        {
            "version": version,
            "alias": CANDIDATE,
            "actor": "flywheel",
            "notes": "fine-tuned on gold stars; to be A/B tested against production",
        },
    )


async def wait_until_served(
    gateway: Gateway, model_name: str, serving_name: str, timeout: float
) -> float:
    """Seconds until the router answers from the new adapter (hot-loaded, no restart)."""
    started = time.monotonic()
    body = {
        "model": f"{model_name}:{CANDIDATE}",
        "messages": [{"role": "user", "content": "ping"}],
        "max_tokens": 1,
    }
    while time.monotonic() - started < timeout:
        response = await gateway.call("POST", "/v1/chat/completions", json=body)
        if (
            response.status_code == 200
            and response.headers.get("x-tuneloop-serving-name") == serving_name
        ):
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise FlywheelError(f"the router did not serve {serving_name} within {timeout:.0f}s")


__all__ = [
    "CANDIDATE",
    "Dataset",
    "TrainedJob",
    "deploy_candidate",
    "export_gold",
    "registered_version",
    "train",
    "wait_until_served",
]
