"""Payload capture in the router: redaction, the captured event, and who opted in."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from services.router.capture import (
    CapturedRequest,
    PayloadCapture,
    builtin_redaction,
    captured_event,
    load_redactor,
)
from services.router.settings import RouterSettings

pytestmark = pytest.mark.unit


def completion(text: str) -> bytes:
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode()


def request(messages: list[Any], body: bytes) -> CapturedRequest:
    return CapturedRequest(
        tenant="acme",
        request_id="req_1",
        requested_model="support",
        serving_name="support@2-abcd1234",
        experiment_id="exp_1",
        variant="tuned",
        messages=messages,
        answer_body=body,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail ana.12@example.com now", "mail [email] now"),
        ("call +1 555 123 4567.", "call [phone]."),
        ("call (030) 1234-5678 today", "call [phone] today"),
        ("error code E42 after 2 weeks, order 12345", "error code E42 after 2 weeks, order 12345"),
    ],
)
def test_builtin_redaction(text: str, expected: str) -> None:
    assert builtin_redaction(text) == expected


def test_the_event_carries_the_redacted_conversation_and_answer() -> None:
    messages = [
        {"role": "system", "content": "Triage."},
        {"role": "user", "content": "I am bo@example.com"},
    ]
    event = captured_event(request(messages, completion("Mail bo@example.com")), builtin_redaction)
    assert event is not None
    assert event.messages == [
        {"role": "system", "content": "Triage."},
        {"role": "user", "content": "I am [email]"},
        {"role": "assistant", "content": "Mail [email]"},
    ]
    assert (event.redacted, event.variant, event.request_id) == (True, "tuned", "req_1")
    plain = captured_event(request(messages, completion("ok")), None)
    assert plain is not None
    assert not plain.redacted
    assert plain.messages[1]["content"] == "I am bo@example.com"


@pytest.mark.parametrize(
    ("messages", "body"),
    [
        ([{"role": "user", "content": "hi"}], b"not json"),
        ([{"role": "user", "content": "hi"}], json.dumps({"choices": []}).encode()),
        ([{"role": "user", "content": [{"type": "image_url"}]}], completion("ok")),
        ([], completion("ok")),
    ],
)
def test_nothing_is_captured_without_a_text_conversation(
    messages: list[object], body: bytes
) -> None:
    assert captured_event(request(messages, body), builtin_redaction) is None


def test_redactor_hooks() -> None:
    assert load_redactor("none") is None
    assert load_redactor("builtin") is builtin_redaction
    assert load_redactor("string:capwords") is not None
    with pytest.raises(ValueError, match="cannot be loaded"):
        load_redactor("nowhere.at_all:redact")
    with pytest.raises(ValidationError):
        RouterSettings.model_validate({"TUNELOOP_ROUTER_CAPTURE_REDACTOR": "no-colon"})


def test_only_opted_in_tenants_are_captured() -> None:
    settings = RouterSettings.model_validate({"TUNELOOP_ROUTER_CAPTURE_TENANTS": "acme, globex"})
    capture = PayloadCapture(bus=None, tenants=settings.captured_tenants(), redactor=None)  # type: ignore[arg-type]
    assert [capture.wants(t) for t in ("acme", "globex", "other")] == [True, True, False]
    everyone = PayloadCapture(bus=None, tenants=frozenset({"*"}), redactor=None)  # type: ignore[arg-type]
    assert everyone.wants("anyone")
    assert RouterSettings.model_validate({}).captured_tenants() == frozenset()
