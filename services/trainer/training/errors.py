"""Errors a training process reports with a stable code and what to do next."""


class TrainingError(Exception):
    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


__all__ = ["TrainingError"]
