"""The guided flow: gold-star data → base model → settings and estimate → training → deploy →
A/B test → verdict. Each step is a page whose form carries the choices so far."""

import asyncio
import re
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from services.gateway.dashboard import data
from services.gateway.dashboard.client import V1, ApiError
from services.gateway.dashboard.pages import job_fragments, loss_chart
from services.gateway.dashboard.rendering import Pages, form_of, with_notice
from services.gateway.dashboard.session import key_of, to_login

EXPORT_POLL_SECONDS = 0.2
EXPORT_TIMEOUT_SECONDS = 600.0

FILTER_FIELDS = ("min_rating", "gold_star_only", "domain", "task_type")
SETTING_FIELDS = ("n_epochs", "batch_size", "learning_rate", "max_steps", "lora_r")
CHOICE_FIELDS = ("dataset", *FILTER_FIELDS, "base_model", "model_name", *SETTING_FIELDS)
DEFAULTS = {
    "dataset": "gold-stars",
    "gold_star_only": "on",
    "n_epochs": "auto",
    "batch_size": "auto",
    "learning_rate": "auto",
    "max_steps": "",
    "lora_r": "8",
}
CANDIDATE = "candidate"
ESTIMATE_EXAMPLES_CAP = 100_000


def choices_of(values: Any) -> dict[str, str]:
    """The choices so far, from a query string or a form, over the defaults."""
    chosen = {k: str(values.get(k, "")).strip() for k in CHOICE_FIELDS if k in values}
    if "dataset" in values and "gold_star_only" not in values:
        chosen["gold_star_only"] = ""  # an unticked box is absent from a submitted form
    return {**DEFAULTS, **chosen}


def filters_of(choices: dict[str, str]) -> dict[str, Any]:
    return {
        "min_rating": choices.get("min_rating") or None,
        "gold_star_only": "true" if choices.get("gold_star_only") else None,
        "domain": choices.get("domain") or None,
        "task_type": choices.get("task_type") or None,
    }


def export_filters(choices: dict[str, str]) -> dict[str, Any]:
    filters = filters_of(choices)
    return {
        "min_rating": int(filters["min_rating"]) if filters["min_rating"] else None,
        "gold_star_only": bool(filters["gold_star_only"]),
        "domain": filters["domain"],
        "task_type": filters["task_type"],
    }


def setting(value: str, kind: type[int] | type[float], label: str) -> int | float | str:
    if value in ("", "auto"):
        return "auto"
    try:
        return kind(value)
    except ValueError:
        raise ApiError(422, "invalid_field", f"{label}: {value!r} is not a number") from None


