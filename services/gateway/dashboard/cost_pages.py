"""Costs and return on investment: where the money went, and whether fine-tuning pays off."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.gateway.dashboard import charts, data
from services.gateway.dashboard.client import V1, ApiError
from services.gateway.dashboard.rendering import Pages, form_of, number_field

ROI_DEFAULTS = {
    "base_accuracy": "0.80",
    "tuned_accuracy": "0.90",
    "calls_per_month": "10000",
    "value_per_error_usd": "1",
    "horizon_months": "6",
}


def daily_chart(daily: dict[str, Any]) -> Any:
    labels = [str(day) for day in daily["days"]]
    series = [
        charts.Series(s["name"], [(i, float(v)) for i, v in enumerate(s["values"])])
        for s in daily["series"]
    ]
    return charts.bar_chart("Cost per day (USD)", labels, series, "USD")


def roi_request(form: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "base_accuracy": number_field(form, "base_accuracy", 0.8, "Accuracy before"),
        "tuned_accuracy": number_field(form, "tuned_accuracy", 0.9, "Accuracy after"),
        "calls_per_month": int(number_field(form, "calls_per_month", 0, "Calls per month")),
        "value_per_error_usd": form.get("value_per_error_usd") or "1",
        "horizon_months": int(number_field(form, "horizon_months", 6, "Months")),
    }
    for name in ("serving_name", "baseline", "training_cost_usd"):
        if form.get(name):
            body[name] = form[name]
    if "training_cost_usd" not in body and "serving_name" not in body:
        body["training_cost_usd"] = "0"
    for name, ledger_key in (
        ("base_cost_per_call_usd", "baseline"),
        ("tuned_cost_per_call_usd", "serving_name"),
    ):
        if form.get(name) or ledger_key not in body:
            body[name] = form.get(name) or "0"  # without a version, nothing to read from the ledger
    return body


def cost_routes(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def load(v1: V1) -> dict[str, Any]:
        context = await data.costs(v1)
        context.update(chart=daily_chart(context["daily"]), roi=None, roi_error=None)
        context["form"] = ROI_DEFAULTS
        return context

    @router.get("/costs")
    async def costs(request: Request) -> Response:
        return await pages.page(request, "costs.html", load, "loading costs")

    @router.post("/costs/roi")
    async def roi(request: Request) -> Response:
        form = await form_of(request)

        async def calculate(v1: V1) -> dict[str, Any]:
            context = await load(v1)
            context["form"] = {**ROI_DEFAULTS, **form}
            try:
                context["roi"] = await v1.post("/v1/costs/roi", roi_request(form))
            except ApiError as error:
                if error.status in (401, 403):
                    raise
                context["roi_error"] = error
            return context

        return await pages.page(request, "costs.html", calculate, "calculating the ROI")

    return router


__all__ = ["cost_routes", "daily_chart", "roi_request"]
