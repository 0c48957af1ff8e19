"""A fake of the public ``/v1`` API for rendering tests: realistic bodies, every call recorded."""

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

NOW = "2026-11-22T02:00:00Z"


def version(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "model_name": "support-bot",
        "version": n,
        "status": "ready",
        "serving_name": f"support-bot@{n}-abcd{n}",
        "base_model": "tiny-llama",
        "source": "job",
        "job_id": f"ftjob-{n}",
        "dataset": "gold",
        "dataset_version": n,
        "training_metrics": {"train_loss": 1.5 / n},
        "quality_metrics": {},
        "performance_metrics": {},
        "cost": {"training_usd": 0.01 * n},
        "aliases": [],
        "created_at": NOW,
        **extra,
    }


def progress_event(step: int, loss: float) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job.event",
        "id": f"ev{step}",
        "created_at": 1_763_776_000 + step,
        "level": "info",
        "message": f"Step {step}/20",
        "type": "metrics",
        "data": {"type": "job.progress", "step": step, "total_steps": 20, "train_loss": loss},
    }


def export_status(status: str, **extra: Any) -> dict[str, Any]:
    return {"id": "ds1", "dataset": "gold", "status": status, "created_at": NOW, **extra}


FINAL_RUN_STATUSES = {"completed", "skipped", "failed", "cancelled"}


def retraining_run(steps: list[str]) -> dict[str, Any]:
    """The run ``rtr_1`` of support-bot, having gone through ``steps`` (the last is now)."""
    status = steps[-1]
    return {
        "id": "rtr_1",
        "model_name": "support-bot",
        "status": status,
        "trigger": "gold_stars",
        "reason": "50 new gold-star examples since the last run (the policy retrains every 50)",
        "summary": f"run is {status}",
        "decision": None,
        "dataset": "support-bot-retraining",
        "dataset_version": 2,
        "train_rows": 45,
        "test_rows": 5,
        "job_id": "ftjob-2" if "training" in steps else None,
        "base_model": "tiny-llama",
        "training_metrics": {},
        "candidate_serving_name": None,
        "serving_name": "support-bot@1-abcd1",
        "experiment_id": None,
        "verdict": None,
        "error": None,
        "history": [{"status": s, "at": NOW, "summary": f"step {s}"} for s in steps],
        "created_at": NOW,
        "updated_at": NOW,
        "finished_at": NOW if status in FINAL_RUN_STATUSES else None,
    }


CALLER_KEY_ID = "abcd1234"
"""The key id of the signed-in user (``tl_abcd1234_…``), as the trainer reads it from the
signed identity."""


def api_key(key_id: str, name: str, tenant: str = "default", **extra: Any) -> dict[str, Any]:
    return {
        "id": key_id,
        "tenant": tenant,
        "name": name,
        "scopes": ["train", "read"],
        "created_at": NOW,
        "revoked_at": None,
        **extra,
    }


def job(job_id: str, status: str, owner: str | None = None) -> dict[str, Any]:
    return {
        "owner": owner,
        "object": "fine_tuning.job",
        "id": job_id,
        "created_at": 1_763_776_000,
        "finished_at": None if status == "running" else 1_763_776_100,
        "model": "tiny-llama",
        "organization_id": "default",
        "status": status,
        "hyperparameters": {"n_epochs": "auto", "batch_size": "auto", "lora_r": 8},
        "training_file": "a" * 64,
        "seed": 0,
        "method": {"type": "supervised"},
        "dataset": "gold",
        "dataset_version": 1,
    }


EXPERIMENT = {
    "id": "exp_1",
    "tenant": "default",
    "name": "bot-v2-vs-v1",
    "model_name": "support-bot",
    "status": "running",
    "stop_reason": None,
    "variants": [
        {
            "name": "current",
            "serving_name": "support-bot@1-abcd1",
            "weight": 0.8,
            "is_control": True,
        },
        {"name": "new", "serving_name": "support-bot@2-abcd2", "weight": 0.2, "is_control": False},
    ],
    "primary_metric": "gold_star_rate",
    "minimum_detectable_effect": 0.05,
    "baseline": None,
    "alpha": 0.05,
    "power": 0.8,
    "guardrails": {},
    "stopping": {"alias": "production", "min_units_per_arm": 20, "auto_promote": False},
    "weights": {},
    "created_at": NOW,
}
VIEW = {
    "experiment_id": "exp_1",
    "status": "concluded",
    "verdict": "treatment_wins",
    "summary": "new beats current by 40 points of gold-star rate (p < 0.001).",
    "primary_metric": "gold_star_rate",
    "method": "msprt",
    "alpha": 0.05,
    "arms": [
        {
            "variant": "current",
            "serving_name": "support-bot@1-abcd1",
            "n": 40,
            "total": 8,
            "total_squares": 8,
            "requests": 40,
        },
        {
            "variant": "new",
            "serving_name": "support-bot@2-abcd2",
            "n": 40,
            "total": 32,
            "total_squares": 32,
            "requests": 40,
        },
    ],
    "results": [
        {
            "variant": "new",
            "difference": 0.6,
            "ci_low": 0.35,
            "ci_high": 0.85,
            "p_value": 0.0001,
            "adjusted_p_value": 0.0001,
            "method": "msprt",
        }
    ],
    "definition": {},
    "created_at": NOW,
}


