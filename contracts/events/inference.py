"""Events of the router: served requests, their captured payloads and the feedback on them."""

from typing import Any, Literal

from pydantic import Field

from contracts.envelope import Event


class InferenceCompleted(Event):
    type: Literal["inference.completed"] = "inference.completed"
    request_id: str
    requested_model: str
    serving_name: str
    experiment_id: str | None = None
    variant: str | None = None
    unit_hash: int | None = Field(default=None, ge=0, lt=10_000)
    latency_ms: float = Field(ge=0)
    time_to_first_token_ms: float | None = Field(default=None, ge=0)
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    status: Literal["ok", "error"] = "ok"
    fallback: bool = False


class FeedbackRecorded(Event):
    type: Literal["feedback.recorded"] = "feedback.recorded"
    request_id: str
    rating: int | None = Field(default=None, ge=1, le=5)
    gold_star: bool = False
    corrected_answer: str | None = None
    experiment_id: str | None = None
    variant: str | None = None


class InteractionCaptured(Event):
    """A served chat request and its answer, for tenants that opted in to capture.

    Published off the request path after redaction; the exporter stores it as an unrated
    example that ``feedback.recorded`` for the same ``request_id`` rates later.
    """

    type: Literal["inference.captured"] = "inference.captured"
    request_id: str
    requested_model: str
    serving_name: str
    experiment_id: str | None = None
    variant: str | None = None
    messages: list[dict[str, Any]] = Field(
        min_length=2, description="The request's messages, then the assistant's answer."
    )
    redacted: bool = Field(description="Whether a redaction hook rewrote the texts.")
