"""Header names tuneloop puts on NATS messages."""

MSG_ID = "Nats-Msg-Id"
MESSAGE_TYPE = "Tuneloop-Type"
ORIGINAL_SUBJECT = "Tuneloop-Original-Subject"
ORIGINAL_STREAM = "Tuneloop-Original-Stream"
ORIGINAL_SEQUENCE = "Tuneloop-Original-Sequence"
CONSUMER = "Tuneloop-Consumer"
REASON = "Tuneloop-Dead-Letter-Reason"
ERROR = "Tuneloop-Dead-Letter-Error"
ATTEMPTS = "Tuneloop-Attempts"
DEADLETTER_HEADERS = (
    ORIGINAL_SUBJECT,
    ORIGINAL_STREAM,
    ORIGINAL_SEQUENCE,
    CONSUMER,
    REASON,
    ERROR,
    ATTEMPTS,
)


def application_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers minus dead-letter bookkeeping and JetStream publish expectations."""
    return {
        name: value
        for name, value in headers.items()
        if name not in DEADLETTER_HEADERS and not name.startswith("Nats-Expected")
    }


def header_safe(text: str, limit: int = 1000) -> str:
    """Text that can travel in a NATS header: one line, bounded length."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


__all__ = [
    "ATTEMPTS",
    "CONSUMER",
    "DEADLETTER_HEADERS",
    "ERROR",
    "MESSAGE_TYPE",
    "MSG_ID",
    "ORIGINAL_SEQUENCE",
    "ORIGINAL_STREAM",
    "ORIGINAL_SUBJECT",
    "REASON",
    "application_headers",
    "header_safe",
]
