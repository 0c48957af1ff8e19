"""Server-sent events for the pages: a job's, an A/B test's, an evaluation's, a model's or a
retraining run's events, read from JetStream for the signed-in user, so a page refreshes its
parts when something happened instead of polling (a model's: registered, deployed, and routed
by the router, which is when a new version answers; a run's: triggered, each step, the end).

A browser's ``EventSource`` cannot send ``Authorization``, so these routes take the session's
key (its cookie) and check it exactly as ``/v1/.../stream`` checks a bearer key (same tenant,
same scope). Every event is named ``update`` (the page looks at its ``type``); ``ready`` comes
first, once the subscription is in place, so the page catches up with anything that happened
before. Reconnections resume after ``Last-Event-ID`` (browsers send it themselves).
"""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from services.gateway.auth import Denied, Gatekeeper
from services.gateway.dashboard.session import key_of
from services.gateway.live import LiveEvents, Matches, Selection, sse, start_sequence

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
READY = sse("ready", "{}")


def live_page_routes(gatekeeper: Gatekeeper, live: LiveEvents) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def stream(request: Request, api_path: str, concern: str, matches: Matches) -> Response:
        try:
            caller = await gatekeeper.caller_for(key_of(request))
            gatekeeper.check_scope(caller, "GET", api_path)
        except Denied as denied:
            body = {"error": {"code": denied.code, "message": denied.message}}
            return JSONResponse(body, status_code=denied.status)
        start = start_sequence(request.headers.get("last-event-id"))
        events = live.stream(
            Selection(concern, caller.tenant, matches),
            start,
            greeting=READY,
            event_name="update",
        )
        return StreamingResponse(events, media_type="text/event-stream", headers=SSE_HEADERS)

    @router.get("/jobs/{job_id}/stream")
    async def job_stream(request: Request, job_id: str) -> Response:
        path = f"/v1/fine_tuning/jobs/{job_id}/stream"
        return await stream(request, path, "job", lambda e: e.get("job_id") == job_id)

    @router.get("/experiments/{experiment_id}/stream")
    async def experiment_stream(request: Request, experiment_id: str) -> Response:
        path = f"/v1/experiments/{experiment_id}/stream"
        return await stream(
            request, path, "experiment", lambda e: e.get("experiment_id") == experiment_id
        )

    @router.get("/evaluations/{evaluation_id}/stream")
    async def evaluation_stream(request: Request, evaluation_id: str) -> Response:
        path = f"/v1/evaluations/{evaluation_id}"
        return await stream(
            request, path, "evaluation", lambda e: e.get("evaluation_id") == evaluation_id
        )

    @router.get("/models/{model_name}/stream")
    async def model_stream(request: Request, model_name: str) -> Response:
        path = f"/v1/registry/models/{model_name}"
        return await stream(request, path, "model", lambda e: e.get("model_name") == model_name)

    @router.get("/retraining/runs/{run_id}/stream")
    async def retraining_run_stream(request: Request, run_id: str) -> Response:
        path = f"/v1/retraining/runs/{run_id}"
        return await stream(request, path, "retraining", lambda e: e.get("run_id") == run_id)

    return router


__all__ = ["READY", "live_page_routes"]
