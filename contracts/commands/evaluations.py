"""Commands for the evaluator."""

from typing import ClassVar, Literal

from pydantic import Field

from contracts.api.evaluations import EvaluationRequest
from contracts.envelope import Command


class StartEvaluation(Command):
    """Run an offline evaluation under the id the sender chose (a redelivery starts none).

    It ends with ``evaluation.completed`` or ``evaluation.failed`` for ``evaluation_id``.
    """

    SERVICE: ClassVar[str] = "evaluator"
    type: Literal["evaluation.start"] = "evaluation.start"
    evaluation_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    request: EvaluationRequest


__all__ = ["StartEvaluation"]
