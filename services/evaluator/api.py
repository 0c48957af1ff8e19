"""The evaluator's HTTP API: experiment statistics and verdicts, offline evaluations."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request, status
from fastapi.responses import JSONResponse

from contracts.api.errors import ErrorBody, ErrorInfo
from contracts.api.evaluations import EvaluationRequest, EvaluationView, ExperimentView, SideBySide
from libs.runtime.health import VERSION
from libs.tenancy import Tenant
from services.evaluator.errors import EvaluatorError
from services.evaluator.evaluations import Evaluations
from services.evaluator.experiments import Experiments

ERRORS = {code: {"model": ErrorBody} for code in (404, 422)}


def experiment_routes(experiments: Experiments) -> APIRouter:
    router = APIRouter(prefix="/v1/evaluations", tags=["experiments"], responses=ERRORS)  # type: ignore[arg-type]

    @router.get("/experiments/{experiment_id}", response_model=ExperimentView)
    async def experiment(experiment_id: str, tenant: Tenant = "default") -> ExperimentView:
        """Per-arm statistics, always-valid intervals, SRM check and the verdict in words."""
        return await experiments.describe(tenant, experiment_id)

    return router


def evaluation_routes(evaluations: Evaluations) -> APIRouter:
    router = APIRouter(prefix="/v1/evaluations", tags=["evaluations"], responses=ERRORS)  # type: ignore[arg-type]

    @router.post("", response_model=EvaluationView, status_code=status.HTTP_202_ACCEPTED)
    async def start(body: EvaluationRequest, tenant: Tenant = "default") -> EvaluationView:
        """Run prompts (inline or a chat JSONL dataset) through the models; poll for results."""
        return await evaluations.create(tenant, body)

    @router.get("/{evaluation_id}", response_model=EvaluationView)
    async def evaluation(evaluation_id: str, tenant: Tenant = "default") -> EvaluationView:
        """Progress, metrics per model, pairwise comparisons and the summary."""
        return await evaluations.view(tenant, evaluation_id)

    @router.get("/{evaluation_id}/outputs", response_model=SideBySide)
    async def outputs(
        evaluation_id: str,
        tenant: Tenant = "default",
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> SideBySide:
        """Every model's answer to each prompt, side by side."""
        return await evaluations.side_by_side(tenant, evaluation_id, offset, limit)

    return router


async def evaluator_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EvaluatorError)
    body = ErrorBody(
        error=ErrorInfo(
            code=exc.code,
            message=exc.message,
            errors=exc.errors,
            total_errors=len(exc.errors) or None,
        )
    )
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=exc.status)


def create_api(experiments: Experiments, evaluations: Evaluations) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """Evaluations a stopped process left running go on; stopping cancels them (they
        resume from the answers already stored)."""
        await evaluations.resume_unfinished()
        yield
        await evaluations.close()

    api = FastAPI(
        lifespan=lifespan,
        title="tuneloop evaluator",
        version=VERSION,
        description="Online experiment statistics and offline evaluations of models.",
    )
    api.include_router(experiment_routes(experiments))
    api.include_router(evaluation_routes(evaluations))
    api.add_exception_handler(EvaluatorError, evaluator_error)
    return api


__all__ = ["create_api"]
