"""OpenAI's Files API for fine-tuning data: upload, list, retrieve, content, delete.

A file's bytes go to the content-addressed artifact store; the tenant's file list is a table.
Uploading the same bytes again returns the same file. An upload is streamed to disk as it
arrives (never held in memory) and checked as chat JSONL from there before it is stored, so a
job never starts on a file that cannot train and a refused upload leaves nothing behind.
"""

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.files import FileDeleted, FileList, FileObject, FileUpload
from contracts.api.router import OpenAIError, OpenAIErrorInfo
from libs.runtime import ServiceContext
from libs.tenancy import DEFAULT_TENANT, Tenant
from services.trainer.files import FileProblem, summarize_chat_file
from services.trainer.openai_objects import seconds
from services.trainer.tables import TrainerFile
from services.trainer.uploads import (
    ReceivedUpload,
    UploadInvalid,
    UploadTooLarge,
    receive_upload,
)

PURPOSES = ("fine-tune",)
SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,254}$")
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": FileUpload.model_json_schema()}},
    }
}
OPENAI_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": OpenAIError} for code in (400, 404, 413)
}


def openai_error(status: int, message: str, code: str, param: str | None = None) -> JSONResponse:
    kind = "invalid_request_error"
    body = OpenAIError(error=OpenAIErrorInfo(message=message, type=kind, param=param, code=code))
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def file_not_found(file_id: str) -> JSONResponse:
    return openai_error(
        404, f"no file {file_id!r}; list files with GET /v1/files", "file_not_found", "file_id"
    )


def as_file(row: TrainerFile) -> FileObject:
    return FileObject(
        id=row.id,
        bytes=row.bytes,
        created_at=seconds(row.created_at) or 0,
        filename=row.filename,
        sha256=row.sha256,
    )


def filename_problem(filename: str) -> str | None:
    if SAFE_FILENAME.match(filename) and ".." not in filename:
        return None
    return (
        f"file name {filename[:80]!r} is not allowed: use a plain name (letters, digits, "
        "spaces, '.', '_', '-', no '/' or '..'), e.g. train.jsonl"
    )


async def resolve_file(session: AsyncSession, tenant: str, reference: str) -> str | None:
    """The sha256 behind a file id of ``tenant`` (a sha256 stands for itself)."""
    if not reference.startswith("file-"):
        return reference
    row = await session.get(TrainerFile, (tenant, reference))
    return row.sha256 if row else None


def file_routes(context: ServiceContext, max_bytes: int) -> APIRouter:
    router = APIRouter(prefix="/v1/files", tags=["files"], responses=OPENAI_ERRORS)
    Session = Annotated[AsyncSession, Depends(context.database.session_dependency)]  # noqa: N806

    @router.post("", response_model=FileObject, openapi_extra=UPLOAD_BODY)
    async def upload(
        request: Request, session: Session, tenant: Tenant = DEFAULT_TENANT
    ) -> FileObject | JSONResponse:
        """Upload training data (purpose `fine-tune`), a multipart form with `file` and
        `purpose`. The file is streamed to disk (413 once it passes the size limit, nothing
        kept) and checked row by row from there before it is stored."""
        try:
            received = await receive_upload(
                request.headers.get("content-type", ""),
                request.headers.get("content-length"),
                request.stream(),
                context.artifacts.stage,
                max_bytes,
                filename_problem,
            )
        except UploadTooLarge:
            return openai_error(
                413,
                f"the file is larger than {max_bytes} bytes; split it into smaller files",
                "file_too_large",
                "file",
            )
        except UploadInvalid as exc:
            return openai_error(400, exc.message, exc.code, exc.param)
        try:
            return await store_upload(session, tenant, received)
        finally:
            received.discard()  # whatever was not stored

    async def store_upload(
        session: AsyncSession, tenant: str, received: ReceivedUpload
    ) -> FileObject | JSONResponse:
        purpose = received.fields.get("purpose")
        if purpose not in PURPOSES:
            return openai_error(
                400,
                f"purpose {purpose!r} is not supported; use 'fine-tune'"
                if purpose
                else "the form has no `purpose`; send purpose=fine-tune",
                "invalid_purpose",
                "purpose",
            )
        staged = received.staged
        if staged is None or received.filename is None:
            return openai_error(400, "the form has no `file` part", "missing_file", "file")
        try:
            summary = await asyncio.to_thread(summarize_chat_file, staged.path, "file")
        except FileProblem as exc:
            return openai_error(400, exc.message, exc.code, "file")
        file_id = f"file-{staged.sha256[:24]}"
        existing = await session.get(TrainerFile, (tenant, file_id))
        if existing is not None:
            return as_file(existing)
        await asyncio.to_thread(staged.commit)
        row = TrainerFile(
            tenant=tenant,
            id=file_id,
            sha256=staged.sha256,
            filename=received.filename,
            bytes=staged.size,
            purpose=purpose,
            rows=summary.rows,
        )
        session.add(row)
        await session.commit()
        return as_file(row)

    @router.get("", response_model=FileList)
    async def list_files(
        session: Session,
        tenant: Tenant = DEFAULT_TENANT,
        purpose: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10000)] = 10000,
    ) -> FileList:
        """The tenant's files, newest first."""
        statement = (
            select(TrainerFile)
            .where(col(TrainerFile.tenant) == tenant)
            .order_by(col(TrainerFile.created_at).desc())
        )
        if purpose:
            statement = statement.where(col(TrainerFile.purpose) == purpose)
        rows = list((await session.execute(statement.limit(limit + 1))).scalars())
        data = [as_file(r) for r in rows[:limit]]
        return FileList(
            data=data,
            has_more=len(rows) > limit,
            first_id=data[0].id if data else None,
            last_id=data[-1].id if data else None,
        )

    @router.get("/{file_id}", response_model=FileObject)
    async def retrieve(
        file_id: str, session: Session, tenant: Tenant = DEFAULT_TENANT
    ) -> FileObject | JSONResponse:
        row = await session.get(TrainerFile, (tenant, file_id))
        return as_file(row) if row else file_not_found(file_id)

    @router.get(
        "/{file_id}/content",
        response_class=Response,
        responses={200: {"content": {"application/jsonl": {}}}},
    )
    async def content(file_id: str, session: Session, tenant: Tenant = DEFAULT_TENANT) -> Response:
        row = await session.get(TrainerFile, (tenant, file_id))
        if row is None:
            return file_not_found(file_id)
        return Response(
            await context.artifacts.get_bytes(row.sha256), media_type="application/jsonl"
        )

    @router.delete("/{file_id}", response_model=FileDeleted)
    async def delete(
        file_id: str, session: Session, tenant: Tenant = DEFAULT_TENANT
    ) -> FileDeleted | JSONResponse:
        """Forget the file; jobs that trained on it keep their artifact (it is immutable)."""
        row = await session.get(TrainerFile, (tenant, file_id))
        if row is None:
            return file_not_found(file_id)
        await session.delete(row)
        await session.commit()
        return FileDeleted(id=file_id)

    return router


__all__ = ["file_routes", "resolve_file"]
