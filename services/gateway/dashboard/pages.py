"""Pages of data and training: overview, datasets (with uploads) and jobs."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.params import File, Form
from fastapi.responses import JSONResponse, Response

from services.gateway.dashboard import charts, data, explain
from services.gateway.dashboard.client import V1, ApiError
from services.gateway.dashboard.owners import owners
from services.gateway.dashboard.rendering import Pages, with_notice
from services.gateway.dashboard.session import key_of, to_login

JOBS_PER_PAGE = 25
JOB_FILTERS: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "active": explain.ACTIVE_JOB_STATUSES,
    **{status: (status,) for status in explain.JOB_STATUS_WORDS},
}
"""What the jobs page's "Show" choices ask the API for (it filters; ``None``: every job)."""
UPLOAD_FORMATS = ("auto", "openai-chat", "prompt-completion", "alpaca", "sharegpt", "csv")


def loss_chart(loss: list[charts.Series]) -> Any:
    return charts.line_chart("Loss by training step", loss, "step", "loss")


def overview_routes(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def overview(request: Request) -> Response:
        return await pages.page(request, "overview.html", data.overview, "loading the overview")

    return router


def dataset_routes(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def listing(v1: V1) -> dict[str, Any]:
        rows, summary = (
            await data.datasets(v1),
            await data.optional(data.example_summary(v1, {}), None),
        )
        return {"datasets": rows, "summary": summary, "formats": UPLOAD_FORMATS}

    @router.get("/datasets")
    async def datasets(request: Request) -> Response:
        return await pages.page(request, "datasets.html", listing, "listing datasets")

    @router.get("/datasets/{version_id}")
    async def dataset(request: Request, version_id: str) -> Response:
        async def load(v1: V1) -> dict[str, Any]:
            return await data.dataset_version(v1, version_id)

        return await pages.page(request, "dataset.html", load, "opening the dataset")

    @router.post("/datasets/upload")
    async def upload(
        request: Request,
        file: Annotated[UploadFile, File()],
        mode: Annotated[str, Form()] = "strict",
        format: Annotated[str, Form()] = "auto",
        domain: Annotated[str, Form()] = "",
        task_type: Annotated[str, Form()] = "",
    ) -> Response:
        """Forward the file; show what was stored and every refused line."""
        if key_of(request) is None:
            return to_login(request)
        params = {"mode": "lenient" if mode == "lenient" else "strict", "format": format}
        params.update({k: v for k, v in (("domain", domain), ("task_type", task_type)) if v})
        content = await file.read()
        try:
            report = await pages.v1(request).upload(
                "/v1/datasets/uploads", file.filename or "upload", content, params
            )
        except ApiError as error:
            if error.status in (401, 403, 503):
                return pages.failure(request, error, "uploading the file")
            return pages.render(
                request,
                "upload.html",
                status_code=error.status,
                report=None,
                error=error,
                file=file.filename,
            )
        return pages.render(request, "upload.html", report=report, error=None, file=file.filename)

    return router


def job_routes(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/jobs")
    async def jobs(
        request: Request, status: str = "all", owner: str = "", after: str | None = None
    ) -> Response:
        async def load(v1: V1) -> dict[str, Any]:
            if status not in JOB_FILTERS:
                raise ApiError(
                    400,
                    "unknown_status",
                    f"there is no job status {status[:40]!r}; choose one in the list",
                )
            (rows, more), started_by = await asyncio.gather(
                data.job_page(v1, JOB_FILTERS[status], after, JOBS_PER_PAGE, owner.strip() or None),
                owners(v1, key_of(request)),
            )
            shown = [await data.job_with_progress(v1, job) for job in rows]
            older = rows[-1]["id"] if more and rows else None
            return {
                "jobs": shown,
                "status": status,
                "owner": owner.strip(),
                "owners": started_by,
                "after": after,
                "older": older,
            }

        return await pages.page(request, "jobs.html", load, "listing training jobs")

    @router.get("/jobs/{job_id}")
    async def job(request: Request, job_id: str) -> Response:
        async def load(v1: V1) -> dict[str, Any]:
            detail = await data.job_detail(v1, job_id)
            return {**detail, "chart": loss_chart(detail["loss"])}

        return await pages.page(request, "job.html", load, "opening the training job")

    @router.get("/jobs/{job_id}/live")
    async def live(request: Request, job_id: str) -> Response:
        """Fragments of the job page, for the page to refresh itself while training runs."""
        return await job_fragments(pages, request, job_id)

    @router.post("/jobs/{job_id}/cancel")
    async def cancel(request: Request, job_id: str) -> Response:
        async def act(v1: V1) -> str:
            await v1.post(f"/v1/fine_tuning/jobs/{job_id}/cancel")
            return with_notice(f"/jobs/{job_id}", "Cancellation requested: the job stops soon.")

        return await pages.act(request, act, "cancelling the job")

    return router


async def job_fragments(pages: Pages, request: Request, job_id: str) -> Response:
    if key_of(request) is None:
        return JSONResponse({"error": {"code": "signed_out", "message": "sign in"}}, 401)
    try:
        detail = await data.job_detail(pages.v1(request), job_id)
    except ApiError as error:
        return JSONResponse({"error": {"code": error.code, "message": error.message}}, error.status)
    render = pages.templates.get_template
    return JSONResponse(
        {
            "status": detail["job"]["status"],
            "done": not detail["active"],
            "fragments": {
                "progress": render("_progress.html").render(**detail),
                "chart": str(loss_chart(detail["loss"])),
                "events": render("_events.html").render(**detail),
            },
        }
    )


__all__ = ["dataset_routes", "job_fragments", "job_routes", "loss_chart", "overview_routes"]
