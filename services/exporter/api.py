"""The exporter's HTTP routes: examples in, uploads, exports and dataset versions out."""

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response

from contracts.api.datasets import (
    DatasetDetail,
    DatasetList,
    DatasetPreview,
    ExamplesCreated,
    ExampleSummary,
    ExportFilters,
    ExportRequest,
    ExportStatus,
    UploadFormat,
    UploadReport,
)
from contracts.api.errors import ErrorBody, ErrorInfo, FieldError
from libs.runtime import ServiceContext
from libs.runtime.health import VERSION
from libs.tenancy import Tenant
from services.exporter import catalog
from services.exporter.examples import Provenance
from services.exporter.export import ExternalImportFailed, external_url
from services.exporter.export_runs import error_of, find_export, submit_export, wait_for_export
from services.exporter.intake import EXAMPLES_BODY, StoredExamples, store_examples
from services.exporter.runtime import Exporter
from services.exporter.summary import summarize
from services.exporter.upload_flow import (
    UploadEmpty,
    UploadRejected,
    field_errors,
    store_upload,
)
from services.exporter.uploads import UploadRefused, receive_upload

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such dataset version for this tenant."},
    422: {"model": ErrorBody, "description": "Invalid input; every problem is listed."},
}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
FILES = ("train", "test", "manifest", "lineage")


def error_response(
    status: int,
    code: str,
    message: str,
    errors: list[FieldError] | None = None,
    total: int | None = None,
) -> JSONResponse:
    body = ErrorBody(
        error=ErrorInfo(code=code, message=message, errors=errors or [], total_errors=total)
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def not_found(version_id: str) -> JSONResponse:
    return error_response(
        404, "dataset_not_found", f"no dataset version `{version_id}`; list them at /v1/datasets"
    )


EXAMPLES_BODY_SPEC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/ExampleIn"},
                        {"$ref": "#/components/schemas/ExampleBatch"},
                    ],
                    "title": "Body",
                }
            }
        },
    }
}
"""The body of ``POST /v1/examples``, which the route reads as bytes (see ``intake``)."""


def example_schemas() -> dict[str, Any]:
    """The JSON schemas of that body's models, for the spec's components."""
    schema = EXAMPLES_BODY.json_schema(ref_template="#/components/schemas/{model}")
    definitions: dict[str, Any] = schema["$defs"]
    return definitions


def examples_response(stored: StoredExamples) -> ExamplesCreated | JSONResponse:
    prepared = stored.prepared
    if prepared.request_errors:
        errors = prepared.request_errors
        return error_response(
            422, "invalid_request", "the request is not valid; see `errors`", errors, len(errors)
        )
    prefix = "examples[{}]." if prepared.is_batch else ""
    errors = [
        FieldError(
            field=prefix.format(c.line - 1) + (p.field or ""), code=p.code, message=p.message
        )
        for c in prepared.checked
        if c.line is not None
        for p in c.verdict.errors
    ]
    if errors:
        return error_response(
            422,
            "invalid_examples",
            f"{len(errors)} problem(s) in the examples; nothing was stored. "
            "Fix the fields listed in `errors` and send them again",
            errors,
            len(errors),
        )
    warnings = field_errors([w for c in prepared.checked for w in c.verdict.warnings])
    return ExamplesCreated(ids=stored.ids, warnings=warnings)


