"""What can go wrong in the retrainer's API, with a code and a sentence saying what to do."""


class RetrainerError(Exception):
    code = "retrainer_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(RetrainerError):
    code = "not_found"
    status = 404


class Conflict(RetrainerError):
    code = "conflict"
    status = 409


class RunActive(RetrainerError):
    code = "run_active"
    status = 409


class NothingServed(RetrainerError):
    code = "nothing_served"
    status = 409


__all__ = ["Conflict", "NotFound", "NothingServed", "RetrainerError", "RunActive"]
