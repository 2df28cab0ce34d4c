"""What every app's services raise when the data does not allow a request.

Views map ``status`` to the HTTP status of their API family's error body (or a form error on a
page); ``details`` lists the offending items where an API documents such a list.
"""

from typing import Any


class ServiceError(Exception):
    """A request the data does not allow; ``status`` is the HTTP status it maps to."""

    status = 400

    def __init__(
        self, message: str, *, status: int | None = None, details: list[dict[str, Any]] | None = None
    ):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.details = details or []


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class TooLarge(ServiceError):
    status = 413
