"""HTML forms: parse into a pydantic schema; on error, show the form again, values kept."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from service.core.errors import ServiceError, field_and_message, fields_from_pydantic
from service.core.i18n import N_, gettext

M = TypeVar("M", bound=BaseModel)

# pydantic's messages in our words, so they can be translated.
_MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This is too short."),
    "string_too_long": N_("This is too long."),
    "value_error": N_("This value is not valid."),
    "enum": N_("Choose one of the options."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "list_too_short": N_("Choose at least one."),
    "too_short": N_("Choose at least one."),
    "literal_error": N_("Choose one of the options."),
    "datetime_parsing": N_("Enter a date and time."),
    "datetime_from_date_parsing": N_("Enter a date and time."),
    "datetime_type": N_("Enter a date and time."),
    "timezone_aware": N_("Enter a date and time."),
    "string_type": N_("This field is required."),
    "string_pattern_mismatch": N_("This value is not valid."),
    "greater_than_equal": N_("This number is too small."),
    "less_than_equal": N_("This number is too large."),
}


def translate_error(error: dict[str, Any]) -> tuple[str, str]:
    key, text = field_and_message(error)
    if key.split(".")[-1] == "email" and error.get("type") == "value_error":
        return key, gettext("Enter a valid e-mail address.")
    if error.get("type") == "value_error":
        # Our own validators raise ValueError with a sentence meant for people.
        return key, gettext(text)
    message = _MESSAGES.get(str(error.get("type")))
    return key, gettext(message) if message else text


def form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        items = form.getlist(key)
        values[key] = items if len(items) > 1 else items[0]
    return values


async def parse(
    request: Request, model: type[M]
) -> tuple[M | None, dict[str, Any], dict[str, str]]:
    form = await request.form()
    values = form_values(form)
    try:
        return model.model_validate(values), values, {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            key, message = translate_error(dict(error))
            errors.setdefault(key, message)
        return None, values, errors


def errors_of(exc: ServiceError) -> dict[str, str]:
    return exc.fields or {"__root__": exc.detail}


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )


def redirect(request: Request, url: str, *, notice: str = "") -> RedirectResponse:
    """After a successful POST, go somewhere with GET; the notice is shown once there."""
    if notice and "session" in request.scope:
        request.session["flash"] = notice
    return RedirectResponse(url, status_code=303)


def pop_flash(request: Request) -> str:
    if "session" not in request.scope:
        return ""
    return str(request.session.pop("flash", ""))


__all__ = ["errors_of", "fields_from_pydantic", "parse", "redirect", "render"]
