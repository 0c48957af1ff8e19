"""What each page shows, read from the public ``/v1`` API (never from a service's tables)."""

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

from services.gateway.dashboard import explain
from services.gateway.dashboard.client import V1, ApiError

T = TypeVar("T")
PRODUCTION = "production"


async def optional(call: Awaitable[T], default: T) -> T:
    """A part of a page that may be missing (its service down) without failing the page."""
    try:
        return await call
    except ApiError as error:
        if error.status in (401, 403):
            raise
        return default


def when(value: Any) -> datetime | None:
    """API times (ISO text or Unix seconds) as aware datetimes."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- examples and datasets -------------------------------------------------------------------


async def example_summary(v1: V1, filters: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = await v1.get("/v1/examples/summary", **filters)
    return result


async def datasets(v1: V1) -> list[dict[str, Any]]:
    body = await v1.get("/v1/datasets")
    return list(body["data"])


async def dataset_version(v1: V1, version_id: str) -> dict[str, Any]:
    detail, train, test = await asyncio.gather(
        v1.get(f"/v1/datasets/{version_id}"),
        v1.get(f"/v1/datasets/{version_id}/preview", split="train", limit=10),
        v1.get(f"/v1/datasets/{version_id}/preview", split="test", limit=5),
    )
    return {"dataset": detail, "train_rows": train["rows"], "test_rows": test["rows"]}


async def test_split_of(v1: V1, dataset: str | None, version: int | None) -> str | None:
    """The sha256 of a dataset version's test split, to evaluate versions on."""
    if not dataset or not version:
        return None
    listed = await optional(v1.get("/v1/datasets", dataset=dataset), {"data": []})
    for row in listed["data"]:
        if row["version"] == version:
            detail = await v1.get(f"/v1/datasets/{row['id']}")
            split = detail["manifest"]["splits"].get("test") or {}
            sha: str | None = split.get("artifact_sha256")
            return sha
    return None


# --- jobs ------------------------------------------------------------------------------------


async def jobs(v1: V1, limit: int = 100) -> list[dict[str, Any]]:
    body = await v1.get("/v1/fine_tuning/jobs", limit=limit)
    return list(body["data"])


