"""Domain errors raised by services; the web layer maps them to HTTP responses."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class InvalidTransition(DomainError):
    status_code = 409


class ValidationFailed(DomainError):
    status_code = 422

    def __init__(self, message: str, *, field: str | None = None, errors: dict[str, str] | None = None):
        super().__init__(message, field=field)
        self.errors = errors or ({field: message} if field else {})


class ServiceUnavailable(DomainError):
    status_code = 503


class ConfigurationError(Exception):
    """Bad configuration: the CLI prints the message on one line and exits non-zero."""