def example_routes(exporter: Exporter) -> APIRouter:
    router = APIRouter(tags=["examples"])

    @router.post(
        "/v1/examples",
        status_code=201,
        response_model=ExamplesCreated,
        responses=ERRORS,
        openapi_extra=EXAMPLES_BODY_SPEC,
    )
    async def add_examples(
        request: Request, tenant: Tenant = "default"
    ) -> ExamplesCreated | JSONResponse:
        """Store one rated example (`ExampleIn`) or a batch (`ExampleBatch`): all or none."""
        body = await request.body()
        stored = await store_examples(
            exporter.tools.database, exporter.intake, body, Provenance(tenant=tenant)
        )
        return examples_response(stored)

    @router.get("/v1/examples/summary", response_model=ExampleSummary)
    async def example_summary(
        tenant: Tenant = "default",
        min_rating: Annotated[int | None, Query(ge=1, le=5)] = None,
        gold_star_only: bool = False,
        domain: Annotated[str | None, Query(max_length=128)] = None,
        task_type: Annotated[str | None, Query(max_length=128)] = None,
        source: Annotated[str | None, Query(max_length=128)] = None,
        owner: Annotated[str | None, Query(max_length=128)] = None,
    ) -> ExampleSummary:
        """How many stored examples an export with these filters would consider (before
        de-duplication and validation), and the domains and task types there are."""
        filters = ExportFilters(
            min_rating=min_rating,
            gold_star_only=gold_star_only,
            domain=domain,
            task_type=task_type,
            source=source,
            owner=owner,
        )
        return await summarize(exporter.tools.database, tenant, filters)

    @router.post(
        "/v1/datasets/uploads",
        status_code=201,
        response_model=UploadReport,
        responses={**ERRORS, 413: {"model": ErrorBody, "description": "The file is too large."}},
        openapi_extra=UPLOAD_BODY,
    )
    async def upload(
        request: Request,
        tenant: Tenant = "default",
        mode: Literal["strict", "lenient"] = "strict",
        format: UploadFormat = "auto",
        source: Annotated[str, Query(max_length=128)] = "upload",
        domain: Annotated[str | None, Query(max_length=128)] = None,
        task_type: Annotated[str | None, Query(max_length=128)] = None,
        owner: Annotated[str | None, Query(max_length=128)] = None,
    ) -> UploadReport | JSONResponse:
        """Upload a file of examples (OpenAI chat JSONL, prompt/completion, Alpaca, ShareGPT,
        CSV). Strict mode stores every row or none; lenient keeps the valid rows."""
        provenance = Provenance(tenant, source, domain, task_type, owner)
        with tempfile.TemporaryDirectory(prefix="tuneloop-upload-") as directory:
            path = Path(directory) / "upload"
            try:
                filename = await receive_upload(
                    request.headers.get("content-type", ""),
                    request.stream(),
                    path,
                    exporter.upload_max_bytes,
                )
                return await store_upload(
                    exporter, path, filename, format, mode == "lenient", provenance
                )
            except UploadRefused as exc:
                return error_response(exc.status, exc.code, str(exc))
            except UploadEmpty as exc:
                return error_response(422, "empty_file", str(exc))
            except UploadRejected as exc:
                log = exc.errors
                return error_response(
                    422,
                    "invalid_rows",
                    f"{log.rows} row(s) of the {exc.format} file are invalid ({log.total} "
                    "problem(s)); nothing was stored. Fix them, or upload with ?mode=lenient "
                    "to keep the valid rows",
                    field_errors(log.kept),
                    log.total,
                )

    return router