def hyperparameters(choices: dict[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "n_epochs": setting(choices["n_epochs"], int, "Epochs"),
        "batch_size": setting(choices["batch_size"], int, "Batch size"),
        "learning_rate": setting(choices["learning_rate"], float, "Learning rate"),
        "lora_r": setting(choices["lora_r"] or "8", int, "LoRA rank"),
    }
    if choices.get("max_steps"):
        params["max_steps"] = setting(choices["max_steps"], int, "Maximum steps")
    return params


def model_name_for(dataset: str) -> str:
    name = re.sub(r"[^a-z0-9._-]+", "-", dataset.lower()).strip("-._")[:64]
    return name or "my-model"


async def estimate(v1: V1, choices: dict[str, str]) -> dict[str, Any]:
    """Cost and time of training on the chosen examples, from the cost service."""
    summary = await data.example_summary(v1, filters_of(choices))
    matching = min(int(summary["matching"]), ESTIMATE_EXAMPLES_CAP)
    if matching == 0:
        return {"summary": summary, "estimate": None, "approximate": False}
    average = round(summary["tokens"] / summary["matching"]) if summary["tokens"] else 256
    epochs = choices["n_epochs"]
    body = {
        "model": choices["base_model"],
        "example_token_counts": [max(1, average)] * matching,
        "epochs": int(epochs) if epochs.isdigit() else 3,
    }
    result = await v1.post("/v1/costs/estimate", body)
    return {"summary": summary, "estimate": result, "approximate": not summary["tokens"]}


def wizard_routes(pages: Pages) -> APIRouter:
    router = APIRouter(prefix="/fine-tune", include_in_schema=False)

    @router.get("")
    async def choose_data(request: Request) -> Response:
        choices = choices_of(request.query_params)

        async def load(v1: V1) -> dict[str, Any]:
            summary = await data.example_summary(v1, filters_of(choices))
            return {"choices": choices, "summary": summary, "step": 1}

        return await pages.page(request, "wizard_data.html", load, "counting examples")

    @router.get("/counts")
    async def counts(request: Request) -> Response:
        return await fragment(
            pages,
            request,
            "counts",
            "_counts.html",
            lambda v1, c: summary_context(v1, c),
        )

    @router.get("/model")
    async def choose_model(request: Request) -> Response:
        choices = choices_of(request.query_params)
        if not request.query_params.get("model_name"):
            choices["model_name"] = model_name_for(choices["dataset"])

        async def load(v1: V1) -> dict[str, Any]:
            names = await data.base_models(v1)
            if not choices.get("base_model") and names:
                choices["base_model"] = names[0]
            return {"choices": choices, "base_models": names, "step": 2}

        return await pages.page(request, "wizard_model.html", load, "listing base models")

    @router.get("/settings")
    async def settings(request: Request) -> Response:
        choices = choices_of(request.query_params)

        async def load(v1: V1) -> dict[str, Any]:
            return {"choices": choices, "step": 3, **await safe_estimate(v1, choices)}

        return await pages.page(request, "wizard_settings.html", load, "estimating the cost")

    @router.get("/estimate")
    async def estimate_fragment(request: Request) -> Response:
        return await fragment(
            pages, request, "estimate", "_estimate.html", lambda v1, c: safe_estimate(v1, c)
        )

    @router.post("/start")
    async def start(request: Request) -> Response:
        if key_of(request) is None:
            return to_login(request)
        choices = choices_of(await form_of(request))
        v1 = pages.v1(request)
        try:
            job = await start_training(v1, choices)
        except ApiError as error:
            if error.status in (401, 403):
                return pages.failure(request, error, "starting the training")
            context = {"choices": choices, "step": 3, "error": error}
            context.update(await safe_estimate(v1, choices))
            return pages.render(
                request, "wizard_settings.html", status_code=error.status, **context
            )
        query = urlencode({"model_name": choices["model_name"]})
        return RedirectResponse(f"/fine-tune/jobs/{job['id']}?{query}", status_code=303)

    @router.get("/jobs/{job_id}")
    async def watch(request: Request, job_id: str, model_name: str = "") -> Response:
        async def load(v1: V1) -> dict[str, Any]:
            detail = await just_created_job(v1, job_id)
            context = {**detail, "chart": loss_chart(detail["loss"]), "step": 4}
            context.update(model_name=model_name, version=None, production=None)
            if detail["job"]["status"] == "succeeded" and model_name:
                context.update(await release_state(v1, model_name, job_id))
                context["step"] = 5
            return context

        return await pages.page(request, "wizard_job.html", load, "opening the training job")

    @router.get("/jobs/{job_id}/live")
    async def live(request: Request, job_id: str) -> Response:
        return await job_fragments(pages, request, job_id)

    @router.post("/jobs/{job_id}/deploy")
    async def deploy(request: Request, job_id: str) -> Response:
        form = await form_of(request)
        model_name = form.get("model_name", "")

        async def act(v1: V1) -> str:
            state = await release_state(v1, model_name, job_id)
            if state["version"] is None:
                raise ApiError(
                    409,
                    "not_registered_yet",
                    "the registry has not registered this job's model yet; wait a few "
                    "seconds and try again",
                )
            alias = CANDIDATE if state["production"] else data.PRODUCTION
            await v1.post(
                f"/v1/registry/models/{model_name}/deployments",
                {
                    "version": state["version"]["version"],
                    "alias": alias,
                    "notes": form.get("note", ""),
                    "actor": "dashboard",
                },
            )
            if alias == data.PRODUCTION:
                return with_notice(
                    f"/models/{model_name}",
                    "Deployed to production. It is the first version, so there is nothing to "
                    "A/B test it against yet: the next fine-tune will be tested against it.",
                )
            query = urlencode({"model_name": model_name})
            return with_notice(
                f"/fine-tune/jobs/{job_id}/test?{query}",
                f"Deployed as {model_name}:{CANDIDATE}. Now test it on real traffic.",
            )

        return await pages.act(request, act, "deploying the new version")

    @router.get("/jobs/{job_id}/test")
    async def ab_test(request: Request, job_id: str, model_name: str = "") -> Response:
        async def load(v1: V1) -> dict[str, Any]:
            state = await release_state(v1, model_name, job_id)
            if state["version"] is None or state["production"] is None:
                raise ApiError(
                    409,
                    "nothing_to_test",
                    "an A/B test needs the new version and a production version to compare "
                    "it with; deploy from the training job page first",
                )
            name = f"{model_name}-v{state['version']['version']}-vs-v{state['production']}"
            served = await data.served_names(v1)
            ready = {state["version"]["serving_name"], state["control"]["serving_name"]} <= served
            context = {**state, "model_name": model_name, "step": 6, "test_name": name[:64]}
            return {**context, "router_ready": ready}

        return await pages.page(request, "wizard_test.html", load, "preparing the A/B test")

    return router


async def just_created_job(v1: V1, job_id: str) -> dict[str, Any]:
    """A job the trainer may not have picked up yet (creating it is a queued command)."""
    try:
        return await data.job_detail(v1, job_id)
    except ApiError as error:
        if error.status != 404:
            raise
    pending = {"id": job_id, "status": "validating_files", "model": "", "hyperparameters": {}}
    return {"job": pending, "events": [], "progress": None, "loss": [], "active": True}


async def summary_context(v1: V1, choices: dict[str, str]) -> dict[str, Any]:
    return {"summary": await data.example_summary(v1, filters_of(choices)), "choices": choices}


async def safe_estimate(v1: V1, choices: dict[str, str]) -> dict[str, Any]:
    """The estimate, or why there is none (the rest of the page still works)."""
    try:
        return {**await estimate(v1, choices), "estimate_error": None}
    except ApiError as error:
        if error.status in (401, 403):
            raise
        return {"summary": None, "estimate": None, "estimate_error": error, "approximate": False}


async def fragment(pages: Pages, request: Request, name: str, template: str, load: Any) -> Response:
    if key_of(request) is None:
        return JSONResponse({"error": {"code": "signed_out", "message": "sign in"}}, 401)
    try:
        context = await load(pages.v1(request), choices_of(request.query_params))
    except ApiError as error:
        return JSONResponse({"error": {"code": error.code, "message": error.message}}, error.status)
    html = pages.templates.get_template(template).render(**context)
    return JSONResponse({"fragments": {name: html}, "done": True})


async def start_training(v1: V1, choices: dict[str, str]) -> dict[str, Any]:
    """Export the chosen examples as a new dataset version, then train on it."""
    params = hyperparameters(choices)
    if not choices.get("base_model"):
        raise ApiError(422, "no_base_model", "choose a base model (step 2)")
    exported = await exported_version(
        v1, {"name": choices["dataset"], "filters": export_filters(choices)}
    )
    job: dict[str, Any] = await v1.post(
        "/v1/fine_tuning/jobs",
        {
            "model": choices["base_model"],
            "training_file": exported["artifact_sha256"],
            "dataset": exported["dataset"],
            "dataset_version": exported["version"],
            "hyperparameters": params,
            "model_name": choices["model_name"],
        },
    )
    return job


async def exported_version(v1: V1, body: dict[str, Any]) -> dict[str, Any]:
    """Export and wait for the new version: the exporter accepts at once and runs the export
    in its background, so follow its status to the end."""
    status: dict[str, Any] = await v1.post("/v1/datasets/exports", body)
    deadline = time.monotonic() + EXPORT_TIMEOUT_SECONDS
    polls = 0
    while status["status"] not in ("succeeded", "failed"):
        if polls and time.monotonic() > deadline:
            raise ApiError(
                504,
                "export_still_running",
                f"the export {status['id']} of {status['dataset']} is still running; start the "
                "training again once its new version is listed on the datasets page",
            )
        if polls:
            await asyncio.sleep(EXPORT_POLL_SECONDS)
        status = await v1.get(f"/v1/datasets/exports/{status['id']}")
        polls += 1
    if status["status"] == "failed":
        error = status.get("error") or {}
        code = str(error.get("code") or "export_failed")
        raise ApiError(
            500 if code == "export_failed" else 422,
            code,
            str(error.get("message") or "the export failed"),
            list(error.get("errors") or []),
            error.get("total_errors"),
        )
    version: dict[str, Any] = await v1.get(f"/v1/datasets/{status['dataset_id']}")
    return version


async def release_state(v1: V1, model_name: str, job_id: str) -> dict[str, Any]:
    """The job's registered version and what production serves now."""
    version = await data.version_of_job(v1, model_name, job_id)
    listed = await data.optional(data.models(v1), [])
    model = next((m for m in listed if m["name"] == model_name), None)
    production = data.alias_version(model) if model else None
    control = None
    if production is not None:
        rows = await data.versions(v1, model_name)
        control = next((v for v in rows if v["version"] == production), None)
    if version is not None and production == version["version"]:
        production, control = None, None  # it serves production already: nothing to test
    return {"version": version, "production": production, "control": control}


__all__ = ["choices_of", "hyperparameters", "start_training", "wizard_routes"]
