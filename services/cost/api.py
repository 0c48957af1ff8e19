"""The cost service's HTTP API: thin routes over :class:`Costs`."""

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from contracts.api.cost import (
    BudgetCheckRequest,
    BudgetCreate,
    BudgetPublic,
    CostSummary,
    DailyCosts,
    Estimate,
    EstimateRequest,
    HostingComparison,
    HostingComparisonRequest,
    LedgerPage,
    PriceEdit,
    PriceTable,
    PriceVersionSummary,
    RoiReport,
    RoiRequest,
    SummaryGroup,
)
from contracts.api.errors import ErrorBody, ErrorInfo, FieldError
from contracts.envelope import utc_now
from contracts.events.cost import CostKind
from contracts.queries import BudgetCheckReply
from libs.runtime.health import VERSION
from libs.tenancy import Tenant
from services.cost import price_book, reports
from services.cost.costs import Costs
from services.cost.errors import CostError, InvalidRequest

ERRORS = {code: {"model": ErrorBody} for code in (404, 409, 422, 429)}
MAX_DAYS = 366


def price_routes(costs: Costs) -> APIRouter:
    router = APIRouter(prefix="/v1/prices", tags=["prices"], responses=ERRORS)  # type: ignore[arg-type]

    @router.get("", response_model=PriceTable)
    async def current_prices(tenant: Tenant = "default") -> PriceTable:
        """The tenant's current price table (version 0 is the shipped default)."""
        return await costs.read(lambda s: price_book.price_table(s, tenant))

    @router.post("", response_model=PriceTable, status_code=status.HTTP_201_CREATED)
    async def edit_prices(body: PriceEdit, tenant: Tenant = "default") -> PriceTable:
        """Save the current table with these changes as a new version."""
        return await costs.edit_prices(tenant, body)

    @router.get("/versions", response_model=list[PriceVersionSummary])
    async def versions(tenant: Tenant = "default") -> list[PriceVersionSummary]:
        return await costs.read(lambda s: price_book.price_versions(s, tenant))

    @router.get("/versions/{version}", response_model=PriceTable)
    async def version(version: int, tenant: Tenant = "default") -> PriceTable:
        return await costs.read(lambda s: price_book.price_table(s, tenant, version))

    return router


def cost_routes(costs: Costs) -> APIRouter:
    router = APIRouter(prefix="/v1/costs", tags=["costs"], responses=ERRORS)  # type: ignore[arg-type]

    @router.post("/estimate", response_model=Estimate)
    async def estimate(body: EstimateRequest, tenant: Tenant = "default") -> Estimate:
        """Trained tokens, hosted cost, and wall time and cost on each kind of hardware."""
        return await costs.estimate(tenant, body)

    @router.get("/ledger", response_model=LedgerPage)
    async def ledger(
        tenant: Tenant = "default",
        since: datetime | None = None,
        until: datetime | None = None,
        kind: CostKind | None = None,
        serving_name: str | None = None,
        model: str | None = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> LedgerPage:
        query = reports.ledger_query(tenant, since, until, kind, serving_name, model)
        return await costs.read(lambda s: reports.ledger_page(s, query, offset, limit))

    @router.get("/summary", response_model=CostSummary)
    async def summary(
        tenant: Tenant = "default",
        group_by: SummaryGroup = "day",
        since: datetime | None = None,
        until: datetime | None = None,
        kind: CostKind | None = None,
    ) -> CostSummary:
        """Totals grouped by model, serving name (version), day, kind or tenant."""
        query = reports.ledger_query(tenant, since, until, kind)
        return await costs.read(lambda s: reports.summary(s, query, group_by, since, until))

    @router.get("/daily", response_model=DailyCosts)
    async def daily(
        tenant: Tenant = "default", first: date | None = None, last: date | None = None
    ) -> DailyCosts:
        """Chart-ready training and inference cost per day (the last 30 days by default)."""
        last = last or utc_now().date()
        first = first or last - timedelta(days=29)
        if first > last or (last - first).days >= MAX_DAYS:
            raise InvalidRequest(
                f"`first` must be on or before `last` and at most {MAX_DAYS} days before it",
                field="first",
            )
        return await costs.read(lambda s: reports.daily_costs(s, tenant, first, last))

    @router.post("/roi", response_model=RoiReport)
    async def roi(body: RoiRequest, tenant: Tenant = "default") -> RoiReport:
        """Return on a fine-tuned version against its baseline."""
        return await costs.roi(tenant, body)

    @router.post("/hosting", response_model=HostingComparison)
    async def hosting(
        body: HostingComparisonRequest, tenant: Tenant = "default"
    ) -> HostingComparison:
        """A hosted fine-tuned API model against a self-hosted adapter for the same task."""
        return await costs.compare_hosting(tenant, body)

    return router


def budget_routes(costs: Costs) -> APIRouter:
    router = APIRouter(prefix="/v1/budgets", tags=["budgets"], responses=ERRORS)  # type: ignore[arg-type]

    @router.get("", response_model=list[BudgetPublic])
    async def list_budgets(tenant: Tenant = "default") -> list[BudgetPublic]:
        return await costs.list_budgets(tenant)

    @router.post("", response_model=BudgetPublic, status_code=status.HTTP_201_CREATED)
    async def create_budget(body: BudgetCreate, tenant: Tenant = "default") -> BudgetPublic:
        return await costs.create_budget(tenant, body)

    @router.delete("/{budget_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_budget(budget_id: str, tenant: Tenant = "default") -> Response:
        await costs.delete_budget(tenant, budget_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/check", response_model=BudgetCheckReply)
    async def check(body: BudgetCheckRequest, tenant: Tenant = "default") -> JSONResponse:
        """200 when the work fits every budget; 429 `budget_exceeded` when it does not."""
        reply = await costs.check_budget(tenant, body.kind, body.estimated_usd, body.job_id)
        if reply.allowed:
            return JSONResponse(reply.model_dump(mode="json"))
        return error_response(429, "budget_exceeded", reply.message)

    return router


def error_response(
    status_code: int, code: str, message: str, errors: list[FieldError] | None = None
) -> JSONResponse:
    info = ErrorInfo(
        code=code,
        message=message,
        errors=errors or [],
        total_errors=len(errors) if errors else None,
    )
    return JSONResponse(
        ErrorBody(error=info).model_dump(mode="json", exclude_none=True), status_code=status_code
    )


async def cost_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CostError)
    errors = (
        [FieldError(line=exc.line, field=exc.field, code=exc.code, message=exc.message)]
        if exc.field or exc.line
        else []
    )
    return error_response(exc.status, exc.code, exc.message, errors)


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(
            field=".".join(str(part) for part in error["loc"][1:]) or None,
            code=error["type"],
            message=error["msg"],
        )
        for error in exc.errors()
    ]
    first = errors[0] if errors else None
    where = f" (field `{first.field}`: {first.message})" if first and first.field else ""
    return error_response(
        422, "invalid_request", f"the request is not valid{where}; fix it and retry", errors
    )


def create_api(costs: Costs) -> FastAPI:
    api = FastAPI(
        title="tuneloop cost",
        version=VERSION,
        description="Price tables, estimates, the cost ledger, ROI and budgets. Money is an "
        "exact decimal written as a string.",
    )
    api.include_router(price_routes(costs))
    api.include_router(cost_routes(costs))
    api.include_router(budget_routes(costs))
    api.add_exception_handler(CostError, cost_error)
    api.add_exception_handler(RequestValidationError, validation_error)
    return api


__all__ = ["create_api"]
