"""The registry's HTTP API: thin routes over :class:`Registry`."""

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.responses import JSONResponse

from contracts.api.errors import ErrorBody, ErrorInfo
from contracts.api.registry import (
    AliasPublic,
    ArchiveRequest,
    DeploymentRecord,
    DeployRequest,
    ImportSummary,
    ModelPublic,
    RegisterRequest,
    RegistryExport,
    RollbackRequest,
    VersionComparison,
    VersionPublic,
)
from libs.runtime.health import VERSION
from libs.tenancy import Tenant
from services.registry import queries
from services.registry.errors import RegistryError
from services.registry.registry import Registry

ERRORS = {code: {"model": ErrorBody} for code in (404, 409, 422)}


def registry_routes(registry: Registry) -> APIRouter:
    router = APIRouter(prefix="/v1/registry", tags=["registry"], responses=ERRORS)  # type: ignore[arg-type]

    @router.get("/models", response_model=list[ModelPublic])
    async def list_models(tenant: Tenant = "default") -> list[ModelPublic]:
        """Every model of the tenant with its aliases."""
        return await registry.read(lambda s: queries.list_models(s, tenant))

    @router.post("/models", response_model=VersionPublic, status_code=status.HTTP_201_CREATED)
    async def register(body: RegisterRequest, tenant: Tenant = "default") -> VersionPublic:
        """Register a version by hand: an adapter in the artifact store or an external model."""
        return await registry.register(tenant, body)

    @router.get("/models/{model_name}/versions", response_model=list[VersionPublic])
    async def list_versions(
        model_name: str,
        tenant: Tenant = "default",
        status: str | None = None,
        base_model: str | None = None,
    ) -> list[VersionPublic]:
        return await registry.read(
            lambda s: queries.list_versions(s, tenant, model_name, status, base_model)
        )

    @router.get("/models/{model_name}/versions/{version}", response_model=VersionPublic)
    async def get_version(
        model_name: str, version: int, tenant: Tenant = "default"
    ) -> VersionPublic:
        return await registry.read(
            lambda s: queries.describe_version(s, tenant, model_name, version)
        )

    @router.post("/models/{model_name}/versions/{version}/archive", response_model=VersionPublic)
    async def archive(
        model_name: str, version: int, body: ArchiveRequest, tenant: Tenant = "default"
    ) -> VersionPublic:
        """Retire a version; refused while an alias serves it."""
        return await registry.archive(tenant, model_name, version, body)

    @router.post("/models/{model_name}/deployments", response_model=AliasPublic)
    async def deploy(
        model_name: str, body: DeployRequest, tenant: Tenant = "default"
    ) -> AliasPublic:
        """Point an alias at a version (409 if `expected_revision` is stale)."""
        return await registry.deploy(tenant, model_name, body)

    @router.get("/models/{model_name}/aliases/{alias}", response_model=AliasPublic)
    async def serving_now(model_name: str, alias: str, tenant: Tenant = "default") -> AliasPublic:
        """What the alias serves now."""
        return await registry.read(lambda s: queries.serving_now(s, tenant, model_name, alias))

    @router.post("/models/{model_name}/aliases/{alias}/rollback", response_model=AliasPublic)
    async def roll_back(
        model_name: str, alias: str, body: RollbackRequest, tenant: Tenant = "default"
    ) -> AliasPublic:
        """Point the alias back at its previous version, or at `to_version`."""
        return await registry.roll_back(tenant, model_name, alias, body)

    @router.get("/models/{model_name}/history", response_model=list[DeploymentRecord])
    async def history(
        model_name: str, tenant: Tenant = "default", alias: str | None = None
    ) -> list[DeploymentRecord]:
        """Every deploy, rollback and archive, oldest first."""
        return await registry.read(lambda s: queries.history(s, tenant, model_name, alias))

    @router.get("/models/{model_name}/compare", response_model=VersionComparison)
    async def compare(
        model_name: str, a: int, b: int, tenant: Tenant = "default"
    ) -> VersionComparison:
        """Two versions' lineage, configs and metrics side by side."""
        return await registry.read(lambda s: queries.compare(s, tenant, model_name, a, b))

    @router.get("/export", response_model=RegistryExport)
    async def export(tenant: Tenant = "default") -> RegistryExport:
        return await registry.export_registry(tenant)

    @router.post("/import", response_model=ImportSummary, status_code=status.HTTP_201_CREATED)
    async def import_(body: RegistryExport, tenant: Tenant = "default") -> ImportSummary:
        return await registry.import_registry(tenant, body)

    return router


async def registry_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RegistryError)
    body = ErrorBody(error=ErrorInfo(code=exc.code, message=exc.message))
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=exc.status)


def create_api(registry: Registry) -> FastAPI:
    api = FastAPI(
        title="tuneloop registry",
        version=VERSION,
        description="Model versions, aliases and their deployment history.",
    )
    api.include_router(registry_routes(registry))
    api.add_exception_handler(RegistryError, registry_error)
    return api


__all__ = ["create_api"]
