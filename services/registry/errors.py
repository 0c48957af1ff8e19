"""What can go wrong in the registry, with a code and a sentence saying what to do."""


class RegistryError(Exception):
    code = "registry_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(RegistryError):
    code = "not_found"
    status = 404


class Conflict(RegistryError):
    code = "conflict"
    status = 409


class Refused(RegistryError):
    code = "refused"
    status = 409


class InvalidRequest(RegistryError):
    code = "invalid_request"
    status = 422


__all__ = ["Conflict", "InvalidRequest", "NotFound", "Refused", "RegistryError"]
