"""Errors the evaluator's API turns into the standard error body."""


class EvaluatorError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(EvaluatorError):
    status = 404
    code = "not_found"


class Invalid(EvaluatorError):
    status = 422
    code = "invalid"


__all__ = ["EvaluatorError", "Invalid", "NotFound"]
