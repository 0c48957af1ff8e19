"""Pages of releasing: models (deploy, roll back), comparison, A/B tests (promote, roll back)."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.gateway.dashboard import charts, data
from services.gateway.dashboard.client import V1, ApiError
from services.gateway.dashboard.rendering import Pages, form_of, number_field, with_notice

ACTOR = "dashboard"


def model_routes(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/models")
    async def models(request: Request) -> Response:
        async def load(v1: V1) -> dict[str, Any]:
            return {"models": await data.models(v1)}

        return await pages.page(request, "models.html", load, "listing models")

    @router.get("/models/{name}")
    async def model(request: Request, name: str) -> Response:
        async def load(v1: V1) -> dict[str, Any]:
            return await data.model_detail(v1, name)

        return await pages.page(request, "model.html", load, "opening the model")

    @router.post("/models/{name}/deploy")
    async def deploy(request: Request, name: str) -> Response:
        form = await form_of(request)

        async def act(v1: V1) -> str:
            version, alias = int(form.get("version") or 0), form.get("alias") or "production"
            await v1.post(
                f"/v1/registry/models/{name}/deployments",
                {"version": version, "alias": alias, "notes": form.get("note", ""), "actor": ACTOR},
            )
            return with_notice(f"/models/{name}", f"Version {version} now serves {alias}.")

        return await pages.act(request, act, "deploying the version")

    @router.post("/models/{name}/rollback")
    async def rollback(request: Request, name: str) -> Response:
        form = await form_of(request)

        async def act(v1: V1) -> str:
            alias = form.get("alias") or "production"
            moved = await v1.post(
                f"/v1/registry/models/{name}/aliases/{alias}/rollback",
                {"notes": form.get("note", ""), "actor": ACTOR},
            )
            return with_notice(
                f"/models/{name}", f"{alias} rolled back: version {moved['version']} serves it."
            )

        return await pages.act(request, act, "rolling back")

    return router


def all_metrics(version: dict[str, Any]) -> dict[str, float]:
    kinds = ("training_metrics", "quality_metrics", "performance_metrics", "cost")
    return {k: v for kind in kinds for k, v in (version.get(kind) or {}).items()}


def compare_routes(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/compare")
    async def compare(
        request: Request,
        model: str = "",
        a: int | None = None,
        b: int | None = None,
        evaluation: str = "",
    ) -> Response:
        async def load(v1: V1) -> dict[str, Any]:
            context: dict[str, Any] = {"model": model, "a": a, "b": b, "evaluation": None}
            context["models"] = await data.models(v1)
            if model:
                context["versions"] = sorted(
                    await data.versions(v1, model), key=lambda v: -int(v["version"])
                )
            if model and a and b:
                comparison = await v1.get(f"/v1/registry/models/{model}/compare", a=a, b=b)
                context["comparison"] = comparison
                context["metrics_a"] = all_metrics(comparison["a"])
                context["metrics_b"] = all_metrics(comparison["b"])
            if evaluation:
                view, outputs = await asyncio.gather(
                    v1.get(f"/v1/evaluations/{evaluation}"),
                    v1.get(f"/v1/evaluations/{evaluation}/outputs", limit=50),
                )
                context.update(evaluation=view, outputs=outputs)
            return context

        return await pages.page(request, "compare.html", load, "comparing versions")

    @router.post("/compare/outputs")
    async def evaluate(request: Request) -> Response:
        """Run both versions on the prompts (typed, or the test split of their dataset)."""
        form = await form_of(request)
        model, a, b = form.get("model", ""), int(form.get("a") or 0), int(form.get("b") or 0)

        async def act(v1: V1) -> str:
            left, right = await asyncio.gather(
                v1.get(f"/v1/registry/models/{model}/versions/{a}"),
                v1.get(f"/v1/registry/models/{model}/versions/{b}"),
            )
            body: dict[str, Any] = {"models": [left["serving_name"], right["serving_name"]]}
            prompts = [line.strip() for line in form.get("prompts", "").splitlines()]
            if any(prompts):
                body["prompts"] = [{"prompt": p} for p in prompts if p]
            else:
                sha = await data.test_split_of(v1, right["dataset"], right["dataset_version"])
                if sha is None:
                    raise ApiError(
                        422,
                        "no_prompts",
                        "these versions have no test split to compare on: type a few "
                        "prompts, one per line",
                    )
                body["dataset_sha256"] = sha
            view = await v1.post("/v1/evaluations", body)
            return f"/compare?model={model}&a={a}&b={b}&evaluation={view['evaluation_id']}"

        return await pages.act(request, act, "starting the comparison")

    return router


def experiment_routes(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/experiments")
    async def experiments(request: Request) -> Response:
        async def load(v1: V1) -> dict[str, Any]:
            return {"experiments": await data.experiments_with_views(v1)}

        return await pages.page(request, "experiments.html", load, "listing A/B tests")

    @router.get("/experiments/{experiment_id}")
    async def experiment(request: Request, experiment_id: str) -> Response:
        async def load(v1: V1) -> dict[str, Any]:
            detail = await data.experiment_detail(v1, experiment_id)
            view = detail["view"] or {}
            metric = view.get("primary_metric") or detail["experiment"]["primary_metric"]
            detail["arms_chart"] = charts.interval_chart(
                f"{metric} per arm with 95 % intervals", detail["arms"], None
            )
            detail["difference_chart"] = charts.interval_chart(
                "Difference from the current version (always-valid interval)",
                detail["differences"],
                0.0,
            )
            return detail

        return await pages.page(request, "experiment.html", load, "opening the A/B test")

    @router.post("/experiments")
    async def start(request: Request) -> Response:
        form = await form_of(request)

        async def act(v1: V1) -> str:
            created = await v1.post("/v1/experiments", experiment_request(form))
            target = f"/experiments/{created['id']}" + ("?guided=1" if form.get("guided") else "")
            return with_notice(target, "The A/B test is running.")

        return await pages.act(request, act, "starting the A/B test")

    @router.post("/experiments/{experiment_id}/promote")
    async def promote(request: Request, experiment_id: str) -> Response:
        form = await form_of(request)

        async def act(v1: V1) -> str:
            await promote_treatment(v1, experiment_id, form.get("note", ""))
            return with_notice(
                f"/experiments/{experiment_id}", "Promoted: the new version serves everyone."
            )

        return await pages.act(request, act, "promoting the new version")

    @router.post("/experiments/{experiment_id}/rollback")
    async def rollback(request: Request, experiment_id: str) -> Response:
        form = await form_of(request)

        async def act(v1: V1) -> str:
            await roll_back_treatment(v1, experiment_id, form.get("note", ""))
            return with_notice(
                f"/experiments/{experiment_id}",
                "Rolled back: the current version serves everyone again.",
            )

        return await pages.act(request, act, "rolling back the new version")

    return router


def experiment_request(form: dict[str, str]) -> dict[str, Any]:
    """The router's ``ExperimentCreate`` from the A/B form (weight slider in percent)."""
    share = number_field(form, "weight_percent", 50, "Share of traffic for the new version") / 100
    return {
        "name": form.get("name", ""),
        "model_name": form.get("model_name", ""),
        "control": {
            "name": "current",
            "serving_name": form.get("control", ""),
            "weight": round(1 - share, 4),
        },
        "treatments": [{"name": "new", "serving_name": form.get("treatment", ""), "weight": share}],
        "primary_metric": form.get("metric") or "gold_star_rate",
        "minimum_detectable_effect": number_field(form, "effect", 0.05, "Smallest difference"),
        "stopping": {
            "min_units_per_arm": int(number_field(form, "min_units", 100, "Users per version")),
            "auto_promote": form.get("auto_promote") == "on",
        },
    }


