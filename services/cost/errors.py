"""What can go wrong in the cost service, with a code and a sentence saying what to do."""


class CostError(Exception):
    code = "cost_error"
    status = 400

    def __init__(self, message: str, field: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.line = line


class NotFound(CostError):
    code = "not_found"
    status = 404


class InvalidRequest(CostError):
    code = "invalid_request"
    status = 422


class BudgetExceededError(CostError):
    """The work would break a budget: the HTTP API answers 429."""

    code = "budget_exceeded"
    status = 429


__all__ = ["BudgetExceededError", "CostError", "InvalidRequest", "NotFound"]
