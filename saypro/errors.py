"""Domain errors: a service refuses a transition by raising one; the API maps it to its error shape."""

from __future__ import annotations


class DomainError(Exception):
    code = "forbidden_transition"
    status_code = 409

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class InvalidInput(DomainError):
    code = "invalid"
    status_code = 400


class RateLimited(DomainError):
    code = "rate_limited"
    status_code = 429


class ServiceUnavailable(DomainError):
    code = "unavailable"
    status_code = 503
