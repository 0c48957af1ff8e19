"""Webhook signatures, back-off and event-type matching."""

import hashlib
import hmac

import pytest

from services.gateway.webhooks import (
    MAX_BACKOFF_SECONDS,
    WebhookRequestError,
    backoff_seconds,
    check_event_types,
    signature,
    wanted,
)

pytestmark = pytest.mark.unit


def test_the_signature_is_an_hmac_of_timestamp_and_body() -> None:
    body = b'{"type":"job.completed"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_x", "1700000000", body) == f"sha256={expected}"
    assert signature("whsec_y", "1700000000", body) != signature("whsec_x", "1700000000", body)
    assert signature("whsec_x", "1700000001", body) != signature("whsec_x", "1700000000", body)


def test_back_off_doubles_up_to_a_ceiling() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff_seconds(30) == MAX_BACKOFF_SECONDS


@pytest.mark.parametrize(
    ("subscribed", "event_type", "expected"),
    [
        (["job.completed"], "job.completed", True),
        (["job.completed"], "job.failed", False),
        (["job.*"], "job.failed", True),
        (["model.*"], "job.failed", False),
        (["job.*", "model.deployed"], "model.deployed", True),
    ],
)
def test_a_webhook_wants_its_types_and_concerns(
    subscribed: list[str], event_type: str, expected: bool
) -> None:
    assert wanted(subscribed, event_type) is expected


def test_high_volume_or_unknown_concerns_cannot_be_subscribed() -> None:
    assert check_event_types(["job.*", "job.*", "model.deployed"]) == ["job.*", "model.deployed"]
    with pytest.raises(WebhookRequestError, match="inference"):
        check_event_types(["inference.completed"])
