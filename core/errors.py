"""The one error contract: services raise these; the API and pages turn them into 4xx answers."""


class ApplicationError(Exception):
    """A refusal a user can understand. `status` picks the HTTP status."""

    status = 400

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None):
        super().__init__(message)
        self.message, self.code, self.field = message, code, field


class Conflict(ApplicationError):
    """The record is in the wrong state for this action, or someone else got there first."""

    status = 409

    def __init__(self, message: str, *, code: str = "conflict", field: str | None = None):
        super().__init__(message, code=code, field=field)


class Forbidden(ApplicationError):
    status = 403

    def __init__(self, message: str = "You do not have permission to do this.", *, code: str = "forbidden"):
        super().__init__(message, code=code)


class NotFound(ApplicationError):
    status = 404

    def __init__(self, message: str, *, code: str = "not_found"):
        super().__init__(message, code=code)
