"""Offline evaluations: prompts through models with bounded concurrency, scored and compared."""

import asyncio
import logging
from dataclasses import dataclass
from uuid import uuid4

import httpx
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.evaluations import (
    EvaluationRequest,
    EvaluationView,
    ModelOutput,
    PairwiseResult,
    PromptCase,
    SideBySide,
    SideBySideRow,
)
from contracts.commands import StartEvaluation
from contracts.envelope import utc_now
from contracts.events import EvaluationCompleted, EvaluationFailed
from contracts.events.evaluations import EvaluationProgressed
from libs.artifacts import LocalArtifactStore
from libs.messaging import Bus, OutboxRelay, add_to_outbox, claim_message
from libs.storage import Database
from libs.tenancy import Identity, IdentitySigner, SignedAs
from services.evaluator import evaluation_summary as summary
from services.evaluator.errors import Invalid, NotFound
from services.evaluator.judge import judge_pair
from services.evaluator.model_client import Answer, ask
from services.evaluator.prompt_sets import cases_from_jsonl
from services.evaluator.scoring import prompt_scores
from services.evaluator.statistics import sign_test
from services.evaluator.tables import Evaluation, EvaluationOutput

logger = logging.getLogger("tuneloop.evaluator.evaluations")

PROGRESS_EVENTS = 20
"""About this many progress events per evaluation."""


@dataclass(frozen=True)
class JudgeEndpoint:
    """Where the LLM judge is asked when it is not behind the models' URL (e.g. OpenAI)."""

    base_url: str
    api_key: str | None = None

    def client(self, timeout_seconds: float) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return httpx.AsyncClient(
            base_url=self.base_url.rstrip("/") + "/", headers=headers, timeout=timeout_seconds
        )