async def job_page(
    v1: V1,
    statuses: tuple[str, ...] | None,
    after: str | None,
    limit: int,
    owner: str | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """One page of jobs (of ``statuses`` and ``owner`` when given), filtered by the API; and
    whether there is a next one."""
    body = await v1.get(
        "/v1/fine_tuning/jobs",
        limit=limit,
        after=after,
        status=list(statuses or []) or None,
        owner=owner,
    )
    return list(body["data"]), bool(body.get("has_more"))


async def job_events(v1: V1, job_id: str) -> list[dict[str, Any]]:
    body = await v1.get(f"/v1/fine_tuning/jobs/{job_id}/events")
    return list(body["data"])


async def job_with_progress(v1: V1, job: dict[str, Any]) -> dict[str, Any]:
    if job["status"] not in explain.ACTIVE_JOB_STATUSES:
        return {**job, "progress": None}
    events = await optional(job_events(v1, job["id"]), [])
    return {**job, "progress": explain.progress_of(events)}


async def job_detail(v1: V1, job_id: str) -> dict[str, Any]:
    job, events = await asyncio.gather(
        v1.get(f"/v1/fine_tuning/jobs/{job_id}"), job_events(v1, job_id)
    )
    return {
        "job": job,
        "events": list(reversed(events)),
        "progress": explain.progress_of(events),
        "loss": explain.loss_series(events),
        "active": job["status"] in explain.ACTIVE_JOB_STATUSES,
    }


# --- registry --------------------------------------------------------------------------------


async def models(v1: V1) -> list[dict[str, Any]]:
    return list(await v1.get("/v1/registry/models"))


async def versions(v1: V1, model_name: str) -> list[dict[str, Any]]:
    return list(await v1.get(f"/v1/registry/models/{model_name}/versions"))


async def history(v1: V1, model_name: str) -> list[dict[str, Any]]:
    return list(await v1.get(f"/v1/registry/models/{model_name}/history"))


async def model_detail(v1: V1, name: str) -> dict[str, Any]:
    all_models, rows, records = await asyncio.gather(
        models(v1), versions(v1, name), history(v1, name)
    )
    model = next((m for m in all_models if m["name"] == name), None)
    if model is None:
        raise ApiError(404, "model_not_found", f"there is no model named {name!r}")
    production = alias_version(model)
    control = next((v for v in rows if v["version"] == production), None)
    return {
        "model": model,
        "control": control,
        "candidates": [v for v in rows if v is not control and v["status"] != "archived"],
        "versions": sorted(rows, key=lambda v: -int(v["version"])),
        "history": list(reversed(records)),
        "aliases": {a["alias"]: a for a in model["aliases"]},
    }


def alias_version(model: dict[str, Any], alias: str = PRODUCTION) -> int | None:
    for entry in model.get("aliases", []):
        if entry["alias"] == alias:
            return int(entry["version"])
    return None


async def version_of_job(v1: V1, model_name: str, job_id: str) -> dict[str, Any] | None:
    """The version a finished job registered (while it trains, its version is not servable)."""
    rows = await optional(versions(v1, model_name), [])
    servable = ("ready", "deployed")
    return next((v for v in rows if v.get("job_id") == job_id and v["status"] in servable), None)


async def version_by_serving_name(
    v1: V1, model_name: str, serving_name: str
) -> dict[str, Any] | None:
    rows = await optional(versions(v1, model_name), [])
    return next((v for v in rows if v["serving_name"] == serving_name), None)


async def served_names(v1: V1) -> set[str]:
    """Every name the router can send traffic to now (models, aliases, serving names)."""
    served = await v1.get("/v1/models")
    return {m["id"] for m in served["data"]}


async def base_models(v1: V1) -> list[str]:
    """Names the router serves that are not registry models or versions: the base models."""
    served, registered = await asyncio.gather(
        optional(v1.get("/v1/models"), {"data": []}), optional(models(v1), [])
    )
    names = {m["name"] for m in registered}
    return [
        m["id"]
        for m in served["data"]
        if m["id"] not in names and "@" not in m["id"] and ":" not in m["id"]
    ]


# --- experiments -----------------------------------------------------------------------------


async def experiments(v1: V1) -> list[dict[str, Any]]:
    return list(await v1.get("/v1/experiments"))


async def experiment_view(v1: V1, experiment_id: str) -> dict[str, Any] | None:
    try:
        view: dict[str, Any] = await v1.get(f"/v1/evaluations/experiments/{experiment_id}")
    except ApiError as error:
        if error.status == 404:
            return None  # the evaluator has not heard of it yet
        raise
    return view


async def experiments_with_views(v1: V1) -> list[dict[str, Any]]:
    listed = await experiments(v1)
    views = await asyncio.gather(*(optional(experiment_view(v1, e["id"]), None) for e in listed))
    return [
        {**e, "view": view, "headline": explain.verdict_words(view) if view else None}
        for e, view in zip(listed, views, strict=True)
    ]


async def experiment_detail(v1: V1, experiment_id: str) -> dict[str, Any]:
    listed = await experiments(v1)
    experiment = next((e for e in listed if e["id"] == experiment_id), None)
    if experiment is None:
        raise ApiError(404, "experiment_not_found", f"there is no experiment {experiment_id!r}")
    view = await experiment_view(v1, experiment_id)
    model = next(
        (m for m in await optional(models(v1), []) if m["name"] == experiment["model_name"]), None
    )
    return {
        "experiment": experiment,
        "view": view,
        "headline": explain.verdict_words(view) if view else "Waiting for the first numbers.",
        "arms": [explain.arm_interval(a) for a in (view or {}).get("arms", [])],
        "differences": explain.difference_intervals((view or {}).get("results", [])),
        "treatment": next((v for v in experiment["variants"] if not v["is_control"]), None),
        "control": next((v for v in experiment["variants"] if v["is_control"]), None),
        "production": alias_version(model, experiment["stopping"]["alias"]) if model else None,
    }


# --- overview --------------------------------------------------------------------------------


def job_events_feed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    feed = []
    for job in rows:
        feed.append(
            {
                "time": when(job["created_at"]),
                "text": f"Training job on {job['model']} created",
                "link": f"/jobs/{job['id']}",
            }
        )
        if job.get("finished_at"):
            feed.append(
                {
                    "time": when(job["finished_at"]),
                    "text": f"Training job {explain.JOB_STATUS_WORDS.get(job['status'], '')}",
                    "link": f"/jobs/{job['id']}",
                }
            )
    return feed


def history_feed(model_name: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    words = {"deploy": "deployed", "rollback": "rolled back", "archive": "archived"}
    return [
        {
            "time": when(r["created_at"]),
            "text": f"{model_name} v{r['to_version'] or r['from_version']} "
            f"{words.get(r['action'], r['action'])}"
            + (f" to {r['alias']}" if r.get("alias") else "")
            + (f": {r['notes']}" if r.get("notes") else ""),
            "link": f"/models/{model_name}",
        }
        for r in records[-10:]
    ]


async def overview(v1: V1) -> dict[str, Any]:
    summary, job_rows, model_rows, tests = await asyncio.gather(
        optional(example_summary(v1, {}), None),
        optional(jobs(v1), None),
        optional(models(v1), None),
        optional(experiments_with_views(v1), None),
    )
    histories = await asyncio.gather(
        *(optional(history(v1, m["name"]), []) for m in model_rows or [])
    )
    feed = job_events_feed(job_rows or [])
    for model, records in zip(model_rows or [], histories, strict=True):
        feed.extend(history_feed(model["name"], records))
    for test in tests or []:
        feed.append(
            {
                "time": when(test["created_at"]),
                "text": f"A/B test {test['name']} started on {test['model_name']}",
                "link": f"/experiments/{test['id']}",
            }
        )
    feed.sort(key=lambda item: item["time"] or datetime.min.replace(tzinfo=UTC), reverse=True)
    won, decided = explain.tests_won([t["view"] for t in tests or [] if t["view"]])
    return {
        "gold_stars": None if summary is None else summary["gold_star"],
        "examples": None if summary is None else summary["matching"],
        "active_jobs": None
        if job_rows is None
        else sum(1 for j in job_rows if j["status"] in explain.ACTIVE_JOB_STATUSES),
        "deployed_models": None
        if model_rows is None
        else sum(1 for m in model_rows if alias_version(m) is not None),
        "win_rate": won / decided if decided else None,
        "decided_tests": decided,
        "running_tests": sum(1 for t in tests or [] if t["status"] == "running"),
        "feed": feed[:12],
        "empty": not (summary and summary["matching"]) and not job_rows and not model_rows,
    }


# --- costs -----------------------------------------------------------------------------------


async def costs(v1: V1) -> dict[str, Any]:
    by_version, daily, by_kind = await asyncio.gather(
        v1.get("/v1/costs/summary", group_by="serving_name"),
        v1.get("/v1/costs/daily"),
        v1.get("/v1/costs/summary", group_by="kind"),
    )
    return {"by_version": by_version, "daily": daily, "by_kind": by_kind}


__all__ = [
    "PRODUCTION",
    "alias_version",
    "base_models",
    "costs",
    "dataset_version",
    "datasets",
    "example_summary",
    "experiment_detail",
    "experiment_view",
    "experiments",
    "experiments_with_views",
    "history",
    "job_detail",
    "job_events",
    "job_page",
    "job_with_progress",
    "jobs",
    "model_detail",
    "models",
    "optional",
    "overview",
    "served_names",
    "test_split_of",
    "version_by_serving_name",
    "version_of_job",
    "versions",
    "when",
]
