"""Named errors that carry their HTTP status, rendered by one handler (see service.app).

Areas subclass `ServiceError` with names in their own words (`ChallengeClosed`,
`InsufficientEscrow`); handlers never build error responses by hand.
"""

from __future__ import annotations

from typing import Any, ClassVar

from service.core.i18n import N_, gettext, ngettext


class ServiceError(Exception):
    status_code: ClassVar[int] = 400
    default_detail: ClassVar[str] = "The request could not be processed."

    def __init__(self, detail: str | None = None, *, fields: dict[str, str] | None = None) -> None:
        # A default is a sentence of the catalogs, shown in the reader's language.
        self.detail = detail or gettext(self.default_detail)
        self.fields = fields or {}
        super().__init__(self.detail)

    @property
    def code(self) -> str:
        return type(self).__name__

    def as_json(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.detail, "fields": self.fields}


class ValidationFailed(ServiceError):
    status_code = 422
    default_detail = N_("Some fields are not valid.")


class BadRequest(ServiceError):
    status_code = 400
    default_detail = N_("The request is malformed.")


class NotAuthenticated(ServiceError):
    status_code = 401
    default_detail = N_("Sign in to do this.")


class PermissionDenied(ServiceError):
    status_code = 403
    default_detail = N_("You are not allowed to do this.")


class NotFound(ServiceError):
    status_code = 404
    default_detail = N_("Not found.")


class Conflict(ServiceError):
    status_code = 409
    default_detail = N_("This conflicts with the current state.")


class PayloadTooLarge(ServiceError):
    status_code = 413
    default_detail = N_("The request is too large.")


class RateLimited(ServiceError):
    status_code = 429
    default_detail = N_("Too many attempts. Try again later.")

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        # People are told how long to wait, not just "later".
        super().__init__(
            detail
            or ngettext(
                "Too many attempts. Try again in %(num)s second.",
                "Too many attempts. Try again in %(num)s seconds.",
                retry_after,
            )
            % {"num": retry_after}
        )
        self.retry_after = retry_after

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "retry_after": self.retry_after}


def fields_from_pydantic(errors: list[Any]) -> dict[str, str]:
    """Turn pydantic's error list into {"field.path": "message"}."""
    fields: dict[str, str] = {}
    for error in errors:
        key, message = field_and_message(error)
        fields.setdefault(key, message)
    return fields


def field_and_message(error: Any) -> tuple[str, str]:
    """Where an error belongs; a model-level check names its field as "field: message"."""
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if not location:
        name, sep, rest = message.partition(": ")
        if sep and name.isidentifier():
            return name, rest
    return ".".join(location) or "__root__", message