class Evaluations:
    def __init__(
        self,
        database: Database,
        bus: Bus,
        outbox: OutboxRelay,
        artifacts: LocalArtifactStore,
        base_url: str,
        concurrency: int = 4,
        timeout_seconds: float = 120.0,
        judge_endpoint: JudgeEndpoint | None = None,
        identity: IdentitySigner | None = None,
    ) -> None:
        self.database = database
        self.identity = identity
        self.bus = bus
        self.outbox = outbox
        self.artifacts = artifacts
        self.base_url = base_url.rstrip("/") + "/"
        self.concurrency = concurrency
        self.timeout_seconds = timeout_seconds
        self.judge_endpoint = judge_endpoint
        self._tasks: set[asyncio.Task[None]] = set()

    def as_tenant(self, tenant: str) -> httpx.Auth | None:
        """The router serves the models as the evaluation's tenant: ask with that identity,
        signed as the gateway signs it."""
        if self.identity is None:
            return None
        return SignedAs(self.identity, Identity(tenant, "service:evaluator", ("infer",)))

    async def create(
        self, tenant: str, request: EvaluationRequest, evaluation_id: str | None = None
    ) -> EvaluationView:
        """Store the evaluation and start running it in the background.

        With an ``evaluation_id`` chosen by the caller (the ``evaluation.start`` command), an
        evaluation that already exists under it is returned as it is, not started again.
        """
        if evaluation_id is not None:
            existing = await self.existing(tenant, evaluation_id)
            if existing is not None:
                return existing
        cases = await self.cases_of(request)
        row = Evaluation(
            tenant=tenant,
            evaluation_id=evaluation_id or f"eval-{uuid4().hex[:12]}",
            status="running",
            request={
                **request.model_dump(mode="json", exclude={"prompts"}),
                "cases": [c.model_dump(mode="json") for c in cases],
            },
            total=len(cases) * len(request.models),
        )
        try:
            async with self.database.transaction() as session:
                session.add(row)
        except IntegrityError:  # the same id, created meanwhile by another delivery
            existing = await self.existing(tenant, row.evaluation_id)
            if existing is None:
                raise
            return existing
        assert row.id is not None
        self.start(row.id)
        return view_of(row)

    async def existing(self, tenant: str, evaluation_id: str) -> EvaluationView | None:
        try:
            return await self.view(tenant, evaluation_id)
        except NotFound:
            return None

    async def start_by_command(self, command: StartEvaluation) -> None:
        """``evaluation.start``: a request that cannot run is reported as ``evaluation.failed``."""
        try:
            await self.create(command.tenant, command.request, command.evaluation_id)
        except Invalid as exc:
            await self.report_failure(command.tenant, command.evaluation_id, exc.message)

    async def cases_of(self, request: EvaluationRequest) -> list[PromptCase]:
        if request.prompts is not None:
            return request.prompts
        assert request.dataset_sha256 is not None
        if not await self.artifacts.exists(request.dataset_sha256):
            raise Invalid(
                f"no artifact {request.dataset_sha256} in the artifact store; upload the "
                "dataset first or send the prompts inline as `prompts`"
            )
        return cases_from_jsonl(
            await self.artifacts.get_bytes(request.dataset_sha256), request.split
        )

    async def run(self, pk: int) -> None:
        """Ask every model every prompt not answered yet (so a rerun resumes), then summarise."""
        try:
            async with self.database.session() as session:
                row = await session.get(Evaluation, pk)
                assert row is not None
                answered = await answered_keys(session, pk)
            request = EvaluationRequest.model_validate(
                {k: v for k, v in row.request.items() if k != "cases"}
                | {"prompts": row.request["cases"], "dataset_sha256": None}
            )
            cases = request.prompts or []
            limit = asyncio.Semaphore(self.concurrency)
            async with httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self.timeout_seconds,
                auth=self.as_tenant(row.tenant),
            ) as client:

                async def one(index: int, case: PromptCase, model: str) -> None:
                    async with limit:
                        answer = await ask(client, model, case.chat(), request.max_tokens)
                    await self.store_answer(row, index, case, model, answer)

                await asyncio.gather(
                    *(
                        one(index, case, model)
                        for index, case in enumerate(cases)
                        for model in request.models
                        if (index, model) not in answered
                    )
                )
                if self.judge_endpoint is None:
                    judged = await self.judge(client, row, request, cases, limit)
                else:
                    async with self.judge_endpoint.client(self.timeout_seconds) as judge_client:
                        judged = await self.judge(judge_client, row, request, cases, limit)
            await self.complete(pk, request, judged)
        except Exception as exc:
            logger.exception("evaluation %s failed", pk)
            await self.fail(pk, f"{type(exc).__name__}: {exc}")

    async def store_answer(
        self, row: Evaluation, index: int, case: PromptCase, model: str, answer: Answer
    ) -> None:
        scores = (
            prompt_scores(answer.response or "", case.reference)
            if case.reference is not None
            else {}
        )
        async with self.database.transaction() as session:
            session.add(
                EvaluationOutput(
                    evaluation_pk=row.id,  # type: ignore[arg-type]
                    prompt_index=index,
                    model=model,
                    prompt=case.chat()[-1].content,
                    reference=case.reference,
                    response=answer.response,
                    error=answer.error,
                    latency_ms=answer.latency_ms,
                    prompt_tokens=answer.prompt_tokens,
                    completion_tokens=answer.completion_tokens,
                    scores=scores,
                )
            )
            await session.execute(
                update(Evaluation)
                .where(col(Evaluation.id) == row.id)
                .values(done=col(Evaluation.done) + 1)
            )
            done = (
                await session.execute(
                    select(col(Evaluation.done)).where(col(Evaluation.id) == row.id)
                )
            ).scalar_one()
        if done % max(1, row.total // PROGRESS_EVENTS) == 0 or done == row.total:
            await self.report_progress(row, done)

    async def report_progress(self, row: Evaluation, done: int) -> None:
        """Best effort: progress is also readable from GET /v1/evaluations/{id}."""
        event = EvaluationProgressed(
            tenant=row.tenant, evaluation_id=row.evaluation_id, done=done, total=row.total
        )
        try:
            await self.bus.publish_event(event)
        except Exception:
            logger.warning("could not publish progress of %s", row.evaluation_id, exc_info=True)

    async def judge(
        self,
        client: httpx.AsyncClient,
        row: Evaluation,
        request: EvaluationRequest,
        cases: list[PromptCase],
        limit: asyncio.Semaphore,
    ) -> list[PairwiseResult]:
        """The judge's verdicts of every other model against the first one."""
        if request.judge_model is None or len(request.models) < 2:
            return []
        answers = await self.answers(row.id or 0)
        by_key = {(a.prompt_index, a.model): a for a in answers}
        baseline = request.models[0]
        results = []
        for model in request.models[1:]:

            async def verdict(index: int, case: PromptCase, model: str = model) -> str | None:
                a, b = by_key.get((index, baseline)), by_key.get((index, model))
                if a is None or b is None or a.response is None or b.response is None:
                    return None
                async with limit:
                    return await judge_pair(
                        client,
                        request.judge_model or "",
                        case,
                        a.response,
                        b.response,
                        index % 2 == 1,
                    )

            verdicts = await asyncio.gather(*(verdict(i, c) for i, c in enumerate(cases)))
            wins, losses = verdicts.count("b"), verdicts.count("a")
            outcome = sign_test(wins, losses, verdicts.count("tie"))
            results.append(
                summary.pairwise_result(baseline, model, f"judge:{request.judge_model}", outcome)
            )
        return results

    async def answers(self, pk: int) -> list[summary.Scored]:
        async with self.database.session() as session:
            rows = (
                await session.execute(
                    select(EvaluationOutput)
                    .where(col(EvaluationOutput.evaluation_pk) == pk)
                    .order_by(col(EvaluationOutput.prompt_index), col(EvaluationOutput.model))
                )
            ).scalars()
            return [
                summary.Scored(
                    prompt_index=r.prompt_index,
                    model=r.model,
                    reference=r.reference,
                    response=r.response,
                    error=r.error,
                    latency_ms=r.latency_ms,
                    completion_tokens=r.completion_tokens,
                    prompt_tokens=r.prompt_tokens,
                    scores=dict(r.scores),
                )
                for r in rows
            ]

    async def complete(
        self, pk: int, request: EvaluationRequest, judged: list[PairwiseResult]
    ) -> None:
        answers = await self.answers(pk)
        per_model = {m: [a for a in answers if a.model == m] for m in request.models}
        metrics = {
            model: summary.model_metrics(
                per_model[model],
                request.task == "labels",
                request.price_per_million_tokens.get(model),
            )
            for model in request.models
        }
        results = summary.comparisons(request.models, per_model, request.primary_metric) + judged
        for result in results:
            if result.model_a == request.models[0]:
                metrics[result.model_b][f"win_rate_{result.metric.split(':')[0]}"] = result.win_rate
        text = summary.sentence(metrics, results, request.primary_metric)
        async with self.database.transaction() as session:
            row = await session.get(Evaluation, pk)
            assert row is not None
            row.status, row.metrics, row.summary = "completed", metrics, text
            row.comparisons = [r.model_dump(mode="json") for r in results]
            row.completed_at = utc_now()
            add_to_outbox(
                session,
                self.bus,
                EvaluationCompleted(
                    tenant=row.tenant,
                    evaluation_id=row.evaluation_id,
                    serving_names=request.models,
                    metrics=metrics,
                    summary=text,
                ),
            )
        self.outbox.notify()

    async def fail(self, pk: int, error: str) -> None:
        async with self.database.transaction() as session:
            row = await session.get(Evaluation, pk)
            if row is not None:
                row.status, row.error, row.completed_at = "failed", error, utc_now()
                add_to_outbox(
                    session,
                    self.bus,
                    EvaluationFailed(
                        tenant=row.tenant, evaluation_id=row.evaluation_id, error=error
                    ),
                )
        self.outbox.notify()

    async def report_failure(self, tenant: str, evaluation_id: str, error: str) -> None:
        """An evaluation refused before it was stored: said once, whatever the redeliveries."""
        async with self.database.transaction() as session:
            if not await claim_message(session, "evaluator:evaluation.refused", evaluation_id):
                return
            add_to_outbox(
                session,
                self.bus,
                EvaluationFailed(tenant=tenant, evaluation_id=evaluation_id, error=error),
            )
        self.outbox.notify()

    async def find(self, session: AsyncSession, tenant: str, evaluation_id: str) -> Evaluation:
        query = select(Evaluation).where(
            col(Evaluation.tenant) == tenant, col(Evaluation.evaluation_id) == evaluation_id
        )
        row = (await session.execute(query)).scalar_one_or_none()
        if row is None:
            raise NotFound(
                f"no evaluation {evaluation_id!r} for tenant {tenant!r}; start one with "
                "POST /v1/evaluations"
            )
        return row

    async def view(self, tenant: str, evaluation_id: str) -> EvaluationView:
        async with self.database.session() as session:
            return view_of(await self.find(session, tenant, evaluation_id))

    async def side_by_side(
        self, tenant: str, evaluation_id: str, offset: int, limit: int
    ) -> SideBySide:
        """Each prompt with every model's answer next to each other."""
        async with self.database.session() as session:
            row = await self.find(session, tenant, evaluation_id)
        answers = await self.answers(row.id or 0)
        cases = row.request.get("cases", [])
        indexes = sorted({a.prompt_index for a in answers})[offset : offset + limit]
        rows = []
        for index in indexes:
            outputs = [a for a in answers if a.prompt_index == index]
            case = PromptCase.model_validate(cases[index])
            rows.append(
                SideBySideRow(
                    prompt_index=index,
                    prompt="\n".join(f"{m.role}: {m.content}" for m in case.chat()),
                    reference=case.reference,
                    outputs=[
                        ModelOutput(
                            model=a.model,
                            response=a.response,
                            error=a.error,
                            latency_ms=a.latency_ms,
                            prompt_tokens=a.prompt_tokens,
                            completion_tokens=a.completion_tokens,
                            scores=a.scores,
                        )
                        for a in outputs
                    ],
                )
            )
        return SideBySide(
            evaluation_id=evaluation_id, total_prompts=len(cases), offset=offset, rows=rows
        )

    async def resume_unfinished(self) -> int:
        """Start again every evaluation a stopped process left running; how many."""
        async with self.database.session() as session:
            query = select(col(Evaluation.id)).where(col(Evaluation.status) == "running")
            pending = [pk for pk in (await session.execute(query)).scalars() if pk is not None]
        for pk in pending:
            self.start(pk)
        return len(pending)

    def start(self, pk: int) -> None:
        task = asyncio.create_task(self.run(pk), name=f"evaluation-{pk}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def answered_keys(session: AsyncSession, pk: int) -> set[tuple[int, str]]:
    query = select(col(EvaluationOutput.prompt_index), col(EvaluationOutput.model)).where(
        col(EvaluationOutput.evaluation_pk) == pk
    )
    return {(index, model) for index, model in (await session.execute(query)).all()}


def view_of(row: Evaluation) -> EvaluationView:
    return EvaluationView(
        evaluation_id=row.evaluation_id,
        status=row.status if row.status in ("completed", "failed") else "running",
        models=list(row.request.get("models", [])),
        total=row.total,
        done=row.done,
        metrics=row.metrics,
        comparisons=[PairwiseResult.model_validate(c) for c in row.comparisons],
        summary=row.summary,
        error=row.error,
        created_at=row.created_at,
        completed_at=row.completed_at,
    )


__all__ = ["Evaluations", "JudgeEndpoint"]