@dataclass
class FakeV1:
    """Answers like the services behind the gateway; ``down`` paths answer 503."""

    calls: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    refuse_key: bool = False
    export_error: dict[str, Any] | None = None
    upload_error: dict[str, Any] | None = None
    production: int | None = 1
    served: list[str] = field(
        default_factory=lambda: ["tiny-llama", "support-bot", "support-bot@1-abcd1"]
    )

    jobs: list[dict[str, Any]] = field(
        default_factory=lambda: [job("ftjob-2", "running"), job("ftjob-1", "succeeded")]
    )
    job_events: list[dict[str, Any]] = field(
        default_factory=lambda: [progress_event(5, 2.0), progress_event(10, 1.2)]
    )
    """The history every job has (the running job's progress so far)."""
    evaluated: bool = True
    """Whether the evaluator has numbers (and a verdict) for the experiment."""
    stopped_meanwhile: bool = False
    """Whether the experiment ends (the evaluator concluded it) before the dashboard stops it."""
    job_queries: list[list[str] | None] = field(default_factory=list)
    """The ``status`` parameters each job listing was asked with."""
    owner_queries: list[str | None] = field(default_factory=list)
    """The ``owner`` parameter of each job listing."""
    later_versions: list[int] = field(default_factory=list)
    """Versions registered after 1 and 2 (version n is job ftjob-n's)."""
    evaluation_done: int = 1
    """Answers the evaluation ``ev_1`` (two prompts) has; it is complete at 2."""
    keys: list[dict[str, Any]] | None = field(
        default_factory=lambda: [
            api_key(CALLER_KEY_ID, "admin laptop"),
            api_key("k_other", "ci pipeline"),
            api_key("k_gone", "old notebook", revoked_at=NOW),
            api_key("k_globex", "globex importer", tenant="globex"),
        ]
    )
    """What ``GET /v1/keys`` lists (an operator admin sees every tenant's keys); ``None``: the
    signed-in key is not an admin's (403)."""
    caller_name: str = "admin laptop"
    """What ``GET /v1/me`` says the signed-in key is called."""
    retraining_steps: list[str] = field(default_factory=lambda: ["triggered", "exporting"])
    """The steps the retraining run ``rtr_1`` went through so far (the last is its status)."""

    def bodies(self, method: str, path: str) -> list[Any]:
        return [body for m, p, _, body in self.calls if (m, p) == (method, path)]

    def app(self) -> FastAPI:
        api = FastAPI()
        fake = self

        @api.middleware("http")
        async def record(request: Request, call_next: Any) -> Response:
            raw = await request.body()
            body: Any = None
            if raw and request.headers.get("content-type", "").startswith("application/json"):
                import json

                body = json.loads(raw)
            elif raw:
                body = raw
            fake.calls.append((request.method, request.url.path, dict(request.query_params), body))
            if fake.refuse_key:
                return JSONResponse(
                    {"error": {"code": "invalid_key", "message": "the API key is revoked"}}, 401
                )
            assert request.headers.get("authorization", "").startswith("Bearer tl_")
            if any(request.url.path.startswith(p) for p in fake.down):
                return JSONResponse(
                    {"error": {"code": "service_unavailable", "message": "exporter is down"}},
                    503,
                )
            response: Response = await call_next(request)
            return response

        @api.get("/v1/examples/summary")
        async def summary(gold_star_only: bool = False, domain: str | None = None) -> Any:
            matching = 3 if gold_star_only else 12
            if domain == "billing":
                matching = 1
            return {
                "matching": matching,
                "gold_star": 3,
                "tokens": matching * 40,
                "domains": {"support": 11, "billing": 1},
                "task_types": {"": 12},
            }

        @api.get("/v1/fine_tuning/jobs")
        async def jobs(
            status: Annotated[list[str] | None, Query()] = None,
            after: str | None = None,
            limit: int = 20,
            owner: str | None = None,
        ) -> Any:
            """Filters and pages like the trainer: newest first, ``after`` an id."""
            fake.job_queries.append(status)
            fake.owner_queries.append(owner)
            wanted = CALLER_KEY_ID if owner == "me" else owner
            rows = [j for j in fake.jobs if not status or j["status"] in status]
            rows = [j for j in rows if wanted is None or j.get("owner") == wanted]
            if after:
                rows = rows[[j["id"] for j in rows].index(after) + 1 :]
            return {"object": "list", "data": rows[:limit], "has_more": len(rows) > limit}

        @api.get("/v1/fine_tuning/jobs/{job_id}")
        async def one_job(job_id: str) -> Any:
            if job_id == "missing":
                return JSONResponse(
                    {"error": {"code": "job_not_found", "message": "no fine-tuning job 'missing'"}},
                    404,
                )
            return job(job_id, "running" if job_id == "ftjob-2" else "succeeded")

        @api.get("/v1/fine_tuning/jobs/{job_id}/events")
        async def events(job_id: str) -> Any:
            return {"object": "list", "data": list(fake.job_events)}

        @api.post("/v1/fine_tuning/jobs/{job_id}/cancel")
        async def cancel(job_id: str) -> Any:
            return job(job_id, "running")

        @api.post("/v1/fine_tuning/jobs")
        async def create_job() -> Any:
            return job("ftjob-3", "validating_files")

        @api.post("/v1/datasets/exports")
        async def export() -> Any:
            return JSONResponse(export_status("queued"), 202)

        @api.get("/v1/datasets/exports/{export_id}")
        async def export_progress(export_id: str) -> Any:
            if fake.export_error:
                return export_status("failed", error=fake.export_error)
            return export_status("succeeded", dataset_id="ds1", version=2)

        @api.get("/v1/datasets/ds1")
        async def exported() -> Any:
            return {"id": "ds1", "dataset": "gold", "version": 2, "artifact_sha256": "b" * 64}

        @api.post("/v1/datasets/uploads")
        async def upload() -> Any:
            if fake.upload_error:
                return JSONResponse({"error": fake.upload_error}, 422)
            return {
                "format": "openai-chat",
                "mode": "lenient",
                "accepted": 2,
                "rejected": 1,
                "errors": [
                    {
                        "line": 3,
                        "field": "messages",
                        "code": "x",
                        "message": "the last message must be the assistant's",
                    }
                ],
                "warnings": [],
                "total_warnings": 0,
            }

        @api.get("/v1/datasets")
        async def datasets() -> Any:
            return {"data": []}

        @api.get("/v1/models")
        async def served() -> Any:
            return {"object": "list", "data": [{"id": n, "object": "model"} for n in fake.served]}

        @api.get("/v1/registry/models")
        async def models() -> Any:
            aliases = []
            if fake.production:
                aliases = [
                    {
                        "model_name": "support-bot",
                        "alias": "production",
                        "version": fake.production,
                        "serving_name": f"support-bot@{fake.production}-abcd{fake.production}",
                        "revision": 1,
                        "updated_at": NOW,
                    }
                ]
            return [
                {
                    "name": "support-bot",
                    "tenant": "default",
                    "description": "",
                    "latest_version": 2,
                    "aliases": aliases,
                    "created_at": NOW,
                }
            ]

        @api.get("/v1/registry/models/{name}/versions")
        async def versions(name: str) -> Any:
            return [version(n) for n in (1, 2, *fake.later_versions)]

        @api.get("/v1/evaluations/ev_1")
        async def evaluation() -> Any:
            complete = fake.evaluation_done >= 2
            return {
                "evaluation_id": "ev_1",
                "status": "completed" if complete else "running",
                "models": ["support-bot@1-abcd1", "support-bot@2-abcd2"],
                "total": 2,
                "done": fake.evaluation_done,
                "summary": "v2 answers better." if complete else "",
                "created_at": NOW,
            }

        @api.get("/v1/evaluations/ev_1/outputs")
        async def evaluation_outputs(limit: int = 50) -> Any:
            rows = [
                {
                    "prompt": f"prompt {n}",
                    "reference": None,
                    "outputs": [
                        {"model": "support-bot@1-abcd1", "response": f"old answer {n}"},
                        {"model": "support-bot@2-abcd2", "response": f"new answer {n}"},
                    ],
                }
                for n in range(1, fake.evaluation_done + 1)
            ]
            return {"rows": rows}

        @api.get("/v1/registry/models/{name}/history")
        async def history(name: str) -> Any:
            return [
                {
                    "sequence": 1,
                    "model_name": name,
                    "alias": "production",
                    "action": "deploy",
                    "from_version": None,
                    "to_version": 1,
                    "actor": "api",
                    "notes": "first",
                    "config": {},
                    "justification": None,
                    "created_at": NOW,
                }
            ]

        @api.post("/v1/registry/models/{name}/deployments")
        async def deploy(name: str, request: Request) -> Any:
            body = await request.json()
            return {
                "model_name": name,
                "alias": body["alias"],
                "version": body["version"],
                "serving_name": "x",
                "revision": 2,
                "updated_at": NOW,
            }

        @api.post("/v1/registry/models/{name}/aliases/{alias}/rollback")
        async def rollback(name: str, alias: str) -> Any:
            return {
                "model_name": name,
                "alias": alias,
                "version": 1,
                "serving_name": "x",
                "revision": 3,
                "updated_at": NOW,
            }

        @api.get("/v1/experiments")
        async def experiments() -> Any:
            return [EXPERIMENT]

        @api.post("/v1/experiments")
        async def create_experiment() -> Any:
            return EXPERIMENT

        @api.post("/v1/experiments/{experiment_id}/stop")
        async def stop(experiment_id: str) -> Any:
            if fake.stopped_meanwhile:
                message = f"experiment {experiment_id!r} is stopped"
                return JSONResponse(
                    {"error": {"code": "experiment_error", "message": message}}, status_code=409
                )
            return {**EXPERIMENT, "status": "stopped"}

        @api.get("/v1/evaluations/experiments/{experiment_id}")
        async def view(experiment_id: str) -> Any:
            if not fake.evaluated:
                message = f"the evaluator has not seen {experiment_id} yet"
                return JSONResponse({"error": {"code": "not_found", "message": message}}, 404)
            return VIEW

        @api.post("/v1/costs/estimate")
        async def estimate(request: Request) -> Any:
            body = await request.json()
            examples = len(body["example_token_counts"])
            return {
                "model": body["model"],
                "examples": examples,
                "epochs": body["epochs"],
                "context_length": 2048,
                "truncated_examples": 0,
                "trained_tokens": sum(body["example_token_counts"]) * body["epochs"],
                "price_version": 0,
                "hosted": None,
                "hardware": [
                    {
                        "hardware": "cpu",
                        "unit": "cpu_hour",
                        "usd_per_hour": "0.10",
                        "basis": "prior",
                        "examples_per_second_prior": 1.0,
                        "wall_seconds": 95.0,
                        "cost_usd": "0.0026",
                    }
                ],
            }

        @api.get("/v1/costs/summary")
        async def cost_summary(group_by: str) -> Any:
            rows = [
                {
                    "group": "training",
                    "amount_usd": "0.0200",
                    "requests": 0,
                    "tokens": 900,
                    "entries": 2,
                }
            ]
            return {
                "group_by": group_by,
                "since": None,
                "until": None,
                "rows": rows,
                "total_usd": "0.0200",
            }

        @api.get("/v1/costs/daily")
        async def daily() -> Any:
            return {
                "days": ["2026-11-21", "2026-11-22"],
                "series": [
                    {"name": "training", "values": ["0.01", "0.01"]},
                    {"name": "inference", "values": ["0", "0.002"]},
                ],
            }

        @api.post("/v1/costs/roi")
        async def roi(request: Request) -> Any:
            body = await request.json()
            if body["tuned_accuracy"] > 1:
                return JSONResponse(
                    {
                        "error": {
                            "code": "invalid_request",
                            "message": "tuned_accuracy must be at most 1",
                        }
                    },
                    422,
                )
            return {
                "training_cost_usd": "0.02",
                "base_cost_per_call_usd": "0",
                "tuned_cost_per_call_usd": "0",
                "inference_saving_per_call_usd": "0",
                "inference_saving_per_month_usd": "0",
                "accuracy_gain": "0.1",
                "quality_value_per_month_usd": "1000",
                "benefit_per_month_usd": "1000",
                "break_even_calls": 1,
                "payback_days": "0.01",
                "horizon_months": 6,
                "net_at_horizon_usd": "5999.98",
                "roi_percent": "29999900",
                "verdict": "Fine-tuning pays for itself within a day.",
            }

        @api.get("/v1/me")
        async def me() -> Any:
            scopes = ["admin"] if fake.keys is not None else ["train", "read"]
            return {
                "id": CALLER_KEY_ID,
                "tenant": "default",
                "name": fake.caller_name,
                "scopes": scopes,
            }

        @api.get("/v1/keys")
        async def keys() -> Any:
            if fake.keys is None:
                message = "GET /v1/keys needs a key with scope admin (this key has read)"
                return JSONResponse(
                    {"error": {"code": "insufficient_scope", "message": message}}, 403
                )
            return {"object": "list", "data": fake.keys}

        @api.get("/v1/retraining/runs/rtr_1")
        async def retraining() -> Any:
            return retraining_run(fake.retraining_steps)

        @api.get("/v1/registry/models/{name}/compare")
        async def compare(name: str, a: int, b: int) -> Any:
            return {
                "a": version(a),
                "b": version(b),
                "metric_differences": {"train_loss": 1.5 / b - 1.5 / a},
                "config_differences": {"lora_r": [8, 16]},
            }

        return api


__all__ = ["CALLER_KEY_ID", "EXPERIMENT", "VIEW", "FakeV1", "api_key", "job", "retraining_run"]