def dataset_routes(exporter: Exporter, context_artifacts: Any) -> APIRouter:
    router = APIRouter(tags=["datasets"])
    database = exporter.tools.database

    @router.post(
        "/v1/datasets/exports",
        status_code=202,
        response_model=ExportStatus,
        responses={
            201: {
                "model": DatasetDetail,
                "description": "With `?wait=true`: the new version, once exported.",
            },
            **ERRORS,
            500: {"model": ErrorBody, "description": "With `?wait=true`: the export failed."},
        },
    )
    async def export(
        request: ExportRequest,
        response: Response,
        tenant: Tenant = "default",
        wait: Annotated[
            bool,
            Query(
                description="Answer once the export has finished, with the new version (201) "
                "or why there is none (422), instead of at once (202)."
            ),
        ] = False,
    ) -> ExportStatus | JSONResponse:
        """Export the tenant's matching examples as the next version of a dataset.

        Accepted at once (202): the export runs in the exporter's background; follow it at
        `GET /v1/datasets/exports/{id}` or wait for `dataset.exported` (`dataset.export_failed`
        when it cannot succeed, e.g. `too_few_examples`, with counts per exclusion reason)."""
        if request.external is not None:
            try:
                external_url(exporter.tools, request.external)
            except ExternalImportFailed as exc:
                return error_response(422, "external_import_failed", str(exc))
        status = await submit_export(exporter, tenant, request)
        if not wait:
            response.headers["Location"] = f"/v1/datasets/exports/{status.id}"
            return status
        return await finished_export(tenant, await wait_for_export(exporter, status.id))

    async def finished_export(tenant: str, status: ExportStatus) -> JSONResponse:
        if status.status == "succeeded" and status.dataset_id is not None:
            row = await catalog.find_version(database, tenant, status.dataset_id)
            if row is not None:
                detail = catalog.version_detail(row).model_dump(mode="json")
                return JSONResponse(detail, status_code=201)
        error = status.error or error_of(RuntimeError("the export left no version"))
        code = 500 if error.code == "export_failed" else 422
        return JSONResponse(ErrorBody(error=error).model_dump(mode="json"), status_code=code)

    @router.get(
        "/v1/datasets/exports/{export_id}",
        response_model=ExportStatus,
        responses={404: {"model": ErrorBody, "description": "No such export for this tenant."}},
    )
    async def export_status(
        export_id: str, tenant: Tenant = "default"
    ) -> ExportStatus | JSONResponse:
        """An export's status: `queued`, `running`, `succeeded` (with its `dataset_id`) or
        `failed` (with its `error`)."""
        status = await find_export(exporter, export_id, tenant)
        if status is None:
            return error_response(
                404,
                "export_not_found",
                f"no export `{export_id}`; start one at /v1/datasets/exports",
            )
        return status

    @router.get("/v1/datasets", response_model=DatasetList)
    async def list_datasets(tenant: Tenant = "default", dataset: str | None = None) -> DatasetList:
        """The tenant's dataset versions, newest first within each dataset."""
        rows = await catalog.list_versions(database, tenant, dataset)
        return DatasetList(data=[catalog.version_out(row) for row in rows])

    @router.get("/v1/datasets/{version_id}", response_model=DatasetDetail, responses=ERRORS)
    async def get_dataset(
        version_id: str, tenant: Tenant = "default"
    ) -> DatasetDetail | JSONResponse:
        """A dataset version with its manifest: filters, counts, per-split statistics."""
        row = await catalog.find_version(database, tenant, version_id)
        return catalog.version_detail(row) if row else not_found(version_id)

    @router.get("/v1/datasets/{version_id}/files/{name}", responses=ERRORS)
    async def download(
        version_id: str,
        name: Literal["train", "test", "manifest", "lineage"],
        tenant: Tenant = "default",
    ) -> Response:
        """Download a split, the manifest or the lineage (example id → split) file."""
        row = await catalog.find_version(database, tenant, version_id)
        sha256 = catalog.split_sha256(row, name) if row else None
        if row is None or sha256 is None:
            return not_found(f"{version_id}/{name}")
        suffix = "json" if name == "manifest" else "jsonl"
        return FileResponse(
            context_artifacts.path_of(sha256),
            media_type="application/json" if name == "manifest" else "application/x-ndjson",
            filename=f"{row.dataset}-v{row.version}-{name}.{suffix}",
            headers={"ETag": f'"{sha256}"'},
        )

    @router.get(
        "/v1/datasets/{version_id}/preview", response_model=DatasetPreview, responses=ERRORS
    )
    async def preview(
        version_id: str,
        tenant: Tenant = "default",
        split: Literal["train", "test"] = "train",
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> DatasetPreview | JSONResponse:
        """The first ``limit`` rows of a split, as written."""
        row = await catalog.find_version(database, tenant, version_id)
        sha256 = catalog.split_sha256(row, split) if row else None
        if row is None:
            return not_found(version_id)
        rows: list[dict[str, Any]] = []
        if sha256:
            with context_artifacts.path_of(sha256).open("rb") as handle:
                for _, line in zip(range(limit), handle, strict=False):
                    rows.append(json.loads(line))
        return DatasetPreview(id=version_id, split=split, rows=rows)

    @router.delete("/v1/datasets/{version_id}", status_code=204, responses=ERRORS)
    async def delete(version_id: str, tenant: Tenant = "default") -> Response:
        """Hide a dataset version; its files stay in the artifact store."""
        if await catalog.soft_delete(database, tenant, version_id):
            return Response(status_code=204)
        return not_found(version_id)

    return router


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(
            field=".".join(str(part) for part in error["loc"][1:]) or None,
            code=str(error["type"]),
            message=str(error["msg"]),
        )
        for error in exc.errors()
    ]
    return error_response(
        422, "invalid_request", "the request is not valid; see `errors`", errors, len(errors)
    )


def create_api(exporter: Exporter, artifacts: Any) -> FastAPI:
    api = FastAPI(
        title="tuneloop exporter",
        version=VERSION,
        description="Rated examples in; validated, de-duplicated, versioned datasets out.",
    )
    api.add_exception_handler(RequestValidationError, invalid_request)
    api.include_router(example_routes(exporter))
    api.include_router(dataset_routes(exporter, artifacts))
    with_example_schemas(api)
    return api


def with_example_schemas(api: FastAPI) -> None:
    """Add the models of the examples body to the spec's components (the route reads the
    body itself, so FastAPI does not see them)."""
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in example_schemas().items():
            schemas.setdefault(name, definition)
        schema["components"]["schemas"] = dict(sorted(schemas.items()))
        return schema

    api.openapi = openapi  # type: ignore[method-assign]


def build_api(context: ServiceContext) -> FastAPI:
    from services.exporter.service import exporter_of

    return create_api(exporter_of(context), context.artifacts)


__all__ = ["build_api", "create_api", "error_response"]
