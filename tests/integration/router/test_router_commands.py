"""Experiments started by command (what a retraining run does), and the question other
services ask the router: which versions can you serve?"""

from typing import Any

import pytest
from faststream.nats import NatsRouter

from contracts.api.router import ExperimentCreate
from contracts.commands import StartExperiment
from contracts.events import ExperimentStarted, ExperimentStartFailed
from contracts.queries import ServableQuery, ServableReply
from libs.messaging import Subjects, event_subscriber
from tests.integration.harness import running_bus
from tests.integration.router.conftest import Stack
from tests.integration.router.test_router import ACME, known, register_and_deploy
from tests.polling import eventually

pytestmark = pytest.mark.integration


def definition(name: str, control: str, treatment: str) -> ExperimentCreate:
    return ExperimentCreate.model_validate(
        {
            "name": name,
            "model_name": "support-bot",
            "control": {"name": "serving", "serving_name": control, "weight": 0.6},
            "treatments": [{"name": "retrained", "serving_name": treatment, "weight": 0.4}],
            "minimum_detectable_effect": 0.1,
        }
    )


async def test_an_experiment_started_by_command_starts_once_and_a_refusal_is_told(
    stack: Stack, nats_url: str, subjects: Subjects
) -> None:
    v1 = await register_and_deploy(stack, "serving says hi")
    v2 = await register_and_deploy(stack, "candidate says hi", deploy=False)
    await eventually(lambda: known(stack, v2), what="v2 known to the router")
    seen: list[Any] = []
    listener = NatsRouter()

    @event_subscriber(listener, subjects, "observer", ExperimentStarted)
    async def on_started(event: ExperimentStarted) -> None:
        seen.append(event)

    @event_subscriber(listener, subjects, "observer", ExperimentStartFailed)
    async def on_refused(event: ExperimentStartFailed) -> None:
        seen.append(event)

    async with running_bus(nats_url, subjects, listener) as bus:
        reply = await bus.ask(
            ServableQuery(tenant="acme", serving_names=[v1, v2, "support-bot@9-00000000"]),
            "router",
            ServableQuery.message_type(),
            ServableReply,
        )
        assert reply.servable == [v1, v2]
        other_tenant = await bus.ask(
            ServableQuery(tenant="globex", serving_names=[v1]),
            "router",
            ServableQuery.message_type(),
            ServableReply,
        )
        assert other_tenant.servable == []

        command = StartExperiment(
            tenant="acme", experiment_id="exp_rtfirst", definition=definition("first", v1, v2)
        )
        await bus.send_command(command)
        await bus.send_command(command.model_copy(update={"id": "delivered-again"}))
        await eventually(lambda: len(seen) == 1, what="experiment.started")
        await bus.send_command(
            StartExperiment(
                tenant="acme", experiment_id="exp_rtsecond", definition=definition("second", v1, v2)
            )
        )
        await eventually(lambda: len(seen) == 2, what="experiment.start_failed")
        listed = (await stack.client.get("/v1/experiments", headers=ACME)).json()

    started, refused = seen
    assert isinstance(started, ExperimentStarted)
    assert started.experiment_id == "exp_rtfirst"
    assert (started.control.serving_name, started.control.weight) == (v1, 0.6)
    assert [(t.serving_name, t.weight) for t in started.treatments] == [(v2, 0.4)]
    assert isinstance(refused, ExperimentStartFailed)
    assert refused.experiment_id == "exp_rtsecond"
    assert refused.code == "experiment_running"
    assert "already splits 'support-bot'" in refused.message
    assert [e["id"] for e in listed] == ["exp_rtfirst"]
