"""The request path: resolve the model, pick the upstream, forward, fall back, record."""

import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

import httpx

from contracts.events import InferenceCompleted
from services.router import forwarding
from services.router.adapters import AdapterManager
from services.router.budgets import BudgetGuard
from services.router.capture import CapturedRequest, PayloadCapture
from services.router.catalog import Catalog, Target
from services.router.forwarding import Answer, UpstreamDown
from services.router.recorder import InferenceRecorder
from services.router.request_body import BadRequest, CompletionRequest, parse_request
from services.router.upstream_http import UpstreamBroken
from services.router.upstreams import Upstream, UpstreamError, UpstreamPool

FALLBACK_ON = (UpstreamDown, UpstreamError, UpstreamBroken, httpx.TransportError)


class BudgetRefused(Exception):
    """The tenant's inference budget is spent."""


@dataclass
class Served:
    answer: Answer
    target: Target
    request_id: str
    fallback: bool
    started: float
    messages: list[Any] | None = None
    """The chat request's messages, kept only when the tenant's payloads are captured."""


def upstream_model_name(target: Target) -> str:
    """What the upstream serves ``target`` as: a hosted id, an adapter, or the base model.

    A registry version with neither adapter nor hosted id is the base model itself.
    """
    if target.external_model_id is not None:
        return target.external_model_id
    if target.artifact_sha256 is None:
        return target.base_model
    return target.serving_name


class InferenceService:
    def __init__(
        self,
        catalog: Catalog,
        pool: UpstreamPool,
        adapters: AdapterManager,
        recorder: InferenceRecorder,
        remote: Upstream | None,
        retries: int,
        capture: PayloadCapture | None = None,
        budgets: BudgetGuard | None = None,
    ) -> None:
        self.budgets = budgets
        self.catalog = catalog
        self.pool = pool
        self.adapters = adapters
        self.recorder = recorder
        self.remote = remote
        self.retries = retries
        self.capture = capture

    def upstream_for(self, target: Target) -> Upstream:
        if target.external_model_id is not None:
            if self.remote is None:
                raise BadRequest(
                    f"`{target.serving_name}` is a hosted model and no remote "
                    "endpoint is configured (TUNELOOP_ROUTER_REMOTE_BASE_URL).",
                    status=503,
                )
            return self.remote
        upstreams = self.pool.for_base_model(target.base_model)
        return upstreams[zlib.crc32(target.serving_name.encode()) % len(upstreams)]

    async def _send(self, target: Target, path: str, request: CompletionRequest) -> Answer:
        upstream = self.upstream_for(target)
        try:
            await self.adapters.ensure_loaded(target, upstream)
        except httpx.TransportError as exc:
            raise UpstreamDown(f"{upstream.base_url} is unreachable: {exc}") from exc
        # a hosted model's key is a default header of the remote upstream's client
        outgoing = request.outgoing(upstream_model_name(target))
        answer = await self._forward(upstream, path, outgoing, request)
        if answer.status == 404 and await self.adapters.reload(target, upstream):
            # it had lost the adapter
            answer = await self._forward(upstream, path, outgoing, request)
        return answer

    async def _forward(
        self, upstream: Upstream, path: str, outgoing: bytes, request: CompletionRequest
    ) -> Answer:
        if request.stream:
            return await forwarding.stream(
                upstream, path, outgoing, self.retries, request.wants_usage
            )
        return await forwarding.complete(upstream, path, outgoing, self.retries)

    async def _tracked_send(self, target: Target, path: str, body: CompletionRequest) -> Answer:
        """Send, counting the request as in flight on its adapter until :meth:`finished`."""
        self.adapters.in_flight[target.serving_name] += 1
        try:
            return await self._send(target, path, body)
        except BaseException:
            self.finished(target)
            raise

    def finished(self, target: Target) -> None:
        self.adapters.in_flight[target.serving_name] -= 1

    async def serve(
        self, tenant: str, unit: str | None, path: str, body: CompletionRequest
    ) -> Served:
        started = time.perf_counter()
        refusal = self.budgets.refusal(tenant) if self.budgets is not None else None
        if refusal is not None:
            raise BudgetRefused(refusal)
        unit = unit or body.user
        target = await self.catalog.resolve(tenant, body.model, unit or uuid.uuid4().hex)
        fallback = False
        try:
            answer = await self._tracked_send(target, path, body)
        except FALLBACK_ON:
            if target.control is None:
                raise
            target, fallback = target.control, True
            answer = await self._tracked_send(target, path, body)
        messages = body.get("messages") if self._captures(tenant, path) else None
        served = Served(answer, target, f"req_{uuid.uuid4().hex}", fallback, started)
        served.messages = messages if isinstance(messages, list) else None
        return served

    def _captures(self, tenant: str, path: str) -> bool:
        return (
            self.capture is not None
            and path == "/v1/chat/completions"
            and self.capture.wants(tenant)
        )

    def record(self, tenant: str, requested_model: str, served: Served) -> None:
        """Queue the request's ``inference.completed`` (built and published in the
        background) and its payload if captured; never waits."""
        latency_ms = round((time.perf_counter() - served.started) * 1000, 3)
        self.recorder.record(lambda: completed_event(tenant, requested_model, served, latency_ms))
        self._capture(tenant, requested_model, served)

    def _capture(self, tenant: str, requested_model: str, served: Served) -> None:
        """Queue the payload of an opted-in tenant (streamed answers are not captured)."""
        answer = served.answer
        if self.capture is None or not served.messages or answer.status >= 400:
            return
        if answer.chunks is not None:
            return
        self.capture.capture(
            CapturedRequest(
                tenant=tenant,
                request_id=served.request_id,
                requested_model=requested_model,
                serving_name=served.target.serving_name,
                experiment_id=served.target.experiment_id,
                variant=served.target.variant,
                messages=served.messages,
                answer_body=answer.body,
            )
        )


def completed_event(
    tenant: str, requested_model: str, served: Served, latency_ms: float
) -> InferenceCompleted:
    answer = served.answer
    usage = answer.final_usage()
    return InferenceCompleted(
        tenant=tenant,
        request_id=served.request_id,
        requested_model=requested_model,
        serving_name=served.target.serving_name,
        experiment_id=served.target.experiment_id,
        variant=served.target.variant,
        unit_hash=served.target.unit_bucket,
        latency_ms=latency_ms,
        time_to_first_token_ms=answer.first_token_ms,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        status="ok" if answer.status < 400 else "error",
        fallback=served.fallback,
    )


__all__ = [
    "BadRequest",
    "BudgetRefused",
    "InferenceService",
    "Served",
    "completed_event",
    "parse_request",
]
