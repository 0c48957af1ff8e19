import pytest

from libs.messaging.retry import MAX_DELAY_SECONDS, redelivery_delay

pytestmark = pytest.mark.unit


def test_backoff_doubles_and_is_capped() -> None:
    delays = [redelivery_delay(attempt) for attempt in range(1, 12)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == MAX_DELAY_SECONDS
    assert delays == sorted(delays)


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        redelivery_delay(0)
