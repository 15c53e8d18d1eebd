"""Errors that carry a code, a Chinese message for the worker or organizer, and an HTTP status."""

from __future__ import annotations


class ContestError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.field = field

    def to_json(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class BadInput(ContestError):
    status = 400
    code = "invalid"


class NotFound(ContestError):
    status = 404
    code = "not_found"


class Forbidden(ContestError):
    status = 403
    code = "forbidden"


class Unauthorized(ContestError):
    status = 401
    code = "unauthorized"


class Conflict(ContestError):
    status = 409
    code = "conflict"


class TooMany(ContestError):
    status = 429
    code = "too_many"


class Unavailable(ContestError):
    """A store (the database, Redis) is briefly out of reach: try again shortly."""

    status = 503
    code = "unavailable"


# What a worker reads while the database or Redis is out of reach, and how long to wait.
RETRY_MESSAGE = "服务器繁忙，请稍后重试。"
RETRY_AFTER_S = 5
