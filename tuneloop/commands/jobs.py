"""``tuneloop jobs``: create fine-tuning jobs with a cost estimate, follow, list, cancel."""

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from tuneloop.client import ApiClient, ApiError
from tuneloop.commands.gateway import gateway
from tuneloop.commands.output import (
    JsonFlag,
    emit_json,
    fail,
    pairs,
    show,
    sparkline,
    stderr,
    table,
)

app = typer.Typer(help="Fine-tuning jobs: create, follow, list, cancel.", no_args_is_help=True)
TERMINAL = {"succeeded", "failed", "cancelled"}
STATUS_STYLES = {"succeeded": "green", "failed": "red", "cancelled": "yellow", "running": "cyan"}


def when(seconds: int | None) -> str:
    if not seconds:
        return ""
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%d %H:%M:%S}"


def styled(status: str) -> str:
    return f"[{STATUS_STYLES.get(status, 'white')}]{status}[/]"


def chosen_version(client: ApiClient, dataset: str, version: int | None) -> dict[str, Any]:
    """The named version of a dataset, or its newest."""
    versions = [v for v in client.get("/v1/datasets", dataset=dataset)["data"]]
    versions = [v for v in versions if v["dataset"] == dataset]
    if version is not None:
        versions = [v for v in versions if v["version"] == version]
    if not versions:
        which = f"version {version} of dataset {dataset!r}" if version else f"dataset {dataset!r}"
        raise fail(f"no {which}; export it first with `tuneloop datasets export --name {dataset}`")
    return max(versions, key=lambda v: int(v["version"]))


def estimate_of(client: ApiClient, request: dict[str, Any]) -> dict[str, Any] | None:
    try:
        estimate: dict[str, Any] = client.post("/v1/costs/estimate", request)
    except ApiError as exc:
        stderr.print(f"[yellow]no cost estimate:[/] {exc.message}", soft_wrap=True)
        return None
    return estimate


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def dollars(amount: str) -> str:
    value = float(amount)
    return f"${value:.2f}" if value >= 1 else f"${value:.2g}"


def show_estimate(estimate: dict[str, Any]) -> None:
    stderr.print(
        f"[bold]estimate[/] for {estimate['examples']} example(s) x {estimate['epochs']} "
        f"epoch(s): {estimate['trained_tokens']:,} trained tokens "
        f"({estimate['truncated_examples']} truncated to {estimate['context_length']})"
    )
    rows = [
        [h["hardware"], h["basis"], duration(h["wall_seconds"]), dollars(h["cost_usd"])]
        for h in estimate["hardware"]
    ]
    if estimate.get("hosted"):
        hosted = estimate["hosted"]
        rows.append([f"hosted {hosted['model']}", "price list", "", dollars(hosted["cost_usd"])])
    stderr.print(table(None, ("where", "basis", "time", "cost"), rows))


def spread(total: int, count: int) -> list[int]:
    """``count`` token counts summing to ``total``, as even as whole numbers allow."""
    base, extra = divmod(total, count)
    return [base + 1 if i < extra else base for i in range(count)]


def estimate_request(
    client: ApiClient, version: dict[str, Any], base_model: str, epochs: int, tokenizer: str | None
) -> dict[str, Any]:
    """Count with ``tokenizer`` when given; else reuse the exporter's counts of the training
    split (every row fits the context, the exporter refuses longer ones)."""
    request: dict[str, Any] = {"model": base_model, "epochs": epochs}
    if tokenizer:
        return {**request, "dataset_sha256": version["artifact_sha256"], "tokenizer": tokenizer}
    manifest = client.get(f"/v1/datasets/{version['id']}")["manifest"]
    train = manifest["splits"]["train"]
    stderr.print(f"[dim]tokens as counted by the exporter ({manifest['tokenizer']})[/]")
    return {
        **request,
        "context_length": manifest["context_length"],
        "example_token_counts": spread(train["tokens"], train["examples"]),
    }


def hyperparameters(**given: Any) -> dict[str, Any]:
    return {name: value for name, value in given.items() if value is not None}


