"""Routes of live updates: a job's progress and an experiment's updates as SSE."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse

from services.gateway.auth import Gatekeeper
from services.gateway.keystore import Caller
from services.gateway.live import LiveEvents, Selection, start_sequence

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."}
}


def live_routes(gatekeeper: Gatekeeper, live: LiveEvents) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["live"])

    async def reader(request: Request) -> Caller:
        return await gatekeeper.authorise(request)

    Reader = Annotated[Caller, Depends(reader)]  # noqa: N806
    LastEventId = Annotated[str | None, Header(alias="Last-Event-ID")]  # noqa: N806

    def respond(selection: Selection, last_event_id: str | None) -> StreamingResponse:
        return StreamingResponse(
            live.stream(selection, start_sequence(last_event_id)),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )

    @router.get(
        "/fine_tuning/jobs/{job_id}/stream",
        response_class=StreamingResponse,
        responses=SSE_RESPONSE,
    )
    async def job_stream(
        job_id: str, caller: Reader, last_event_id: LastEventId = None
    ) -> StreamingResponse:
        """The job's events as they happen (`job.progress` carries the loss); send
        `Last-Event-ID` to replay from there."""
        selection = Selection("job", caller.tenant, lambda e: e.get("job_id") == job_id)
        return respond(selection, last_event_id)

    @router.get(
        "/experiments/{experiment_id}/stream",
        response_class=StreamingResponse,
        responses=SSE_RESPONSE,
    )
    async def experiment_stream(
        experiment_id: str, caller: Reader, last_event_id: LastEventId = None
    ) -> StreamingResponse:
        """The experiment's updates (statistics, ramps, verdict) as they happen."""
        selection = Selection(
            "experiment", caller.tenant, lambda e: e.get("experiment_id") == experiment_id
        )
        return respond(selection, last_event_id)

    return router


__all__ = ["live_routes"]