async def promote_treatment(v1: V1, experiment_id: str, note: str) -> None:
    detail = await data.experiment_detail(v1, experiment_id)
    experiment, treatment = detail["experiment"], detail["treatment"]
    version = await data.version_by_serving_name(
        v1, experiment["model_name"], treatment["serving_name"]
    )
    if version is None:
        raise ApiError(404, "version_not_found", "the new version is no longer in the registry")
    alias = experiment["stopping"]["alias"]
    if detail["production"] != version["version"]:
        await v1.post(
            f"/v1/registry/models/{experiment['model_name']}/deployments",
            {
                "version": version["version"],
                "alias": alias,
                "notes": note,
                "actor": ACTOR,
                "justification": (detail["view"] or {}).get("summary") or None,
            },
        )
    if experiment["status"] == "running":
        await stop_experiment(v1, experiment_id)


async def stop_experiment(v1: V1, experiment_id: str) -> None:
    """End the A/B test; one the evaluator concluded meanwhile (409, stopped) is fine too."""
    try:
        await v1.post(f"/v1/experiments/{experiment_id}/stop")
    except ApiError as exc:
        if exc.status != 409:
            raise


async def roll_back_treatment(v1: V1, experiment_id: str, note: str) -> None:
    detail = await data.experiment_detail(v1, experiment_id)
    experiment, treatment = detail["experiment"], detail["treatment"]
    if experiment["status"] == "running":
        await stop_experiment(v1, experiment_id)
    version = await data.version_by_serving_name(
        v1, experiment["model_name"], treatment["serving_name"]
    )
    if version is not None and detail["production"] == version["version"]:
        alias = experiment["stopping"]["alias"]
        await v1.post(
            f"/v1/registry/models/{experiment['model_name']}/aliases/{alias}/rollback",
            {"notes": note, "actor": ACTOR},
        )


__all__ = [
    "compare_routes",
    "experiment_request",
    "experiment_routes",
    "model_routes",
    "promote_treatment",
    "roll_back_treatment",
]
