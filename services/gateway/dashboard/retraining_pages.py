"""Continuous retraining: each model's policy and its runs, told in words, with the switches
(on, off, run now) and a short form to create a policy."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.gateway.dashboard.client import V1, ApiError
from services.gateway.dashboard.rendering import Pages, form_of, number_field, with_notice
from services.gateway.dashboard.session import key_of, to_login

RUN_STATUS_WORDS = {
    "triggered": "starting",
    "exporting": "exporting the data",
    "training": "training",
    "evaluating": "comparing offline",
    "experimenting": "in an A/B test",
    "completed": "finished",
    "skipped": "skipped (not better)",
    "failed": "failed",
    "cancelled": "cancelled",
}
BADGES = {
    "completed": "succeeded",
    "skipped": "cancelled",
    "failed": "failed",
    "cancelled": "cancelled",
}
STAGES = ("exporting", "training", "evaluating", "experimenting")


def badge_of(status: str) -> str:
    return BADGES.get(status, "running")


def trigger_text(policy: dict[str, Any]) -> str:
    trigger = policy["trigger"]
    parts = []
    if trigger.get("gold_stars"):
        parts.append(f"every {trigger['gold_stars']} new gold stars")
    if trigger.get("schedule_seconds"):
        hours = trigger["schedule_seconds"] / 3600
        parts.append(f"every {hours:g} h (with new data)")
    return " or ".join(parts)


def policy_body(form: dict[str, str]) -> dict[str, Any]:
    """The API body of the creation form (the rest of the policy keeps its defaults)."""
    trigger: dict[str, Any] = {}
    if form.get("gold_stars"):
        trigger["gold_stars"] = int(number_field(form, "gold_stars", 0, "New gold stars"))
    if form.get("schedule_hours"):
        hours = number_field(form, "schedule_hours", 0, "Schedule (hours)")
        trigger["schedule_seconds"] = max(1, round(hours * 3600))
    body: dict[str, Any] = {
        "model_name": form.get("model_name", ""),
        "trigger": trigger,
        "evaluation": {"margin": number_field(form, "margin", 0.0, "Margin")},
        "experiment": {
            "treatment_weight": number_field(form, "treatment_weight", 0.5, "Traffic share")
        },
    }
    if form.get("base_model"):
        body["training"] = {"base_model": form["base_model"]}
    return body


def retraining_routes(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def load(v1: V1) -> dict[str, Any]:
        policies = await v1.get("/v1/retraining/policies")
        runs = (await v1.get("/v1/retraining/runs", limit=30))["data"]
        for policy in policies:
            policy["trigger_text"] = trigger_text(policy)
        return {
            "policies": policies,
            "runs": runs,
            "run_words": RUN_STATUS_WORDS,
            "badge_of": badge_of,
            "form_error": None,
            "form": {},
        }

    @router.get("/retraining")
    async def overview(request: Request) -> Response:
        return await pages.page(request, "retraining.html", load, "loading retraining policies")

    @router.post("/retraining/policies")
    async def create(request: Request) -> Response:
        if key_of(request) is None:
            return to_login(request)
        form = await form_of(request)
        try:
            await pages.v1(request).post("/v1/retraining/policies", policy_body(form))
        except ApiError as error:
            if error.status in (401, 403):
                return pages.failure(request, error, "creating the policy")
            refused = error

            async def with_error(v1: V1) -> dict[str, Any]:
                return {**await load(v1), "form_error": refused, "form": form}

            return await pages.page(request, "retraining.html", with_error, "loading policies")
        notice = f"Retraining policy for {form.get('model_name')} created."
        return RedirectResponse(with_notice("/retraining", notice), status_code=303)

    async def switch(request: Request, model: str, action: str, notice: str) -> Response:
        async def act(v1: V1) -> str:
            await v1.post(f"/v1/retraining/policies/{model}/{action}")
            return with_notice("/retraining", notice)

        return await pages.act(request, act, f"changing the policy of {model}")

    @router.post("/retraining/{model}/enable")
    async def enable(request: Request, model: str) -> Response:
        return await switch(request, model, "enable", f"Retraining of {model} switched on.")

    @router.post("/retraining/{model}/disable")
    async def disable(request: Request, model: str) -> Response:
        return await switch(request, model, "disable", f"Retraining of {model} switched off.")

    @router.post("/retraining/{model}/run")
    async def run_now(request: Request, model: str) -> Response:
        async def act(v1: V1) -> str:
            run = await v1.post(f"/v1/retraining/policies/{model}/runs")
            return with_notice(f"/retraining/runs/{run['id']}", "Run started.")

        return await pages.act(request, act, f"starting a run of {model}")

    @router.get("/retraining/runs/{run_id}")
    async def run_page(request: Request, run_id: str) -> Response:
        async def load_run(v1: V1) -> dict[str, Any]:
            run = await v1.get(f"/v1/retraining/runs/{run_id}")
            reached = {step["status"] for step in run["history"]}
            return {
                "run": run,
                "run_words": RUN_STATUS_WORDS,
                "badge_of": badge_of,
                "stages": [(stage, stage in reached) for stage in STAGES],
                "active": run["finished_at"] is None,
            }

        return await pages.page(request, "retraining_run.html", load_run, "loading the run")

    return router


__all__ = ["RUN_STATUS_WORDS", "policy_body", "retraining_routes", "trigger_text"]
