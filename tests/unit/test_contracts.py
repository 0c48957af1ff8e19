"""Contracts: envelopes, literal types, and the checked-in specs matching the code."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from contracts.commands import ALL_COMMANDS, CreateJob
from contracts.events import ALL_EVENTS, DatasetExported, JobFailed
from contracts.services import SERVICE_NAMES
from libs.messaging.subjects import EVENT_CONCERNS

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def test_every_event_has_a_past_tense_type_in_a_known_concern() -> None:
    types = [event.message_type() for event in ALL_EVENTS]
    assert len(set(types)) == len(types)
    for event in ALL_EVENTS:
        assert event.concern() in EVENT_CONCERNS, event


def test_every_command_names_a_known_owner() -> None:
    for command in ALL_COMMANDS:
        assert command.SERVICE in SERVICE_NAMES, command


def test_envelope_is_filled_in() -> None:
    event = JobFailed(job_id="job-1", error={"code": "oom", "message": "Lower the batch size."})
    assert event.type == "job.failed"
    assert event.schema_version == 1
    assert event.tenant == "default"
    assert len(event.id) == 32
    assert event.time.tzinfo is not None


def test_round_trip_through_json_is_lossless() -> None:
    event = DatasetExported(
        dataset="support",
        version=3,
        artifact_sha256="a" * 64,
        artifact_uri="file:///x",
        train_rows=10,
        tenant="acme",
    )
    assert DatasetExported.model_validate_json(event.model_dump_json()) == event


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"job_id": "j", "error": {"code": "x", "message": "y"}, "surprise": 1}, "surprise"),
        ({"job_id": "j", "error": {"code": "x", "message": "y"}, "type": "job.completed"}, "type"),
        (
            {"job_id": "j", "error": {"code": "x", "message": "y"}, "tenant": "bad tenant!"},
            "tenant",
        ),
        ({"job_id": "j"}, "error"),
    ],
)
def test_bad_messages_are_rejected_naming_the_field(payload: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        JobFailed.model_validate(payload)
    assert field in {str(part) for err in caught.value.errors() for part in err["loc"]}


def test_commands_are_immutable() -> None:
    command = CreateJob(job_id="j", base_model="m", training_file="0" * 64)
    with pytest.raises(ValidationError):
        command.job_id = "other"  # type: ignore[misc]


def test_checked_in_specs_match_the_code(tmp_path: Path) -> None:
    from tuneloop.specs import stale_specs

    assert stale_specs(REPO / "contracts") == [], "run `make contracts` and commit the result"
