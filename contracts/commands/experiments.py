"""Commands for the router, which splits the traffic of experiments."""

from typing import ClassVar, Literal

from pydantic import Field

from contracts.api.router import ExperimentCreate
from contracts.envelope import Command


class StartExperiment(Command):
    """Start an A/B experiment under the id the sender chose (a redelivery starts none).

    The router answers with ``experiment.started``, or ``experiment.start_failed`` with the
    reason (an unknown serving name, another experiment already splitting the model).
    """

    SERVICE: ClassVar[str] = "router"
    type: Literal["experiment.start"] = "experiment.start"
    experiment_id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    definition: ExperimentCreate


__all__ = ["StartExperiment"]
