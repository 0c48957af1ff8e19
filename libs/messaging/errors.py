"""Errors a handler raises to tell the bus what to do with the message."""


class PermanentError(Exception):
    """Retrying cannot help (a conflict, a refusal, a missing entity): dead-letter at once.

    The message says why, so whoever reads the dead letter knows what to fix before replaying.
    """


__all__ = ["PermanentError"]
