"""Errors the evaluator's API turns into the standard error body."""

from contracts.api.errors import FieldError


class EvaluatorError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class NotFound(EvaluatorError):
    status = 404
    code = "not_found"


class Invalid(EvaluatorError):
    status = 422
    code = "invalid"


__all__ = ["EvaluatorError", "Invalid", "NotFound"]
