"""The JSON API's contract: OpenAPI from pydantic schemas (spectree), errors, pagination."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.core.errors import BadRequest, ValidationFailed, fields_from_pydantic

T = TypeVar("T")


class ErrorOut(BaseModel):
    error: str = Field(description="Machine-readable name of the error, e.g. NotFound")
    detail: str
    fields: dict[str, str] = Field(default_factory=dict)
    retry_after: int | None = Field(
        default=None, description="On 429: seconds to wait (also in the Retry-After header)"
    )


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _raise_contract_errors(
    request: Request,
    response: Response | None,
    error: Exception | None,
    instance: Any,
    *args: Any,
) -> None:
    """Spectree builds its own error bodies; ours follow the platform's error contract."""
    if error is not None:
        errors = error.errors() if hasattr(error, "errors") else []
        raise ValidationFailed(fields=fields_from_pydantic(list(errors)))
    if response is not None and response.status_code == 422:
        raise BadRequest("The request body is not valid JSON.")


def _optional_bodies(document: dict[str, Any]) -> None:
    """A body whose fields are all optional may be left out (the guard reads none as `{}`,
    see service.accounts.permissions.check_input): its requestBody says so."""
    schemas = document.get("components", {}).get("schemas", {})
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            body = operation.get("requestBody")
            if not body:
                continue
            schema = body.get("content", {}).get("application/json", {}).get("schema", {})
            model = schemas.get(str(schema.get("$ref", "")).rsplit("/", 1)[-1])
            if model is not None and not model.get("required"):
                body["required"] = False


class _SpecTree(SpecTree):
    def _generate_spec(self) -> dict[str, Any]:
        document: dict[str, Any] = super()._generate_spec()
        _optional_bodies(document)
        return document


api = _SpecTree(
    "starlette",
    title="Civic Challenges API",
    version="1",
    # Only used by spectree to skip its own routes; the app serves /api/openapi.json itself.
    path="_spectree",
    mode="strict",
    before=_raise_contract_errors,
    validation_error_status=422,
    validation_error_model=ErrorOut,
    annotations=True,
    # The docs page is rendered by the app itself (no scripts from elsewhere).
    page_templates={},
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer", bearer_format="JWT"),
        )
    ],
)

__all__ = ["ErrorOut", "Page", "api", "json"]


class ModelResponse(JSONResponse):
    """A body rendered by pydantic straight from its model (no intermediate dict).

    It names its model class as spectree's own responses do, so that spectree does not
    parse the body back to validate it against the route's declared model: the model
    validated its data when it was built. Another model, or a dict, is validated as before.
    """

    def render(self, content: Any) -> bytes:
        if isinstance(content, BaseModel):
            self._model_class = type(content)
            return content.model_dump_json().encode()
        return super().render(content)


def json(model: BaseModel | dict[str, Any], status_code: int = 200) -> JSONResponse:
    return ModelResponse(model, status_code=status_code)


class JsonContentTypeMiddleware:
    """Lets `application/json; charset=utf-8` reach the validator as JSON.

    The validator only parses bodies whose content type is exactly `application/json`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            headers = []
            for name, value in scope["headers"]:
                if name == b"content-type" and value.lower().startswith(b"application/json"):
                    value = b"application/json"
                headers.append((name, value))
            scope["headers"] = headers
        await self.app(scope, receive, send)
