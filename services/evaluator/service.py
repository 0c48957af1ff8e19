"""The evaluator service's definition: what it consumes, emits and serves."""

from fastapi import FastAPI
from faststream.nats import NatsRouter

from contracts.events import (
    EvaluationCompleted,
    EvaluationFailed,
    EvaluationProgressed,
    ExperimentConcluded,
    ExperimentUpdated,
)
from libs.runtime import ServiceContext, ServiceDefinition, shared_part
from services.evaluator.api import create_api
from services.evaluator.evaluations import Evaluations, JudgeEndpoint
from services.evaluator.experiments import Experiments
from services.evaluator.handlers import evaluator_handlers
from services.evaluator.settings import EvaluatorSettings


def settings_of(context: ServiceContext) -> EvaluatorSettings:
    settings = context.settings
    assert isinstance(settings, EvaluatorSettings)
    return settings


def experiments_of(context: ServiceContext) -> Experiments:
    return Experiments(
        context.database,
        context.bus,
        context.outbox,
        settings_of(context).snapshot_interval_seconds,
    )


def evaluations_of(context: ServiceContext) -> Evaluations:
    """The process's one :class:`Evaluations` (the command handler and the API share it)."""
    return shared_part(context, "evaluations", lambda: new_evaluations(context))


def new_evaluations(context: ServiceContext) -> Evaluations:
    settings = settings_of(context)
    judge = None
    if settings.judge_base_url is not None:
        key = settings.judge_api_key.get_secret_value() if settings.judge_api_key else None
        judge = JudgeEndpoint(settings.judge_base_url, key)
    return Evaluations(
        context.database,
        context.bus,
        context.outbox,
        context.artifacts,
        settings.model_base_url,
        settings.evaluation_concurrency,
        settings.evaluation_timeout_seconds,
        judge,
        context.identity,
    )


def build_router(context: ServiceContext) -> NatsRouter:
    """Message handlers of the evaluator."""
    return evaluator_handlers(
        experiments_of(context),
        evaluations_of(context),
        context.bus.subjects,
        settings_of(context).ingest_concurrency,
    )


def build_api(context: ServiceContext) -> FastAPI:
    return create_api(experiments_of(context), evaluations_of(context))


DEFINITION = ServiceDefinition(
    name="evaluator",
    settings=EvaluatorSettings,
    build_router=build_router,
    build_api=build_api,
    emits=(
        EvaluationProgressed,
        EvaluationCompleted,
        EvaluationFailed,
        ExperimentUpdated,
        ExperimentConcluded,
    ),
)

__all__ = ["DEFINITION", "build_api", "build_router"]
