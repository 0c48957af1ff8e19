"""How long to wait before a failed message is delivered again."""

BASE_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0


def redelivery_delay(attempt: int) -> float:
    """Exponential back-off: 0.5 s after the first failure, doubling, capped at 30 s."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    return min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2.0 ** (attempt - 1))


__all__ = ["redelivery_delay"]