@app.command()
def create(
    base_model: Annotated[str, typer.Option(help="Base model to fine-tune.")],
    dataset: Annotated[str, typer.Option(help="Exported dataset to train on.")],
    dataset_version: Annotated[
        int | None, typer.Option(help="Version of the dataset (default: its newest).")
    ] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Passes over the data.")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    learning_rate: Annotated[float | None, typer.Option()] = None,
    max_steps: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many steps.")
    ] = None,
    lora_r: Annotated[int | None, typer.Option(min=1, help="LoRA rank.")] = None,
    model_name: Annotated[str | None, typer.Option(help="Registry model of the result.")] = None,
    suffix: Annotated[str | None, typer.Option(help="Suffix of the fine-tuned model name.")] = None,
    backend: Annotated[str, typer.Option(help="auto, trl, unsloth or openai.")] = "auto",
    tokenizer: Annotated[
        str | None,
        typer.Option(help="Tokenizer (directory or name) to count the estimate's tokens with."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    follow: Annotated[bool, typer.Option(help="Follow the job once created.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show the cost and time estimate, ask for confirmation, and queue a job."""
    with gateway(as_json) as client:
        chosen = chosen_version(client, dataset, dataset_version)
        estimate = estimate_of(
            client, estimate_request(client, chosen, base_model, epochs or 3, tokenizer)
        )
        if estimate:
            show_estimate(estimate)
        if not yes and not typer.confirm(
            f"Train {base_model} on {dataset} v{chosen['version']}?", err=True
        ):
            raise typer.Exit(code=1)
        job = client.post(
            "/v1/fine_tuning/jobs",
            {
                "model": base_model,
                "dataset": dataset,
                "dataset_version": chosen["version"],
                "backend": backend,
                "model_name": model_name,
                "suffix": suffix,
                "hyperparameters": hyperparameters(
                    n_epochs=epochs,
                    batch_size=batch_size,
                    learning_rate=learning_rate,
                    max_steps=max_steps,
                    lora_r=lora_r,
                ),
            },
        )
        if as_json:
            emit_json({"job": job, "estimate": estimate})
        else:
            show(f"[green]created[/] {job['id']} ({job['status']})")
        if follow:
            follow_job(client, job["id"], 1.0, as_json, just_created=True)
        elif not as_json:
            show(f"follow it with `tuneloop jobs follow {job['id']}`")


JOB_COLUMNS = ("id", "status", "model", "dataset", "fine-tuned model", "created", "finished")


def job_row(job: dict[str, Any]) -> list[Any]:
    dataset = f"{job['dataset']} v{job['dataset_version']}" if job.get("dataset") else ""
    return [
        job["id"],
        styled(job["status"]),
        job["model"],
        dataset,
        job.get("fine_tuned_model"),
        when(job["created_at"]),
        when(job.get("finished_at")),
    ]


STATUSES = ("validating_files", "queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = ("validating_files", "queued", "running")


def statuses_of(chosen: list[str] | None) -> list[str] | None:
    """The statuses to ask the gateway for; ``active`` stands for every unfinished one."""
    if not chosen:
        return None
    wanted: list[str] = []
    for status in chosen:
        if status != "active" and status not in STATUSES:
            raise fail(f"no job status {status!r}; use active or one of {', '.join(STATUSES)}")
        wanted.extend(ACTIVE if status == "active" else (status,))
    return list(dict.fromkeys(wanted))


@app.command("list")
def list_jobs(
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            "-s",
            help="Only jobs in this status (repeatable): active, validating_files, queued, "
            "running, succeeded, failed or cancelled.",
        ),
    ] = None,
    after: Annotated[
        str | None, typer.Option(help="Continue after this job id (the last of a page).")
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(
            "--owner",
            "-o",
            help="Only jobs created with this API key id; `me` for the key this CLI uses.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Jobs, newest first, filtered by the gateway."""
    statuses = statuses_of(status)
    with gateway(as_json) as client:
        body = client.get(
            "/v1/fine_tuning/jobs", limit=limit, status=statuses, owner=owner, after=after
        )
    if as_json:
        emit_json(body["data"])
    elif not body["data"]:
        if statuses or after or owner:
            show(
                "no jobs"
                + (f" in status {' or '.join(statuses)}" if statuses else "")
                + (f" of owner {owner}" if owner else "")
            )
        else:
            show("no jobs yet: start one with `tuneloop jobs create`")
    else:
        show(table(None, JOB_COLUMNS, (job_row(job) for job in body["data"])))
        if body.get("has_more"):
            again = " ".join(
                [f"--status {s}" for s in status or []] + ([f"--owner {owner}"] if owner else [])
            )
            stderr.print(
                f"more jobs: `tuneloop jobs list {again + ' ' if again else ''}"
                f"--after {body['data'][-1]['id']}`",
                soft_wrap=True,
            )


def show_job(job: dict[str, Any]) -> None:
    values = dict(zip(JOB_COLUMNS, job_row(job), strict=True))
    values.update(
        owner=job.get("owner"),
        backend=job.get("backend"),
        hyperparameters={k: v for k, v in job["hyperparameters"].items() if v != "auto"},
        trained_tokens=job.get("trained_tokens"),
        error=(job.get("error") or {}).get("message"),
    )
    show(pairs(None, {k: v for k, v in values.items() if v not in (None, "")}))


@app.command("show")
def show_one(job_id: str, as_json: JsonFlag = False) -> None:
    """One job: status, hyperparameters, result or error."""
    with gateway(as_json) as client:
        job = client.get(f"/v1/fine_tuning/jobs/{job_id}")
    if as_json:
        emit_json(job)
    else:
        show_job(job)


@app.command()
def cancel(job_id: str, as_json: JsonFlag = False) -> None:
    """Ask the trainer to stop a job; it saves nothing further."""
    with gateway(as_json) as client:
        job = client.post(f"/v1/fine_tuning/jobs/{job_id}/cancel")
    if as_json:
        emit_json(job)
    else:
        show(f"cancellation of {job_id} requested (status now {job['status']})")


@app.command()
def events(job_id: str, as_json: JsonFlag = False) -> None:
    """The job's history, oldest first."""
    with gateway(as_json) as client:
        body = client.get(f"/v1/fine_tuning/jobs/{job_id}/events")
    if as_json:
        emit_json(body["data"])
        return
    show(
        table(
            None,
            ("time", "level", "message"),
            ([when(e["created_at"]), e["level"], e["message"]] for e in body["data"]),
        )
    )


class JobWatch:
    """What following a job has seen so far: events, steps, losses."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.step = 0
        self.total: int | None = None
        self.losses: list[float] = []

    def new_events(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        fresh = [e for e in events if e["id"] not in self.seen]
        for event in fresh:
            self.seen.add(event["id"])
            data = event.get("data") or {}
            if data.get("type") == "job.progress":
                self.step = int(data.get("step") or 0)
                self.total = int(data.get("total_steps") or 0) or None
                if isinstance(data.get("train_loss"), int | float):
                    self.losses.append(float(data["train_loss"]))
        return fresh

    def loss_text(self) -> str:
        if not self.losses:
            return ""
        return f"loss {self.losses[-1]:.4f} {sparkline(self.losses)}"


def follow_job(
    client: ApiClient, job_id: str, interval: float, as_json: bool, just_created: bool = False
) -> None:
    """Poll the job and its events until it ends. A job just created may take a moment to
    appear (the trainer records it from its command queue)."""
    watch = JobWatch()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[loss]}"),
        console=stderr,
        disable=as_json,
    )
    with progress:
        task = progress.add_task(job_id, total=None, loss="")
        if just_created:
            wait_for_job(client, job_id, interval)
        job = poll_until_done(client, job_id, interval, as_json, watch, progress, task)
    if as_json:
        typer.echo(json.dumps({"job": job}))
    else:
        show_job(job)
    if job["status"] != "succeeded":
        raise typer.Exit(code=1)


def wait_for_job(client: ApiClient, job_id: str, interval: float, patience: float = 60) -> None:
    deadline = time.monotonic() + patience
    while True:
        try:
            client.get(f"/v1/fine_tuning/jobs/{job_id}")
            return
        except ApiError as exc:
            if exc.status != 404 or time.monotonic() > deadline:
                raise
        time.sleep(interval)


def poll_until_done(
    client: ApiClient,
    job_id: str,
    interval: float,
    as_json: bool,
    watch: JobWatch,
    progress: Progress,
    task: TaskID,
) -> dict[str, Any]:
    while True:
        job: dict[str, Any] = client.get(f"/v1/fine_tuning/jobs/{job_id}")
        events = client.get(f"/v1/fine_tuning/jobs/{job_id}/events")["data"]
        for event in watch.new_events(events):
            if as_json:
                typer.echo(json.dumps({"event": event}))
            elif event["type"] == "message":
                progress.console.print(f"{when(event['created_at'])}  {event['message']}")
        progress.update(
            task,
            description=f"{job_id} {styled(job['status'])}",
            completed=watch.step,
            total=watch.total,
            loss=watch.loss_text(),
        )
        if job["status"] in TERMINAL:
            return job
        time.sleep(interval)


@app.command()
def follow(
    job_id: str,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between polls.")] = 1.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each event, then the job, as JSON lines.")
    ] = False,
) -> None:
    """Watch a job live: progress bar, loss sparkline, its events; exit 1 unless it succeeds."""
    with gateway(as_json) as client:
        follow_job(client, job_id, interval, as_json)


__all__ = ["JobWatch", "app"]
