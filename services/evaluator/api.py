"""The evaluator's HTTP API: experiment statistics and verdicts, offline evaluations."""

from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse

from contracts.api.errors import ErrorBody, ErrorInfo
from contracts.api.evaluations import ExperimentView
from libs.runtime.health import VERSION
from services.evaluator.errors import EvaluatorError
from services.evaluator.experiments import Experiments

Tenant = Annotated[
    str, Header(alias="X-Tuneloop-Tenant", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)
]
ERRORS = {code: {"model": ErrorBody} for code in (404, 422)}


def experiment_routes(experiments: Experiments) -> APIRouter:
    router = APIRouter(prefix="/v1/evaluations", tags=["experiments"], responses=ERRORS)  # type: ignore[arg-type]

    @router.get("/experiments/{experiment_id}", response_model=ExperimentView)
    async def experiment(experiment_id: str, tenant: Tenant = "default") -> ExperimentView:
        """Per-arm statistics, always-valid intervals, SRM check and the verdict in words."""
        return await experiments.describe(tenant, experiment_id)

    return router


async def evaluator_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EvaluatorError)
    body = ErrorBody(error=ErrorInfo(code=exc.code, message=exc.message))
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=exc.status)


def create_api(experiments: Experiments) -> FastAPI:
    api = FastAPI(
        title="tuneloop evaluator",
        version=VERSION,
        description="Online experiment statistics and offline evaluations of models.",
    )
    api.include_router(experiment_routes(experiments))
    api.add_exception_handler(EvaluatorError, evaluator_error)
    return api


__all__ = ["create_api"]
